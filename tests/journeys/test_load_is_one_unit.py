"""A load and the journey build that makes it visible are one unit, from Python and from the command line."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import najma.journeys._build as build_module
from najma.errors import SourceReadError, StoreError
from najma.journeys import ColumnMapping, Store, build_journeys, load_catalogue, register_catalogue
from najma.sample import SAMPLE_CATALOGUE, SAMPLE_EVENTS
from tests.conftest import started

FRAME = pd.DataFrame({"case_id": ["a", "a", "b"], "activity": ["Apply", "Pay", "Apply"],
                      "timestamp": ["2025-01-05 09:00", "2025-01-05 09:30", "2025-01-06 10:00"]})


def _contents(path: Path) -> dict[str, object]:
    """What a user would call the store's state: its batches, events, journeys and steps."""
    with Store(path, read_only=True) as store:
        return {"batches": [(b.batch_id, b.source, b.rows_read) for b in store.batches()],
                **{table: store.n_rows(table) for table in ("events", "journeys", "steps", "quarantine")},
                "stale": store.journeys_stale()}


def test_ingest_from_python_leaves_the_journeys_current(store: Store):
    store.ingest_frame(FRAME, service="permit")
    assert store.n_rows("journeys") == 2 and store.journeys_stale() is None
    store.ingest_frame(FRAME.assign(case_id="c"), service="permit")
    assert store.n_rows("journeys") == 3 and store.journeys_stale() is None


def test_a_load_without_its_build_is_stale_until_built(store: Store):
    store.ingest_frame(FRAME, service="permit", build=False)
    assert store.journeys_stale() == "no journeys have been built for its events"
    build_journeys(store)
    store.ingest_frame(FRAME.assign(case_id="c"), service="permit", build=False)
    assert store.journeys_stale() == "events or the catalogue changed after its journeys were built"
    store.ingest_frame(FRAME.assign(case_id="d"), service="permit")  # stale before: every case is built again
    assert store.n_rows("journeys") == 4 and store.journeys_stale() is None


def test_a_new_catalogue_makes_the_journeys_stale_until_built(store: Store):
    store.ingest_frame(FRAME, service="permit")
    register_catalogue(store, load_catalogue(SAMPLE_CATALOGUE))
    assert store.journeys_stale() is not None
    build_journeys(store)
    assert store.journeys_stale() is None


def test_a_build_that_fails_takes_its_load_with_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        store.ingest_frame(FRAME, service="permit")
    before = _contents(path)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(build_module, "service_maps", broken)
    with Store(path) as store, pytest.raises(RuntimeError, match="disk is full"):
        store.ingest_frame(FRAME.assign(case_id="c"), service="permit")
    assert _contents(path) == before


def _najma(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "najma", *args], capture_output=True, text=True, env=os.environ.copy())


@pytest.mark.parametrize("interrupts", [1, 2])
def test_ctrl_c_during_the_build_leaves_the_store_as_it_was_and_says_so(tmp_path: Path, interrupts: int):
    path = tmp_path / "s.duckdb"
    first = tmp_path / "first.csv"
    FRAME.to_csv(first, index=False)
    assert _najma("ingest", str(first), "--store", str(path)).returncode == 0
    before = _contents(path)
    ingest = started([sys.executable, "-m", "najma", "ingest", str(SAMPLE_EVENTS), "--store", str(path)],
                     "building the journeys of", tmp_path / "ingest.log", os.environ)
    for _ in range(interrupts):
        ingest.send_signal(signal.SIGINT)
    assert ingest.wait(timeout=120) == 130
    said = ingest.wait_for("interrupted while loading")
    assert "nothing of it was kept: the store holds what it held before" in said
    assert "Traceback" not in "".join(ingest.lines)
    assert _contents(path) == before
    again = _najma("ingest", str(SAMPLE_EVENTS), "--store", str(path))  # not "already loaded": it was not kept
    assert again.returncode == 0 and "already loaded" not in again.stdout
    assert _contents(path)["stale"] is None


def test_the_next_command_finishes_journeys_left_stale(tmp_path: Path):
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        store.ingest_frame(FRAME, service="permit", build=False)
    shown = _najma("journeys", "--store", str(path))
    assert shown.returncode == 0, shown.stderr
    assert f"built the journeys of {path} first: no journeys have been built for its events" in shown.stderr
    assert "permit" in shown.stdout
    assert _contents(path)["stale"] is None


def test_a_file_that_cannot_be_read_leaves_no_store_behind(tmp_path: Path):
    path = tmp_path / "new.duckdb"
    junk = tmp_path / "junk.csv.gz"
    junk.write_bytes(b"\x1f\x8b" + os.urandom(4000))
    refused = _najma("ingest", str(junk), "--store", str(path))
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert str(junk) in refused.stderr
    assert not path.exists() and not path.with_name("new.duckdb.wal").exists()


def test_a_file_that_fails_after_others_says_which_were_kept(tmp_path: Path):
    path = tmp_path / "s.duckdb"
    good, broken = tmp_path / "good.csv", tmp_path / "broken.xes"
    FRAME.to_csv(good, index=False)
    broken.write_text('<?xml version="1.0"?><log><trace><event><string key="concept:name" value="a"/></event>'
                      '</trace><trace>', encoding="utf-8")  # readable at first, cut short later
    result = _najma("ingest", str(good), str(broken), "--store", str(path))
    assert result.returncode == 2
    assert "najma: broken.xes was not loaded; kept the files loaded before it: good.csv" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"najma: error: {broken}")
    assert "good.csv" in result.stdout and "Traceback" not in result.stderr
    assert _contents(path)["batches"] == [(1, str(good), 3)]


def test_a_caught_failure_inside_a_transaction_keeps_nothing_of_it(tmp_path: Path):
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        store.ingest_frame(FRAME, service="permit")
    before = _contents(path)
    with Store(path) as store, pytest.raises(StoreError, match="nothing of the change was kept"):
        with store.transaction():
            store.ingest_frame(FRAME.assign(case_id="c"), service="permit")
            with contextlib.suppress(SourceReadError):  # fails once it reads the frame, inside the transaction
                store.ingest_frame(FRAME.assign(case_id="d"), service="permit", mapping=ColumnMapping({"resource": "who"}))
    assert _contents(path) == before


def test_a_partial_build_never_hides_journeys_left_stale(store: Store):
    store.ingest_frame(FRAME, service="S")
    store.ingest_frame(FRAME, service="T", build=False)
    later = store.ingest_frame(FRAME, service="U", build=False)
    build_journeys(store, batch_id=later.batch_id)  # T's cases lack journeys too: every case is built
    assert store.journeys_stale() is None
    built = store.backend.table("journeys").service.value_counts().to_pandas()
    assert dict(zip(built.iloc[:, 0], built.iloc[:, 1], strict=True)) == {"S": 2, "T": 2, "U": 2}
