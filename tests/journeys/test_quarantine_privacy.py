"""No raw customer id in the quarantine: every bad-row kind keeps its customer ids pseudonymised.

Recognisable ids are planted in every kind of bad row, in CSV (plain and gzip, with and without
a mapping), XES (plain and gzip) and Parquet; the store file's bytes, `najma quarantine` and its
CSV export are then searched for them. A control planted in a field the quarantine keeps as it
is (an activity name) shows that the search finds what is there.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from najma.errors import SourceReadError
from najma.journeys import Store, open_source, parse_mapping
from najma.journeys import _xes as xes
from najma.journeys._pseudonym import Pseudonymiser, load_key

CONTROL = "CONTROL-PLANT-ACTIVITY"  # an activity name: kept as it is, in the quarantine as in the events


def _id(n: int) -> str:
    return f"CUSTID-PLANT-{n:04d}"


LOG_CSV = (  # activity first, so that the control stands in the 80 characters of the record that `najma quarantine` shows
    "activity,case_id,customer_id,timestamp,actor,cost\n"
    f"Apply,c1,{_id(1)},2025-01-01 09:00,customer,1\n"          # 2: loaded
    f"Apply,c1,{_id(1)},2025-01-01 09:00,customer,1\n"          # 3: a repeat of line 2
    f"{CONTROL},c1,{_id(2)},yesterday,,\n"                      # 4: a timestamp that does not parse
    f"Pay,c1,{_id(3)},1850-01-01 00:00,,\n"                     # 5: a time out of range
    f"Pay,,{_id(4)},2025-01-02 09:00,,\n"                       # 6: no case id
    f",c2,{_id(5)},2025-01-02 09:00,,\n"                        # 7: no activity
    f"Pay,c2,{_id(6)}\n"                                        # 8: too few fields
    f"Pay,2025-01-03,c2,x,y,{_id(7)},extra\n"                   # 9: too many fields, the id out of its column
    f'Pay,c2,"{_id(8)}\n",2025-01-03\n'                         # 10-11: too few fields, the id quoted over two lines
    f"Pay,c3,{_id(9)},2025-01-04 09:00,boss,\n"                 # 12: an actor that is not one of the actors
    f"Pay,c3,{_id(10)},2025-01-04 09:00,,lots\n"                # 13: a cost that is not a number
    f"Apply,c4,{_id(20)},2025-01-05 09:00,customer,1\n"         # 14: loaded; log.parquet loads it again
)
MAPPED_CSV = (  # read with a mapping, a time format and ';' as separator
    "Fall;Kunde;Schritt;Zeit\n"
    f"f1;{_id(11)};Antrag;01/02/2025 09:00\n"                   # 2: loaded
    f"f1;{_id(12)};Zahlung;2025-02-01\n"                        # 3: not in the time format
    f"f1;{_id(13)};Zahlung\n"                                   # 4: too few fields
    f'f2;"{_id(14)}";"A;B";01/02/2025 10:00;x\n'                # 5: too many fields, one of them quoted around ';'
)
MAPPING = "case=Fall,customer=Kunde,activity=Schritt,timestamp=Zeit"
TIME_FORMAT = "%d/%m/%Y %H:%M"

XES_LOG = """<?xml version="1.0" encoding="UTF-8"?>
<log xmlns="http://www.xes-standard.org/">
{traces}
</log>"""


def _trace(customer: str, case: str | None, *dates: str) -> str:
    name = f'<string key="concept:name" value="{case}"/>' if case else ""
    events = "".join(f'<event><string key="concept:name" value="Step {i}"/><date key="time:timestamp" value="{d}"/></event>'
                     for i, d in enumerate(dates))
    return f'<trace>{name}<string key="customer" value="{customer}"/>{events}</trace>'


XES = XES_LOG.format(traces="\n".join([
    _trace(_id(15), "x1", "2025-03-01T09:00:00Z", "not-a-date"),  # events 1-2: the second has a bad date
    _trace(_id(16), None, "2025-03-01T10:00:00Z"),               # event 3: a trace without case id
]))
XES_GZ = XES_LOG.format(traces="\n".join([  # read one trace per batch: a batch without the case attribute
    _trace(_id(17), "x2", "2025-03-02T09:00:00Z"),               # event 1: loaded
    _trace(_id(18), None, "2025-03-02T10:00:00Z"),               # event 2: no case_id column in its batch
    _trace(_id(19), "x3", "2025-03-02T11:00:00Z", "2025-13-45T00:00:00Z"),  # events 3-4: the second has a bad date
]))
PARQUET = pa.table({
    "case_id": ["c4", "c5", "c5", None],
    "customer_id": [_id(20), _id(21), _id(22), _id(23)],
    "activity": ["Apply", "Apply", "Pay", "Pay"],
    "timestamp": ["2025-01-05 09:00", "soon", "2025-01-06 09:00", "2025-01-06 10:00"],
    "actor": ["customer", None, None, None],
    "cost": ["1", None, "n/a", None],
})  # row 1: loaded before (log.csv line 14); 2: a bad timestamp; 3: a bad cost; 4: no case id
UNDECODABLE_CSV = f"case_id,customer_id,activity,timestamp\nc9,{_id(24)},\xdcberpr\xfcfung,2025-01-01\n".encode("latin-1")
BROKEN_XES = XES_LOG.format(traces=f'<trace><string key="customer" value="{_id(25)}"/><event><string key="concept:name" '
                                   f'value="a"<date key="time:timestamp" value="2025-01-01"/></event></trace>')
PLANTED = [_id(n) for n in range(1, 26)]
UNITS = {"log.csv": "line", "mapped.csv.gz": "line", "log.xes": "event", "log.xes.gz": "event", "log.parquet": "row"}

#: Every quarantined row: file, place, column and a fragment of the reason, and the planted id it holds.
EXPECTED = [
    ("log.csv", 3, None, "repeat of line 2 of the same file", 1),
    ("log.csv", 4, "timestamp", "timestamp 'yesterday' does not parse", 2),
    ("log.csv", 5, "timestamp", "timestamp 1850-01-01 00:00 is before 1900-01-01", 3),
    ("log.csv", 6, "case_id", "missing case_id", 4),
    ("log.csv", 7, "activity", "missing activity", 5),
    ("log.csv", 8, None, "the line has 3 fields, expected 6", 6),
    ("log.csv", 9, None, "the line has 7 fields, expected 6", 7),
    ("log.csv", 10, None, "the line has 4 fields, expected 6", 8),
    ("log.csv", 12, "actor", "actor 'boss' is not one of", 9),
    ("log.csv", 13, "cost", "cost 'lots' is not a number", 10),
    ("mapped.csv.gz", 3, "Zeit", "timestamp '2025-02-01' does not parse as a time (%d/%m/%Y %H:%M)", 12),
    ("mapped.csv.gz", 4, None, "the line has 3 fields, expected 4", 13),
    ("mapped.csv.gz", 5, None, "the line has 5 fields, expected 4", 14),
    ("log.xes", 2, "time:timestamp", "timestamp 'not-a-date' does not parse", 15),
    ("log.xes", 3, "case:concept:name", "missing case_id", 16),
    ("log.xes.gz", 2, "case_id", "no case_id column in this part of the file", 18),
    ("log.xes.gz", 4, "time:timestamp", "timestamp '2025-13-45T00:00:00Z' does not parse", 19),
    ("log.parquet", 1, None, "already loaded in batch 1", 20),
    ("log.parquet", 2, "timestamp", "timestamp 'soon' does not parse", 21),
    ("log.parquet", 3, "cost", "cost 'n/a' is not a number", 22),
    ("log.parquet", 4, "case_id", "missing case_id", 23),
]


def _loaded_store(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Load every planted bad row into a store file; check read = loaded + quarantined; return the closed file."""
    (folder / "log.csv").write_text(LOG_CSV)
    (folder / "mapped.csv.gz").write_bytes(gzip.compress(MAPPED_CSV.encode()))
    (folder / "log.xes").write_text(XES)
    (folder / "log.xes.gz").write_bytes(gzip.compress(XES_GZ.encode()))
    pq.write_table(PARQUET, folder / "log.parquet")
    (folder / "latin.csv").write_bytes(UNDECODABLE_CSV)
    (folder / "broken.xes").write_text(BROKEN_XES)
    path = folder / "store.duckdb"
    with Store(path) as store:
        results = [
            store.ingest(open_source(folder / "log.csv"), service="permits", repeats="quarantine"),
            store.ingest(open_source(folder / "mapped.csv.gz", sep=";"), service="permits", mapping=parse_mapping(MAPPING),
                         time_format=TIME_FORMAT),
            store.ingest(open_source(folder / "log.xes"), service="permits", mapping=parse_mapping("customer=case:customer")),
        ]
        with monkeypatch.context() as patch:
            patch.setattr(xes, "XES_BATCH_EVENTS", 1)
            results.append(store.ingest(open_source(folder / "log.xes.gz"), service="permits",
                                        mapping=parse_mapping("customer=case:customer")))
        results.append(store.ingest(open_source(folder / "log.parquet"), service="permits"))
        for name, where in (("latin.csv", "on line 2"), ("broken.xes", "not well-formed XML")):
            with pytest.raises(SourceReadError) as refused:  # refused whole: nothing of it is kept
                store.ingest(open_source(folder / name), service="permits")
            assert where in str(refused.value)
            assert not any(planted in str(refused.value) for planted in PLANTED)
        for result in results:
            assert result.read == result.loaded + result.quarantined, result
        assert sum(r.loaded for r in results) == store.n_rows("events")
        assert sum(r.quarantined for r in results) == store.n_rows("quarantine") == len(EXPECTED)
    return path


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Pseudonymiser]:
    """The store file with every planted bad row, and the pseudonymiser of its key."""
    folder = tmp_path_factory.mktemp("privacy")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAJMA_KEY_FILE", str(folder / "pseudonym.key"))
        path = _loaded_store(folder, patch)
        return path, Pseudonymiser(load_key())


