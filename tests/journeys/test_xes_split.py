"""A plain XES file read in chunks by worker processes gives exactly what the one-stream reader gives.

The chunk size is made small so that the real logs and small generated files are cut in many
places; each test checks that the file was really cut where it means to cut it, so none passes
by reading in one stream after all.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pytest

from najma.errors import SourceReadError
from najma.journeys import _xes_split as split_module
from najma.journeys import open_source
from najma.journeys._xes import XesSource
from najma.journeys._xes_split import split_log

TRACE = '<trace><string key="concept:name" value="c{i}"/><string key="kind" value="k{kind}"/>{events}</trace>\n'
EVENT = ('<event><string key="concept:name" value="A{j}"/><date key="time:timestamp" value="2025-01-0{d}T09:00:00+04:00"/>'
         '{more}</event>')


def _log(traces: int, inserted: dict[int, str] | None = None) -> str:
    """An XES log of `traces` traces of 0 to 4 events, some with more attributes; `inserted` text goes before trace i."""
    inserted = inserted or {}
    body = []
    for i in range(traces):
        more = f'<int key="cost" value="{i}"/>' if i % 3 == 0 else ""
        events = "".join(EVENT.format(j=j, d=1 + (i + j) % 9, more=more) for j in range(i % 5))
        body.append(inserted.get(i, "") + TRACE.format(i=i, kind=i % 4, events=events))
    stray = '<event><string key="concept:name" value="Stray"/></event>'
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<!-- made for the test -->\n'
            f'<log xes.version="1.0" xmlns="http://www.xes-standard.org/">\n<string key="log" value="x"/>{stray}\n'
            + "".join(body) + stray + "</log>\n")


def _read(path: Path) -> pa.Table:
    source = open_source(path)
    tables = [pa.Table.from_batches([batch]) for batch in source.batches()]
    assert source.progress() == source.progress_total
    return pa.concat_tables(tables, promote_options="default")


def _in_one_stream(path: Path, monkeypatch: pytest.MonkeyPatch) -> pa.Table:
    with monkeypatch.context() as patch:
        patch.setattr(split_module, "XES_WORKERS", 1)
        assert split_log(path) is None
        return _read(path)


def _fallbacks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the events left out each time the reader falls back to one stream (it does not when nothing fails)."""
    skips: list[int] = []
    serial = XesSource._serial

    def spy(self: XesSource, skip: int = 0):  # noqa: ANN202 - the generator of XesSource._serial
        skips.append(skip)
        return serial(self, skip)

    monkeypatch.setattr(XesSource, "_serial", spy)
    return skips


def _assert_same(ours: pa.Table, theirs: pa.Table) -> None:
    assert sorted(ours.column_names) == sorted(theirs.column_names)
    for name in theirs.column_names:
        assert ours[name].equals(theirs[name]), name


@pytest.fixture(autouse=True)
def _two_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(split_module, "XES_WORKERS", 2)


@pytest.mark.parametrize(("name", "chunk"), [("roadtraffic100traces.xes", 10_000), ("running-example.xes", 1_500)])
def test_real_logs_read_in_chunks_as_in_one_stream(real: Path, monkeypatch: pytest.MonkeyPatch, name: str, chunk: int):
    path = real / name
    expected = _in_one_stream(path, monkeypatch)
    monkeypatch.setattr(split_module, "XES_CHUNK_BYTES", chunk)
    assert len(split_log(path).bounds) > 4
    fallbacks = _fallbacks(monkeypatch)
    _assert_same(_read(path), expected)
    assert fallbacks == []


def test_a_chunk_boundary_exactly_on_a_trace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "log.xes"
    text = _log(200)
    path.write_text(text)
    expected = _in_one_stream(path, monkeypatch)
    boundary = text.index('<trace><string key="concept:name" value="c37"/>')  # text is ASCII: characters are bytes
    monkeypatch.setattr(split_module, "XES_CHUNK_BYTES", boundary)
    bounds = split_log(path).bounds
    assert bounds[1] == boundary and len(bounds) > 3
    fallbacks = _fallbacks(monkeypatch)
    _assert_same(_read(path), expected)
    assert fallbacks == []


def test_a_cut_inside_a_comment_is_read_again_in_one_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "log.xes"
    comment = "<!-- <trace> once stood here -->"
    text = _log(200, {60: comment})
    path.write_text(text)
    expected = _in_one_stream(path, monkeypatch)
    monkeypatch.setattr(split_module, "XES_CHUNK_BYTES", text.index(comment))
    assert text.index("<trace>", text.index(comment)) in split_log(path).bounds  # the cut is in the comment
    fallbacks = _fallbacks(monkeypatch)
    _assert_same(_read(path), expected)
    assert fallbacks == [0]  # the chunk that ends in the comment is the first: nothing was read before it


def test_broken_xml_in_a_later_chunk_is_named_as_in_one_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "broken.xes"
    text = _log(200, {150: "<event><string key='concept:name' value='x'></event>"})
    path.write_text(text)
    with monkeypatch.context() as patch, pytest.raises(SourceReadError) as serial:
        patch.setattr(split_module, "XES_WORKERS", 1)
        _read(path)
    monkeypatch.setattr(split_module, "XES_CHUNK_BYTES", len(text) // 8)
    assert len(split_log(path).bounds) > 4
    fallbacks = _fallbacks(monkeypatch)
    with pytest.raises(SourceReadError) as chunked:
        _read(path)
    assert str(chunked.value) == str(serial.value)
    assert len(fallbacks) == 1 and fallbacks[0] > 0  # read on in one stream after the chunks that were well-formed
    assert "not well-formed XML at line" in str(chunked.value)


def test_a_compressed_log_is_read_in_one_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    plain, packed = tmp_path / "log.xes", tmp_path / "log.xes.gz"
    plain.write_text(_log(100))
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    expected = _in_one_stream(plain, monkeypatch)
    monkeypatch.setattr(split_module, "XES_CHUNK_BYTES", 1_000)

    def never(path: Path) -> None:
        raise AssertionError(f"{path} cannot be cut by offset")

    monkeypatch.setattr("najma.journeys._xes.split_log", never)
    _assert_same(_read(packed), expected)


def test_no_worker_started_reads_in_one_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "log.xes"
    path.write_text(_log(200))
    expected = _in_one_stream(path, monkeypatch)
    monkeypatch.setattr(split_module, "XES_CHUNK_BYTES", path.stat().st_size // 6)

    def refused(self: split_module._Worker) -> None:
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(split_module._Worker, "__init__", refused)
    fallbacks = _fallbacks(monkeypatch)
    _assert_same(_read(path), expected)
    assert fallbacks == [0]


def test_workers_stop_when_reading_stops_early(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "log.xes"
    path.write_text(_log(400))
    monkeypatch.setattr(split_module, "XES_CHUNK_BYTES", path.stat().st_size // 10)
    started: list[split_module._Worker] = []
    start = split_module._Worker.__init__

    def recorded(self: split_module._Worker) -> None:
        start(self)
        started.append(self)

    monkeypatch.setattr(split_module._Worker, "__init__", recorded)
    batches = open_source(path).batches()
    next(batches)
    assert len(started) == 2 and all(worker.process.poll() is None for worker in started)
    batches.close()
    assert all(worker.process.poll() is not None for worker in started)
