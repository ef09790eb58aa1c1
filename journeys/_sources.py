"""Sources of events: CSV, Parquet (file or folder), XES and pandas frames, read as Arrow batches.

Every source yields Arrow record batches in input order, with one extra column :data:`ROW`: the
1-based line of the file where the record starts (CSV), the 1-based row (Parquet, frames) or event
(XES) each record came from, so that a rejected record can be named. Records that cannot even be
split into columns are handed over as :class:`Reject` objects instead of being dropped.

Files are streamed, never read whole into memory: gzip, bzip2 and Zstandard compression and a zip
archive holding one log are recognised by their first bytes (see :class:`Packed`), and progress
counts the bytes read from the file as it stands on disk. :meth:`Source.check` reads only the
head of a source (a CSV header, an XML prolog, the Parquet footers), so that a file that cannot
be read at all is refused before anything is written anywhere.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from najma._lazy import lazy_module
from najma.errors import SourceReadError

# Loaded at first use, so opening a store does not load them.
np = lazy_module("numpy")
pd = lazy_module("pandas")
pa = lazy_module("pyarrow")
pc = lazy_module("pyarrow.compute")
pacsv = lazy_module("pyarrow.csv")
pads = lazy_module("pyarrow.dataset")
pq = lazy_module("pyarrow.parquet")

__all__ = ["Reject", "Source", "Packed", "CsvSource", "ParquetSource", "FrameSource", "ROW", "LOG_SUFFIXES"]

#: Name of the column that carries each record's place: its line (CSV), row (Parquet, frames) or event number (XES).
#: It starts with a control character that no header line, XES key or frame column carries in practice, so a
#: column of the user's called ``_row`` (or anything else) is an ordinary attribute; a source whose column
#: has exactly this name is refused.
ROW = "\x1fnajma:row"

#: The kind of log each file name ending stands for; compression endings (:data:`COMPRESSION_SUFFIXES`) come after.
LOG_SUFFIXES: dict[str, str] = {".xes": "xes", ".parquet": "parquet", ".csv": "csv", ".tsv": "csv", ".txt": "csv"}

#: The compression codecs recognised by their first bytes (magic numbers), with Arrow's names for them.
CODECS: dict[bytes, str] = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\x28\xb5\x2f\xfd": "zstd"}

#: File name endings that name a packing rather than a format.
COMPRESSION_SUFFIXES: tuple[str, ...] = (".gz", ".gzip", ".bz2", ".zst", ".zstd", ".zip")

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_ZIP_JUNK = re.compile(r"(^|/)(__MACOSX/|\._|\.DS_Store$)")
_MAGIC_BYTES = 8
_HEAD_BYTES = 1 << 16
_CR = 13  # carriage return: the bytes of a line break (LF 10, CR 13) are at most this
_MAX_CODECS = 3  # a .csv.gz.gz still opens; a file compressed over and over is not a log

CSV_BLOCK_BYTES = 128 << 20
CSV_HEADER_BLOCK_BYTES = 1 << 20
PARQUET_BATCH_ROWS = 1 << 20


@dataclass(frozen=True)
class Reject:
    """A record that could not be split into the source's columns.

    Parameters
    ----------
    row : int
        Its 1-based line (or row).
    reason : str
        Why it was rejected.
    text : str
        The record as it stood in the file.
    """

    row: int
    reason: str
    text: str


@dataclass
class Source:
    """A readable source of events.

    Subclasses implement :meth:`batches`, and :meth:`check` where the source can be refused
    from its head alone. ``unit`` says whether ``_row`` counts lines or rows;
    ``progress_total`` and :meth:`progress` drive the progress bar in the same unit (bytes or rows).
    """

    name: str
    kind: str
    unit: str = "row"
    rejects: list[Reject] = field(default_factory=list)

    def check(self) -> None:
        """Read the head of the source, and raise :class:`SourceReadError` if it cannot be read at all.

        It reads little (a header line, a prolog, the Parquet footers) and writes nothing.
        """

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Yield the records as Arrow batches with a ``_row`` column, in input order."""
        raise NotImplementedError

    @property
    def progress_total(self) -> int:
        """The amount of work, in the unit of :meth:`progress`."""
        return 0

    def progress(self) -> int:
        """How much of :attr:`progress_total` has been read so far."""
        return 0

    def fingerprint(self) -> str:
        """A SHA-256 of the source's content: the same content loads only once."""
        raise NotImplementedError

    def fail(self, problem: str) -> SourceReadError:
        """Return the error that says this source cannot be read."""
        return SourceReadError(self.name, problem)

    def check_names(self, names: list[str], what: str = "the header") -> None:
        """Refuse column `names` that repeat or that take the name of :data:`ROW`."""
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise self.fail(f"{what} names {', '.join(map(repr, duplicated))} more than once")
        if ROW in names:
            raise self.fail(f"{what} has a column named {ROW!r}, a name najma keeps for itself; rename it")