def _quarantine(path: Path) -> list[dict]:
    with Store(path, read_only=True) as store:
        return store.quarantined().to_pyarrow().to_pylist()


def _found(planted: list[str], data: bytes) -> list[str]:
    return [text for text in planted if text.encode() in data]


def test_the_quarantine_names_file_place_column_and_reason_of_every_bad_row(loaded):
    path, pseudonymiser = loaded
    rows = _quarantine(path)
    assert len(rows) == len(EXPECTED)
    by_place = {(Path(r["source"]).name, r["row"]): r for r in rows}
    for name, row, column, reason, planted in EXPECTED:
        found = by_place[(name, row)]
        assert (found["column"], found["unit"]) == (column, UNITS[name])
        assert reason in found["reason"], (name, row, found["reason"])
        # The customer's pseudonym, as in the loaded events: the row can be matched to the customer's journey.
        assert pseudonymiser.pseudonym(_id(planted)) in found["record"], (name, row, found["record"])


def test_a_line_that_cannot_be_split_keeps_only_its_fields_pseudonymised(loaded):
    path, pseudonymiser = loaded
    ragged = [r for r in _quarantine(path) if r["reason"].startswith("the line has")]
    assert len(ragged) == 5
    records = {(Path(r["source"]).name, r["row"]): json.loads(r["record"]) for r in ragged}
    assert records[("log.csv", 9)] == {"field_pseudonyms": [pseudonymiser.pseudonym(v) for v in
                                                            ("Pay", "2025-01-03", "c2", "x", "y", _id(7), "extra")]}
    assert records[("mapped.csv.gz", 5)]["field_pseudonyms"] == [pseudonymiser.pseudonym(v) for v in
                                                                 ("f2", _id(14), "A;B", "01/02/2025 10:00", "x")]
    assert records[("log.csv", 10)]["field_pseudonyms"][2] == pseudonymiser.pseudonym(_id(8))  # trimmed as loaded ids are


