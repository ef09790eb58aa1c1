"""Compressed and zipped copies of the real logs load exactly the events of the plain files."""

from __future__ import annotations

import bz2
import gzip
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from najma.journeys import Store, open_source, parse_mapping

LOGS = {
    "receipt.xes": ({}, None),
    "roadtraffic100traces.xes": ({}, None),
    "running-example.xes": ({}, None),
    "BPI2016_Clicks_NOT_Logged_In_sample1000.csv": ({"sep": ";"}, "case=SessionID,activity=PAGE_NAME,timestamp=TIMESTAMP"),
}


def _zstd(data: bytes) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as stream:
        stream.write(data)
    return sink.getvalue().to_pybytes()


def _zipped(member: str) -> Callable[[bytes], bytes]:
    def pack(data: bytes) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(member, data)
        return buffer.getvalue()

    return pack


PACKINGS = {".gz": gzip.compress, ".bz2": bz2.compress, ".zst": _zstd, ".zip": None}


def _plain(real: Path, name: str) -> bytes:
    packed = real / f"{name}.gz"
    return gzip.decompress(packed.read_bytes()) if packed.exists() else (real / name).read_bytes()


def _load(path: Path, store_path: Path, name: str) -> tuple[tuple[int, int, int], list[tuple]]:
    options, mapping = LOGS[name]
    with Store(store_path) as store:
        result = store.ingest(open_source(path, **options), service="s", mapping=parse_mapping(mapping) if mapping else None)
        events = store.con.execute("SELECT * EXCLUDE (batch_id) FROM events ORDER BY event_seq").fetchall()
    return (result.read, result.loaded, result.quarantined), events


@pytest.mark.parametrize("suffix", PACKINGS)
@pytest.mark.parametrize("name", LOGS)
def test_a_packed_real_log_loads_the_events_of_the_plain_file(real, tmp_path, name, suffix):
    data = _plain(real, name)
    plain = tmp_path / name
    plain.write_bytes(data)
    pack = PACKINGS[suffix] or _zipped(name)
    packed = tmp_path / (f"{Path(name).stem}.zip" if suffix == ".zip" else name + suffix)
    packed.write_bytes(pack(data))
    expected = _load(plain, tmp_path / "plain.duckdb", name)
    assert expected[0][0] == expected[0][1] > 0
    assert _load(packed, tmp_path / "packed.duckdb", name) == expected
