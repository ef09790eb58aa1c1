"""A safe, streaming XES reader.

The file is parsed with lxml's pull parser, fed a block at a time: one trace is held in memory at a
time (at most :data:`_OPEN_TRACE_EVENTS` of its events as elements), so memory does not grow with the
file. Python sees only the starts and ends of traces: the events of a trace whose events all have the
same attributes (the usual XES) are read in one pass over them, column by column; any others, event
by event, with the same result. Events are numbered in document order from 1 (the ``_row`` of
every event, its unit "event"), so a quarantined event can be found again even in a file
written on one line. The file may be compressed or zipped (see :class:`~najma.journeys._sources.Packed`).
A large plain file is cut at trace boundaries and its chunks parsed in parallel by worker
processes, with the same code and options (see :mod:`najma.journeys._xes_split`); a compressed
or zipped one is read in one stream.

Documents that declare a DTD are refused, wherever the declaration stands and in whatever
encoding the document is written: the prolog is first read by libxml2 itself, with a parser
target that stops at the document type declaration or at the root element, whichever comes
first. Nothing after the root's start tag is parsed then, so no entity is ever expanded; and
since XML allows a DTD only before the root, the document parsed afterwards has none. lxml
runs with ``resolve_entities=False``, ``no_network=True`` and ``load_dtd=False`` besides.

Trace attributes are given to every event of the trace with the prefix ``case:``, as pm4py does,
so ``case:concept:name`` is the case id. Values are kept as their text; nested attributes keep
their own value and their children are ignored, as pm4py's reader does.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import pyarrow as pa
from lxml import etree

from najma.journeys._sources import ROW, FileSource, _one_line
from najma.journeys._xes_split import SplitLog, parallel_chunks, renumbered, split_log

__all__ = ["XesSource", "events", "prolog_problem", "xml_problem"]

XES_BATCH_EVENTS = 100_000
PROLOG_CHUNK_BYTES = 1 << 16
DTD_REFUSED = "it declares a DTD (<!DOCTYPE ...>); DTDs and entities are refused for safety"


def _parser_options() -> dict[str, bool]:
    return {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}


class _PrologEnd(Exception):  # noqa: N818 - a signal, not an error
    """Raised by :class:`_Prolog` to stop the parser: at a DTD (`doctype` true) or at the root."""

    def __init__(self, root: str | None = None, *, doctype: bool = False) -> None:
        super().__init__(root)
        self.root = root
        self.doctype = doctype


class _Prolog:
    """A parser target that stops at the document type declaration or at the root's start tag."""

    def doctype(self, *declaration: object) -> None:
        raise _PrologEnd(doctype=True)

    def start(self, tag: str, attrib: object, nsmap: object = None) -> None:
        raise _PrologEnd(tag)

    def end(self, tag: str) -> None:
        """Not reached: the prolog ends at the first start tag."""

    def close(self) -> None:
        """Called when the document ended before any element."""


def prolog_problem(stream: BinaryIO) -> str | None:
    """Read the XML prolog of `stream`; return why the document is refused, or None.

    It stops at the root's start tag, so only the prolog is read, however long (a comment of
    megabytes before a DTD is read through).

    Examples
    --------
    >>> import io
    >>> prolog_problem(io.BytesIO(b'<?xml version="1.0"?><!-- x --><log/>')) is None
    True
    >>> prolog_problem(io.BytesIO(b'<?xml version="1.0"?><!DOCTYPE log [<!ENTITY a "b">]><log/>'))
    'it declares a DTD (<!DOCTYPE ...>); DTDs and entities are refused for safety'
    >>> prolog_problem(io.BytesIO('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE log><log/>'.encode("utf-16")))
    'it declares a DTD (<!DOCTYPE ...>); DTDs and entities are refused for safety'
    """
    parser = etree.XMLParser(target=_Prolog(), **_parser_options())
    seen = False
    try:
        while chunk := stream.read(PROLOG_CHUNK_BYTES):
            seen = seen or bool(chunk.strip())
            parser.feed(chunk)
        parser.close()
    except _PrologEnd as end:
        if end.doctype:
            return DTD_REFUSED
        if etree.QName(end.root).localname != "log":
            return f"its root element is <{etree.QName(end.root).localname}>, not <log>: this is not an XES event log"
        return None
    except etree.XMLSyntaxError as exc:
        return "the file is empty" if not seen else xml_problem(exc)
    return "the file is empty" if not seen else "no root element: this is not an XES event log"


def xml_problem(exc: etree.XMLSyntaxError) -> str:
    """Say in one printable line where and why the XML is not well-formed.

    Examples
    --------
    >>> try:
    ...     etree.fromstring(b"<log>\\n<trace></log>")
    ... except etree.XMLSyntaxError as exc:
    ...     print(xml_problem(exc))
    not well-formed XML at line 2: Opening and ending tag mismatch: trace line 2 and log, line 2, column 14
    """
    return f"not well-formed XML at line {exc.lineno}: {_one_line(exc, exc.msg)}"