def _file_digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class Packed:
    """Where the bytes of a log are: a file, or the one log in a zip archive, compressed or not.

    Parameters
    ----------
    path : Path
        The file on disk.
    member : str or None
        The zip member that holds the log; None if the file is not a zip archive.
    codecs : tuple of str
        Arrow's names of the compressions to undo, outermost first (``"gzip"``, ``"bz2"``, ``"zstd"``).

    Examples
    --------
    >>> Packed(Path("log.csv.gz"), codecs=("gzip",)).inner_name
    'log.csv'
    """

    path: Path
    member: str | None = None
    codecs: tuple[str, ...] = ()

    @property
    def inner_name(self) -> str:
        """The name of the log itself: the zip member's or the file's, without compression endings."""
        name = Path(self.member).name if self.member else self.path.name
        while name.lower().endswith(COMPRESSION_SUFFIXES):
            name = name.rsplit(".", 1)[0]
        return name

    @property
    def packed(self) -> bool:
        """Whether the log is compressed or inside a zip archive."""
        return bool(self.member or self.codecs)

    @classmethod
    def detect(cls, path: Path) -> Packed:
        """Find out, from their first bytes, how the log in `path` is packed.

        Raises
        ------
        SourceReadError
            If it is a zip archive with no log or several, or a packing that cannot be undone.
        """
        with open(path, "rb") as handle:
            head = handle.read(_MAGIC_BYTES)
        packed = cls(path, _zip_member(path) if head.startswith(_ZIP_MAGIC) else None)
        for _ in range(_MAX_CODECS):
            codec = _codec(packed.head(_MAGIC_BYTES))
            if codec is None:
                return packed
            if not pa.Codec.is_available(codec):
                raise SourceReadError(str(path), f"it is {codec}-compressed, which this pyarrow cannot read")
            packed = cls(path, packed.member, (*packed.codecs, codec))
        raise SourceReadError(str(path), f"it is compressed more than {_MAX_CODECS} times over")

    def head(self, size: int = _HEAD_BYTES) -> bytes:
        """The first `size` bytes of the log, unpacked.

        Raises
        ------
        SourceReadError
            If they cannot be unpacked.
        """
        with self.open() as reading:
            return reading.guarded(lambda: reading.stream.read(size))

    def open(self) -> Reading:
        """Open the log for reading, unpacked, as a stream."""
        return Reading(self)


def _codec(head: bytes) -> str | None:
    return next((codec for magic, codec in CODECS.items() if head.startswith(magic)), None)


