"""CaseFilter's criteria on hand-made journeys: each one alone, then all of them together; the same case id in two
services, equal timestamps, outcomes and quarters read across a zone boundary."""

from __future__ import annotations

import pandas as pd
import pytest

from najma.errors import InvalidParameterError
from najma.journeys import (
    CaseFilter,
    Store,
    build_journeys,
    journey_table,
    parse_catalogue,
    process_map,
    register_catalogue,
)

#: Five journeys of one service; each tuple is (activity, hours after the case's start, channel).
JOURNEYS = {
    "a": [("Apply", 0, "web"), ("Pay", 1, "web"), ("Issue", 5, "web")],
    "b": [("Apply", 0, "centre"), ("Upload", 2, "web"), ("Pay", 3, "web"), ("Issue", 30, "centre")],
    "c": [("Apply", 0, "web"), ("Upload", 1, "web"), ("Upload", 2, "web")],
    "d": [("Pay", 0, "app"), ("Apply", 4, "app")],
    "e": [("Apply", 0, "app"), ("Issue", 48, "app")],
}


#: When the cases of TWINS start: 2025Q1 in UTC, but already 2025-04-01 02:30, 2025Q2, in Asia/Dubai.
BOUNDARY = pd.Timestamp("2025-03-31 22:30", tz="UTC")
#: Cases of two services, two of them with the same id; each tuple is (service, case, activity, hours after BOUNDARY).
#: "tie" applies and pays at the same instant, paying first in the file (its events' sequence); it is idle far
#: longer than open_days before the store's last event (abandoned), while "late" makes that last event (open).
TWINS = [
    ("s1", "x", "Apply", 0), ("s1", "x", "Pay", 1), ("s1", "x", "Done", 2),
    ("s2", "x", "Pay", 0), ("s2", "x", "Apply", 1), ("s2", "x", "Refuse", 5),
    ("s1", "tie", "Pay", -240), ("s1", "tie", "Apply", -240),
    ("s1", "late", "Apply", 1440),
]
#: Both services decide (approval, rejection), so their cases have an outcome; quarters are read in Asia/Dubai.
CATALOGUE = "version = 1\n" + "".join(f"""
[services.{key}]
name_en = "{key}"
name_ar = "خدمة"
agency = "Agency"
sla_hours = 24
open_days = 30
[services.{key}.activities]
Apply = ["customer_step", "application"]
Pay = ["customer_step", "payment"]
Done = ["system_step", "approval"]
Refuse = ["staff_step", "rejection"]
""" for key in ("s1", "s2")) + """
[calendar]
time_zone = "Asia/Dubai"
work_days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
hours = ["07:30", "15:30"]
"""


def _built(path: str, frame: pd.DataFrame, catalogue: str | None = None) -> Store:
    """A store at `path` holding the events of `frame` (a service per row), its catalogue registered, journeys built."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAJMA_PSEUDONYM_KEY", "filters-test-key")
        opened = Store(path)
        opened.ingest_frame(frame)
        if catalogue is not None:
            register_catalogue(opened, parse_catalogue(catalogue))
        build_journeys(opened)
    return opened


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The journeys above, built; the events are given in reverse order (no criterion may rely on row order)."""
    rows = [{"service": "permit", "case_id": case, "activity": activity, "channel": channel,
             "customer_id": f"person-{case}",
             "timestamp": pd.Timestamp("2025-02-03 08:00", tz="UTC") + pd.Timedelta(hours=hours + 24 * i),
             "office": "north" if case in "ab" else "south"}
            for i, (case, steps) in enumerate(JOURNEYS.items()) for activity, hours, channel in steps]
    opened = _built(str(tmp_path_factory.mktemp("filters") / "f.duckdb"), pd.DataFrame(rows[::-1]))
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The cases of TWINS, with CATALOGUE; the services' events interleaved, the rest of the file in reverse order
    but "tie"'s two events in the order given (Pay, then Apply)."""
    rows = [{"service": service, "case_id": case, "activity": activity, "customer_id": f"person-{service}-{case}",
             "timestamp": BOUNDARY + pd.Timedelta(hours=hours), "office": f"office-{service}"}
            for service, case, activity, hours in TWINS]
    ties = [r for r in rows if r["case_id"] == "tie"]
    frame = pd.DataFrame([r for r in rows[::-1] if r["case_id"] != "tie"] + ties)
    opened = _built(str(tmp_path_factory.mktemp("twins") / "t.duckdb"), frame, CATALOGUE)
    yield opened
    opened.close()


