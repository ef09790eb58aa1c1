"""Rework told apart as edeaR tells it (see :mod:`najma.journeys._rework`): self-loops and later repetitions, each
repeat (the same resource), redo (another) or unknown; counted per case, per activity and per service, on hand-made
journeys whose every count is worked out by hand below, and on the real clicks log, which has no resource."""

from __future__ import annotations

import pandas as pd
import pytest

from najma.errors import InvalidParameterError
from najma.journeys import CaseFilter, Store, build_journeys, open_source, parse_mapping, rework, rework_steps
from najma.journeys._rework import REWORK_COLUMNS
from tests.conftest import REAL

START = pd.Timestamp("2025-01-05 08:00", tz="UTC")
#: Hand-made cases: (activity, resource) in time order, an hour apart. None is a step whose resource is not known.
CASES = {
    # A A: the second A right after the first, by the same person: a repeat self-loop.
    "self_loop": [("A", "ann"), ("A", "ann"), ("B", "ann")],
    # A B A: the second A after another activity, by the first A's person: a repeat repetition.
    "later_repeat": [("A", "ann"), ("B", "bob"), ("A", "ann")],
    # A B A by another person than the first A's: a redo repetition; and C C by two people: a redo self-loop.
    "redo": [("A", "ann"), ("B", "bob"), ("A", "cy"), ("C", "bob"), ("C", "ann")],
    # The first A's resource is not known: the repetition is unknown, whoever did it (never guessed a redo).
    "unknown": [("A", None), ("B", "bob"), ("A", "ann")],
    # Both kinds in one case: A A (redo self-loop: bob after ann), then A again after B (its first A was ann's:
    # repeat), then B again by cy (its first B was ann's: redo).
    "both": [("A", "ann"), ("A", "bob"), ("B", "ann"), ("A", "ann"), ("B", "cy")],
    # No activity twice: no rework.
    "none": [("A", "ann"), ("B", "bob")],
}
#: The counts of each case, worked out by hand from the comments above:
#: (self_loops repeat, redo, unknown), (repetitions repeat, redo, unknown).
BY_HAND = {
    "self_loop": ((1, 0, 0), (0, 0, 0)),
    "later_repeat": ((0, 0, 0), (1, 0, 0)),
    "redo": ((0, 1, 0), (0, 1, 0)),
    "unknown": ((0, 0, 0), (0, 0, 1)),
    "both": ((0, 1, 0), (1, 1, 0)),
    "none": ((0, 0, 0), (0, 0, 0)),
}


def _frame(cases: dict[str, list[tuple[str, str | None]]], *, resource: bool = True) -> pd.DataFrame:
    """The events of `cases`, rows shuffled (the order of the rows must not matter; time alone orders a case)."""
    rows = [{"case_id": case, "activity": activity, "resource": who, "timestamp": START + pd.Timedelta(hours=hour)}
            for case, steps in cases.items() for hour, (activity, who) in enumerate(steps)]
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=7).reset_index(drop=True)
    return frame if resource else frame.drop(columns="resource")


@pytest.fixture
def built(store: Store) -> Store:
    store.ingest_frame(_frame(CASES), service="permit")
    build_journeys(store)
    return store


def _expected(case: str) -> dict[str, int]:
    (loop_repeat, loop_redo, loop_unknown), (rep_repeat, rep_redo, rep_unknown) = BY_HAND[case]
    loops, repetitions = loop_repeat + loop_redo + loop_unknown, rep_repeat + rep_redo + rep_unknown
    return {"rework": loops + repetitions, "self_loops": loops, "repetitions": repetitions,
            "self_loops_repeat": loop_repeat, "self_loops_redo": loop_redo, "self_loops_unknown": loop_unknown,
            "repetitions_repeat": rep_repeat, "repetitions_redo": rep_redo, "repetitions_unknown": rep_unknown}


@pytest.mark.parametrize("case", list(CASES))
def test_each_kind_of_rework_is_counted_per_case_as_worked_out_by_hand(built: Store, case: str) -> None:
    found = rework(built, by="case").set_index("case_id").loc[case]
    assert {name: int(found[name]) for name in REWORK_COLUMNS} == _expected(case)
    assert int(found["events"]) == len(CASES[case])
    assert int(found["cases_with_rework"]) == int(_expected(case)["rework"] > 0)