def test_the_loaded_events_carry_the_same_pseudonyms(loaded):
    path, pseudonymiser = loaded
    with Store(path, read_only=True) as store:
        customers = {row[0] for row in store.con.execute("SELECT customer_id FROM events").fetchall()}
    assert {pseudonymiser.pseudonym(_id(n)) for n in (1, 11, 17, 20)} <= customers
    assert not _found(PLANTED, json.dumps(sorted(customers)).encode())


def test_no_planted_id_is_in_the_store_file_and_the_search_finds_the_control(loaded):
    path, _ = loaded
    files = [p for p in (path, path.with_name(path.name + ".wal")) if p.exists()]
    data = b"".join(p.read_bytes() for p in files)
    assert _found([CONTROL], data) == [CONTROL]  # the search finds text the store holds
    assert _found(PLANTED, data) == []
    exported = json.dumps(_quarantine(path), default=str).encode()
    assert _found([CONTROL], exported) == [CONTROL]
    assert _found(PLANTED, exported) == []


def test_najma_quarantine_and_its_csv_export_show_no_planted_id(loaded, tmp_path):
    path, _ = loaded
    env = {**os.environ, "COLUMNS": "4000"}  # rich wraps no cell: an id cut in two would escape the search
    cli = [sys.executable, "-m", "najma", "quarantine", "--store", str(path)]
    shown = subprocess.run([*cli, "--limit", "0"], env=env, capture_output=True, check=True)
    assert _found([CONTROL], shown.stdout) == [CONTROL]
    assert all(f" {row} " in shown.stdout.decode() for _, row, *_ in EXPECTED)
    assert _found(PLANTED, shown.stdout + shown.stderr) == []
    export = tmp_path / "quarantine.csv"
    subprocess.run([*cli, "--csv", str(export)], env=env, capture_output=True, check=True)
    assert _found([CONTROL], export.read_bytes()) == [CONTROL]
    assert _found(PLANTED, export.read_bytes()) == []
    assert export.read_text().count("\n") >= len(EXPECTED) + 1