def _cases(store: Store, where: CaseFilter) -> set[str]:
    return set(journey_table(store, where).select("case_id").to_pandas()["case_id"])


@pytest.mark.parametrize(("where", "expected"), [
    (CaseFilter(present=["Upload"]), {"b", "c"}),
    (CaseFilter(present=["Upload", "Pay"]), {"b"}),
    (CaseFilter(absent=["Pay"]), {"c", "e"}),
    (CaseFilter(absent=["Pay", "Upload"]), {"e"}),
    (CaseFilter(directly_follows=[("Apply", "Pay")]), {"a"}),
    (CaseFilter(directly_follows=[("Upload", "Upload")]), {"c"}),
    (CaseFilter(eventually_follows=[("Apply", "Pay")]), {"a", "b"}),  # d pays before it applies
    (CaseFilter(eventually_follows=[("Pay", "Apply")]), {"d"}),
    (CaseFilter(eventually_follows=[("Upload", "Upload")]), {"c"}),  # twice, in order
    (CaseFilter(eventually_follows=[("Issue", "Issue")]), set()),  # once only
    (CaseFilter(min_seconds=5 * 3600), {"a", "b", "e"}),
    (CaseFilter(min_seconds=5 * 3600, max_seconds=30 * 3600), {"a", "b"}),
    (CaseFilter(max_seconds=4 * 3600), {"c", "d"}),
    (CaseFilter(channel="app"), {"d", "e"}),
    (CaseFilter(attribute=("channel", "centre")), {"b"}),
    (CaseFilter(attribute=("office", "north")), {"a", "b"}),
    (CaseFilter(outcome="no such outcome"), set()),
])
def test_each_criterion_keeps_the_cases_it_names(store: Store, where: CaseFilter, expected: set[str]) -> None:
    assert _cases(store, where) == expected


def test_criteria_combine_as_and(store: Store) -> None:
    where = CaseFilter(service="permit", present=["Apply"], absent=["Upload"], eventually_follows=[("Apply", "Issue")],
                       directly_follows=[("Apply", "Pay")], min_seconds=3600, attribute=("office", "north"))
    assert _cases(store, where) == {"a"}
    assert _cases(store, CaseFilter(present=["Issue"], channel="app", max_seconds=10 * 3600)) == set()
    # The map of the filtered cases is drawn from their steps alone.
    graph = process_map(store, CaseFilter(present=["Issue"], absent=["Upload"]))
    assert graph.start_activities == {"Apply": 2} and graph.end_activities == {"Issue": 2}
    assert set(graph.dfg) == {("Apply", "Pay"), ("Pay", "Issue"), ("Apply", "Issue")}


def test_a_filter_is_hashable_and_compares_by_value() -> None:
    one = CaseFilter(variants=["x"], present=["Pay"], directly_follows=[["Apply", "Pay"]], min_seconds=0)
    assert one == CaseFilter(variants=("x",), present=("Pay",), directly_follows=(("Apply", "Pay"),), min_seconds=0.0)
    assert len({one, CaseFilter(variants=("x",), present=("Pay",), directly_follows=(("Apply", "Pay"),), min_seconds=0)}) == 1
    assert not one.spans_only and not CaseFilter(absent=["Pay"]).is_empty


