"""Bad input on Spark ends as it ends in the DuckDB store: the same refusal, or the same quarantined rows.

Refusals that need no Spark come from :func:`najma.spark.check_spark_ingest`, before a session is asked
for; those met reading a file come from the task that reads it on an executor, with the store's message.
Either way nothing is added to the lake.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pyarrow.dataset as pads
import pytest

from najma.errors import InvalidEventLogError, NajmaError, SourceReadError, StoreError
from najma.journeys import Store, open_source, parse_mapping

pytest.importorskip("pyspark")

from najma.spark import check_spark_ingest, ingest_on_spark  # noqa: E402 - needs pyspark

HEADER = "case_id,activity,timestamp\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _store_ending(tmp_path: Path, paths: list[Path], **options: object) -> tuple[list, pd.DataFrame]:
    """Load `paths` one by one into a new store: the results and the quarantined rows."""
    with Store(tmp_path / "s.duckdb") as store:
        results = [store.ingest(open_source(p), build=False, **options) for p in paths]
        return results, store.quarantined().to_pandas()


def _lake_quarantine(lake: Path) -> pd.DataFrame:
    return pads.dataset(lake / "quarantine", format="parquet", partitioning="hive").to_table().to_pandas()


def _same_quarantine(session, tmp_path: Path, paths: list[Path], **options: object) -> pd.DataFrame:
    """Load `paths` into a store and, in one Spark run, into a lake; check both quarantine the same rows the same
    way with the same counts, and return the store's quarantine."""
    results, duck = _store_ending(tmp_path, paths, **options)
    run = ingest_on_spark(session, [str(p) for p in paths], str(tmp_path / "lake"), **options)
    spark = _lake_quarantine(tmp_path / "lake")
    place = ["source", "row", "column", "reason"]
    pd.testing.assert_frame_equal(spark.sort_values(place)[place].reset_index(drop=True),
                                  duck.sort_values(place)[place].reset_index(drop=True), check_dtype=False)
    counts = [(r.read, r.loaded, r.quarantined, r.repeated) for r in results]
    assert [(r.read, r.loaded, r.quarantined, r.repeated) for r in run.batches] == counts
    return duck


def _same_refusal(session, tmp_path: Path, paths: list[Path], error: type[NajmaError], fragment: str,
                  **options: object) -> None:
    """The store refuses `paths`, and Spark refuses them with the same message, adding nothing to the lake."""
    with pytest.raises(error) as duck:
        _store_ending(tmp_path, paths, **options)
    lake = tmp_path / "lake"
    with pytest.raises(error) as spark:
        ingest_on_spark(session, [str(p) for p in paths], str(lake), **options)
    assert fragment in str(duck.value)
    assert str(spark.value) == str(duck.value)
    assert spark.value.parameter == duck.value.parameter
    assert not (lake / "batches").exists() and not (lake / "events").exists()


def test_unparsable_times_bad_numbers_and_ragged_lines_are_quarantined_as_in_the_store(session, tmp_path):
    path = _write(tmp_path / "log.csv", "case,act,when,cost,actor\n1,a,2025-01-01 10:00,3,staff\n1,b,yesterday,,\n"
                  "2,a,,,\n,a,2025-01-02,,\n2,b,2025-02-30 10:00,,\n3,a,2025-01-03,cheap,\n3,b,2025-01-03,,robot\n"
                  "4,a\n\n4,b,1850-01-01,,\n5,a,2025-01-04 09:00,1,customer\n")
    duck = _same_quarantine(session, tmp_path, [path], mapping=parse_mapping("case=case,activity=act,timestamp=when"),
                            tz="Asia/Dubai")
    assert len(duck) == 9
    assert {"missing timestamp", "missing case_id", "cost 'cheap' is not a number", "the line has 2 fields, expected 5",
            "empty record: no value in any column"} <= set(duck["reason"])
    spark = _lake_quarantine(tmp_path / "lake").sort_values("row")
    assert list(spark["values"]) == list(duck.sort_values("row")["record"])  # the store's own record of each row


