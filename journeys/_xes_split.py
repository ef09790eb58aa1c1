"""A large, plain XES file read in parallel: cut at trace boundaries, each chunk parsed by a worker process.

libxml2 parses this kind of XES at about 250k events/s on one core, so one stream cannot go
faster than that. A file that is not compressed can be cut by byte offset: :func:`split_log` finds
a ``<trace`` start tag near every :data:`XES_CHUNK_BYTES`, and :func:`parallel_chunks` has each
chunk parsed by one of :data:`XES_WORKERS` worker processes, started as ``python -m`` of this
module (so a user's script is never imported again in them). A chunk is parsed as a document of
its own: the file's prolog and root start tag (:attr:`SplitLog.header`), the chunk's bytes, then
the root's end tag; the workers parse with the one-stream reader's own code and options
(:func:`najma.journeys._xes.events`), and the results come back in file order, at most two
chunks ahead for each worker, so memory stays bounded whatever the size of the file.

A cut that is not a trace boundary (``<trace`` in a comment, a CDATA section, a processing
instruction, or nested deeper than the root's children) leaves the chunk before it unclosed, and
its parse fails; so does a chunk of XML that is not well-formed. Either way the reader then reads
on in one stream from the start of the file (see :meth:`~najma.journeys._xes.XesSource.batches`),
which says where the XML is broken, if it is. A compressed or zipped file cannot be cut by
offset: it is read in one stream.
"""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from najma.journeys._sources import ROW

__all__ = ["XES_CHUNK_BYTES", "XES_WORKERS", "Chunk", "SplitLog", "parallel_chunks", "renumbered", "split_log"]

#: The size of the chunks a plain XES file is cut into; a file under two chunks is read in one stream.
XES_CHUNK_BYTES = 8 << 20
#: The worker processes that parse the chunks: one for each core this process may run on, at most 4.
XES_WORKERS = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 4)
_CHUNKS_AHEAD = 2  # chunks given to each worker before its first result is taken
_HEAD_BYTES = 1 << 20  # the prolog and root start tag must be within these first bytes, else no split
_SCAN_BYTES = 1 << 16
_OVERLAP = 256  # bytes kept from one scanned block to the next, so that a start tag across them is seen

_NAME = rb"(?:[A-Za-z_][\w.-]*:)?"
#: The start of a trace element, with or without a namespace prefix.
_TRACE = re.compile(rb"<" + _NAME + rb"trace[\s/>]")
#: The prolog (XML declaration, comments, processing instructions; a DTD is refused before) and the root start tag.
_ROOT = re.compile(rb"\A(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->)*<(" + _NAME + rb"log)"
                   rb"(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*>", re.DOTALL)