@pytest.mark.parametrize(("arguments", "parameter"), [
    ({"present": "Pay"}, "present"), ({"absent": [1]}, "absent"), ({"directly_follows": [("Apply",)]}, "directly_follows"),
    ({"eventually_follows": "ab"}, "eventually_follows"), ({"min_seconds": -1}, "min_seconds"),
    ({"max_seconds": "1h"}, "max_seconds"), ({"max_seconds": -0.5}, "max_seconds"),
    ({"min_seconds": float("nan")}, "min_seconds"), ({"min_seconds": 7200, "max_seconds": 3600}, "max_seconds"),
])
def test_bad_criteria_are_refused_with_the_parameter_named(arguments: dict[str, object], parameter: str) -> None:
    with pytest.raises(InvalidParameterError, match=f"'{parameter}' parameter of CaseFilter") as raised:
        CaseFilter(**arguments)
    assert raised.value.parameter == parameter


def test_hostile_activity_names_are_values_not_sql(store: Store) -> None:
    hostile = "Pay'); DROP TABLE steps; --"
    assert _cases(store, CaseFilter(present=[hostile])) == set()
    assert _cases(store, CaseFilter(absent=[hostile])) == set(JOURNEYS)
    assert store.has_table("steps")


def _pairs(store: Store, where: CaseFilter) -> set[tuple[str, str]]:
    table = journey_table(store, where).select("service", "case_id").to_pandas()
    return set(zip(table["service"], table["case_id"], strict=True))


def test_a_case_is_a_service_and_a_case_id(twins: Store) -> None:
    journeys = twins.backend.table("journeys").select("service", "case_id", "case_key").to_pandas()
    assert journeys["case_key"].is_unique and len(journeys) == 4
    steps = twins.backend.table("steps").select("service", "case_id", "case_key").distinct().to_pandas()
    assert steps.merge(journeys, on=["service", "case_id", "case_key"]).shape[0] == len(steps) == len(journeys)


@pytest.mark.parametrize(("where", "expected"), [
    (CaseFilter(present=["Done"]), {("s1", "x")}),
    (CaseFilter(present=["Refuse"]), {("s2", "x")}),
    (CaseFilter(absent=["Pay"]), {("s1", "late")}),
    (CaseFilter(service="s2", absent=["Done"]), {("s2", "x")}),
    (CaseFilter(directly_follows=[("Apply", "Pay")]), {("s1", "x")}),
    (CaseFilter(directly_follows=[("Pay", "Apply")]), {("s2", "x"), ("s1", "tie")}),
    (CaseFilter(eventually_follows=[("Apply", "Done")]), {("s1", "x")}),
    (CaseFilter(eventually_follows=[("Pay", "Refuse")]), {("s2", "x")}),
    (CaseFilter(eventually_follows=[("Pay", "Done")]), {("s1", "x")}),  # not (s2, x)'s Pay before (s1, x)'s Done
    (CaseFilter(min_seconds=3 * 3600), {("s2", "x")}),
    (CaseFilter(max_seconds=3 * 3600, present=["Pay"]), {("s1", "x"), ("s1", "tie")}),
    (CaseFilter(attribute=("office", "office-s2")), {("s2", "x")}),
    (CaseFilter(attribute=("office", "office-s1"), present=["Pay", "Apply"], absent=["Done"]), {("s1", "tie")}),
])
def test_the_same_case_id_in_two_services_is_two_cases(twins: Store, where: CaseFilter,
                                                       expected: set[tuple[str, str]]) -> None:
    assert _pairs(twins, where) == expected


def test_the_map_of_one_of_two_cases_of_the_same_id_has_its_steps_alone(twins: Store) -> None:
    graph = process_map(twins, CaseFilter(present=["Done"]))
    assert graph.dfg == {("Apply", "Pay"): 1, ("Pay", "Done"): 1}