def test_an_xes_batch_without_the_mapped_customer_attribute_loads(store, tmp_path, monkeypatch):
    monkeypatch.setattr(xes, "XES_BATCH_EVENTS", 1)  # the first trace, without a customer, is a batch of its own
    path = tmp_path / "log.xes"
    path.write_text(XES_LOG.format(traces='<trace><string key="concept:name" value="x0"/><event><string key="concept:name" '
                                          'value="a"/><date key="time:timestamp" value="2025-03-01T09:00:00Z"/></event></trace>'
                                          + _trace(_id(1), "x1", "2025-03-01T10:00:00Z")))
    result = store.ingest(open_source(path), mapping=parse_mapping("customer=case:customer"))
    assert (result.read, result.loaded, result.quarantined) == (2, 2, 0)
    customers = store.con.execute("SELECT customer_id FROM events ORDER BY event_seq").fetchall()
    assert customers == [(None,), (Pseudonymiser(load_key()).pseudonym(_id(1)),)]


def test_a_case_id_read_from_the_customer_column_is_pseudonymised_in_the_events_and_the_quarantine(store, tmp_path):
    path = tmp_path / "by-customer.csv"
    path.write_text(f"Kunde,activity,timestamp\n{_id(1)},Apply,2025-01-01\n{_id(2)},Pay,never\n")
    result = store.ingest(open_source(path), mapping=parse_mapping("case=Kunde,customer=Kunde"))
    assert (result.read, result.loaded, result.quarantined) == (2, 1, 1)
    pseudonym = Pseudonymiser(load_key()).pseudonym
    assert store.con.execute("SELECT case_id, customer_id FROM events").fetchall() == [(pseudonym(_id(1)),) * 2]
    record = json.loads(store.con.execute("SELECT record FROM quarantine").fetchall()[0][0])
    assert record == {"Kunde": pseudonym(_id(2)), "activity": "Pay", "timestamp": "never"}


def test_the_text_of_a_line_an_earlier_najma_quarantined_is_withheld_when_the_store_is_migrated(tmp_path):
    path = tmp_path / "version-3.duckdb"
    with Store(path):
        pass
    with duckdb.connect(str(path)) as con:  # as najma 0.1 (store version 3) kept a ragged line: its text, verbatim
        con.execute("INSERT INTO quarantine VALUES (1, 'old.csv', 7, 'line', NULL, 'expected 3 fields, got 4', ?)",
                    [json.dumps({"text": f"c7,Apply,{_id(25)},extra"})])
        con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    with Store(path) as store:
        kept = store.quarantined().to_pandas()
    assert len(kept) == 1 and kept.loc[0, "row"] == 7 and kept.loc[0, "reason"] == "expected 3 fields, got 4"
    assert "withheld" in json.loads(kept.loc[0, "record"]) and _id(25) not in kept.loc[0, "record"]
    # DuckDB frees the old value's block without wiping it: its bytes may linger in the file until the block is
    # reused, so only the store's rows are checked here (docs/rating-model.md says so, and how to start clean).