@dataclass
class XesSource(FileSource):
    """An XES file, perhaps compressed or zipped (see :class:`FileSource`), streamed one trace at a time."""

    _checked: bool = False
    _position: int = 0  # how far the file was read in chunks (see _split)

    def __post_init__(self) -> None:
        self.unit = "event"

    def problem(self, exc: Exception) -> str:
        return xml_problem(exc) if isinstance(exc, etree.XMLSyntaxError) else super().problem(exc)

    def check(self) -> None:
        """Refuse a document with a DTD, or that is not an XES log, from its prolog (read once per source)."""
        if self._checked:
            return
        with self.guarded(etree.XMLSyntaxError), self._packing().open() as reading:
            problem = prolog_problem(reading.stream)
        if problem:
            raise self.fail(problem)
        self._checked = True

    def batches(self) -> Iterator[pa.RecordBatch]:
        self.check()  # done already when the source came from open_source; never skipped, for safety
        split = None if self._packing().packed else split_log(self.path)
        if split is None:
            found = yield from self._serial()
        else:
            found = yield from self._split(split)
        if not found:
            raise self.fail("no <trace> or <event> elements: this is not an XES event log")

    def progress(self) -> int:
        return max(super().progress(), self._position)

    def _serial(self, skip: int = 0) -> Generator[pa.RecordBatch, None, int]:
        """Read the file in one stream; leave out its first `skip` events; return how many traces and events it has."""
        with self.guarded(etree.XMLSyntaxError), self._open() as reading:
            return (yield from events(reading.stream, skip))

    def _split(self, split: SplitLog) -> Generator[pa.RecordBatch, None, int]:
        """Read the file's chunks in worker processes, in file order; on any failure, read on in one stream.

        A failure (not well-formed XML, a split that was no trace boundary, a worker that died) is
        left to the one-stream reader to say, from the start of the file: the events already
        yielded are left out, so none is yielded twice, and the error names the line it names.
        """
        read, found = 0, 0
        with parallel_chunks(split) as chunks:
            for chunk in chunks:
                if chunk is None:
                    break
                for batch in chunk.batches:
                    yield renumbered(batch, read)
                read += chunk.events
                found += chunk.found
                self._position = chunk.end
            else:
                return found
        return (yield from self._serial(skip=read))  # the workers are stopped by now


def events(stream: BinaryIO, skip: int = 0) -> Generator[pa.RecordBatch, None, int]:
    """Yield the events of the XES document `stream` in document order, numbered from 1, as Arrow batches.

    A batch ends at the end of a trace once enough events are gathered. Events outside any trace
    (children of the root) are kept too, without a case (they are quarantined for it). The first
    `skip` events are left out (they are numbered all the same). It returns how many traces and
    events were found.

    Only the starts and ends of traces come back to Python: each trace is read whole at its end
    (see :meth:`_Rows.add_events`), then freed with whatever came before it; a trace of more than
    :data:`_OPEN_TRACE_EVENTS` events has those read so far added and freed as the file is read.
    """
    parser = etree.XMLPullParser(events=("start", "end"), tag="{*}trace", remove_comments=True, **_parser_options())
    rows = _Rows(1)
    traces, last, first, reading = 0, None, 0, None  # reading: the trace whose end is not read yet
    while data := stream.read(_FEED_BYTES):
        parser.feed(data)
        for kind, trace in parser.read_events():
            root = trace.getparent()
            if root is None or root.getparent() is not None:  # a <trace> nested in an attribute is not a trace
                continue
            if kind == "start":
                if trace.getprevious() is not last:  # events outside any trace, between the last trace and this one
                    rows.add_events(list(_until(trace.itersiblings("{*}event", preceding=True), last))[::-1])
                first, reading = len(rows), trace
                continue
            traces += 1
            rows.add_events(list(trace.iterchildren("{*}event")))
            rows.share(first, _attributes(trace))
            _free(trace, root)
            last, reading = trace, None
            if len(rows) >= XES_BATCH_EVENTS:
                yield from rows.batch(skip)
                rows = _Rows(rows.next_number)
        if reading is not None and len(reading) > _OPEN_TRACE_EVENTS:
            rows.add_events(_read_off(reading))
    root = parser.close()
    rows.add_events(list(root.iterchildren("{*}event")))  # the events after the last trace (all if there is none)
    if len(rows):
        yield from rows.batch(skip)
    return traces + rows.next_number - 1


_FEED_BYTES = 1 << 16
#: A trace being read holds at most about this many events in memory as elements.
_OPEN_TRACE_EVENTS = 4096