def test_equal_timestamps_follow_the_events_sequence_as_the_steps_do(twins: Store) -> None:
    events = twins.backend.table("events")
    tie = events.filter(events.case_id == "tie").order_by(["timestamp", "event_seq"]).to_pandas()
    assert tie["timestamp"].nunique() == 1 and list(tie["activity"]) == ["Pay", "Apply"]  # the order given
    steps = twins.backend.table("steps")
    assert list(steps.filter(steps.case_id == "tie").order_by("position").activity.to_pandas()) == ["Pay", "Apply"]
    assert ("s1", "tie") in _pairs(twins, CaseFilter(directly_follows=[("Pay", "Apply")]))
    assert ("s1", "tie") in _pairs(twins, CaseFilter(eventually_follows=[("Pay", "Apply")]))
    assert ("s1", "tie") not in _pairs(twins, CaseFilter(directly_follows=[("Apply", "Pay")]))
    assert ("s1", "tie") not in _pairs(twins, CaseFilter(eventually_follows=[("Apply", "Pay")]))


@pytest.mark.parametrize(("outcome", "expected"), [
    ("completed", {("s1", "x")}), ("rejected", {("s2", "x")}), ("abandoned", {("s1", "tie")}), ("open", {("s1", "late")}),
])
def test_each_outcome_keeps_its_cases(twins: Store, outcome: str, expected: set[tuple[str, str]]) -> None:
    assert _pairs(twins, CaseFilter(outcome=outcome)) == expected


@pytest.mark.parametrize(("where", "expected"), [
    # The store's zone (its catalogue's, Asia/Dubai): the cases starting at BOUNDARY are 2025Q2 there.
    (CaseFilter(quarter="2025Q2"), {("s1", "x"), ("s2", "x"), ("s1", "late")}),
    (CaseFilter(quarter="2025Q1"), {("s1", "tie")}),
    (CaseFilter(quarter="2025Q2", eventually_follows=[("Apply", "Pay")]), {("s1", "x")}),
    (CaseFilter(quarter="2025Q2", directly_follows=[("Pay", "Apply")]), {("s2", "x")}),
    (CaseFilter(quarter="2025Q2", present=["Apply"], absent=["Pay"]), {("s1", "late")}),
    (CaseFilter(quarter="2025Q2", tz="Asia/Dubai", attribute=("office", "office-s2"), min_seconds=3600), {("s2", "x")}),
    # Read in UTC they are still 2025Q1.
    (CaseFilter(quarter="2025Q1", tz="UTC", directly_follows=[("Pay", "Apply")]), {("s2", "x"), ("s1", "tie")}),
    (CaseFilter(quarter="2025Q2", tz="UTC", present=["Pay"]), set()),
])
def test_a_quarter_combines_with_step_criteria_across_a_zone_boundary(twins: Store, where: CaseFilter,
                                                                      expected: set[tuple[str, str]]) -> None:
    assert _pairs(twins, where) == expected


def test_the_map_of_a_quarter_and_step_criteria_reads_the_quarter_in_the_stores_zone(twins: Store) -> None:
    graph = process_map(twins, CaseFilter(quarter="2025Q2", directly_follows=[("Pay", "Apply")]))
    assert graph.dfg == {("Pay", "Apply"): 1, ("Apply", "Refuse"): 1}


@pytest.mark.parametrize(("where", "table"), [
    (CaseFilter(present=["Pay"]), "steps"), (CaseFilter(eventually_follows=[("Apply", "Pay")]), "steps"),
    (CaseFilter(attribute=("office", "north")), "events"),
])
def test_apply_asks_for_the_tables_its_criteria_read(store: Store, where: CaseFilter, table: str) -> None:
    assert where.tables_read == (table,) and CaseFilter(channel="app", quarter="2025Q1").tables_read == ()
    assert CaseFilter(absent=["Pay"], attribute=("office", "north")).tables_read == ("events", "steps")
    with pytest.raises(InvalidParameterError, match=f"the {table} table") as raised:
        where.apply(store.backend.table("journeys"))
    assert raised.value.parameter == table
    # A filter on the journey table alone needs neither.
    assert where.apply(store.backend.table("journeys"), events=store.backend.table("events"),
                       steps=store.backend.table("steps")).count().execute() > 0
    assert CaseFilter(channel="app").apply(store.backend.table("journeys")).count().execute() == 2
