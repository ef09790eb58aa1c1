"""Bad input: a clear error or quarantined rows, never a traceback, never lost or half-written data."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import os
import signal
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from najma.errors import InvalidEventLogError, SourceReadError, StoreError
from najma.journeys import Store, build_journeys, open_source, parse_mapping
from najma.journeys import _sources as sources
from najma.journeys._pseudonym import Pseudonymiser, load_key
from najma.journeys._sources import ROW

GOOD_XES = """<?xml version="1.0" encoding="UTF-8"?>
<log xmlns="http://www.xes-standard.org/">
{traces}
</log>
"""
TRACE = """<trace><string key="concept:name" value="c{i}"/>
<event><string key="concept:name" value="Apply"/><date key="time:timestamp" value="2025-01-0{d}T09:00:00+04:00"/></event>
<event><string key="concept:name" value="Pay"/><date key="time:timestamp" value="2025-01-0{d}T10:00:00+04:00"/></event>
</trace>"""


def _xes(n: int = 3) -> str:
    return GOOD_XES.format(traces="\n".join(TRACE.format(i=i, d=1 + i % 9) for i in range(n)))


def _snapshot(store: Store) -> tuple:
    return tuple(store.con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in ("events", "batches", "quarantine"))


def _fails(store: Store, path: Path, fragment: str, **options) -> None:
    before = _snapshot(store)
    with pytest.raises(SourceReadError) as info:
        store.ingest(open_source(path, **{k: v for k, v in options.items() if k == "sep"}),
                     **{k: v for k, v in options.items() if k != "sep"})
    assert str(path) in str(info.value)
    assert fragment in str(info.value)
    assert _snapshot(store) == before


def test_truncated_xes_fails_whole_and_store_unchanged(store, tmp_path):
    path = tmp_path / "cut.xes"
    path.write_text(_xes(50)[:-400])
    _fails(store, path, "not well-formed XML")


def test_truncated_gzip_fails_whole(store, tmp_path):
    path = tmp_path / "cut.xes.gz"
    path.write_bytes(gzip.compress(_xes(200).encode())[:-60])
    _fails(store, path, "gzip stream is truncated")


def test_external_entity_is_refused(store, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    path = tmp_path / "xxe.xes"
    path.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE log [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
                    '<log><trace><string key="concept:name" value="&xxe;"/><event>'
                    '<string key="concept:name" value="a"/><date key="time:timestamp" value="2025-01-01"/>'
                    "</event></trace></log>")
    _fails(store, path, "DTD")
    assert "TOP SECRET" not in json.dumps(store.con.execute("SELECT * FROM quarantine").fetchall())


def test_billion_laughs_is_refused_quickly(store, tmp_path):
    entities = "".join(f'<!ENTITY l{i} "{"&l%d;" % (i - 1) * 10}">' for i in range(1, 10))
    path = tmp_path / "laughs.xes"
    path.write_text(f'<?xml version="1.0"?><!DOCTYPE log [<!ENTITY l0 "ha">{entities}]>'
                    '<log><trace><string key="concept:name" value="&l9;"/></trace></log>')
    tracemalloc.start()
    try:
        _fails(store, path, "DTD")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, f"refusing the entities took {peak / 2**20:.0f} MiB: they were expanded"  # 10^9 "ha" would take GBs


def test_csv_missing_a_mapped_column_names_it_and_the_columns(store, tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("SessionID,PAGE,TIMESTAMP\n1,home,2025-01-01 10:00\n")
    _fails(store, path, "'PAGE_NAME'", mapping=parse_mapping("case=SessionID,activity=PAGE_NAME,timestamp=TIMESTAMP"))
    with pytest.raises(SourceReadError, match="columns available: SessionID, PAGE, TIMESTAMP"):
        store.ingest(open_source(path), mapping=parse_mapping("case=SessionID,activity=PAGE_NAME,timestamp=TIMESTAMP"))


def test_unparsable_timestamps_are_quarantined_with_line_column_and_reason(store, tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("case,act,when\n1,a,2025-01-01 10:00\n1,b,yesterday\n2,a,\n,a,2025-01-02\n2,b,2025-02-30 10:00\n3,a,2025-01-03\n")
    result = store.ingest(open_source(path), mapping=parse_mapping("case=case,activity=act,timestamp=when"))
    assert (result.read, result.loaded, result.quarantined) == (6, 2, 4)
    rows = store.con.execute('SELECT row, "column", reason, record FROM quarantine ORDER BY row').fetchall()
    assert [(r[0], r[1]) for r in rows] == [(3, "when"), (4, "when"), (5, "case"), (6, "when")]
    assert "timestamp 'yesterday' does not parse" in rows[0][2]
    assert rows[1][2] == "missing timestamp"
    assert rows[2][2] == "missing case_id"
    record = rows[0][3] if isinstance(rows[0][3], dict) else json.loads(rows[0][3])
    assert record == {"case": "1", "act": "b", "when": "yesterday"}


def test_timestamps_in_mixed_zones_become_the_right_utc_instants(store, tmp_path):
    path = tmp_path / "zones.csv"
    path.write_text("case_id,activity,timestamp\n"
                    "1,a,2025-03-01T12:00:00+04:00\n1,b,2025-03-01T09:00:00Z\n1,c,2025-03-01 14:00\n"
                    "1,d,2025-03-01T10:30:00+01:00\n1,e,2025-03-02\n")
    result = store.ingest(open_source(path), tz="Asia/Dubai")
    assert result.quarantined == 0
    times = store.con.execute("SELECT activity, timestamp FROM events ORDER BY activity").df()
    expected = pd.to_datetime(["2025-03-01 08:00", "2025-03-01 09:00", "2025-03-01 10:00", "2025-03-01 09:30",
                               "2025-03-01 20:00"]).tz_localize("UTC")
    assert list(times["timestamp"].dt.tz_convert("UTC")) == list(expected)


@pytest.mark.parametrize("content", [b"", b"\n", b"   "])
def test_empty_files_fail_with_a_clear_message(store, tmp_path, content):
    for suffix in (".csv", ".xes"):
        path = tmp_path / f"empty{suffix}"
        path.write_bytes(content)
        if suffix == ".csv" and content == b"\n":
            with pytest.raises(SourceReadError):
                store.ingest(open_source(path))
            continue
        _fails(store, path, "empty")


def test_repeated_rows_quarantined_on_request_are_not_lost(store, tmp_path):
    path = tmp_path / "dups.csv"
    path.write_text("case_id,activity,timestamp\n1,a,2025-01-01\n1,b,2025-01-02\n1,a,2025-01-01\n1,a,2025-01-01\n")
    result = store.ingest(open_source(path), repeats="quarantine")
    assert (result.read, result.loaded, result.quarantined) == (4, 2, 2)
    reasons = store.con.execute("SELECT row, reason FROM quarantine ORDER BY row").fetchall()
    assert reasons == [(4, "repeat of line 2 of the same file"), (5, "repeat of line 2 of the same file")]


def test_undecodable_bytes_fail_the_file(store, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("case_id,activity,timestamp\n1,Überprüfung,2025-01-01\n".encode("latin-1"))
    _fails(store, path, "do not decode")
    result = store.ingest(open_source(path, encoding="latin-1"))
    assert result.loaded == 1
    assert store.con.execute("SELECT activity FROM events").fetchall() == [("Überprüfung",)]


def test_lines_with_the_wrong_number_of_fields_are_quarantined(store, tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("case_id,activity,timestamp\n1,a,2025-01-01\n1,b\n\n1,c,2025-01-03,extra\n2,a,2025-01-04\n")
    result = store.ingest(open_source(path))
    assert (result.read, result.loaded, result.quarantined) == (5, 2, 3)
    rows = store.con.execute("SELECT row, reason FROM quarantine ORDER BY row").fetchall()
    assert rows == [(3, "the line has 2 fields, expected 3"), (4, "empty record: no value in any column"),
                    (5, "the line has 4 fields, expected 3")]
    first_seq = store.con.execute("SELECT first_seq FROM batches").fetchall()[0][0]
    assert store.con.execute("SELECT event_seq FROM events WHERE case_id = '2'").fetchall() == [(first_seq + 6,)]


def test_interrupted_ingest_leaves_the_store_as_it_was(store, tmp_path):
    frame = pd.DataFrame({"case_id": [str(i // 3) for i in range(30)], "activity": ["a", "b", "c"] * 10,
                          "timestamp": pd.date_range("2025-01-01", periods=30, freq="h", tz="UTC")})
    store.ingest_frame(frame.iloc[:9], name="first")
    before = _snapshot(store)
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.ingest(open_source(path), progress=interrupt)
    assert _snapshot(store) == before
    assert store.ingest(open_source(path)).loaded == 30


def test_ctrl_c_in_the_cli_exits_130_and_leaves_the_store_unchanged(tmp_path):
    path = tmp_path / "large.csv"
    n = 3_000_000
    pd.DataFrame({"case_id": range(n), "activity": "a", "timestamp": "2025-01-01 10:00"}).to_csv(path, index=False)
    store_path = tmp_path / "s.duckdb"
    env = {**os.environ, "NAJMA_KEY_FILE": str(tmp_path / "k.key")}
    cli = [sys.executable, "-m", "najma"]
    subprocess.run([*cli, "start", "--no-dashboard", "--store", str(store_path)], env=env, check=True, capture_output=True)
    with Store(store_path) as opened:
        before = _snapshot(opened)
    process = subprocess.Popen([*cli, "ingest", str(path), "--store", str(store_path)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = process.stderr.readline()  # the sign that the load has begun: the imports are done, rows are being read
    assert first.startswith(f"loading {path}"), first + process.stderr.read()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    with Store(store_path) as opened:
        assert _snapshot(opened) == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["ingest", "missing.csv"], "missing.csv: no such file or folder"),
        (["ingest", "{bad}", "--tz", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
        (["ingest", "{bad}", "--map", "case=Nope"], "the column 'Nope' mapped to case_id is missing"),
        (["ingest", "{bad}", "--map", "color=x"], "The mapping key 'color' is not a canonical column"),
        (["info"], "no store at"),
        (["map", "--bogus"], "No such option: --bogus"),
        (["variants", "--attribute", "dismissal"], "'dismissal' is not name=value"),
        (["map", "--out", "map.gif"], "the file name must end in .csv"),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(tmp_path, args, fragment):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    env = {**os.environ, "NAJMA_KEY_FILE": str(tmp_path / "k.key")}
    args = [a.replace("{bad}", str(bad)) for a in args]
    done = subprocess.run([sys.executable, "-m", "najma", *args,
                           "--store", str(tmp_path / "s.duckdb")], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert fragment in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 3


def test_xes_on_one_line_with_events_outside_traces_loses_nothing(store, tmp_path):
    path = tmp_path / "one-line.xes"
    stray = '<event><string key="concept:name" value="Stray"/></event>'
    path.write_text(_xes(3).replace("\n", "").replace("<log", "<log ", 1).replace("</log>", stray + "</log>")
                    .replace('"http://www.xes-standard.org/">', '"http://www.xes-standard.org/">' + stray, 1))
    result = store.ingest(open_source(path))
    assert (result.read, result.loaded, result.quarantined) == (8, 6, 2)
    seqs = store.con.execute("SELECT count(DISTINCT event_seq), count(*) FROM events").fetchall()[0]
    assert seqs == (6, 6)
    quarantined = store.con.execute("SELECT row, unit, reason FROM quarantine ORDER BY row").fetchall()
    assert quarantined == [(1, "event", "missing case_id"), (8, "event", "missing case_id")]


# -- issue 20: every bad or packed input ends in one clean line ------------------------------------

CSV_HEADER = "case_id,activity,timestamp\n"
CSV_ROWS = "1,a,2025-01-01 10:00\n1,b,2025-01-01 11:00\n2,a,2025-01-02 09:00\n"
DTD_XES = ('<?xml version="1.0" encoding="{encoding}"?>{before}<!DOCTYPE log [<!ENTITY secret "SECRET">]>'
           '<log xmlns="http://www.xes-standard.org/"><trace><string key="concept:name" value="&secret;"/>'
           '<event><string key="concept:name" value="&secret;"/><date key="time:timestamp" value="2025-01-01T00:00:00Z"/>'
           "</event></trace></log>")


def _zstd(data: bytes) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as stream:
        stream.write(data)
    return sink.getvalue().to_pybytes()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


PACKINGS = {
    "log.csv.gz": gzip.compress,
    "log.csv.bz2": bz2.compress,
    "log.csv.zst": _zstd,
    "log.zip": lambda data: _zip({"export/log.csv": data, "__MACOSX/export/._log.csv": b"\x00\x05"}),
    "gzip-named-plain.csv": gzip.compress,  # recognised by its magic bytes, not its name
    "twice.csv.gz.bz2": lambda data: bz2.compress(gzip.compress(data)),
}


def _events(store: Store) -> list[tuple]:
    return store.con.execute("SELECT * EXCLUDE (batch_id) FROM events ORDER BY event_seq").fetchall()


def _quarantined(store: Store) -> list[tuple]:
    return store.con.execute('SELECT row, "column", reason FROM quarantine ORDER BY row').fetchall()


def _ingest_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NAJMA_PSEUDONYM_KEY": "test"}
    return subprocess.run([sys.executable, "-m", "najma", "ingest", *args, "--store", str(tmp_path / "cli.duckdb")],
                          env=env, capture_output=True, text=True, cwd=tmp_path)


def _refused_in_one_line(done: subprocess.CompletedProcess, *fragments: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    lines = [line for line in done.stderr.strip().splitlines() if not line.startswith("loading ")]
    assert len(lines) == 1, done.stderr
    assert all(fragment in lines[0] for fragment in fragments), lines[0]
    assert lines[0].isprintable()


@pytest.mark.parametrize("name", PACKINGS)
def test_packed_csv_loads_exactly_like_the_plain_file(tmp_path, name):
    text = (CSV_HEADER + CSV_ROWS + "3,a\n").encode()
    (tmp_path / "log.csv").write_bytes(text)
    (tmp_path / name).write_bytes(PACKINGS[name](text))
    with Store(tmp_path / "plain.duckdb") as plain, Store(tmp_path / "packed.duckdb") as packed:
        expected = plain.ingest(open_source(tmp_path / "log.csv"), service="s")
        progress = []
        result = packed.ingest(open_source(tmp_path / name), service="s", progress=lambda *p: progress.append(p))
        assert (result.read, result.loaded, result.quarantined) == (expected.read, expected.loaded, expected.quarantined) == (4, 3, 1)
        assert _events(packed) == _events(plain)
        assert _quarantined(packed) == _quarantined(plain) == [(5, None, "the line has 2 fields, expected 3")]
    assert progress[-1] == ((tmp_path / name).stat().st_size,) * 2  # progress counts the bytes on disk
    assert all(done <= total for done, total in progress)


@pytest.mark.parametrize(
    ("members", "fragment"),
    [
        ({"a.csv": b"x", "b.xes": b"<log/>", "readme.md": b"hi"}, "the zip archive holds 2 logs (a.csv, b.xes)"),
        ({"readme.md": b"hi", "notes.pdf": b"%PDF"}, "the zip archive holds no event log"),
        ({}, "the zip archive holds no event log"),
    ],
)
def test_a_zip_without_exactly_one_log_is_refused_naming_what_it_holds(store, tmp_path, members, fragment):
    path = tmp_path / "logs.zip"
    path.write_bytes(_zip(members))
    _fails(store, path, fragment)


def _random_bytes(n: int) -> bytes:
    return bytes((i * 7919 + (i >> 3) * 104729) % 251 + (i % 5) for i in range(n))  # fixed, NULs and invalid UTF-8 included


UNREADABLE = {
    "random.csv": (_random_bytes(4000), "not a text log"),
    "random.csv.gz": (gzip.compress(_random_bytes(4000)), "not a text log"),
    "nul.csv": (b"case_id,activity,timestamp\n1,a\x00b,2025-01-01\n", "NUL"),
    "random.xes": (_random_bytes(4000), "not well-formed XML"),
    "corrupt.csv.gz": (gzip.compress((CSV_HEADER + CSV_ROWS * 2000).encode())[:200] + b"\x00" * 64, "gzip stream is truncated or corrupt"),
    "corrupt.xes.gz": (gzip.compress(_xes(100).encode())[:150], "gzip stream is truncated or corrupt"),
    "empty.csv.gz": (gzip.compress(b""), "empty"),
    "empty.zip": (_zip({"log.csv": b""}), "empty"),
    "page.xes": (b'<?xml version="1.0"?><html><body/></html>', "its root element is <html>, not <log>"),
    "latin.csv": ("case_id,activity,timestamp\n1,Überprüfung,2025-01-01\n".encode("latin-1"), "on line 2"),
    "late-bytes.csv": (b"case_id,activity,timestamp\n" + b"1,a,2025-01-01\n" * 10000 + b"2,\xff\xfe\n", "on line 10002"),
    "late-bytes.csv.gz": (gzip.compress(b"case_id,activity,timestamp\n" + b"1,a,2025-01-01\n" * 10000 + b"2,\xff\xfe\n"),
                          "on line 10002 (byte 150030)"),
    "ebcdic.xes": ('<?xml version="1.0" encoding="IBM037"?><log><trace/></log>'.encode("cp037"), "Unsupported encoding"),
    "table.parquet": (b"PAR1 this is not really parquet", "not a Parquet file"),
    "notazip.zip": (b"PK\x03\x04 broken", "not a readable zip archive"),
}


@pytest.mark.parametrize("name", UNREADABLE)
def test_unreadable_files_are_refused_by_open_source_before_any_store(store, tmp_path, name):
    content, fragment = UNREADABLE[name]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceReadError) as info:
        open_source(path)
    assert str(info.value).startswith(f"{path}: ")
    assert fragment in str(info.value)
    assert len(str(info.value).splitlines()) == 1 and str(info.value).isprintable()
    _fails(store, path, fragment)


@pytest.mark.parametrize("name", ["random.csv", "random.csv.gz", "corrupt.csv.gz", "notazip.zip", "page.xes", "late-bytes.csv",
                                  "ebcdic.xes"])
def test_the_cli_refuses_an_unreadable_file_in_one_line_without_creating_a_store(tmp_path, name):
    content, fragment = UNREADABLE[name]
    (tmp_path / name).write_bytes(content)
    _refused_in_one_line(_ingest_cli(tmp_path, name), f"{name}: ", fragment)
    assert not (tmp_path / "cli.duckdb").exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("after-a-long-comment.xes", DTD_XES.format(encoding="UTF-8", before="<!--" + "x" * (3 << 20) + "-->").encode()),
        ("utf16.xes", DTD_XES.format(encoding="UTF-16", before="").encode("utf-16")),
        ("utf16-be.xes", DTD_XES.format(encoding="UTF-16BE", before="").encode("utf-16-be")),
        ("utf16.xes.gz", gzip.compress(DTD_XES.format(encoding="UTF-16", before="\n" * 5000).encode("utf-16"))),
        ("log.zip", _zip({"log.xes": DTD_XES.format(encoding="UTF-8", before="").encode()})),
        ("no-declaration.xes", DTD_XES.split("?>", 1)[1].format(before="").encode()),
    ],
)
def test_a_dtd_is_refused_wherever_it_stands_and_in_every_encoding(store, tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    _fails(store, path, "DTD")
    store.ingest(open_source(_write(tmp_path / "good.xes", _xes(2))))
    assert "SECRET" not in json.dumps(store.con.execute("SELECT * FROM events").fetchall(), default=str)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_times_outside_1900_to_2100_are_quarantined_with_their_reason(store, tmp_path):
    path = _write(tmp_path / "times.csv", "case_id,activity,timestamp,start_timestamp\n"
                  "1,a,0001-01-01 00:00,\n1,b,9999-12-31 10:00,\n1,c,1899-12-31 23:59,\n1,d,2100-01-01 00:00,\n"
                  "2,a,1900-01-01 00:00,1900-01-01 00:00\n2,b,2099-12-31 23:59,2099-12-31 23:00\n"
                  "3,a,2025-01-01 10:00,0001-01-01 00:00\n3,b,2025-01-01 11:00,2200-01-01 00:00\n")
    result = store.ingest(open_source(path))
    assert (result.read, result.loaded, result.quarantined) == (8, 2, 6)
    assert _quarantined(store) == [
        (2, "timestamp", "timestamp 0001-01-01 00:00 is before 1900-01-01"),
        (3, "timestamp", "timestamp 9999-12-31 10:00 is not before 2100-01-01"),
        (4, "timestamp", "timestamp 1899-12-31 23:59 is before 1900-01-01"),
        (5, "timestamp", "timestamp 2100-01-01 00:00 is not before 2100-01-01"),
        (8, "start_timestamp", "start_timestamp 0001-01-01 00:00 is before 1900-01-01"),
        (9, "start_timestamp", "start_timestamp 2200-01-01 00:00 is not before 2100-01-01"),
    ]
    assert build_journeys(store, batch_id=result.batch_id) == 1  # the later stages see only sane times


def test_a_parquet_folder_is_read_with_the_union_of_its_columns(store, tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(pa.table({"case_id": ["1", "1"], "activity": ["a", "b"], "timestamp": ["2025-01-01", "2025-01-02"],
                             "code": [7, 8]}), folder / "1.parquet")
    pq.write_table(pa.table({"case_id": ["2"], "activity": ["a"], "timestamp": ["2025-01-03"], "code": ["X-9"],
                             "channel": ["web"], "extra": ["kept"]}), folder / "2.parquet")
    result = store.ingest(open_source(folder))
    assert (result.read, result.loaded, result.quarantined) == (3, 3, 0)
    rows = store.con.execute("SELECT case_id, channel, attributes FROM events ORDER BY event_seq").fetchall()
    attributes = [json.loads(r[2]) if isinstance(r[2], str) else r[2] for r in rows]
    assert [r[:2] for r in rows] == [("1", None), ("1", None), ("2", "web")]
    assert [a.get("code") for a in attributes] == ["7", "8", "X-9"]  # int in one file, text in the other: read as text
    assert attributes[2]["extra"] == "kept"


def test_a_parquet_folder_with_a_file_that_is_not_parquet_names_that_file(store, tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(pa.table({"case_id": ["1"], "activity": ["a"], "timestamp": ["2025-01-01"]}), folder / "1.parquet")
    (folder / "2.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(SourceReadError, match="2.parquet: not a Parquet file"):
        open_source(folder)


def test_an_invalid_time_format_is_refused_up_front(store, tmp_path):
    path = _write(tmp_path / "log.csv", CSV_HEADER + CSV_ROWS)
    before = _snapshot(store)
    with pytest.raises(InvalidEventLogError, match="the time format '%Q' is not a strptime format") as info:
        store.ingest(open_source(path), time_format="%Q")
    assert info.value.parameter == "time_format"
    assert _snapshot(store) == before
    _refused_in_one_line(_ingest_cli(tmp_path, "log.csv", "--format", "%Q"), "the time format '%Q'")


def test_a_column_named_like_the_internal_row_number_is_an_ordinary_attribute(store, tmp_path):
    path = _write(tmp_path / "log.csv", "case_id,activity,timestamp,_row\n1,a,2025-01-01,first\n1,b,2025-01-02,\n")
    result = store.ingest(open_source(path))
    assert (result.read, result.loaded, result.quarantined) == (2, 2, 0)
    rows = store.con.execute("SELECT activity, attributes->>'_row' FROM events ORDER BY event_seq").fetchall()
    assert rows == [("a", "first"), ("b", None)]
    frame = pd.DataFrame({"case_id": ["1"], "activity": ["a"], "timestamp": ["2025-01-01"], ROW: ["x"]})
    with pytest.raises(SourceReadError, match="a name najma keeps for itself"):
        store.ingest_frame(frame)


def test_a_key_file_path_that_is_a_folder_is_refused_in_one_line(store, tmp_path, monkeypatch):
    folder = tmp_path / "keys"
    folder.mkdir()
    monkeypatch.setenv("NAJMA_KEY_FILE", str(folder))
    path = _write(tmp_path / "log.csv", CSV_HEADER + CSV_ROWS)
    with pytest.raises(StoreError, match="the key file .*keys is not a file"):
        store.ingest(open_source(path))
    env = {k: v for k, v in os.environ.items() if k != "NAJMA_PSEUDONYM_KEY"}
    done = subprocess.run([sys.executable, "-m", "najma", "ingest", str(path), "--store", str(tmp_path / "cli.duckdb")],
                          env=env, capture_output=True, text=True)
    _refused_in_one_line(done, "is not a file")


def test_a_ten_megabyte_field_in_the_first_rows_loads(store, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes(b"case_id,activity,timestamp,note\n1,a,2025-01-01," + b"x" * (10 << 20) + b"\n1,b,2025-01-02,short\n")
    result = store.ingest(open_source(path))
    assert (result.read, result.loaded, result.quarantined) == (2, 2, 0)
    assert store.con.execute("SELECT length(attributes->>'note') FROM events ORDER BY event_seq").fetchall() == [(10 << 20,), (5,)]


def test_quarantined_lines_are_right_after_quoted_multi_line_values(store, tmp_path):
    path = tmp_path / "multi.csv"
    path.write_bytes(b'case_id,activity,timestamp,"the\nnote"\n'           # line 1-2: a header with a line break
                     b'1,a,2025-01-01,"two\nlines"\n'                       # 3-4
                     b"1,b,2025-01-02,x\n"                                  # 5
                     b'1,c,"2025-01-03",\r\n'                               # 6
                     b'1,d,"three\r\nmore\rlines"\n'                        # 7-9: too few fields
                     b'1,e,never,"q\n\nr"\n'                                # 10-12: bad time
                     b"1,f,2025-01-04,\n")                                  # 13
    result = store.ingest(open_source(path))
    assert (result.read, result.loaded, result.quarantined) == (6, 4, 2)
    assert _quarantined(store) == [(7, None, "the line has 3 fields, expected 4"),
                                   (10, "timestamp", "timestamp 'never' does not parse as a time (ISO 8601)")]
    assert [r[0] for r in store.con.execute("SELECT event_seq - min(event_seq) OVER () FROM events ORDER BY event_seq")
            .fetchall()] == [0, 2, 3, 10]  # lines 3, 5, 6 and 13: the sequence follows the lines


def test_bad_rows_far_into_a_file_of_several_blocks_name_their_lines(store, tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "CSV_BLOCK_BYTES", 4096)  # many Arrow blocks, so the numbering crosses batches
    lines = [CSV_HEADER.strip()]
    bad = []
    for i in range(2000):
        if i % 97 == 0:
            lines.append(f'{i},"multi\nline",2025-01-01')
        if i % 211 == 0:
            bad.append(len(lines) + 1 + sum(x.count("\n") for x in lines))
            lines.append(f"{i},short")
        lines.append(f"{i},a,2025-01-01 10:00")
    path = _write(tmp_path / "blocks.csv", "\n".join(lines) + "\n")
    result = store.ingest(open_source(path))
    assert result.read == result.loaded + result.quarantined
    assert [r[0] for r in _quarantined(store)] == bad
    fields = store.con.execute("SELECT row, record->>'field_pseudonyms' FROM quarantine ORDER BY row").fetchall()
    physical = path.read_text().split("\n")
    pseudonymiser = Pseudonymiser(load_key())  # the record keeps the line's fields pseudonymised, never its text
    assert all(json.loads(kept) == [pseudonymiser.pseudonym(v) for v in physical[row - 1].split(",")] for row, kept in fields)


def test_a_value_that_does_not_decode_beyond_the_head_fails_the_load_whole_in_one_line(store, tmp_path):
    path = tmp_path / "late-value.csv.gz"
    path.write_bytes(gzip.compress(CSV_HEADER.encode() + b"1,a,2025-01-01\n" * 10000 + b"2,a\xffb,2025\n"))
    _fails(store, path, "on line 10002 (byte 150031)")
    _refused_in_one_line(_ingest_cli(tmp_path, path.name), f"{path.name}: ", "on line 10002 (byte 150031)")


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
@pytest.mark.parametrize("short", [False, True], ids=["in-a-value", "in-a-line-with-too-few-fields"])
def test_undecodable_bytes_far_into_a_file_name_their_line_and_byte(tmp_path, monkeypatch, encoding, short):
    monkeypatch.setattr(sources, "CSV_BLOCK_BYTES", 4096)  # Arrow meets them blocks after the head
    monkeypatch.setattr(sources, "CSV_SCAN_BYTES", 1001)  # the scan for their line cuts characters in two
    good = "".join(f'{i},"d\u00e9p\u00f4t\n{i}",2025-01-01\n' for i in range(4000)).encode(encoding)  # two lines each
    bad = {"utf-8": b"\xc3(", "cp1252": b"\x81"}[encoding]
    data = b"case_id,activity,timestamp\n" + good + (b"9," + bad + b"\n" if short else b"9,a" + bad + b",2025\n")
    path = tmp_path / "late.csv.gz"
    path.write_bytes(gzip.compress(data))
    with pytest.raises(SourceReadError) as info:  # by open_source or as the batches are read: the head decodes
        list(open_source(path, encoding=encoding).batches())
    assert str(info.value) == (f"{path}: bytes that do not decode as {encoding} on line 8002 (byte {data.index(bad) + 1}); "
                               "read it with its own encoding, or it is not a text log")


@pytest.mark.parametrize("name", ["log.csv", "log.csv.gz", "log.xes", "log.xes.bz2"])
def test_the_progress_of_a_file_read_whole_is_its_size_on_disk(tmp_path, name):
    text = _xes(50) if ".xes" in name else CSV_HEADER + CSV_ROWS * 50
    packing = {".gz": gzip.compress, ".bz2": bz2.compress}.get(Path(name).suffix, lambda data: data)
    path = tmp_path / name
    path.write_bytes(packing(text.encode()))
    source = open_source(path)
    seen = [source.progress() for _ in source.batches()]
    assert seen and all(0 < s <= path.stat().st_size for s in seen)
    assert source.progress() == source.progress_total == path.stat().st_size  # closed, it keeps its last position