def test_each_step_of_rework_names_its_kind_and_who_did_it(built: Store) -> None:
    steps = rework_steps(built, CaseFilter(service="permit")).to_pandas().sort_values(["case_id", "timestamp"])
    both = steps[steps.case_id == "both"]
    assert both["rework"].fillna("-").tolist() == ["-", "self_loop", "-", "repetition", "repetition"]
    assert both["by"].fillna("-").tolist() == ["-", "redo", "-", "repeat", "redo"]


def test_the_activity_and_service_levels_add_up_the_cases(built: Store) -> None:
    activities = rework(built, by="activity").set_index("activity")
    # A: self-loops in self_loop (repeat) and both (redo); repetitions in later_repeat (repeat), redo (redo),
    # unknown (unknown), both (repeat). B: one repetition, in both (redo). C: one self-loop, in redo (redo).
    assert activities.loc["A", ["self_loops_repeat", "self_loops_redo", "repetitions_repeat", "repetitions_redo",
                                "repetitions_unknown", "cases_with_rework", "cases"]].tolist() == [1, 1, 2, 1, 1, 5, 6]
    assert activities.loc["B", ["repetitions_redo", "rework", "cases_with_rework"]].tolist() == [1, 1, 1]
    assert activities.loc["C", ["self_loops_redo", "rework", "events"]].tolist() == [1, 1, 2]
    per_case = rework(built, by="case")
    service = rework(built).set_index("service").loc["permit"]
    for name in REWORK_COLUMNS:
        assert int(service[name]) == int(per_case[name].sum()) == sum(_expected(c)[name] for c in CASES)
    assert int(service["events"]) == sum(len(steps) for steps in CASES.values())
    assert int(service["cases_with_rework"]) == 5
    assert int(service["cases"]) == len(CASES)
    assert activities[list(REWORK_COLUMNS)].sum().tolist() == per_case[list(REWORK_COLUMNS)].sum().tolist()


def test_a_log_without_resources_reports_every_repeat_as_unknown_never_redone(store: Store) -> None:
    store.ingest_frame(_frame(CASES, resource=False), service="permit")
    build_journeys(store)
    found = rework(store).iloc[0]
    # Every case's rework, of either kind, with nobody known: 1+0+2+1+3 steps (self_loop, later_repeat, redo,
    # unknown, both), of which self-loops: self_loop's A, redo's C and both's A.
    assert [int(found[n]) for n in ("rework", "self_loops", "self_loops_unknown", "repetitions", "repetitions_unknown",
                                    "self_loops_redo", "repetitions_redo", "self_loops_repeat", "repetitions_repeat")] \
        == [8, 3, 3, 5, 5, 0, 0, 0, 0]


def test_a_quarter_and_a_service_select_the_cases_counted(built: Store) -> None:
    assert len(rework(built, CaseFilter(quarter="2025Q1"), by="case")) == len(CASES)
    assert rework(built, CaseFilter(quarter="2024Q4"), by="case").empty
    assert rework(built, CaseFilter(service="elsewhere")).empty


def test_an_unknown_level_is_refused_naming_the_parameter(built: Store) -> None:
    with pytest.raises(InvalidParameterError, match="'by' parameter of rework") as caught:
        rework(built, by="resource")
    assert caught.value.parameter == "by"


def test_the_clicks_log_reports_its_rework_with_resources_unknown(store: Store) -> None:
    mapping = parse_mapping("case=SessionID,customer=IPID,service=VHOST,activity=PAGE_NAME,timestamp=TIMESTAMP")
    store.ingest(open_source(REAL / "BPI2016_Clicks_NOT_Logged_In_sample1000.csv", sep=";"), mapping=mapping)
    build_journeys(store)
    found = rework(store).set_index("service")
    total = found[list(REWORK_COLUMNS)].sum()
    assert total["rework"] > 300  # the sample's sessions click the same page again and again
    assert total["self_loops_unknown"] == total["self_loops"] > 0
    assert total["repetitions_unknown"] == total["repetitions"] > 0
    assert total[["self_loops_repeat", "self_loops_redo", "repetitions_repeat", "repetitions_redo"]].sum() == 0
    assert total["rework"] == total["self_loops"] + total["repetitions"]
