"""The journey table: the generator's ground truth for every case, incremental builds, catalogue roles."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pyarrow.parquet as pq
import pytest

from najma.errors import StoreError
from najma.journeys import (
    CaseFilter,
    Store,
    build_journeys,
    journey_table,
    load_catalogue,
    open_source,
    process_map,
    register_catalogue,
    variants,
)
from najma.journeys import _build as build
from najma.journeys._aggregates import SERVICE_MAP_ACTIVITIES, SERVICE_MAP_EDGES
from najma.journeys._codes import CODE_COLUMNS
from najma.journeys._process_map import _kept_map
from najma.sample import SAMPLE_CATALOGUE, SAMPLE_EVENTS, SAMPLE_TRUTH, load_sample

TRUTH_COLUMNS = {"customer_steps": "customer_steps", "visits": "visits", "rework": "document_requests",
                 "outcome": "outcome", "events": "events", "proactive": "proactive"}


@pytest.fixture
def sample_store(store: Store) -> Store:
    load_sample(store)
    return store


def test_every_sample_case_has_the_generators_steps_visits_rework_and_outcome(sample_store: Store):
    truth = pd.read_parquet(SAMPLE_TRUTH)
    ours = journey_table(sample_store).to_pandas()
    merged = truth.merge(ours, on=["service", "case_id"], how="outer", suffixes=("_truth", ""), indicator=True)
    assert (merged["_merge"] == "both").all()
    for truth_column, our_column in TRUTH_COLUMNS.items():
        expected = merged[truth_column + "_truth" if truth_column in ours.columns else truth_column]
        mismatched = merged[expected.to_numpy() != merged[our_column].to_numpy()]
        assert mismatched.empty, f"{truth_column}: {len(mismatched)} cases differ, e.g. {mismatched.case_id.head(3).tolist()}"
    assert set(ours.outcome) == {"completed", "rejected", "abandoned", "open"}


def _built_tables(store: Store) -> dict[str, pd.DataFrame]:
    """The tables a build writes, each sorted by the columns that name its rows (never in the order of its rows)."""
    keys = {"steps": ["event_seq"], "journeys": ["case_key"],
            SERVICE_MAP_EDGES: ["service", "quarter", "source", "target"], SERVICE_MAP_ACTIVITIES: ["service", "quarter", "activity"]}
    return {table: store.con.execute(f"SELECT * FROM {table}").df().sort_values(by).reset_index(drop=True)
            for table, by in keys.items()}


def test_a_build_in_parts_equals_a_build_in_one(sample_store: Store):
    whole = _built_tables(sample_store)
    sample_store.memory_limit = 2 * 40_000 * build.BUILD_BYTES_PER_EVENT  # the sample's 205k events in six parts
    stages = []
    build_journeys(sample_store, progress=stages.append)
    assert stages[0] == "steps and journeys, part 1 of 6" and "steps and journeys, part 6 of 6" in stages
    for table, frame in _built_tables(sample_store).items():
        pd.testing.assert_frame_equal(frame, whole[table], obj=table)


def test_an_incremental_build_equals_a_full_build(store: Store, tmp_path):
    store.memory_limit = 2 * 60_000 * build.BUILD_BYTES_PER_EVENT  # both builds in parts
    events = pq.read_table(SAMPLE_EVENTS).to_pandas()
    cases = sorted(events.case_id.unique())
    first = events[events.case_id.isin(cases[: len(cases) // 2])]
    # The second file holds new cases and also late events of cases from the first file.
    late = first.groupby("case_id").tail(1).head(300)
    first = first.drop(late.index)
    second = pd.concat([events[~events.case_id.isin(first.case_id) & ~events.index.isin(late.index)], late])
    for index, part in enumerate([first, second]):
        path = tmp_path / f"part{index}.parquet"
        part.reset_index(drop=True).to_parquet(path)
        result = store.ingest(open_source(path), tz="Asia/Dubai")
        if index == 0:
            register_catalogue(store, load_catalogue(SAMPLE_CATALOGUE))
            build_journeys(store)
        else:
            build_journeys(store, batch_id=result.batch_id)
    incremental = journey_table(store).to_pandas().sort_values(["service", "case_id"]).reset_index(drop=True)
    build_journeys(store)
    full = journey_table(store).to_pandas().sort_values(["service", "case_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(incremental[full.columns], full)
    assert len(full) == events.case_id.nunique()


def test_without_a_catalogue_customer_steps_come_from_the_actor_column(store: Store):
    store.ingest(open_source(SAMPLE_EVENTS), tz="Asia/Dubai")
    build_journeys(store)
    ours = journey_table(store).to_pandas().set_index("case_id")
    truth = pd.read_parquet(SAMPLE_TRUTH).set_index("case_id")
    assert (ours.customer_steps.reindex(truth.index) == truth.customer_steps).all()
    assert ours.outcome.isna().all()  # no decision roles known: no outcome is invented


def test_filters_narrow_maps_and_variants_to_the_cases_asked_for(sample_store: Store):
    where = CaseFilter(service="trade_licence", quarter="2025Q1", tz="Asia/Dubai")
    cases = journey_table(sample_store, where).to_pandas()
    assert len(cases) > 0 and set(cases.service) == {"trade_licence"}
    starts = cases.start.dt.tz_convert("Asia/Dubai")
    assert starts.min() >= pd.Timestamp("2025-01-01", tz="Asia/Dubai")
    assert starts.max() < pd.Timestamp("2025-04-01", tz="Asia/Dubai")
    graph = process_map(sample_store, where)
    assert sum(graph.start_activities.values()) == len(cases)
    table = variants(sample_store, where)
    assert table.cases.sum() == len(cases)
    assert table.cumulative.iloc[-1] == pytest.approx(1.0)
    top = variants(sample_store, where, coverage=0.5)
    assert top.cumulative.iloc[-1] >= 0.5 > (top.cumulative.iloc[-1] - top.share.iloc[-1])


def test_abstraction_keeps_the_most_frequent_activities_and_edges(sample_store: Store):
    full = process_map(sample_store, CaseFilter(service="passport"))
    small = full.abstract(0.6)
    assert 0 < len(small.activities) < len(full.activities)
    assert small.activities.frequency.sum() >= 0.6 * full.activities.frequency.sum()
    kept = set(small.activities.activity)
    assert set(small.edges.source) | set(small.edges.target) <= kept
    with pytest.raises(ValueError, match="coverage"):
        full.abstract(0)


@pytest.mark.parametrize(("quarter", "tz", "kept"), [(None, "UTC", True), ("2025Q1", "Asia/Dubai", True),
                                                     ("2025q1", "Asia/Dubai", True), ("2025Q1", "UTC", False)])
def test_a_map_read_from_the_build_equals_the_map_worked_out_from_its_steps(
    sample_store: Store, quarter: str | None, tz: str, kept: bool,
):
    """The build keeps each service's map, and the map of all services, per quarter in the
    catalogue's zone (Asia/Dubai) and over all cases; a quarter read in another zone is worked out
    from the steps."""
    every_service = sorted(sample_store.backend.table("journeys").service.to_pandas().unique())
    for service in ("passport", "trade_licence", None):
        where = CaseFilter(service=service, quarter=quarter, tz=tz)
        assert (_kept_map(sample_store, where) is not None) == kept
        read = process_map(sample_store, where)
        listed = every_service if service is None else [service]
        # A criterion that keeps every case, beyond the service and span, is worked out from the steps.
        worked_out = process_map(sample_store, replace(where, service=listed, min_seconds=0))
        assert len(read.edges) > 5
        pd.testing.assert_frame_equal(read.edges, worked_out.edges)
        pd.testing.assert_frame_equal(read.activities, worked_out.activities)
        assert (read.start_activities, read.end_activities) == (worked_out.start_activities, worked_out.end_activities)


def test_a_store_reading_a_spark_builds_events_is_not_built_again(store: Store, tmp_path):
    frame = pd.DataFrame({"case_id": ["a", "a", "b"], "activity": ["Apply", "Pay", "Apply"],
                          "timestamp": pd.date_range("2025-01-05", periods=3, freq="h", tz="UTC")})
    store.ingest_frame(frame, service="permit")
    store.backend.table("events").drop(*CODE_COLUMNS).to_parquet(tmp_path / "events.parquet")
    with Store(tmp_path / "attached.duckdb") as attached:
        attached.view_parquet("events", [str(tmp_path / "events.parquet")], events=True)
        with pytest.raises(StoreError, match="reads the events, steps and journeys of a Spark build"):
            build_journeys(attached)