def _zip_member(path: Path) -> str:
    """The one log in the zip archive `path`: its only file, or its only file named like a log."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [i.filename for i in archive.infolist() if not i.is_dir() and not _ZIP_JUNK.search(i.filename)]
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceReadError(str(path), f"not a readable zip archive ({exc})") from None
    logs = [n for n in names if Packed(Path(n)).inner_name.lower().endswith(tuple(LOG_SUFFIXES))]
    if len(names) == 1:
        return names[0]
    if len(logs) == 1:
        return logs[0]
    if logs:
        raise SourceReadError(str(path), f"the zip archive holds {len(logs)} logs ({', '.join(logs)}); "
                                         "unpack it and load each, or zip one log per archive")
    held = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "") if names else "nothing"
    raise SourceReadError(str(path), f"the zip archive holds no event log ({', '.join(LOG_SUFFIXES)}); it holds {held}")


class Reading:
    """The unpacked bytes of a :class:`Packed` log as an Arrow input stream, and how far the file has been read.

    Use it as a context manager; :meth:`consumed` counts the bytes read from the file on disk.
    """

    def __init__(self, packed: Packed) -> None:
        self.packed = packed
        self._raw: pa.NativeFile | None = None
        self._file: BinaryIO | None = None
        self._archive: zipfile.ZipFile | None = None
        try:
            self.stream = self._open()
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as exc:
            self.close()
            what = f"the zip member {packed.member}" if packed.member else "it"
            raise SourceReadError(str(packed.path), f"{what} cannot be read ({_one_line(exc)})") from None

    def _open(self) -> pa.NativeFile:
        if self.packed.member is None:
            self._raw = pa.OSFile(str(self.packed.path), "rb")
            stream = self._raw
        else:
            self._file = open(self.packed.path, "rb")
            self._archive = zipfile.ZipFile(self._file)
            stream = pa.PythonFile(self._archive.open(self.packed.member), mode="r")
        for codec in self.packed.codecs:
            stream = pa.CompressedInputStream(stream, codec)
        return stream

    def consumed(self) -> int:
        """The bytes read so far from the file on disk (compressed bytes, when it is compressed)."""
        raw = self._file if self._file is not None else self._raw
        return 0 if raw.closed else raw.tell()

    def guarded(self, call: Callable[[], object]) -> object:
        """Run `call`, turning an error of unpacking into one line about the file."""
        try:
            return call()
        except (pa.ArrowInvalid, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise SourceReadError(str(self.packed.path), unpack_problem(self.packed, exc)) from None

    def close(self) -> None:
        """Close the stream and the file."""
        for thing in (getattr(self, "stream", None), self._archive, self._file, self._raw):
            if thing is not None:
                thing.close()

    def __enter__(self) -> Reading:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def unpack_problem(packed: Packed, exc: Exception) -> str:
    """Say in one line what went wrong reading `packed`, naming the compression when it was that."""
    text = _one_line(exc)
    lowered = text.lower()
    if packed.codecs and any(w in lowered for w in ("compress", "zlib", "gzip", "bz2", "zstd", "lz4", "inflate", "truncated")):
        return f"the {packed.codecs[-1]} stream is truncated or corrupt ({text})"
    if packed.member and ("crc" in lowered or "zip" in lowered):
        return f"the zip member {packed.member} is corrupt ({text})"
    return text


def _one_line(exc: Exception, limit: int = 200) -> str:
    """The first line of `exc`'s message, printable and at most `limit` characters."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[:limit] + "..."


def _arrow_problem(exc: Exception) -> str:
    text = _one_line(exc)
    if "UTF8" in text or "UTF-8" in text or "decode" in text.lower():
        return f"bytes that do not decode as text ({text}); read it with its own encoding"
    if "Parquet magic bytes" in text or "not a parquet file" in text.lower():
        return "not a Parquet file (its magic bytes are missing or it is truncated)"
    if "straddling" in text.lower():
        return f"a record is longer than {CSV_BLOCK_BYTES >> 20} MiB, or a quote is never closed ({text})"
    return text


