"""Life-event journeys: the generator's bundles recovered, windows honoured, ask-once failures found."""

from __future__ import annotations

import pandas as pd
import pytest

from najma.errors import InvalidEventLogError
from najma.journeys import Store, build_journeys, parse_catalogue, register_catalogue
from najma.journeys._life_events import life_event_journeys, linked_cases
from najma.sample import SAMPLE_TRUTH

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
Done = ["system_step", "approval"]
"""


def test_linked_journeys_are_the_generators_life_events(sample_journeys: Store):
    cases = linked_cases(sample_journeys, "newborn").to_pandas()
    truth = pd.read_parquet(SAMPLE_TRUTH)
    merged = cases.merge(truth[["service", "case_id", "life_event"]].rename(columns={"life_event": "born"}),
                         on=["service", "case_id"])
    assert len(merged) == len(cases) == truth.life_event.notna().sum()
    ours = {frozenset(group) for _, group in merged.groupby("journey_id").case_id}
    expected = {frozenset(group) for _, group in merged.groupby("born").case_id}
    assert ours == expected
    journeys = life_event_journeys(sample_journeys, "newborn").to_pandas()
    assert len(journeys) == len(expected)
    steps = truth[truth.life_event.notna()].groupby("life_event").customer_steps.sum().sort_values().to_numpy()
    assert (journeys.customer_steps.sort_values().to_numpy() == steps).all()


DAY = pd.Timestamp("2025-01-05 09:00", tz="UTC")


def _case(case_id: str, service: str, agency: str, days: int, customer: str, papers: bool) -> list[dict]:
    """A case's events an hour apart, `days` after DAY; with `papers`, it hands in papers."""
    steps = ["Apply", "Hand in papers", "Done"] if papers else ["Apply", "Done"]
    return [{"case_id": case_id, "service": service, "agency": agency, "customer_id": customer,
             "activity": step, "timestamp": DAY + pd.Timedelta(days=days, hours=hour)}
            for hour, step in enumerate(steps)]


def _registered(store: Store, rows: list[dict], life_events: str, agencies: dict[str, str]) -> None:
    """Load `rows` in a shuffled order, register the services of `agencies` with `life_events`, build."""
    store.ingest_frame(pd.DataFrame(rows).sample(frac=1, random_state=3))
    text = life_events + "".join(SERVICE.format(key=key, agency=agency) for key, agency in agencies.items())
    register_catalogue(store, parse_catalogue(text))
    build_journeys(store)


def test_windows_split_journeys_and_a_second_agency_asking_again_is_counted(store: Store):
    rows = [
        *_case("L1", "lease", "Land Department", 0, "784-1", papers=True),
        *_case("U1", "utilities", "Water Authority", 10, "784-1", papers=True),
        *_case("S1", "school", "Land Department", 20, "784-1", papers=False),
        *_case("U2", "utilities", "Water Authority", 200, "784-1", papers=True),
        *_case("L3", "lease", "Land Department", 3, "784-2", papers=True),
    ]
    _registered(store, rows, CATALOGUE,
                {"lease": "Land Department", "utilities": "Water Authority", "school": "Education"})
    cases = linked_cases(store).to_pandas().set_index("case_id")
    assert cases.loc["L1", "journey_id"] == cases.loc["U1", "journey_id"] == cases.loc["S1", "journey_id"]
    assert cases.loc["U2", "journey_id"] != cases.loc["U1", "journey_id"]
    assert cases.loc[["L1", "U1", "S1"], "step_in_journey"].tolist() == [0, 1, 2]
    assert cases.ask_once_failure[lambda failed: failed].index.tolist() == ["U1"]
    journeys = life_event_journeys(store).to_pandas().set_index("journey_id")
    first = journeys.loc[cases.loc["L1", "journey_id"]]
    assert (first.cases, first.services, first.agencies, first.ask_once_failures) == (3, 3, 2, 1)
    assert first.elapsed_seconds == 20 * 86400 + 3600
    assert journeys.cases.sum() == 5


def test_an_unknown_life_event_names_the_known_ones(sample_journeys: Store):
    with pytest.raises(InvalidEventLogError, match="one of newborn"):
        linked_cases(sample_journeys, "wedding")


TWO_BUNDLES = """
version = 1
[life_events.move]
name_en = "Moving house"
name_ar = "الانتقال"
services = ["lease", "utilities"]
window_days = 60
[life_events.business]
name_en = "A new business"
name_ar = "عمل جديد"
services = ["utilities", "licence"]
window_days = 60
"""


def test_a_service_in_two_life_events_is_counted_in_each_with_its_own_companions(store: Store):
    # The utilities case hands in papers the lease case (another agency) had: a failure in "move". In "business"
    # it comes first, and the licence case, which hands the papers in after it, fails there instead.
    rows = [
        *_case("L1", "lease", "Land Department", 0, "784-1", papers=True),
        *_case("U1", "utilities", "Water Authority", 10, "784-1", papers=True),
        *_case("B1", "licence", "Economy", 20, "784-1", papers=True),
    ]
    _registered(store, rows, TWO_BUNDLES,
                {"lease": "Land Department", "utilities": "Water Authority", "licence": "Economy"})
    cases = linked_cases(store).to_pandas().set_index(["life_event", "case_id"]).sort_index()
    assert len(cases) == 4  # the utilities case once in each life event
    assert cases.documents_asked_again_across_agencies.to_dict() == {
        ("business", "B1"): 1, ("business", "U1"): 0, ("move", "L1"): 0, ("move", "U1"): 1}
    assert cases.ask_once_failure.to_dict() == {
        ("business", "B1"): True, ("business", "U1"): False, ("move", "L1"): False, ("move", "U1"): True}
    journeys = life_event_journeys(store).to_pandas().set_index("life_event")
    assert journeys[["cases", "ask_once_failures", "documents_asked_again_across_agencies"]].to_dict("index") == {
        "business": {"cases": 2, "ask_once_failures": 1, "documents_asked_again_across_agencies": 1},
        "move": {"cases": 2, "ask_once_failures": 1, "documents_asked_again_across_agencies": 1},
    }
