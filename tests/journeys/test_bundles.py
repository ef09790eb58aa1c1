"""Bundle discovery: the sample's newborn bundle found without the catalogue, and every figure checked by hand."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pandas as pd
import pytest

from najma.errors import InvalidParameterError, StoreError
from najma.journeys import BundleCandidates, CaseFilter, Store, build_journeys, discover_bundles, parse_catalogue, register_catalogue
from najma.journeys._bundles import COLUMNS
from najma.sample import SAMPLE_TRUTH
from najma.sample._services import LIFE_EVENTS


def _pairs(sets: list[tuple[str, ...]]) -> set[frozenset[str]]:
    return {frozenset(pair) for services in sets for pair in combinations(services, 2)}


def test_the_newborn_bundle_is_found_alone_and_in_its_order(built_sample: Path):
    with Store(built_sample, read_only=True) as store:
        found = discover_bundles(store)
    newborn = LIFE_EVENTS["newborn"]
    table = found.table
    assert list(table.columns) == list(COLUMNS)
    assert table.services.iloc[0] == newborn and table.life_event.iloc[0] == "newborn"
    assert table.order_share.iloc[0] > 0.95
    planted, ours = _pairs([newborn]), _pairs(list(table.services))
    precision, recall = len(ours & planted) / len(ours), len(ours & planted) / len(planted)
    print(f"newborn pairs: precision {precision:.3f}, recall {recall:.3f} ({len(ours)} found, {len(planted)} planted)")
    assert precision >= 0.9 and recall >= 0.9
    # The other services' cases have customers of their own: nothing else comes near the support asked for.
    assert len(table) == 1 and (table.support >= found.min_support).all()
    truth = pd.read_parquet(SAMPLE_TRUTH)
    births = truth.dropna(subset=["life_event"]).groupby("life_event").service.nunique()
    assert table.episodes.iloc[0] == (births == len(newborn)).sum()
    assert table.lift.iloc[0] > 100 and table.confidence.iloc[0] > 0.95
    assert 0 < table.customer_steps_bundled.iloc[0] < table.customer_steps.iloc[0]
    assert found.customers <= found.episodes and found.period[0] < found.period[1]


CATALOGUE = """
version = 1
[life_events.move]
name_en = "Moving house"
name_ar = "الانتقال"
services = ["lease", "utilities", "school"]
window_days = 60
"""
SERVICE = """
[services.{key}]
name_en = "{key}"
name_ar = "{key}"
agency = "{agency}"
sla_hours = 24
[services.{key}.activities]
Apply = ["customer_step", "application"]
"Hand in papers" = ["customer_step", "document_submission"]
"Visit centre" = ["customer_step", "visit"]
"{key} form" = ["customer_step"]
Done = ["system_step", "approval"]
"""
AGENCIES = {"lease": "Land Department", "utilities": "Water Authority", "school": "Education"}
DAY = pd.Timestamp("2025-01-05 09:00", tz="UTC")
#: The customers' cases: (customer, service, day it starts, its steps before "Done"), an hour apart.
CASES = [
    ("c1", "lease", 0, ["Apply", "Hand in papers", "Visit centre", "lease form"]),
    ("c1", "utilities", 10, ["Apply", "Hand in papers", "Visit centre", "utilities form"]),
    ("c1", "school", 20, ["Apply", "school form"]),
    ("c2", "lease", 0, ["Apply", "Hand in papers", "lease form"]),
    ("c2", "utilities", 5, ["Apply", "Apply", "Hand in papers", "utilities form"]),
    ("c2", "school", 8, ["Apply", "Visit centre", "school form"]),
    ("c3", "utilities", 0, ["Apply", "Hand in papers", "utilities form"]),
    ("c3", "lease", 3, ["Apply", "lease form"]),
    ("c4", "lease", 0, ["Apply", "lease form"]),
    ("c4", "utilities", 100, ["Apply", "utilities form"]),  # beyond the window: an episode of its own
    ("c5", "school", 0, ["Apply", "school form"]),
    (None, "lease", 0, ["Apply", "Hand in papers", "lease form"]),  # no customer: left out
    (None, "utilities", 1, ["Apply", "Hand in papers", "utilities form"]),
]


@pytest.fixture
def moves(store: Store) -> Store:
    rows = [{"case_id": f"{service}-{number}", "service": service, "agency": AGENCIES[service], "customer_id": customer,
             "activity": step, "timestamp": DAY + pd.Timedelta(days=day, hours=hour)}
            for number, (customer, service, day, steps) in enumerate(CASES)
            for hour, step in enumerate([*steps, "Done"])]
    store.ingest_frame(pd.DataFrame(rows).sample(frac=1, random_state=5))
    text = CATALOGUE + "".join(SERVICE.format(key=key, agency=agency) for key, agency in AGENCIES.items())
    register_catalogue(store, parse_catalogue(text))
    build_journeys(store)
    return store


def test_every_figure_matches_a_hand_count(moves: Store):
    found = discover_bundles(moves, window_days=30, min_support=0.3, min_episodes=2)
    # Episodes: c1, c2, c3, c5 one each, c4 two; the cases without a customer are left out.
    assert (found.episodes, found.customers, found.window_days) == (6, 5, 30)
    assert found.period == (DAY, DAY + pd.Timedelta(days=100, hours=2))
    # Baskets {L,U,S} x2 (c1, c2), {L,U} (c3), {L}, {U} (c4), {S} (c5): n(L) = n(U) = 4, n(S) = 3, n(LU) = 3,
    # n(LS) = n(US) = n(LUS) = 2. LS and US go (LUS holds all their episodes); LU stays (LUS holds 2 of its 3).
    table = found.table.set_index("services")
    assert list(table.index) == [("lease", "utilities", "school"), ("lease", "utilities")]
    three, two = table.iloc[0], table.iloc[1]
    # The usual order: c1 and c2 take lease, utilities, school; c3 takes utilities before lease.
    assert (three.order_share, two.order_share) == (1.0, pytest.approx(2 / 3))
    assert (three.episodes, three.customers, two.episodes, two.customers) == (2, 2, 3, 3)
    assert (three.support, two.support) == (pytest.approx(2 / 6), pytest.approx(3 / 6))
    assert (three.confidence, two.confidence) == (pytest.approx(2 / 4), pytest.approx(3 / 4))
    assert three.lift == pytest.approx((2 / 6) / ((4 / 6) * (4 / 6) * (3 / 6)))
    assert two.lift == pytest.approx((3 / 6) / ((4 / 6) * (4 / 6)))
    assert (three.life_event, two.life_event) == ("move", None)
    # Today, only the candidate's cases: c1 has 4 + 4 (+ 2) customer steps, c2 3 + 4 (+ 3), c3 3 + 2.
    assert three[["agencies", "visits", "customer_steps", "documents_repeated"]].tolist() == [3, 1.5, 10, 1]
    assert two[["agencies", "visits", "customer_steps"]].tolist() == pytest.approx([2, 2 / 3, 20 / 3])
    # The utilities case hands in the papers the Land Department had (c1, c2); c3's lease case hands in none.
    assert two.documents_repeated == pytest.approx(2 / 3)
    # Days from the first start to the last end: c1 20 d 2 h, c2 8 d 3 h (median of two); c1 10 d 4 h, c2 5 d 4 h,
    # c3 3 d 2 h.
    assert three.days == pytest.approx((20 + 2 / 24 + 8 + 3 / 24) / 2)
    assert two.days == pytest.approx(5 + 4 / 24)
    # As one window: Apply counts as often as the service that takes it most (c2's utilities case: twice),
    # "Hand in papers" and "Visit centre" once, each form once: c1 6, c2 7 (three); c1 5, c2 5, c3 4 (two).
    assert (three.customer_steps_bundled, three.steps_saved) == (6.5, 3.5)
    assert (two.customer_steps_bundled, two.steps_saved) == (pytest.approx(14 / 3), pytest.approx(2.0))
    # At most one visit per episode: c1 2 -> 1, c2 1 -> 1 (three); c1 2 -> 1, c2 and c3 none (two).
    assert (three.visits_bundled, three.visits_saved) == (1.0, 0.5)
    assert (two.visits_bundled, two.visits_saved) == (pytest.approx(1 / 3), pytest.approx(1 / 3))
    assert (three.documents_repeated_bundled, two.documents_repeated_bundled) == (0.0, 0.0)
    assert (three.score, two.score) == (7.0, pytest.approx(6.0))
    assert found.table["rank"].tolist() == [1, 2]


def test_a_selection_is_honoured_and_an_empty_one_finds_nothing(moves: Store):
    two = discover_bundles(moves, window_days=30, min_support=0.3, min_episodes=2,
                           where=CaseFilter(service=["lease", "utilities"]))
    assert (two.episodes, two.customers) == (5, 4)  # c1, c2, c3 and c4's two episodes
    assert two.table.services.tolist() == [("lease", "utilities")] and two.table.support.tolist() == [3 / 5]
    nobody = CaseFilter(agency="Nobody")
    empty = discover_bundles(moves, where=nobody)
    assert (empty.episodes, empty.customers, empty.period, empty.where) == (0, 0, None, nobody)
    assert empty.table.empty and list(empty.table.columns) == list(COLUMNS)


def test_a_wider_window_links_the_late_case_and_a_higher_support_leaves_nothing(moves: Store):
    wide = discover_bundles(moves, window_days=120, min_support=0.3, min_episodes=2)
    assert wide.episodes == 5  # c4's two cases are one episode now
    assert wide.table.set_index("services").loc[[("lease", "utilities")], "episodes"].tolist() == [4]
    none = discover_bundles(moves, window_days=30, min_support=0.9, min_episodes=1)
    assert isinstance(none, BundleCandidates) and none.table.empty and list(none.table.columns) == list(COLUMNS)


@pytest.mark.parametrize(("parameter", "value"), [
    ("window_days", 0), ("window_days", 2.5), ("min_support", 0), ("min_support", 1.5), ("min_episodes", 0),
    ("max_services", 1), ("max_services", True), ("min_support", "0.1"), ("where", "lease"),
])
def test_a_bad_parameter_is_named(store: Store, parameter: str, value: object):
    with pytest.raises(InvalidParameterError, match=f"'{parameter}' parameter of discover_bundles") as raised:
        discover_bundles(store, **{parameter: value})
    assert raised.value.parameter == parameter


def test_a_store_without_journeys_says_to_build_them(store: Store):
    with pytest.raises(StoreError, match="journeys are not built") as raised:
        discover_bundles(store)
    assert raised.value.parameter == "store"


def _moves_without_catalogue(store: Store, *, actor: bool) -> Store:
    """The moves' cases with no catalogue and no agency column; each step's actor when `actor` (the customer's steps,
    the system's "Done")."""
    rows = [{"case_id": f"{service}-{number}", "service": service, "customer_id": customer, "activity": step,
             "timestamp": DAY + pd.Timedelta(days=day, hours=hour),
             **({"actor": "system" if step == "Done" else "customer"} if actor else {})}
            for number, (customer, service, day, steps) in enumerate(CASES)
            for hour, step in enumerate([*steps, "Done"])]
    store.ingest_frame(pd.DataFrame(rows))
    build_journeys(store)
    return store


#: The figures of a bundle that need each of its services' customer steps, and those that need the catalogue.
STEPS = ["customer_steps", "customer_steps_bundled", "steps_saved", "score"]
CATALOGUED = ["visits", "visits_bundled", "visits_saved", "documents_repeated", "documents_repeated_bundled"]
MEASURED = ["order_share", "episodes", "customers", "support", "confidence", "lift", "days"]


def test_a_log_without_agency_actor_or_catalogue_leaves_those_figures_missing_not_zero(store: Store):
    found = discover_bundles(_moves_without_catalogue(store, actor=False), window_days=30, min_support=0.3,
                             min_episodes=2)
    table = found.table.set_index("services")
    assert list(table.index) == [("lease", "utilities"), ("lease", "utilities", "school")]  # no score: by customers
    assert table[["agencies", *STEPS, *CATALOGUED]].isna().all().all()
    assert table[MEASURED].notna().all().all()
    assert found.table.days.iloc[1] == pytest.approx((20 + 2 / 24 + 8 + 3 / 24) / 2)
    services = ("lease", "school", "utilities")
    assert dict(found.lacking) == {"agency": services, "steps": services, "catalogue": services}


def test_an_actor_without_catalogue_measures_the_steps_but_not_visits_or_documents(store: Store):
    found = discover_bundles(_moves_without_catalogue(store, actor=True), window_days=30, min_support=0.3,
                             min_episodes=2)
    by_services = {row["services"]: row for row in found.table.to_dict("records")}
    three, two = by_services[("lease", "utilities", "school")], by_services[("lease", "utilities")]
    # The actor gives the same customer steps as the catalogue's roles: the hand counts of the catalogued moves.
    assert [three[f] for f in ("customer_steps", "customer_steps_bundled", "steps_saved", "score")] == [10, 6.5, 3.5, 7.0]
    assert two["steps_saved"] == pytest.approx(2.0) and found.table["rank"].tolist() == [1, 2]
    assert found.table[["agencies", *CATALOGUED]].isna().all().all()
    assert dict(found.lacking) == {"agency": ("lease", "school", "utilities"), "catalogue": ("lease", "school", "utilities")}


def test_a_candidate_with_a_missing_score_ranks_after_the_measured_ones(store: Store):
    rows = [{"case_id": f"{service}-{number}", "service": service, "customer_id": customer, "activity": step,
             "agency": AGENCIES[service], "timestamp": DAY + pd.Timedelta(days=day, hours=hour)}
            for number, (customer, service, day, steps) in enumerate(CASES)
            for hour, step in enumerate([*steps, "Done"])]
    store.ingest_frame(pd.DataFrame(rows))
    described = "version = 1\n" + "".join(SERVICE.format(key=key, agency=AGENCIES[key]) for key in ("lease", "utilities"))
    register_catalogue(store, parse_catalogue(described))  # school is not described and has no actor
    build_journeys(store)
    table = discover_bundles(store, window_days=30, min_support=0.3, min_episodes=2).table
    assert table.services.tolist() == [("lease", "utilities"), ("lease", "utilities", "school")]
    assert table.score.iloc[0] == pytest.approx(6.0) and pd.isna(table.score.iloc[1])
    assert table.agencies.tolist() == pytest.approx([2, 3])  # the agency column is held by every service
