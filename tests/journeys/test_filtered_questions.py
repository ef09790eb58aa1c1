"""The shortcuts of the filtered questions give the answers of the long way round, on the sample: the steps of a
filter on activities read off the steps alone, a list of one service's map read from the kept maps, and variants
grouped on a hash of their text (and on the text when two of them share one)."""

from __future__ import annotations

import pandas as pd
import pytest

import najma.journeys._variants as variants_module
from najma.errors import InvalidParameterError
from najma.journeys import CaseFilter, Store, journey_table, process_map, variants
from najma.journeys._process_map import filtered_steps

SERVICE, QUARTER = "trade_licence", "2025Q2"
ASKED, PAID = "Request additional documents", "Pay fees"


def _step_keys(steps) -> set[tuple[int, int]]:
    """The (case_key, position) of each step of an Ibis table of steps."""
    frame = steps.select("case_key", "position").to_pandas()
    return set(zip(frame.case_key, frame.position, strict=True))


@pytest.mark.parametrize("where", [
    CaseFilter(present=[ASKED]),
    CaseFilter(present=[ASKED, PAID], service=SERVICE, quarter=QUARTER),
    CaseFilter(absent=[ASKED]),
    CaseFilter(directly_follows=[(ASKED, "Resubmit documents")]),
    CaseFilter(eventually_follows=[(PAID, ASKED)], service=[SERVICE, "passport"]),
], ids=["present", "present-service-quarter", "absent", "directly", "eventually"])
def test_the_steps_of_activity_criteria_are_those_of_the_journeys_that_pass(sample_journeys: Store, where: CaseFilter) -> None:
    assert where.in_zone_of(sample_journeys).on_steps_alone
    steps = sample_journeys.backend.table("steps")
    joined = steps.join(journey_table(sample_journeys, where).select("case_key"), "case_key")
    expected = _step_keys(joined)
    assert 0 < len(expected) < steps.count().to_pyarrow().as_py()
    assert _step_keys(filtered_steps(sample_journeys, where)) == expected


def test_the_steps_alone_do_not_answer_a_filter_on_the_journeys(sample_journeys: Store) -> None:
    where = CaseFilter(channel="smart app", present=[ASKED])
    assert not where.on_steps_alone
    with pytest.raises(InvalidParameterError, match="steps alone"):
        where.steps_of(sample_journeys.backend.table("steps"))


def _frames(where: CaseFilter, store: Store) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int], dict[str, int]]:
    graph = process_map(store, where)
    return graph.activities, graph.edges, graph.start_activities, graph.end_activities


@pytest.mark.parametrize("quarter", [None, QUARTER])
def test_a_list_of_one_service_has_that_services_map(sample_journeys: Store, quarter: str | None) -> None:
    one = _frames(CaseFilter(service=SERVICE, quarter=quarter), sample_journeys)
    listed = _frames(CaseFilter(service=[SERVICE], quarter=quarter), sample_journeys)
    # The same service twice is a list of two: its counts are summed from the kept rows, its times worked out.
    twice = _frames(CaseFilter(service=[SERVICE, SERVICE], quarter=quarter), sample_journeys)
    assert len(one[1]) > 5
    for frame, same, summed in zip(one[:2], listed[:2], twice[:2], strict=True):
        pd.testing.assert_frame_equal(same, frame)
        pd.testing.assert_frame_equal(summed, frame, check_exact=False, rtol=1e-9)
    assert one[2:] == listed[2:] == twice[2:]


@pytest.mark.parametrize("where", [None, CaseFilter(service=SERVICE, quarter=QUARTER), CaseFilter(present=[ASKED])],
                         ids=["all", "service-quarter", "present"])
def test_variants_that_share_a_hash_are_grouped_on_their_text(sample_journeys: Store, monkeypatch: pytest.MonkeyPatch,
                                                              where: CaseFilter | None) -> None:
    hashed = variants(sample_journeys, where)
    journeys = journey_table(sample_journeys, where).to_pandas()
    by_text = journeys.groupby("variant").agg(cases=("case_id", "size"), customers=("customer_id", "nunique"),
                                              events=("events", "max"))
    assert len(hashed) > 3
    assert hashed.set_index("variant")[["cases", "customers", "events"]].sort_index().equals(by_text.sort_index())
    lengths = journeys.drop_duplicates("variant").variant.str.len()
    assert lengths.duplicated().any()  # grouped on their length, some variants share a group
    monkeypatch.setattr(variants_module, "_text_hash", lambda text: text.length())
    pd.testing.assert_frame_equal(variants(sample_journeys, where), hashed)
