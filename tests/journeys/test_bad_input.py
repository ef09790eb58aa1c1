"""Bad input: a clear error or quarantined rows, never a traceback, never lost or half-written data."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from najma.errors import SourceReadError
from najma.journeys import Store, open_source, parse_mapping

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


def test_duplicated_rows_are_quarantined_not_lost(store, tmp_path):
    path = tmp_path / "dups.csv"
    path.write_text("case_id,activity,timestamp\n1,a,2025-01-01\n1,b,2025-01-02\n1,a,2025-01-01\n1,a,2025-01-01\n")
    result = store.ingest(open_source(path))
    assert (result.read, result.loaded, result.quarantined) == (4, 2, 2)
    reasons = store.con.execute("SELECT row, reason FROM quarantine ORDER BY row").fetchall()
    assert reasons == [(4, "duplicate of line 2"), (5, "duplicate of line 2")]


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
