"""A safe, streaming XES reader.

The file is parsed with lxml's ``iterparse``: one trace is held in memory at a time, so memory
does not grow with the file. Events are numbered in document order from 1 (the ``_row`` of
every event, its unit "event"), so a quarantined event can be found again even in a file
written on one line. Documents that declare a DTD are refused before parsing (no external
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

from najma.journeys._sources import ROW, Source, _file_digest

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
        self.unit = "event"

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
        """Yield the events trace by trace, numbered in document order.

        Events outside any trace are kept too, without a case (they are quarantined for it).
        """
        parser = etree.iterparse(
            stream,
            events=("end",),
            tag="{*}trace",
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
        )
        rows = _Rows(1)
        traces = 0
        for _, trace in parser:
            traces += 1
            parent = trace.getparent()
            while trace.getprevious() is not None:  # what came before this trace: free it, keep stray events
                rows.add_if_event(parent[0])
                del parent[0]
            first = len(rows)
            case = {}
            for child in trace:
                if not rows.add_if_event(child) and child.get("value") is not None:
                    case["case:" + child.get("key")] = child.get("value")
            rows.share(first, case)
            trace.clear(keep_tail=False)
            if len(rows) >= XES_BATCH_EVENTS:
                yield rows.batch()
                rows = _Rows(rows.next_number)
        for child in parser.root if parser.root is not None else ():
            rows.add_if_event(child)
        if not traces and rows.next_number == 1:
            raise self.fail("no <trace> or <event> elements: this is not an XES event log")
        if len(rows):
            yield rows.batch()


_XES_EVENT = "{http://www.xes-standard.org/}event"


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


class _Rows:
    """Events gathered column by column, each numbered in document order from `first_number`.

    ``columns`` maps an attribute key to {index in this batch: value}.
    """

    def __init__(self, first_number: int) -> None:
        self.first_number = first_number
        self.columns: dict[str, dict[int, str]] = {}
        self.count = 0

    def __len__(self) -> int:
        return self.count

    @property
    def next_number(self) -> int:
        """The number the next event gets."""
        return self.first_number + self.count

    def add_if_event(self, element: etree._Element) -> bool:
        """Add `element` if it is an <event>: the value of each of its attributes; say if it was."""
        tag = element.tag
        if tag != _XES_EVENT and _local(tag) != "event":
            return False
        columns, index, get = self.columns, self.count, etree._Element.get
        for attribute in element:
            value = get(attribute, "value")
            if value is not None:
                key = get(attribute, "key")
                if key in columns:
                    columns[key][index] = value
                else:
                    columns[key] = {index: value}
        self.count += 1
        return True

    def share(self, first: int, case: dict[str, str]) -> None:
        """Give the trace attributes `case` to the events from index `first` on."""
        for key, value in case.items():
            self.columns.setdefault(key, {}).update(dict.fromkeys(range(first, self.count), value))

    def batch(self) -> pa.RecordBatch:
        """The events as an Arrow batch: one text column per key, then their numbers."""
        arrays = {key: pa.array([values.get(i) for i in range(self.count)], pa.string())
                  for key, values in self.columns.items()}
        arrays[ROW] = pa.array(range(self.first_number, self.next_number), pa.int64())
        return pa.RecordBatch.from_pydict(arrays)


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