def _read_off(trace: etree._Element) -> list[etree._Element]:
    """Take out of `trace`, still being read, its events read whole (all but its last child, which may not be)."""
    done = list(trace.iterchildren("{*}event"))
    if done and done[-1] is trace[-1]:
        done.pop()
    for event in done:
        trace.remove(event)
    return done


def _until(elements: Iterator[etree._Element], stop: etree._Element | None) -> Iterator[etree._Element]:
    """`elements` up to `stop`, which is left out."""
    for element in elements:
        if element is stop:
            return
        yield element


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _attributes(element: etree._Element) -> dict[str, str]:
    """The key and value of each attribute of `element` that has a value (nested ones are not looked into)."""
    found = {}
    for child in element:
        value = child.get("value")
        if value is not None and _local(child.tag) != "event":
            found[child.get("key")] = value
    return found


def _shared_width(events: list[etree._Element], keys: list[str | None], values: list[str | None]) -> int | None:
    """How many attributes each of `events` has, if all have the same keys in the same order, each key
    once and every attribute with a key and a value; else None.

    `keys` and `values` are those of the events' children, event after event.
    """
    width = len(keys) // len(events) if events else 0
    if (width * len(events) == len(keys) and keys == keys[:width] * len(events) and len(set(keys[:width])) == width
            and None not in keys and None not in values and [len(event) for event in events].count(width) == len(events)):
        return width
    return None


def _free(trace: etree._Element, parent: etree._Element) -> None:
    """Free a read trace and whatever came before it, so that memory stays flat."""
    trace.clear(keep_tail=False)
    while trace.getprevious() is not None:
        del parent[0]


class _Rows:
    """Events gathered column by column, each numbered in document order from `first_number`.

    ``columns`` maps an attribute key to its values, one per event up to the last event that has
    it (events without it hold None); :meth:`batch` pads them all to the same length.
    """

    def __init__(self, first_number: int) -> None:
        self.first_number = first_number
        self.columns: dict[str, list[str | None]] = {}
        self.count = 0

    def __len__(self) -> int:
        return self.count

    @property
    def next_number(self) -> int:
        """The number the next event gets."""
        return self.first_number + self.count

    def add_events(self, events: list[etree._Element]) -> None:
        """Add `events`, their attributes read in one pass: column by column when the events all have the same
        attributes in the same order (the usual XES, see :func:`_shared_width`), else event by event."""
        children = [child for event in events for child in event]
        get = etree._Element.get
        keys = [get(child, "key") for child in children]
        values = [get(child, "value") for child in children]
        width = _shared_width(events, keys, values)
        if width is not None:
            self.add_columns(keys[:width], values, len(events))
            return
        start = 0
        for event in events:
            end = start + len(event)
            self.add(keys[start:end], values[start:end])
            start = end

    def add_columns(self, keys: list[str], values: list[str], count: int) -> None:
        """Add `count` events that each have the attributes `keys`, in that order, their values one event after the other."""
        width = len(keys)
        for offset, key in enumerate(keys):
            column = self.columns.get(key)
            if column is None:
                column = self.columns[key] = []
            column.extend([None] * (self.count - len(column)))
            column.extend(values[offset::width])
        self.count += count

    def add(self, keys: list[str | None], values: list[str | None]) -> None:
        """Add one event with the attributes `keys` and their `values`: one without a value is left out, and where a
        key repeats the last one wins."""
        columns, index = self.columns, self.count
        for key, value in zip(keys, values, strict=True):
            if value is None:
                continue
            column = columns.get(key)
            if column is None:
                column = columns[key] = []
            missing = index - len(column)
            if missing:
                if missing < 0:  # the key repeats within the event
                    column[index] = value
                    continue
                column.extend([None] * missing)
            column.append(value)
        self.count += 1

    def share(self, first: int, case: dict[str, str]) -> None:
        """Give the trace attributes `case` to the events from index `first` on, with the prefix ``case:``."""
        for key, value in case.items():
            column = self.columns.setdefault("case:" + key, [])
            column.extend([None] * (first - len(column)))
            del column[first:]  # an event attribute of the same name gives way, as before
            column.extend([value] * (self.count - first))

    def batch(self, skip: int = 0) -> Iterator[pa.RecordBatch]:
        """The events numbered above `skip` as an Arrow batch (none if there are none): one text column per key, then their numbers."""
        if self.next_number - 1 <= skip:
            return
        arrays = {}
        for key, column in self.columns.items():
            column.extend([None] * (self.count - len(column)))
            arrays[key] = pa.array(column, pa.string())
        arrays[ROW] = pa.array(range(self.first_number, self.next_number), pa.int64())
        yield pa.RecordBatch.from_pydict(arrays).slice(max(skip + 1 - self.first_number, 0))
