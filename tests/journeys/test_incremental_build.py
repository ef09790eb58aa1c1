"""A store that builds each new extract's cases on their own holds exactly what one build of all the events gives.

The sample is loaded in three extracts split by time, so that the later ones add events to cases loaded before,
start new quarters and move the store's last event (which turns open cases that no extract touches abandoned). The
last extract also brings the first events of cases whose second event is in a later quarter: those cases move to an
earlier quarter, so the maps of the quarter they leave change too.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from najma.journeys import Store, build_journeys, load_catalogue, open_source, register_catalogue
from najma.journeys import _build as build
from najma.journeys._aggregates import SERVICE_MAP_ACTIVITIES, SERVICE_MAP_EDGES
from najma.sample import SAMPLE_CATALOGUE, SAMPLE_EVENTS

#: The instants (UTC) at which the sample is cut into extracts.
CUTS = (pd.Timestamp("2025-06-01", tz="UTC"), pd.Timestamp("2025-11-15", tz="UTC"))
TABLES = ("steps", "journeys", SERVICE_MAP_EDGES, SERVICE_MAP_ACTIVITIES)


def _quarter(instants: pd.Series) -> pd.Series:
    """The quarter of each instant in the catalogue's zone."""
    return instants.dt.tz_convert("Asia/Dubai").dt.tz_localize(None).dt.to_period("Q")


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The sample in three Parquet files, by the time of each event."""
    events = pd.read_parquet(SAMPLE_EVENTS)
    folder = tmp_path_factory.mktemp("extracts")
    extract = sum((events.timestamp >= cut).astype(int) for cut in CUTS)
    ordered = events.sort_values(["service", "case_id", "timestamp"])
    quarter = _quarter(ordered.timestamp)
    cases = ordered.groupby(["service", "case_id"], observed=True)
    first = cases.cumcount() == 0
    moved = first & (quarter != _quarter(cases.timestamp.shift(-1))) & (
        cases.timestamp.transform("size") > 1) & (extract[ordered.index] == 0)
    extract[moved[moved].index] = len(CUTS)
    paths = []
    for index in range(len(CUTS) + 1):
        path = folder / f"extract{index}.parquet"
        events[extract == index].reset_index(drop=True).to_parquet(path)
        paths.append(path)
    return paths


def _tables(store: Store) -> dict[str, pd.DataFrame]:
    """The tables a build writes, without their load-order case keys, each sorted by all its columns that sort."""
    tables = {}
    for name in TABLES:
        frame = store.backend.table(name).to_pandas()
        frame = frame.drop(columns=["case_key"], errors="ignore")
        by = [column for column in frame.columns if column not in ("channel_list",)]
        tables[name] = frame.sort_values(by).reset_index(drop=True)
    return tables


def _cases(store: Store) -> pd.DataFrame:
    """The outcome and the quarter of the start (in the catalogue's zone) of each case, by (service, case_id)."""
    frame = store.backend.table("journeys").select("service", "case_id", "outcome", "start").to_pandas()
    frame["quarter"] = _quarter(frame.pop("start"))
    return frame.set_index(["service", "case_id"])


@pytest.mark.parametrize("parts", [1, 4], ids=["in one part", "in parts under a memory limit"])
def test_extracts_built_one_at_a_time_equal_one_build_of_them_all(extracts: list[Path], tmp_path: Path, parts: int):
    catalogue = load_catalogue(SAMPLE_CATALOGUE)
    events = sum(pq.ParquetFile(path).metadata.num_rows for path in extracts)
    with Store(tmp_path / "incremental.duckdb") as store, Store(tmp_path / "whole.duckdb") as whole:
        if parts > 1:  # half the limit holds a quarter of the events: the whole build in four parts, each extract's in fewer
            store.memory_limit = whole.memory_limit = 2 * -(-events // parts) * build.BUILD_BYTES_PER_EVENT
        register_catalogue(store, catalogue)
        register_catalogue(whole, catalogue)
        before = None
        for index, path in enumerate(extracts):
            result = store.ingest(open_source(path), tz="Asia/Dubai", build=False)
            whole.ingest(open_source(path), tz="Asia/Dubai", build=False)
            stages: list[str] = []
            build_journeys(store, batch_id=result.batch_id, progress=stages.append)
            assert ("maps of the touched groups" in stages) == (index > 0)  # the first extract builds every case
            if index == len(extracts) - 2:
                before = _cases(store)
        stages = []
        build_journeys(whole, progress=stages.append)
        assert f"steps and journeys, part {parts} of {parts}" in stages
        ours, theirs, after = _tables(store), _tables(whole), _cases(whole)
        last = pd.read_parquet(extracts[-1], columns=["service", "case_id"]).drop_duplicates()
    for name in TABLES:
        pd.testing.assert_frame_equal(ours[name], theirs[name], obj=name)
    # The last extract added events to cases loaded before, moved some of them to an earlier quarter, and turned
    # open cases it does not touch abandoned.
    touched = pd.MultiIndex.from_frame(last)
    again = before.index[before.index.isin(touched)]
    assert (after.quarter[again] < before.quarter[again]).any()
    untouched = before.index[~before.index.isin(touched)]
    assert ((before.outcome[untouched] == "open") & (after.outcome[untouched] == "abandoned")).any()
