"""The store: loads once, keeps input order in event_seq, handles time options, pseudonymises."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from najma.errors import StoreError
from najma.journeys import Store, open_source, parse_mapping
from najma.journeys._eventlog import EventLog
from najma.journeys._pseudonym import default_key_file
from najma.journeys._store import DUCKDB_SHARE

FRAME = pd.DataFrame({
    "case_id": ["1", "1", "2", "2"],
    "activity": ["Apply", "Pay", "Apply", "Pay"],
    "timestamp": ["2025-01-05 09:00", "2025-01-05 09:00", "2025-01-06 10:00", "2025-01-06 11:00"],
    "customer_id": ["784-1990-1111111-1", "784-1990-1111111-1", "784-1985-2222222-2", " "],
    "note": ["x", None, "z", "w"],
})


def test_the_same_file_loaded_twice_adds_nothing(store, tmp_path):
    path = tmp_path / "log.csv"
    FRAME.to_csv(path, index=False)
    first = store.ingest(open_source(path))
    again = store.ingest(open_source(path))
    assert not first.skipped and again.skipped and again.batch_id == first.batch_id
    assert store.con.execute("SELECT count(*) FROM events").fetchall()[0][0] == 4
    assert store.con.execute("SELECT count(*) FROM batches").fetchall()[0][0] == 1


def test_event_seq_follows_input_order_and_breaks_timestamp_ties(store):
    store.ingest_frame(FRAME)
    ordered = EventLog(store).to_pandas()
    assert ordered["activity"].tolist() == ["Apply", "Pay", "Apply", "Pay"]
    reversed_frame = FRAME.iloc[[1, 0, 3, 2]]
    with Store(":memory:") as other:
        other.ingest_frame(reversed_frame)
        assert EventLog(other).to_pandas()["activity"].tolist()[:2] == ["Pay", "Apply"]


def test_unmapped_columns_are_kept_as_attributes(store):
    store.ingest_frame(FRAME)
    notes = store.con.execute("SELECT attributes->>'note' FROM events ORDER BY event_seq").fetchall()
    assert [n[0] for n in notes] == ["x", None, "z", "w"]


def test_customer_ids_are_pseudonymised_and_never_stored_raw(store):
    store.ingest_frame(FRAME)
    dump = str(store.con.execute("SELECT * FROM events").fetchall()) + str(store.con.execute("SELECT * FROM quarantine").fetchall())
    assert "784-1990-1111111-1" not in dump and "1111111" not in dump
    ids = [r[0] for r in store.con.execute("SELECT customer_id FROM events ORDER BY event_seq").fetchall()]
    assert ids[0] == ids[1] and ids[0] != ids[2] and len(ids[0]) == 32
    assert ids[3] is None


def test_the_key_file_is_created_private_and_another_key_is_refused(store, monkeypatch):
    store.ingest_frame(FRAME)
    key_file = default_key_file()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert key_file.read_text().strip() not in str(store.con.execute("SELECT * FROM meta").fetchall())
    monkeypatch.setenv("NAJMA_PSEUDONYM_KEY", "another key")
    with pytest.raises(StoreError, match="pseudonymisation key differs"):
        store.ingest_frame(FRAME.assign(case_id=["7", "7", "8", "8"]))


def test_a_key_file_readable_by_others_is_refused(store):
    key_file = default_key_file()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text("k" * 64)
    key_file.chmod(0o644)
    with pytest.raises(StoreError, match="readable by others"):
        store.ingest_frame(FRAME)


def test_naive_times_are_read_in_the_given_zone_and_formats_are_honoured(store, tmp_path):
    path = tmp_path / "local.csv"
    path.write_text("case,act,when\n1,a,05/01/2025 09:00\n1,b,05/01/2025 13:30\n")
    store.ingest(open_source(path), mapping=parse_mapping("case=case,activity=act,time=when"),
                 tz="Asia/Dubai", time_format="%d/%m/%Y %H:%M")
    times = [r[0] for r in store.con.execute("SELECT timestamp FROM events ORDER BY event_seq").fetchall()]
    assert [t.isoformat() for t in times] == ["2025-01-05T05:00:00+00:00", "2025-01-05T09:30:00+00:00"]


def test_services_come_from_the_option_a_column_or_the_file_name(store, tmp_path):
    path = tmp_path / "permits.csv"
    FRAME.to_csv(path, index=False)
    store.ingest(open_source(path))
    assert EventLog(store).services() == ["permits"]
    store.ingest_frame(FRAME.assign(case_id=["a", "a", "b", "b"]), service="Trade licence")
    assert EventLog(store).services() == ["Trade licence", "permits"]


def test_the_event_log_verbs_answer_from_the_store(store):
    store.ingest_frame(FRAME, service="s")
    log = EventLog(store)
    first, last = log.time_span()
    assert (log.n_cases(), log.n_events(), log.activities()) == (2, 4, ["Apply", "Pay"])
    assert (first.isoformat(), last.isoformat()) == ("2025-01-05T09:00:00+00:00", "2025-01-06T11:00:00+00:00")
    assert EventLog(store, services=["other"]).n_events() == 0


def test_a_folder_of_parquet_files_loads_in_path_order(store, tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    FRAME.iloc[:2].to_parquet(folder / "part-0.parquet")
    FRAME.iloc[2:].to_parquet(folder / "part-1.parquet")
    result = store.ingest(open_source(folder))
    assert (result.read, result.loaded) == (4, 4)
    assert [r[0] for r in store.con.execute("SELECT case_id FROM events ORDER BY event_seq").fetchall()] == ["1", "1", "2", "2"]


@pytest.mark.parametrize("key", [b"k", b"x" * 100, "مفتاح سري".encode()])
def test_pseudonyms_computed_in_bulk_are_the_rfc2104_hmac_of_each_id(key):
    import hashlib
    import hmac

    import pyarrow as pa

    from najma.journeys._pseudonym import Pseudonymiser

    ids = ["784-1990-1234567-1", "عميل-٧", "", "784-1990-1234567-1", None]
    bulk = Pseudonymiser(key).array(pa.array(ids)).to_pylist()
    expected = [None if i is None else hmac.new(key, i.encode(), hashlib.sha256).hexdigest()[:32] for i in ids]
    assert bulk == expected
    assert [Pseudonymiser(key).pseudonym(i) for i in ids if i is not None] == [e for e in expected if e is not None]


@pytest.mark.parametrize(("text", "size"), [("2GB", 2 * 10**9), ("1.5 GiB", int(1.5 * 2**30)), ("512mb", 512 * 10**6)])
def test_the_memory_limit_caps_duckdb(tmp_path, monkeypatch, text: str, size: int):
    monkeypatch.setenv("NAJMA_MEMORY_LIMIT", text)
    with Store(tmp_path / "s.duckdb") as store:
        assert store.memory_limit == size == store.cursor().memory_limit
        shown = store.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]  # e.g. "1.8 GiB"
        number, unit = shown.split()
        assert abs(float(number) * {"MiB": 2**20, "GiB": 2**30}[unit] - size * DUCKDB_SHARE) < 0.05 * size


@pytest.mark.parametrize("text", ["lots", "0GB", "2 GB of it"])
def test_a_memory_limit_that_is_not_a_size_names_the_variable(tmp_path, monkeypatch, text: str):
    monkeypatch.setenv("NAJMA_MEMORY_LIMIT", text)
    with pytest.raises(StoreError, match=f"NAJMA_MEMORY_LIMIT='{text}' is not a memory size"):
        Store(tmp_path / "s.duckdb")
