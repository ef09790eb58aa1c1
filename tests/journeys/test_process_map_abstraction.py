"""Abstraction of hand-made process maps: ties are never cut, and no activity shown is stranded."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from najma.journeys import CaseFilter, ProcessMap, Store, process_map


def _graph(edges: dict[tuple[str, str], int], starts: dict[str, int], ends: dict[str, int]) -> ProcessMap:
    """A map whose activities are counted as the edges into them plus their starts (as in a real log)."""
    frequency: dict[str, int] = dict(starts)
    for (_, target), count in edges.items():
        frequency[target] = frequency.get(target, 0) + count
    activities = pd.DataFrame({"activity": list(frequency), "frequency": list(frequency.values()),
                               "cases": list(frequency.values())})
    rows = pd.DataFrame([{"source": s, "target": t, "frequency": f, "cases": f, "median_seconds": 60.0}
                         for (s, t), f in edges.items()])
    return ProcessMap(activities, rows, starts, ends)


def _paths_ok(graph: ProcessMap) -> None:
    """Every activity lies on a path from a start activity and on a path to an end activity."""
    pairs = set(zip(graph.edges.source, graph.edges.target, strict=True))
    for ends, flip in ((graph.start_activities, False), (graph.end_activities, True)):
        seen, todo = set(ends), list(ends)
        while todo:
            node = todo.pop()
            for s, t in pairs:
                after = t if not flip else s
                if (s if not flip else t) == node and after not in seen:
                    seen.add(after)
                    todo.append(after)
        assert set(graph.activities.activity) <= seen, f"not reached from the {'end' if flip else 'start'}"


def test_edges_all_cases_take_stay_at_every_share():
    """76 cases take the same five steps: ties by name used to drop edges of frequency 76 at 90%."""
    steps = ["Submit application", "Check documents", "Pay the fee", "Review", "Issue licence"]
    graph = _graph({(a, b): 76 for a, b in zip(steps, steps[1:], strict=False)}, {steps[0]: 76}, {steps[-1]: 76})
    for share in (1.0, 0.9, 0.5, 0.1):
        shown = graph.abstract(share)
        assert list(shown.activities.activity) == list(graph.activities.activity)
        assert shown.dfg == graph.dfg


def test_a_tie_at_the_cut_is_kept_whole():
    graph = _graph({("A", "B"): 10, ("A", "C"): 5, ("A", "D"): 5, ("B", "E"): 10, ("C", "E"): 5, ("D", "E"): 5},
                   {"A": 20}, {"E": 20})
    shown = graph.abstract(0.85)  # 85% of the events is reached inside the tie of C and D, and so for their edges
    assert set(shown.activities.activity) == {"A", "B", "C", "D", "E"}
    assert shown.dfg == graph.dfg
    # A and E tie and cover half alone; B, on the most frequent way between them, joins them.
    assert graph.abstract(0.5).dfg == {("A", "B"): 10, ("B", "E"): 10}


def test_an_activity_whose_edges_are_rare_keeps_its_strongest_edge_in_and_out():
    """Check is frequent, but each of its edges is rarer than the edges of the main path: it used to be left
    with no edge in or out."""
    edges = {("Apply", "Pay"): 50, ("Pay", "Close"): 50, ("Apply", "Check"): 3, ("Pay", "Check"): 2,
             ("Check", "Check"): 40, ("Check", "Close"): 4, ("Check", "Pay"): 1}
    graph = _graph(edges, {"Apply": 55}, {"Close": 54, "Pay": 1})
    shown = graph.abstract(0.9)
    assert "Check" in set(shown.activities.activity)
    assert ("Apply", "Check") in shown.dfg and ("Check", "Close") in shown.dfg
    _paths_ok(shown)


def test_activities_kept_in_a_loop_are_joined_to_the_start_and_end_they_lost():
    """Only B and C (a loop) cover half the events: the way in from A and out to D come back with A and D."""
    graph = _graph({("A", "B"): 2, ("B", "C"): 9, ("C", "B"): 7, ("C", "D"): 2}, {"A": 2}, {"D": 2})
    shown = graph.abstract(0.5)
    assert {"B", "C"} <= set(shown.activities.activity)
    assert {("A", "B"), ("C", "D")} <= set(shown.dfg)
    assert shown.start_activities == {"A": 2} and shown.end_activities == {"D": 2}
    _paths_ok(shown)


@pytest.mark.parametrize("share", [1.0, 0.9, 0.5, 0.2])
def test_every_activity_of_an_abstracted_sample_map_is_on_a_path(built_sample: Path, share: float):
    with Store(built_sample, read_only=True) as store:
        maps = [process_map(store, CaseFilter(service=service)) for service in ("passport", "trade_licence")]
    for full in maps:
        shown = full.abstract(share)
        _paths_ok(shown)
        if share == 1.0:
            assert shown.dfg == full.dfg and shown.activities.equals(full.activities)
