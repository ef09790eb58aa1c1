"""A map worked out from the steps counts the cases with an edge, and every count of an activity, off the variants of
its cases: it equals the count made step by step, on the sample and on activity names that hold the variants' arrow."""

from __future__ import annotations

import pandas as pd
import pytest

from najma.journeys import CaseFilter, Store, build_journeys, process_map
from najma.journeys._aggregates import activity_statistics, edge_statistics
from najma.journeys._process_map import _ACTIVITY_ORDER, _EDGE_ORDER, _kept_map, filtered_steps

#: Criteria of every kind the map works out from the steps (none is read from the kept maps).
WORKED_OUT = [
    CaseFilter(channel="smart app"),
    CaseFilter(agency="Municipality", quarter="2025Q2"),
    CaseFilter(outcome="completed"),
    CaseFilter(present=["Pay fees"]),
    CaseFilter(absent=["Pay fees"], service=["passport", "trade_licence"]),
    CaseFilter(directly_follows=[("Submit application", "Pay fees")]),
    CaseFilter(eventually_follows=[("Submit application", "Issue document")], min_seconds=86_400),
    CaseFilter(attribute=("channel", "service centre")),
    CaseFilter(service="passport", min_seconds=0),
]


def _step_by_step(store: Store, where: CaseFilter) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The edges and activities of the map of `where`, every count made over the steps themselves."""
    steps = filtered_steps(store, where)
    return (edge_statistics(steps).order_by(_EDGE_ORDER).to_pandas(),
            activity_statistics(steps).order_by(_ACTIVITY_ORDER).to_pandas())


def _assert_counted_step_by_step(store: Store, where: CaseFilter) -> None:
    assert _kept_map(store, where) is None
    graph = process_map(store, where)
    edges, activities = _step_by_step(store, where)
    pd.testing.assert_frame_equal(graph.edges, edges, check_exact=True)
    pd.testing.assert_frame_equal(graph.activities, activities[["activity", "frequency", "cases"]], check_exact=True)
    assert graph.start_activities == {a: int(n) for a, n in zip(activities.activity, activities.starts, strict=True) if n}
    assert graph.end_activities == {a: int(n) for a, n in zip(activities.activity, activities.ends, strict=True) if n}


@pytest.mark.parametrize("where", WORKED_OUT, ids=lambda where: ",".join(
    name for name, value in vars(where).items() if value is not None))
def test_a_worked_out_map_counts_cases_as_its_steps_do(sample_journeys: Store, where: CaseFilter) -> None:
    _assert_counted_step_by_step(sample_journeys, where)
    assert len(process_map(sample_journeys, where).edges) > 5


def test_the_sample_has_cases_that_repeat_an_edge(sample_journeys: Store) -> None:
    """A map's cases per edge then differ from its frequency: counting them is tested."""
    edges = process_map(sample_journeys, WORKED_OUT[0]).edges
    assert (edges.frequency > edges.cases).any()


#: Cases whose activities hold the arrow of the variants' text, each a list of activities an hour apart. "one" and
#: "two" differ but read the same ("A → → B"); "lone" is a case of one event named like a variant of two.
ARROWS = {"one": ["A →", "B", "A →", "B"], "two": ["A", "→ B", "A", "→ B"], "lone": ["X → Y"], "plain": ["A", "B", "A"]}


@pytest.mark.parametrize("cases", [["one", "two", "lone", "plain"], ["lone", "plain"]], ids=["ambiguous", "one-event"])
def test_activity_names_with_the_variants_arrow_are_counted_as_their_steps(store: Store, cases: list[str]) -> None:
    frame = pd.DataFrame([(case, activity, pd.Timestamp("2025-01-05", tz="UTC") + pd.Timedelta(hours=hour))
                          for case in cases for hour, activity in enumerate(ARROWS[case])],
                         columns=["case_id", "activity", "timestamp"])
    store.ingest_frame(frame, service="permit")
    build_journeys(store)
    _assert_counted_step_by_step(store, CaseFilter(min_seconds=0))
    graph = process_map(store, CaseFilter(min_seconds=0))
    assert graph.activities.set_index("activity").loc["X → Y"].tolist() == [1, 1]
