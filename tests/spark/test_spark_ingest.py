"""Ingest on Spark equals the DuckDB store's ingest of the same files in the same order, event for event.

A slice of the sample is written as two CSV files with their own column names, times in Dubai's
local time and a time format (the second file repeats some of the first's events, and both hold bad
rows), then as a Parquet file that overlaps the CSV, then one real XES log. The store loads them one by
one; Spark loads the CSVs in one run and the others in later runs into the same lake.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from najma.journeys import Store, open_source, parse_mapping
from najma.journeys._schema import EVENT_COLUMNS
from najma.sample import generate

pytest.importorskip("pyspark")

from najma.spark import ingest_on_spark  # noqa: E402 - needs pyspark

KEY = b"spark-ingest-key"
ZONE = "Asia/Dubai"
TIME_FORMAT = "%d/%m/%Y %H:%M:%S"
MAPPING = "case=CaseRef,activity=Step,timestamp=When,customer=Person"
XES = Path("/work/shared/data/real/running-example.xes")
COLUMNS = [c.name for c in EVENT_COLUMNS]
PARTITIONS = pads.partitioning(pa.schema([("service", pa.string()), ("month", pa.string())]), flavor="hive")


def _as_csv(events: pa.Table) -> pd.DataFrame:
    """The events as a source system exports them: its own column names, Dubai's local time as day/month/year."""
    frame = events.to_pandas()
    frame["timestamp"] = frame["timestamp"].dt.tz_convert(ZONE).dt.strftime(TIME_FORMAT)
    return frame.rename(columns={"case_id": "CaseRef", "activity": "Step", "timestamp": "When", "customer_id": "Person"})


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Two CSV files (overlapping, with bad rows), a Parquet file that overlaps the first, and an XES log."""
    folder = tmp_path_factory.mktemp("logs")
    events = generate(2_000, seed=11).events
    events = events.set_column(events.schema.get_field_index("timestamp"), "timestamp",
                               pc.floor_temporal(events.column("timestamp"), unit="second"))
    cases = pc.unique(events.column("case_id")).to_pylist()
    first = events.filter(pc.is_in(events.column("case_id"), pa.array(cases[:900])))
    second = events.filter(pc.is_in(events.column("case_id"), pa.array(cases[900:1400])))
    third = events.filter(pc.is_in(events.column("case_id"), pa.array(cases[1400:])))
    csv_1, csv_2 = _as_csv(first), _as_csv(second)
    bad = csv_1.head(4).copy()
    bad.loc[bad.index[0], "When"] = "yesterday"
    bad.loc[bad.index[1], "CaseRef"] = " "
    bad.loc[bad.index[2], "When"] = "31/02/2025 10:00:00"
    repeated = pd.concat([csv_1.head(3), csv_1.head(3)])  # loaded by the first file: not loaded again; repeats kept
    pd.concat([csv_1, bad]).to_csv(folder / "first.csv", index=False)
    pd.concat([repeated, csv_2]).to_csv(folder / "second.csv", index=False)
    with (folder / "second.csv").open("a") as handle:
        handle.write("only,three,fields\n")
    overlap = pa.concat_tables([third, first.slice(0, 40)]).cast(third.schema)
    pq.write_table(overlap, folder / "third.parquet")
    return {"csv": [folder / "first.csv", folder / "second.csv"], "parquet": folder / "third.parquet", "xes": XES}


@pytest.fixture(scope="module")
def both(files, session, tmp_path_factory):
    """The store and the lake after loading every file (the store's key given as the environment gives it)."""
    folder = tmp_path_factory.mktemp("both")
    mapping = parse_mapping(MAPPING)
    with pytest.MonkeyPatch.context() as patch, Store(folder / "s.duckdb") as store:
        patch.setenv("NAJMA_PSEUDONYM_KEY", KEY.decode())
        results = [store.ingest(open_source(p), mapping=mapping, tz=ZONE, time_format=TIME_FORMAT, build=False)
                   for p in files["csv"]]
        results += [store.ingest(open_source(files[kind]), build=False) for kind in ("parquet", "xes")]
        store.export_events(folder / "duck")
        quarantine = store.quarantined().to_pandas()
    lake = folder / "lake"
    runs = [ingest_on_spark(session, [str(p) for p in files["csv"]], str(lake), mapping=mapping, tz=ZONE,
                            time_format=TIME_FORMAT, key=KEY)]
    runs.append(ingest_on_spark(session, [str(files["parquet"]), str(files["xes"])], str(lake), key=KEY))
    return {"results": results, "runs": runs, "duck": folder / "duck", "quarantine": quarantine, "lake": lake}


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("event_seq").reset_index(drop=True)


def _lake_events(lake: Path) -> pd.DataFrame:
    table = pads.dataset(lake / "events", format="parquet", partitioning=PARTITIONS).to_table()
    return _sorted(table.to_pandas())


def test_spark_ingest_equals_the_store_event_for_event(both):
    duck = _sorted(pq.read_table(both["duck"]).to_pandas())[COLUMNS]
    spark = _lake_events(both["lake"])
    assert len(duck) > 20_000
    pd.testing.assert_frame_equal(spark[COLUMNS], duck, check_dtype=False)
    months = spark["timestamp"].dt.tz_convert("UTC").dt.strftime("%Y-%m")
    assert (months == spark["month"]).all()


def test_quarantine_and_counts_equal_the_store(both):
    place = ["source", "row", "column", "reason"]
    duck = both["quarantine"].sort_values(["source", "row"]).reset_index(drop=True)
    spark = pads.dataset(both["lake"] / "quarantine", format="parquet", partitioning="hive").to_table().to_pandas()
    spark = spark.sort_values(["source", "row"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(spark[place], duck[place], check_dtype=False)
    reasons = set(duck["reason"])
    assert "already loaded in batch 1" in reasons and "missing case_id" in reasons and "the line has 3 fields, expected 11" in reasons
    refused = duck["reason"].str.contains("does not parse")
    assert list(spark.loc[refused, "values"]) == list(duck.loc[refused, "record"])  # the store's own record of the row
    counts = [(r.batch_id, r.read, r.loaded, r.quarantined, r.repeated) for r in both["results"]]
    runs = [(r.batch_id, r.read, r.loaded, r.quarantined, r.repeated) for run in both["runs"] for r in run.batches]
    assert runs == counts
    assert all(r.read == r.loaded + r.quarantined for r in both["results"])
    assert counts[1][4] == 3  # the second file's copies of its own first rows are repeats, kept


def test_months_touched_and_batches_record_the_load(both):
    first = both["runs"][0]
    spark = _lake_events(both["lake"])
    batch_1 = spark[spark["batch_id"].isin([1, 2])]
    expected = {s: sorted(set(g["month"])) for s, g in batch_1.groupby("service")}
    assert first.months_touched == expected
    batches = pq.read_table(both["lake"] / "batches").to_pandas().sort_values("batch_id")
    assert list(batches["batch_id"]) == [1, 2, 3, 4]
    assert (batches["rows_read"] == batches["rows_loaded"] + batches["rows_quarantined"]).all()
    assert json.loads(batches["mapping"].iloc[0])["case_id"] == "CaseRef"


def test_a_file_already_in_the_lake_is_skipped(both, session):
    again = ingest_on_spark(session, [str(XES)], str(both["lake"]), key=KEY)
    assert [(r.batch_id, r.skipped) for r in again.batches] == [(4, True)]
    assert (again.read, again.loaded) == (0, 0)
    assert len(_lake_events(both["lake"])) == sum(r.loaded for r in both["results"])