@dataclass
class CsvSource(Source):
    """A delimited text file, perhaps compressed or zipped; every column is read as text and converted later.

    Quoted values may hold newlines; each record is numbered by the line it starts on.

    Parameters
    ----------
    path : Path
        The file.
    sep : str
        The delimiter, one character.
    encoding : str
        The text encoding; bytes that do not decode fail the whole file.
    packed : Packed, optional
        How the file is packed; by default found from its first bytes.
    """

    path: Path = Path()
    sep: str = ","
    encoding: str = "utf-8"
    packed: Packed | None = None
    _reading: Reading | None = None
    _names: list[str] | None = None

    def __post_init__(self) -> None:
        self.unit = "line"
        if len(self.sep) != 1:
            raise self.fail(f"the separator must be one character; got {self.sep!r}")

    @property
    def progress_total(self) -> int:
        return self.path.stat().st_size

    def progress(self) -> int:
        return self._reading.consumed() if self._reading is not None else 0

    def fingerprint(self) -> str:
        return _file_digest([self.path])

    def _packing(self) -> Packed:
        if self.packed is None:
            self.packed = Packed.detect(self.path)
        return self.packed

    def _guarded(self, call, checked: _CheckedUtf8 | None = None):  # noqa: ANN001, ANN202 - wraps one Arrow call
        """Run `call`, turning Arrow's read errors, or the error `checked` found, into one clear line about this file."""
        try:
            result = call()
        except SourceReadError:
            raise
        except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
            if checked is not None and checked.error is not None:
                raise checked.error from None
            problem = unpack_problem(self._packing(), exc)
            raise self.fail(problem if problem != _one_line(exc) else _arrow_problem(exc)) from None
        except UnicodeDecodeError as exc:
            raise self.fail(self.undecodable(exc.start)) from None
        if checked is not None and checked.error is not None:
            raise checked.error
        return result

    def undecodable(self, position: int, line: int | None = None) -> str:
        """Say that the bytes at `position` (on `line`, if known) do not decode."""
        where = f"on line {line} (byte {position + 1})" if line else f"near byte {position + 1}"
        return f"bytes that do not decode as {self.encoding} {where}; read it with its own encoding, or it is not a text log"

    def check(self) -> None:
        self._header()

    def _check_text(self) -> None:
        """Refuse a head that is empty, binary, or not in the encoding."""
        head = self._packing().head()
        if not head.strip():
            raise self.fail("the file is empty: no header line")
        decoder = codecs.getincrementaldecoder(self.encoding)()
        try:
            text = decoder.decode(head, final=False)
        except UnicodeDecodeError as exc:
            raise self.fail(self.undecodable(exc.start, head[: exc.start].count(b"\n") + 1)) from None
        except LookupError:
            raise self.fail(f"unknown text encoding {self.encoding!r}") from None
        if "\x00" in text:
            raise self.fail(f"it holds NUL characters: binary data, not {self.encoding} delimited text")

    def _header(self) -> list[str]:
        """The column names, read once; a record longer than the first block is read with a larger one."""
        if self._names is not None:
            return self._names
        self._check_text()
        block = CSV_HEADER_BLOCK_BYTES
        while True:
            try:
                names = self._read_names(block)
                break
            except SourceReadError as exc:
                if "straddling" not in exc.problem.lower() or block >= CSV_BLOCK_BYTES:
                    raise
                block *= 4
        if not names or names == [""]:
            raise self.fail("the file is empty: no header line")
        self.check_names(names)
        self._names = names
        return names

    def _read_names(self, block: int) -> list[str]:
        with self._packing().open() as reading:
            stream, checked = self._text(reading)
            reader = self._guarded(lambda: pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(use_threads=False, block_size=block, encoding=self.encoding),
                parse_options=self._parse_options(lambda _: "skip"),
                convert_options=pacsv.ConvertOptions(include_columns=[]),
            ), checked)
            reader.close()  # no read-ahead left running on Arrow's threads
            return reader.schema.names

    def _text(self, reading: Reading) -> tuple[pa.NativeFile, _CheckedUtf8 | None]:
        """The stream Arrow parses, and its checker: UTF-8 is checked as it is read (Arrow checks only
        the values it converts, and fails on a rejected line's bytes with a message of binary text);
        Arrow decodes other encodings itself, strictly."""
        if codecs.lookup(self.encoding).name != "utf-8":
            return reading.stream, None
        checked = _CheckedUtf8(reading.stream, self)
        return pa.PythonFile(checked, mode="r"), checked

    def _parse_options(self, on_invalid: Callable[[pacsv.InvalidRow], str]) -> pacsv.ParseOptions:
        return pacsv.ParseOptions(delimiter=self.sep, invalid_row_handler=on_invalid, ignore_empty_lines=False,
                                  newlines_in_values=True)

    def batches(self) -> Iterator[pa.RecordBatch]:
        names = self._header()
        self.rejects = []
        lines = _Lines(first_line=2 + sum(_newlines_in(n) for n in names), rejects=self.rejects)
        self._reading = self._packing().open()
        stream, checked = self._text(self._reading)
        try:
            reader = self._guarded(lambda: pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(use_threads=False, block_size=CSV_BLOCK_BYTES, encoding=self.encoding),
                parse_options=self._parse_options(lines.reject),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in names}, strings_can_be_null=True, quoted_strings_can_be_null=False
                ),
            ), checked)
            while (batch := self._guarded(lambda: _next_batch(reader), checked)) is not None:
                yield batch.append_column(ROW, pa.array(lines.number(batch), pa.int64()))
            lines.finish()
        finally:
            self._reading.close()


