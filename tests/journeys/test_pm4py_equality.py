"""Process maps, variants, durations and rework equal pm4py's on the real logs and on the sample.

pm4py is the oracle: each log is loaded into a najma store and handed to pm4py as a frame in the
same row order (so that events sharing a timestamp are ordered alike), and the answers must match.
Identical events within one file are genuine repeats, kept as pm4py keeps them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pm4py
import pyarrow.parquet as pq
import pytest

from najma.journeys import (
    CaseFilter,
    Store,
    build_journeys,
    open_source,
    parse_mapping,
    process_map,
    quarter_bounds,
    rework_per_activity,
    variants,
)
from najma.journeys._variants import journey_table, variant_activities
from najma.sample import SAMPLE_EVENTS

BPI = "BPI2016_Clicks_NOT_Logged_In_sample1000.csv"
BPI_MAP = "case=SessionID,activity=PAGE_NAME,timestamp=TIMESTAMP"
XES_LOGS = ["receipt.xes.gz", "roadtraffic100traces.xes", "running-example.xes"]


def _pm4py_frame(store: Store) -> pd.DataFrame:
    """The store's events in input order, in pm4py's column names."""
    frame = store.con.execute(
        "SELECT case_id, activity, timestamp FROM events ORDER BY event_seq"
    ).df()
    frame["timestamp"] = frame["timestamp"].dt.tz_convert("UTC")
    return pm4py.format_dataframe(frame, case_id="case_id", activity_key="activity", timestamp_key="timestamp")


def _load(store: Store, real, name: str) -> pd.DataFrame:
    if name == BPI:
        store.ingest(open_source(real / name, sep=";"), mapping=parse_mapping(BPI_MAP))
    elif name == "sample":
        store.ingest(open_source(SAMPLE_EVENTS), tz="Asia/Dubai")
    else:
        store.ingest(open_source(real / name))
    build_journeys(store)
    return _pm4py_frame(store)


def _assert_same_map(store: Store, log: pd.DataFrame, where: CaseFilter | None = None) -> None:
    ours = process_map(store, where)
    dfg, starts, ends = pm4py.discover_dfg(log)
    assert ours.dfg == dict(dfg)
    assert ours.start_activities == dict(starts)
    assert ours.end_activities == dict(ends)
    performance, _, _ = pm4py.discover_performance_dfg(log)
    edges = ours.edges.set_index(["source", "target"])
    assert set(edges.index) == set(performance)
    for edge, expected in performance.items():
        assert math.isclose(edges.loc[edge, "mean_seconds"], expected["mean"], rel_tol=1e-9, abs_tol=1e-6), edge
        assert math.isclose(edges.loc[edge, "median_seconds"], expected["median"], rel_tol=1e-9, abs_tol=1e-6), edge
        assert math.isclose(edges.loc[edge, "min_seconds"], expected["min"], abs_tol=1e-6), edge
        assert math.isclose(edges.loc[edge, "max_seconds"], expected["max"], abs_tol=1e-6), edge


def _assert_same_variants_durations_rework(store: Store, log: pd.DataFrame) -> None:
    ours = {variant_activities(v): int(n) for v, n in zip(*variants(store)[["variant", "cases"]].T.values, strict=True)}
    assert ours == {tuple(v): int(n) for v, n in pm4py.get_variants(log).items()}
    durations = np.sort(journey_table(store).duration_seconds.to_pandas().to_numpy())
    np.testing.assert_allclose(durations, np.sort(pm4py.get_all_case_durations(log)), atol=1e-6)
    assert rework_per_activity(store) == dict(pm4py.get_rework_cases_per_activity(log))


@pytest.mark.parametrize("name", [*XES_LOGS, BPI, "sample"])
def test_process_map_equals_pm4py(real, store: Store, name):
    log = _load(store, real, name)
    _assert_same_map(store, log)


@pytest.mark.parametrize("name", [*XES_LOGS, BPI, "sample"])
def test_variants_durations_and_rework_equal_pm4py(real, store: Store, name):
    log = _load(store, real, name)
    _assert_same_variants_durations_rework(store, log)


def test_shuffled_rows_with_shared_timestamps_give_pm4py_answers(real, store: Store, tmp_path):
    """The receipt log, its rows shuffled and its times cut to the hour so that many events tie."""
    log = pm4py.read_xes(str(real / "receipt.xes.gz"), return_legacy_log_object=False)
    frame = log[["case:concept:name", "concept:name", "time:timestamp"]].rename(
        columns={"case:concept:name": "case_id", "concept:name": "activity", "time:timestamp": "timestamp"}
    )
    frame["timestamp"] = frame["timestamp"].dt.floor("h")  # some events become identical: repeats, kept
    frame = frame.sample(frac=1.0, random_state=5).reset_index(drop=True)
    assert frame.groupby(["case_id", "timestamp"]).size().max() > 1
    path = tmp_path / "shuffled.parquet"
    frame.to_parquet(path)
    result = store.ingest(open_source(path))
    assert result.loaded == len(frame) and result.repeated == len(frame) - len(frame.drop_duplicates()) > 0
    build_journeys(store)
    oracle = pm4py.format_dataframe(
        pq.read_table(path).to_pandas(), case_id="case_id", activity_key="activity", timestamp_key="timestamp"
    )
    _assert_same_map(store, oracle)
    _assert_same_variants_durations_rework(store, oracle)


@pytest.mark.parametrize("name", [*XES_LOGS, BPI])
def test_identical_events_repeated_in_a_file_are_kept_as_pm4py_keeps_them(real, store: Store, tmp_path, name):
    """The log with every 7th event written twice in place: the repeats count as steps, rework and self-loops."""
    with Store(tmp_path / "original.duckdb") as original:
        _load(original, real, name)
        frame = original.con.execute("SELECT case_id, activity, timestamp FROM events ORDER BY event_seq").df()
        rework = rework_per_activity(original)
    position = np.arange(len(frame))
    repeated = frame.iloc[np.repeat(position, np.where(position % 7 == 0, 2, 1))].reset_index(drop=True)
    path = tmp_path / "repeated.parquet"
    repeated.to_parquet(path)
    result = store.ingest(open_source(path))
    assert (result.loaded, result.quarantined) == (len(repeated), 0)
    assert result.repeated == len(repeated) - len(repeated.drop_duplicates()) >= len(position[::7])
    build_journeys(store)
    oracle = pm4py.format_dataframe(pd.read_parquet(path), case_id="case_id", activity_key="activity", timestamp_key="timestamp")
    _assert_same_map(store, oracle)
    _assert_same_variants_durations_rework(store, oracle)
    assert rework_per_activity(store) != rework


@pytest.mark.parametrize(("quarter", "channel"), [("2025Q1", None), ("2025Q1", "website"), (None, None)])
def test_map_of_one_service_equals_pm4py_on_its_cases(real, store: Store, quarter: str | None, channel: str | None):
    """A whole service's map is read from the build's service maps; a quarter is read off the steps
    alone; a channel adds a join with the journeys."""
    _load(store, real, "sample")
    assert store.has_table("service_map_edges")
    where = CaseFilter(service="trade_licence", quarter=quarter, tz="Asia/Dubai", channel=channel)
    events = store.con.execute(
        "SELECT service, case_id, channel, activity, timestamp, event_seq FROM events ORDER BY event_seq"
    ).df()
    first = events.sort_values(["timestamp", "event_seq"]).groupby(["service", "case_id"]).first()
    low, high = quarter_bounds(quarter, "Asia/Dubai") if quarter else (first.timestamp.min(), first.timestamp.max() + pd.Timedelta(1))
    keep = first[(first.index.get_level_values("service") == "trade_licence") & (first.timestamp >= low)
                 & (first.timestamp < high) & ((first.channel == channel) if channel else True)]
    chosen = events.set_index(["service", "case_id"]).index.isin(keep.index)
    assert 0 < len(keep) < first.shape[0] and chosen.sum() < len(events)
    log = pm4py.format_dataframe(
        events[chosen].assign(timestamp=lambda f: f.timestamp.dt.tz_convert("UTC")),
        case_id="case_id", activity_key="activity", timestamp_key="timestamp",
    )
    _assert_same_map(store, log, where)


@pytest.mark.parametrize(("name", "value"), [("dismissal", "NIL"), ("org:resource", "561")])
def test_attribute_filter_keeps_the_cases_pm4py_keeps(real, store: Store, name: str, value: str):
    path = real / "roadtraffic100traces.xes"
    store.ingest(open_source(path))
    build_journeys(store)
    ours = process_map(store, CaseFilter(attribute=("resource" if name == "org:resource" else name, value)))
    log = pm4py.filter_event_attribute_values(pm4py.read_xes(str(path)), name, [value], level="case", retain=True)
    dfg, starts, ends = pm4py.discover_dfg(log)
    assert 0 < sum(starts.values()) < 100
    assert ours.dfg == dict(dfg)
    assert ours.start_activities == dict(starts)
    assert ours.end_activities == dict(ends)
