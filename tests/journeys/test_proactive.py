"""Proactive candidates: the sample's planted triggers found, a small store's figures computed by hand, bad parameters named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from najma.errors import InvalidParameterError, StoreError
from najma.journeys import CaseFilter, Store, build_journeys, discover_proactive, parse_catalogue, register_catalogue
from najma.journeys._proactive import PROACTIVE_COLUMNS
from najma.sample import generate
from najma.sample._loading import SAMPLE_TZ
from najma.sample._services import LIFE_EVENTS
from najma.sample._writer import catalogue_toml


def _planted_pairs(bundle: tuple[str, ...]) -> set[tuple[str, str]]:
    """The generator's truth: each later service of a planted bundle follows the one just before it."""
    return set(zip(bundle, bundle[1:], strict=False))


def _scored(name: str, table: pd.DataFrame, planted: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (trigger, follower) pairs of `table`, with their precision and recall against `planted` printed."""
    pairs = set(zip(table.trigger, table.follower, strict=True))
    precision, recall = len(pairs & planted) / max(len(pairs), 1), len(pairs & planted) / len(planted)
    print(f"proactive pairs on {name}: precision {precision:.2f}, recall {recall:.2f}, found {sorted(pairs)}")
    return pairs


def test_the_samples_newborn_services_are_found_with_their_immediate_triggers(sample_journeys: Store):
    found = discover_proactive(sample_journeys)
    table = found.table
    assert list(table.columns) == list(PROACTIVE_COLUMNS)
    newborn = LIFE_EVENTS["newborn"]
    planted = _planted_pairs(newborn)
    assert _scored("the sample", table, planted) == planted  # precision and recall 1
    assert set(table.trigger) | set(table.follower) <= set(newborn)
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    assert table.score.is_monotonic_decreasing
    assert (table.share >= 0.5).all() and (table.lag_days_median >= 0).all()
    assert [sum(bins) for bins in table.lag_histogram] == table.followed.tolist()
    assert all(len(bins) == found.within_days for bins in table.lag_histogram)
    assert ((table.already_proactive > 0) & (table.already_proactive < 1)).all()
    assert found.period is not None and found.period[0] < found.period[1]


#: A second population: the newborn's services in another order, and a move whose driving licence renewal most
#: often starts before the residence visa renewal has ended.
SECOND = {"family": ("national_id", "birth_certificate", "health_insurance", "passport"),
          "move": ("residence_visa_renewal", "driving_licence_renewal")}


def test_a_second_population_gives_its_own_planted_triggers(store: Store):
    sample = generate(8000, seed=11, life_events=SECOND)
    register_catalogue(store, parse_catalogue(catalogue_toml()))
    store.ingest_frame(sample.events.to_pandas(), tz=SAMPLE_TZ)
    planted = _planted_pairs(SECOND["family"]) | _planted_pairs(SECOND["move"])
    found = _scored("a second population", discover_proactive(store).table, planted)
    assert found == _planted_pairs(SECOND["family"])  # precision 1, recall 3/4
    # The move's pair is no completion trigger: its median lag is below 0, so it is not chosen even at a lower share
    # (most renewals of a residence visa are no move's).
    assert "driving_licence_renewal" not in set(discover_proactive(store, min_share=0.2).table.follower)


CATALOGUE = """
version = 1
[services.certificate]
name_en = "Certificate"
name_ar = "شهادة"
agency = "Health"
sla_hours = 24
[services.certificate.activities]
Apply = ["customer_step", "application"]
Refuse = ["staff_step", "rejection"]
Done = ["system_step", "approval"]

[services.passport]
name_en = "Passport"
name_ar = "جواز"
agency = "Identity"
sla_hours = 24
[services.passport.activities]
Apply = ["customer_step", "application"]
"Proactive case opened" = ["system_step", "proactive_start"]
"Hand in papers" = ["customer_step", "document_submission"]
"Visit centre" = ["customer_step", "visit"]
Review = ["staff_step"]
"Collect at centre" = ["customer_step", "visit", "delivery"]
Done = ["system_step", "approval"]
"""
DAY = pd.Timestamp("2025-03-02 08:00", tz="UTC")


def _case(case_id: str, service: str, customer: str | None, at: pd.Timedelta, steps: list[tuple[str, pd.Timedelta]]) -> list[dict]:
    """The events of a case whose steps happen at `at` after DAY plus each step's own offset."""
    return [{"case_id": case_id, "service": service, "customer_id": customer, "activity": activity,
             "timestamp": DAY + at + offset} for activity, offset in steps]


def _certificate(case_id: str, customer: str | None, start_day: float, days: float, *, refused: bool = False) -> list[dict]:
    """A certificate case that starts `start_day` days after DAY and ends (completed, or refused) `days` later."""
    last = "Refuse" if refused else "Done"
    return _case(case_id, "certificate", customer, pd.Timedelta(days=start_day),
                 [("Apply", pd.Timedelta(0)), (last, pd.Timedelta(days=days))])


def _passport(case_id: str, customer: str | None, start_day: float, steps: list[str]) -> list[dict]:
    """A passport case of `steps`, an hour apart, that starts `start_day` days after DAY."""
    return _case(case_id, "passport", customer, pd.Timedelta(days=start_day),
                 [(step, pd.Timedelta(hours=hour)) for hour, step in enumerate(steps)])


@pytest.fixture
def small(store: Store) -> Store:
    """Certificates followed (or not) by passports; the expected figures are worked out in the tests."""
    rows = [
        # c1: the passport starts 3 days after the certificate ended; intake Apply, papers, a visit, then staff.
        *_certificate("C1", "c1", 0, 1 / 24), *_passport("P1", "c1", 3 + 1 / 24,
                                                           ["Apply", "Hand in papers", "Visit centre", "Review",
                                                            "Collect at centre", "Done"]),
        # c2: the passport starts on day 2 while the certificate runs until day 5 (lag -3), started by the government.
        *_certificate("C2", "c2", 0, 5), *_passport("P2", "c2", 2, ["Proactive case opened", "Hand in papers", "Review", "Done"]),
        # c3: a refused certificate is no trigger: c3 is not among the trigger's customers.
        *_certificate("C3", "c3", 0, 1, refused=True), *_passport("P3", "c3", 2, ["Apply", "Review", "Done"]),
        # c4: two certificates (ending on days 1 and 10); the passport on day 12 follows the later one (lag 2).
        *_certificate("C4a", "c4", 0, 1), *_certificate("C4b", "c4", 9, 1),
        *_passport("P4", "c4", 12, ["Apply", "Visit centre", "Review", "Done"]),
        # c5: no passport; c6: a passport 40 days after, beyond the window.
        *_certificate("C5", "c5", 0, 1),
        *_certificate("C6", "c6", 0, 1), *_passport("P6", "c6", 41, ["Apply", "Review", "Done"]),
        # No customer: the case is its own customer and is left out.
        *_certificate("C7", None, 0, 1), *_passport("P7", None, 2, ["Apply", "Review", "Done"]),
    ]
    store.ingest_frame(pd.DataFrame(rows).sample(frac=1, random_state=5))
    register_catalogue(store, parse_catalogue(CATALOGUE))
    build_journeys(store)
    return store


def test_share_lags_histogram_and_savings_match_a_hand_computation(small: Store):
    found = discover_proactive(small, min_customers=5, min_share=0.6)
    assert found.customers == 6  # c1 .. c6; the cases without a customer are left out
    assert found.period == (DAY, DAY + pd.Timedelta(days=41, hours=2))
    assert (found.within_days, found.min_share, found.where) == (30, 0.6, None)
    (row,) = found.table.to_dict("records")
    lags = [3.0, -3.0, 2.0]  # c1, c2, c4 (paired with its later certificate, not the one 11 days before)
    p10, median, p90 = np.quantile(lags, [0.1, 0.5, 0.9])
    histogram = [0] * 30
    histogram[0], histogram[2], histogram[3] = 1, 1, 1  # c2's lag below 0 is counted in day 0
    application_steps, visits = [3, 1, 2], [1, 0, 1]  # before the first staff step: the collection is not counted
    expected = {
        "rank": 1, "trigger": "certificate", "follower": "passport", "customers": 5, "followed": 3, "share": 3 / 5,
        "lag_days_p10": pytest.approx(p10), "lag_days_median": pytest.approx(median), "lag_days_p90": pytest.approx(p90),
        "lag_histogram": tuple(histogram), "already_proactive": pytest.approx(1 / 3),
        "application_steps": pytest.approx(np.mean(application_steps)), "visits": pytest.approx(np.mean(visits)),
        "days_saved": pytest.approx(median), "score": pytest.approx(3 * np.mean(application_steps)),
    }
    assert row == expected


def test_a_service_without_outcome_triggers_at_its_last_event(store: Store):
    """Without a catalogue no case has an outcome: each case is taken as completed at its last event."""
    rows = [event for n in range(4) for event in (
        *_case(f"A{n}", "first", f"k{n}", pd.Timedelta(days=n), [("Ask", pd.Timedelta(0)), ("End", pd.Timedelta(days=1))]),
        *_case(f"B{n}", "second", f"k{n}", pd.Timedelta(days=n + 1 + n / 2), [("Ask", pd.Timedelta(0))]),
    )]
    store.ingest_frame(pd.DataFrame(rows))
    build_journeys(store)
    found = discover_proactive(store, min_customers=4)
    (row,) = found.table.to_dict("records")
    assert (row["trigger"], row["follower"], row["customers"], row["followed"]) == ("first", "second", 4, 4)
    assert row["lag_days_median"] == pytest.approx(np.median([0, 0.5, 1, 1.5]))
    # Neither an actor nor the catalogue says which steps are the customer's or staff's: no data, not 0.
    assert all(np.isnan(row[f]) for f in ("application_steps", "visits", "already_proactive", "score"))
    assert row["days_saved"] == pytest.approx(np.median([0, 0.5, 1, 1.5]))
    assert dict(found.lacking) == {"steps": ("second",), "catalogue": ("second",)}


def test_an_actor_without_catalogue_measures_the_application_but_not_visits(store: Store):
    """The actor tells the customer's steps from the staff's: the application is measured; visits and proactive
    starts are roles only the catalogue gives."""
    steps = [("Ask", "customer", 0), ("Pay", "customer", 1), ("Check", "staff", 2), ("Send", "customer", 3)]
    rows = [{**event, "actor": "system"} for n in range(4) for event in _case(
        f"A{n}", "first", f"k{n}", pd.Timedelta(days=n), [("Ask", pd.Timedelta(0)), ("End", pd.Timedelta(days=1))])]
    rows += [{"case_id": f"B{n}", "service": "second", "customer_id": f"k{n}", "activity": activity, "actor": actor,
              "timestamp": DAY + pd.Timedelta(days=n + 2, hours=hour)} for n in range(4) for activity, actor, hour in steps]
    store.ingest_frame(pd.DataFrame(rows))
    build_journeys(store)
    found = discover_proactive(store, min_customers=4)
    (row,) = found.table.to_dict("records")
    assert (row["application_steps"], row["score"]) == (2.0, 8.0)  # Ask and Pay, before the staff's Check
    assert np.isnan(row["visits"]) and np.isnan(row["already_proactive"])
    assert dict(found.lacking) == {"catalogue": ("second",)}


def test_a_follower_with_a_missing_score_ranks_after_the_measured_ones(small: Store):
    """A second follower of the certificate the catalogue does not describe, without an actor, followed by all five
    customers (the passport by three): its score is missing, and it comes after the passport's."""
    extra = [event for n, customer in enumerate(["c1", "c2", "c4", "c5", "c6"]) for event in _case(
        f"X{n}", "extract", customer, pd.Timedelta(days=12), [("Ask", pd.Timedelta(0))])]
    small.ingest_frame(pd.DataFrame(extra))
    build_journeys(small)
    table = discover_proactive(small, min_customers=5, min_share=0.6).table
    assert table.follower.tolist() == ["passport", "extract"] and table["rank"].tolist() == [1, 2]
    assert table.followed.tolist() == [3, 5] and table.score.iloc[0] > 0 and np.isnan(table.score.iloc[1])


def test_thresholds_and_the_selection_leave_no_candidate(small: Store):
    for options in ({"min_customers": 6}, {"min_share": 0.61, "min_customers": 5},
                    {"min_customers": 5, "where": CaseFilter(service="passport")}):
        table = discover_proactive(small, **options).table
        assert table.empty and list(table.columns) == list(PROACTIVE_COLUMNS), options
    # Within 2 days c1 (lag 3) is not followed: c2 and c4 are (share 2/5), but their median lag, -0.5, is below 0.
    assert discover_proactive(small, within_days=3, min_customers=5, min_share=0.6).table.followed.tolist() == [3]
    assert discover_proactive(small, within_days=2, min_customers=5, min_share=0.4).table.empty


@pytest.mark.parametrize(("options", "parameter"), [
    ({"within_days": 0}, "within_days"), ({"within_days": 2.5}, "within_days"), ({"within_days": True}, "within_days"),
    ({"min_share": 0}, "min_share"), ({"min_share": 1.5}, "min_share"), ({"min_share": "half"}, "min_share"),
    ({"min_customers": 0}, "min_customers"), ({"where": "passport"}, "where"),
])
def test_a_bad_parameter_is_named(store: Store, options: dict, parameter: str):
    with pytest.raises(InvalidParameterError, match=f"The '{parameter}' parameter of discover_proactive") as raised:
        discover_proactive(store, **options)
    assert raised.value.parameter == parameter


def test_a_store_without_journeys_is_named(store: Store):
    with pytest.raises(StoreError, match="the journeys are not built") as raised:
        discover_proactive(store)
    assert raised.value.parameter == "store"