def test_repeats_quarantined_on_request_and_rows_of_an_earlier_file_end_as_in_the_store(session, tmp_path):
    first = _write(tmp_path / "dups.csv", HEADER + "1,a,2025-01-01\n1,b,2025-01-02\n1,a,2025-01-01\n1,a,2025-01-01\n")
    second = _write(tmp_path / "again.csv", HEADER + "1,b,2025-01-02\n1,c,2025-01-03\n1,b,2025-01-02\n")
    duck = _same_quarantine(session, tmp_path, [first, second], repeats="quarantine", service="permit")
    assert sorted(zip(duck["row"], duck["reason"], strict=True)) == [
        (2, "already loaded in batch 1"), (4, "repeat of line 2 of the same file"),
        (4, "repeat of line 2 of the same file"), (5, "repeat of line 2 of the same file")]
    with pytest.raises(StoreError, match="the pseudonymisation key differs") as info:
        check_spark_ingest([str(first)], str(tmp_path / "lake"), key=b"another key")
    assert info.value.parameter == "key"


def test_a_missing_mapped_column_is_refused_by_its_task_as_in_the_store(session, tmp_path):
    path = _write(tmp_path / "log.csv", "SessionID,PAGE,TIMESTAMP\n1,home,2025-01-01 10:00\n")
    _same_refusal(session, tmp_path, [path], SourceReadError, "columns available: SessionID, PAGE, TIMESTAMP",
                  mapping=parse_mapping("case=SessionID,activity=PAGE_NAME,timestamp=TIMESTAMP"))


def test_bytes_that_do_not_decode_beyond_the_head_fail_the_run_whole_as_in_the_store(session, tmp_path):
    good = _write(tmp_path / "good.csv", HEADER + "7,a,2025-01-01\n")
    path = tmp_path / "late-value.csv.gz"
    path.write_bytes(gzip.compress(HEADER.encode() + b"1,a,2025-01-01\n" * 10000 + b"2,a\xffb,2025\n"))
    with pytest.raises(SourceReadError) as duck:
        _store_ending(tmp_path, [path])
    with pytest.raises(SourceReadError) as spark:
        ingest_on_spark(session, [str(good), str(path)], str(tmp_path / "lake"))
    assert str(spark.value) == str(duck.value) and "on line 10002 (byte 150031)" in str(spark.value)
    assert not (tmp_path / "lake" / "batches").exists() and not (tmp_path / "lake" / "events").exists()
    check_spark_ingest([str(good)], str(tmp_path / "lake"))  # the failed run left no lake that refuses the next


@pytest.mark.parametrize(("content", "options", "error", "fragment"), [
    (HEADER + "1,a,2025-01-01\n", {"time_format": "%Q"}, InvalidEventLogError, "is not a strptime format"),
    (HEADER + "1,a,2025-01-01\n", {"tz": "Mars/Olympus"}, InvalidEventLogError, "unknown time zone"),
    ("", {}, SourceReadError, "empty"),
    ("   ", {}, SourceReadError, "empty"),
    (b"case_id,activity,timestamp\n1,\xdcberpr\xfcfung,2025-01-01\n", {}, SourceReadError, "do not decode"),
], ids=["time-format", "zone", "empty", "blank", "undecodable"])
def test_refusals_come_before_spark_with_the_store_message(tmp_path, content, options, error, fragment):
    path = tmp_path / "log.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(error) as duck:
        _store_ending(tmp_path, [path], **options)
    with pytest.raises(error) as spark:
        check_spark_ingest([str(path)], str(tmp_path / "lake"), **options)
    assert fragment in str(duck.value) and str(spark.value) == str(duck.value)
    assert spark.value.parameter == duck.value.parameter


def test_a_missing_file_a_key_file_that_is_a_folder_and_a_folder_that_is_no_lake_are_refused(tmp_path, monkeypatch):
    path = _write(tmp_path / "log.csv", HEADER + "1,a,2025-01-01\n")
    with pytest.raises(SourceReadError, match="no such file or folder"):
        check_spark_ingest([str(tmp_path / "nowhere.csv")], str(tmp_path / "lake"))
    other = tmp_path / "other"
    other.mkdir()
    _write(other / "notes.txt", "not a lake")
    with pytest.raises(StoreError, match="is not a najma Spark lake") as info:
        check_spark_ingest([str(path)], str(other))
    assert info.value.parameter == "out"
    (tmp_path / "keys").mkdir()
    monkeypatch.setenv("NAJMA_KEY_FILE", str(tmp_path / "keys"))
    with pytest.raises(StoreError) as duck:
        _store_ending(tmp_path, [path])
    with pytest.raises(StoreError) as spark:
        check_spark_ingest([str(path)], str(tmp_path / "lake"))
    assert "is not a file" in str(duck.value) and str(spark.value) == str(duck.value)