_ENCODING = re.compile(rb"\A(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
#: Encodings in which the bytes of ``<trace`` are that tag, wherever they stand.
_SPLITTABLE = {b"utf-8", b"utf8", b"us-ascii", b"ascii"}


@dataclass(frozen=True)
class SplitLog:
    """A plain XES file and where it is cut.

    Parameters
    ----------
    path : Path
        The file.
    header : int
        The size of its prolog and root start tag, parsed before each chunk but the first (each
        worker reads them from the file, so that what it is sent stays small).
    closing : bytes
        Its root end tag, parsed after each chunk but the last.
    bounds : tuple of int
        The offset where each chunk starts, then the size of the file.
    """

    path: Path
    header: int
    closing: bytes
    bounds: tuple[int, ...]


@dataclass(frozen=True)
class Chunk:
    """The events of one chunk, numbered from 1 within it, and the offset where the chunk ends."""

    batches: list[pa.RecordBatch]
    events: int
    found: int  # traces and events (none in the whole file: it is no XES log)
    end: int


def split_log(path: Path) -> SplitLog | None:
    """Cut the plain XES file `path` at trace boundaries into chunks of about :data:`XES_CHUNK_BYTES`.

    None if it is not worth it (one worker, a small file) or cannot be done safely: a root start
    tag not at the head, or an encoding in which ``<trace`` could be other bytes.
    """
    size = path.stat().st_size
    if XES_WORKERS < 2 or size < 2 * XES_CHUNK_BYTES:
        return None
    with open(path, "rb") as handle:
        head = handle.read(_HEAD_BYTES)
        root, encoding = _ROOT.match(head), _ENCODING.match(head)
        if root is None or (encoding is not None and encoding.group(1).lower() not in _SPLITTABLE):
            return None
        starts = [0]
        for target in range(XES_CHUNK_BYTES, size, XES_CHUNK_BYTES):
            start = _next_trace(handle, max(target, root.end(), starts[-1] + 1))
            if start is None:
                break
            if start - starts[-1] >= XES_CHUNK_BYTES // 2:  # a trace longer than a chunk is not cut twice
                starts.append(start)
    if len(starts) < 2:
        return None
    return SplitLog(path, root.end(), b"</" + root.group(1) + b">", (*starts, size))


def _next_trace(handle: BinaryIO, offset: int) -> int | None:
    """The offset of the first trace start tag at or after `offset`, or None."""
    handle.seek(offset)
    data = b""
    while block := handle.read(_SCAN_BYTES):
        data = data[-_OVERLAP:] + block
        found = _TRACE.search(data)
        if found:
            return offset + len(block) - len(data) + found.start()
        offset += len(block)
    return None


def renumbered(batch: pa.RecordBatch, before: int) -> pa.RecordBatch:
    """`batch` of a chunk with its events numbered in the whole file: after the `before` events of earlier chunks."""
    if not before:
        return batch
    index = batch.schema.get_field_index(ROW)
    return batch.set_column(index, ROW, pc.add(batch.column(index), pa.scalar(before, pa.int64())))


@contextmanager
def parallel_chunks(split: SplitLog) -> Iterator[Iterator[Chunk | None]]:
    """The chunks of `split` parsed by worker processes, in file order; None in place of one that failed.

    The workers are stopped when the block ends, however it ends.
    """
    workers: list[_Worker] = []
    try:
        for _ in range(min(XES_WORKERS, len(split.bounds) - 1)):
            workers.append(_Worker())
    except OSError:  # no more processes may be started: those that were do the work (none: read in one stream)
        pass
    try:
        yield _in_order(split, workers) if workers else iter([None])
    finally:
        for worker in workers:
            worker.stop()


def _in_order(split: SplitLog, workers: list[_Worker]) -> Iterator[Chunk | None]:
    """Give chunk i to worker i modulo their number, up to :data:`_CHUNKS_AHEAD` each ahead; yield them in order."""
    count = len(split.bounds) - 1

    def give(index: int) -> None:
        if index < count:
            workers[index % len(workers)].give(_task(split, index))

    for index in range(len(workers) * _CHUNKS_AHEAD):
        give(index)
    for index in range(count):
        outcome = workers[index % len(workers)].take()
        if outcome is None:
            yield None
            return
        give(index + len(workers) * _CHUNKS_AHEAD)
        batches, events, found = outcome
        yield Chunk(batches, events, found, split.bounds[index + 1])


def _task(split: SplitLog, index: int) -> tuple[str, int, int, int, bytes]:
    last = index == len(split.bounds) - 2
    return (str(split.path), split.bounds[index], split.bounds[index + 1], split.header if index else 0,
            b"" if last else split.closing)


class _Worker:
    """A worker process that parses the chunks it is given, one after the other (see :func:`_serve`)."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self.process = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)

    def give(self, task: tuple[str, int, int, int, bytes]) -> None:
        try:
            pickle.dump(task, self.process.stdin, pickle.HIGHEST_PROTOCOL)
            self.process.stdin.flush()
        except OSError:  # it died: take() says so
            pass

    def take(self) -> tuple[list[pa.RecordBatch], int, int] | None:
        """The next chunk's batches, events and traces-and-events; None if it failed or the worker died."""
        try:
            return pickle.load(self.process.stdout)
        except (EOFError, OSError, pickle.UnpicklingError):
            return None

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:  # a chunk left unsent on a killed worker
                pass


def read_chunk(path: str, start: int, end: int, header: int, closing: bytes) -> tuple[list[pa.RecordBatch], int, int]:
    """Parse bytes `start` to `end` of `path`, after its first `header` bytes and before `closing`.

    It returns the chunk's batches, events, and traces and events.
    """
    from najma.journeys._xes import events  # here: _xes imports this module

    with open(path, "rb") as handle:
        prolog = handle.read(header)
        handle.seek(start)
        document = BytesIO(prolog + handle.read(end - start) + closing)
    batches, parsed = [], events(document)
    while True:
        try:
            batches.append(next(parsed))
        except StopIteration as done:
            return batches, sum(batch.num_rows for batch in batches), done.value


def _serve(tasks: BinaryIO, results: BinaryIO) -> None:
    """Parse each chunk read from `tasks` and write its outcome to `results` (None if it failed), until `tasks` ends."""
    while True:
        try:
            task = pickle.load(tasks)
        except EOFError:
            return
        try:
            outcome = read_chunk(*task)
        except Exception:  # noqa: BLE001 - the reader reads on in one stream, and says what is wrong there
            outcome = None
        pickle.dump(outcome, results, pickle.HIGHEST_PROTOCOL)
        results.flush()


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
