"""A safe, streaming XES reader.

The file is parsed with lxml's ``iterparse``: one trace is held in memory at a time, so memory
does not grow with the file. Documents that declare a DTD are refused before parsing (no external
entities, no entity expansion, no network), and lxml runs with ``resolve_entities=False``,
``no_network=True`` and ``load_dtd=False`` besides.

Trace attributes are given to every event of the trace with the prefix ``case:``, as pm4py does,
so ``case:concept:name`` is the case id. Values are kept as their text; nested attributes keep
their own value and their children are ignored, as pm4py's reader does.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
from lxml import etree

from journeys.sources import ROW, Source, _file_digest

__all__ = ["XesSource", "refuse_doctype"]

XES_BATCH_EVENTS = 100_000
PROLOG_LIMIT = 1 << 20


def refuse_doctype(head: bytes) -> str | None:
    """Return why the XML prolog `head` is refused, or None if it declares no DTD.

    Examples
    --------
    >>> refuse_doctype(b'<?xml version="1.0"?><!-- x --><log/>') is None
    True
    >>> refuse_doctype(b'<?xml version="1.0"?><!DOCTYPE log [<!ENTITY a "b">]><log/>')
    'it declares a DTD (<!DOCTYPE ...>); DTDs and entities are refused for safety'
    """
    text = head.lstrip(b"\xef\xbb\xbf")
    position = 0
    while True:
        start = text.find(b"<", position)
        if start < 0:
            return None
        if text.startswith(b"<?", start):
            end = text.find(b"?>", start)
            position = end + 2 if end >= 0 else len(text)
        elif text.startswith(b"<!--", start):
            end = text.find(b"-->", start)
            position = end + 3 if end >= 0 else len(text)
        elif text.startswith(b"<!", start):
            return "it declares a DTD (<!DOCTYPE ...>); DTDs and entities are refused for safety"
        else:
            return None
        if position >= len(text):
            return None


@dataclass
class XesSource(Source):
    """An XES or XES.gz file, streamed one trace at a time.

    Parameters
    ----------
    path : Path
        The file; gzip is recognised by its first bytes.
    """

    path: Path = Path()
    _raw: BinaryIO | None = None

    def __post_init__(self) -> None:
        self.unit = "line"

    @property
    def progress_total(self) -> int:
        return self.path.stat().st_size

    def progress(self) -> int:
        return self._raw.tell() if self._raw is not None and not self._raw.closed else 0

    def fingerprint(self) -> str:
        return _file_digest([self.path])

    def _open(self) -> BinaryIO:
        self._raw = open(self.path, "rb")
        if self._raw.read(2) == b"\x1f\x8b":
            self._raw.seek(0)
            return gzip.GzipFile(fileobj=self._raw, mode="rb")
        self._raw.seek(0)
        return self._raw

    def batches(self) -> Iterator[pa.RecordBatch]:
        stream = self._open()
        try:
            head = stream.read(PROLOG_LIMIT)
            if not head.strip():
                raise self.fail("the file is empty")
            refusal = refuse_doctype(head)
            if refusal:
                raise self.fail(refusal)
            yield from self._parse(_Prefixed(head, stream))
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise self.fail(f"the gzip stream is truncated or corrupt ({exc or type(exc).__name__})") from None
        except etree.XMLSyntaxError as exc:
            raise self.fail(f"not well-formed XML at line {exc.lineno}: {exc.msg}") from None
        finally:
            stream.close()
            if self._raw is not None:
                self._raw.close()

    def _parse(self, stream: BinaryIO) -> Iterator[pa.RecordBatch]:
        parser = etree.iterparse(
            stream,
            events=("end",),
            tag=("{*}event", "{*}trace"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
        )
        rows: list[dict[str, str | int]] = []
        trace_events: list[dict[str, str | int]] = []
        seen_root = False
        for _, element in parser:
            seen_root = True
            if _local(element.tag) == "event":
                row: dict[str, str | int] = {
                    child.get("key"): child.get("value") for child in element if child.get("value") is not None
                }
                row[ROW] = element.sourceline
                trace_events.append(row)
                element.clear(keep_tail=False)
                continue
            case = {
                "case:" + child.get("key"): child.get("value")
                for child in element
                if child.get("value") is not None and _local(child.tag) != "event"
            }
            for row in trace_events:
                row.update(case)
            rows.extend(trace_events)
            trace_events = []
            element.clear(keep_tail=False)
            parent = element.getparent()
            while element.getprevious() is not None:
                del parent[0]
            if len(rows) >= XES_BATCH_EVENTS:
                yield _batch(rows)
                rows = []
        if not seen_root and not rows:
            raise self.fail("no <trace> or <event> elements: this is not an XES event log")
        if rows:
            yield _batch(rows)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _batch(rows: list[dict[str, str | int]]) -> pa.RecordBatch:
    keys = list(dict.fromkeys(key for row in rows for key in row))
    schema = pa.schema([(k, pa.int64() if k == ROW else pa.string()) for k in keys])
    return pa.RecordBatch.from_pylist(rows, schema=schema)


class _Prefixed(io.RawIOBase):
    """A stream that first returns `head`, then the rest of `stream`."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size < 0 or size >= len(self._head):
                chunk, self._head = self._head, b""
                return chunk + (self._stream.read(size - len(chunk)) if size > 0 else b"")
            chunk, self._head = self._head[:size], self._head[size:]
            return chunk
        return self._stream.read(size)