class _CheckedUtf8(io.RawIOBase):
    """A stream that ends at the first bytes that are not UTF-8, keeping the one-line error in :attr:`error`.

    It ends rather than raising: Arrow reads ahead on a thread of its own, and an exception
    raised there can outlive the read; the caller raises :attr:`error` instead.
    """

    def __init__(self, stream: pa.NativeFile, source: CsvSource) -> None:
        self._stream = stream
        self._source = source
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._position = 0
        self._lines = 1
        self.error: SourceReadError | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.error is not None:
            return b""
        try:
            data = self._stream.read(size)
            self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            line = self._lines + data.count(b"\n", 0, exc.start)
            self.error = self._source.fail(self._source.undecodable(self._position + exc.start, line))
            return b""
        except (pa.ArrowInvalid, OSError, EOFError, zipfile.BadZipFile) as exc:
            self.error = self._source.fail(unpack_problem(self._source._packing(), exc))
            return b""
        self._position += len(data)
        self._lines += data.count(b"\n")
        return data


def _next_batch(reader: pa.RecordBatchReader) -> pa.RecordBatch | None:
    try:
        return reader.read_next_batch()
    except StopIteration:
        return None


def _newlines_in(text: str) -> int:
    """The line breaks inside `text`: CR LF, CR or LF."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _newlines(batch: pa.RecordBatch) -> np.ndarray:
    """The line breaks inside each row's values (quoted values may hold them)."""
    total = np.zeros(batch.num_rows, dtype=np.int64)
    for column in batch.columns:
        data = column.buffers()[2]
        if data is None or not (np.frombuffer(data, dtype=np.uint8) <= _CR).any():  # a fast scan for control bytes
            continue
        breaks = pc.add(pc.count_substring(column, "\n"), pc.count_substring(column, "\r"))
        breaks = pc.subtract(breaks, pc.count_substring(column, "\r\n"))
        total += pc.fill_null(breaks, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    return total


class _Lines:
    """Give each record of a CSV file the line it starts on.

    Arrow numbers records (the header is record 1), good or rejected; the line of a record is
    the line after the previous record's last line, so the line breaks inside quoted values count.
    Rejected records (:meth:`reject`) are added to `rejects` as their line becomes known.
    """

    def __init__(self, first_line: int, rejects: list[Reject]) -> None:
        self.next_record = 2
        self.next_line = first_line
        self.pending: dict[int, tuple[str, str]] = {}
        self.rejects = rejects

    def reject(self, row: pacsv.InvalidRow) -> str:
        """Arrow's handler of a record with the wrong number of fields: keep it for the quarantine."""
        self.pending[row.number] = (f"the line has {row.actual_columns} fields, expected {row.expected_columns}", row.text)
        return "skip"

    def number(self, batch: pa.RecordBatch) -> np.ndarray:
        """The lines of the good records in `batch`, the records after those numbered before."""
        n = batch.num_rows
        if not n:
            return np.zeros(0, dtype=np.int64)
        rejected = sorted(r for r in self.pending if r >= self.next_record)
        records = np.arange(self.next_record, self.next_record + n + len(rejected), dtype=np.int64)
        good = np.flatnonzero(~np.isin(records, rejected))[:n]
        records = records[: good[-1] + 1]
        sizes = np.ones(len(records), dtype=np.int64)
        sizes[good] += _newlines(batch)
        bad = np.flatnonzero(np.isin(records, rejected))
        sizes[bad] += np.array([_newlines_in(self.pending[int(r)][1]) for r in records[bad]], dtype=np.int64)
        starts = self.next_line + np.concatenate(([0], np.cumsum(sizes)[:-1]))
        for position in bad:
            self._quarantine(int(records[position]), int(starts[position]))
        self.next_record = int(records[-1]) + 1
        self.next_line = int(starts[-1] + sizes[-1])
        return starts[good]

    def finish(self) -> None:
        """Number the rejected records after the last good one."""
        for record in sorted(self.pending):
            self._quarantine(record, self.next_line)
            self.next_line += 1 + _newlines_in(self.rejects[-1].text)

    def _quarantine(self, record: int, line: int) -> None:
        reason, text = self.pending.pop(record)
        self.rejects.append(Reject(line, reason, text))


@dataclass
class ParquetSource(Source):
    """A Parquet file or a folder of Parquet files (read in the order of their paths).

    The files of a folder are read with the union of their columns: a row of a file without a
    column has no value in it. A column whose type differs between files is read as text.

    Parameters
    ----------
    path : Path
        The file or folder.
    """

    path: Path = Path()
    _rows_read: int = 0
    _rows_total: int = 0
    _schema: pa.Schema | None = None

    def _files(self) -> list[Path]:
        if self.path.is_dir():
            files = sorted(p for p in self.path.rglob("*.parquet") if p.is_file())
            if not files:
                raise self.fail("the folder holds no .parquet files")
            return files
        return [self.path]

    @property
    def progress_total(self) -> int:
        return self._rows_total

    def progress(self) -> int:
        return self._rows_read

    def fingerprint(self) -> str:
        return _file_digest(self._files())

    def check(self) -> None:
        self._union()

    def _union(self) -> pa.Schema:
        """The union of the files' columns (read from their footers), conflicting types as text."""
        if self._schema is not None:
            return self._schema
        fields: dict[str, pa.Field] = {}
        for path in self._files():
            try:
                schema = pq.read_schema(path)
            except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
                raise SourceReadError(str(path), _arrow_problem(exc)) from None
            self.check_names(schema.names, f"{path.name}'s schema")
            for name, type_ in zip(schema.names, schema.types, strict=True):
                known = fields.setdefault(name, pa.field(name, type_))
                if known.type != type_ and not pa.types.is_null(type_):
                    fields[name] = pa.field(name, type_ if pa.types.is_null(known.type) else pa.string())
        self._schema = pa.schema(list(fields.values()))
        return self._schema

    def batches(self) -> Iterator[pa.RecordBatch]:
        try:
            dataset = pads.dataset([str(p) for p in self._files()], schema=self._union(), format="parquet")
            self._rows_total = dataset.count_rows()
            scanner = dataset.scanner(batch_size=PARQUET_BATCH_ROWS, use_threads=True)
            reader = scanner.to_reader()
        except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
            raise self.fail(_arrow_problem(exc)) from None
        for batch in _iterate(reader, self):
            rows = np.arange(self._rows_read + 1, self._rows_read + 1 + batch.num_rows, dtype=np.int64)
            self._rows_read += batch.num_rows
            yield batch.append_column(ROW, pa.array(rows))


def _iterate(reader: pa.RecordBatchReader, source: Source) -> Iterator[pa.RecordBatch]:
    """Iterate a reader, turning Arrow's read errors into one clear line about the source."""
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
            raise source.fail(_arrow_problem(exc)) from None
        yield batch


@dataclass
class FrameSource(Source):
    """A pandas DataFrame; it is read, never modified.

    Parameters
    ----------
    frame : pandas.DataFrame
        The events.
    """

    frame: pd.DataFrame = field(default_factory=lambda: pd.DataFrame())

    @property
    def progress_total(self) -> int:
        return len(self.frame)

    def progress(self) -> int:
        return len(self.frame)

    def fingerprint(self) -> str:
        hashes = pd.util.hash_pandas_object(self.frame, index=False).to_numpy()
        digest = hashlib.sha256(",".join(map(str, self.frame.columns)).encode())
        digest.update(hashes.tobytes())
        return digest.hexdigest()

    def check(self) -> None:
        self.check_names([str(c) for c in self.frame.columns], "the frame")

    def batches(self) -> Iterator[pa.RecordBatch]:
        self.check()
        frame = self.frame.reset_index(drop=True)
        columns = {}
        for name in frame.columns:
            series = frame[name]
            if series.dtype == object:
                series = series.map(lambda v: v if v is None or isinstance(v, str) or pd.isna(v) else str(v))
            columns[str(name)] = series
        try:
            table = pa.Table.from_pandas(pd.DataFrame(columns), preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise self.fail(_arrow_problem(exc)) from None
        table = table.append_column(ROW, pa.array(np.arange(1, len(frame) + 1, dtype=np.int64)))
        yield from table.to_batches(max_chunksize=PARQUET_BATCH_ROWS)
