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
import itertools
import json
import re
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager
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

__all__ = ["Reject", "Source", "FileSource", "Packed", "CsvSource", "ParquetSource", "FrameSource", "ROW", "LOG_SUFFIXES", "load_fingerprint"]

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
CSV_SCAN_BYTES = 1 << 20  # the chunks in which a file Arrow found undecodable is read again, to name the line
PARQUET_BATCH_ROWS = 1 << 20


@dataclass(frozen=True)
class Reject:
    """A record that could not be split into the source's columns.

    Its text is not kept: only its fields, for the store to pseudonymise each of them, since no
    field of such a record can be trusted to stand in its column and any of them may be an id.

    Parameters
    ----------
    row : int
        Its 1-based line (or row).
    reason : str
        Why it was rejected.
    fields : tuple of str
        Its fields, as split by :func:`_split_record`.
    """

    row: int
    reason: str
    fields: tuple[str, ...]


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

    def problem(self, exc: Exception) -> str:
        """Say in one line what `exc`, an error met reading this source, means."""
        return read_problem(exc)

    def guarded(self, *also: type[Exception]) -> AbstractContextManager[None]:
        """Turn the errors of reading this source (and those in `also`) into one line about it: :meth:`problem`."""
        return reading_errors(self.name, self.problem, also)

    def check_names(self, names: list[str], what: str = "the header") -> None:
        """Refuse column `names` that repeat or that take the name of :data:`ROW`."""
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise self.fail(f"{what} names {', '.join(map(repr, duplicated))} more than once")
        if ROW in names:
            raise self.fail(f"{what} has a column named {ROW!r}, a name najma keeps for itself; rename it")


def load_fingerprint(source: Source, service: str | None, mapping: dict[str, str], tz: str, time_format: str | None) -> str:
    """What identifies one load of `source`: its content read with these options (the same content read with
    other options gives other events, so it is another load). A DuckDB store and a Spark lake skip a load they hold."""
    return hashlib.sha256(json.dumps([source.fingerprint(), service, mapping, tz, time_format], sort_keys=True).encode()).hexdigest()


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
        with reading_errors(str(self.path), self.problem), self.open() as reading:
            return reading.stream.read(size)

    def problem(self, exc: Exception) -> str:
        """Say in one line what went wrong reading the log, naming the compression or the zip member when it was that."""
        return read_problem(exc, self)

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
        self._consumed = 0
        try:
            self.stream = self._open()
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as exc:
            self.close()
            what = f"the zip member {packed.member}" if packed.member else "it"
            raise SourceReadError(str(packed.path), f"{what} cannot be read ({_one_line(exc)})") from None

    def _open(self) -> pa.NativeFile:
        if self.packed.member is None:
            # The system's allocator: Arrow asks for blocks of CSV_BLOCK_BYTES, which its default pool maps
            # afresh for each block (measured: 3x the system time on a 370 MB CSV, a third longer in all).
            self._raw = pa.OSFile(str(self.packed.path), "rb", memory_pool=pa.system_memory_pool())
            stream = self._raw
        else:
            self._file = open(self.packed.path, "rb")
            self._archive = zipfile.ZipFile(self._file)
            stream = pa.PythonFile(self._archive.open(self.packed.member), mode="r")
        for codec in self.packed.codecs:
            stream = pa.CompressedInputStream(stream, codec)
        return stream

    def consumed(self) -> int:
        """The bytes read so far from the file on disk (compressed bytes, when it is compressed).

        Once the file is closed, it stays at the position where it was closed.
        """
        raw = self._file if self._file is not None else self._raw
        if raw is not None and not raw.closed:
            self._consumed = raw.tell()
        return self._consumed

    def close(self) -> None:
        """Close the stream and the file, remembering how far the file was read."""
        self.consumed()
        for thing in (getattr(self, "stream", None), self._archive, self._file, self._raw):
            if thing is not None:
                thing.close()

    def __enter__(self) -> Reading:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_problem(exc: Exception, packed: Packed | None = None) -> str:
    """Say in one line what `exc`, an error met reading a log (packed as `packed`), means.

    It names the compression or the zip member when it was those that failed.

    Examples
    --------
    >>> read_problem(OSError("zlib inflate failed: invalid distance"), Packed(Path("log.csv.gz"), codecs=("gzip",)))
    'the gzip stream is truncated or corrupt (zlib inflate failed: invalid distance)'
    """
    text = _one_line(exc)
    lowered = text.lower()
    if packed and packed.codecs and any(w in lowered for w in ("compress", "zlib", "gzip", "bz2", "zstd", "lz4", "inflate", "truncated")):
        return f"the {packed.codecs[-1]} stream is truncated or corrupt ({text})"
    if packed and packed.member and ("crc" in lowered or "zip" in lowered):
        return f"the zip member {packed.member} is corrupt ({text})"
    if _undecodable_text(exc):
        return f"bytes that do not decode as text ({text}); read it with its own encoding"
    if "Parquet magic bytes" in text or "not a parquet file" in text.lower():
        return "not a Parquet file (its magic bytes are missing or it is truncated)"
    if "straddling" in text.lower():
        return f"a record is longer than {CSV_BLOCK_BYTES >> 20} MiB, or a quote is never closed ({text})"
    return text


def _undecodable_text(exc: Exception) -> bool:
    """Whether `exc` says that bytes did not decode as text."""
    text = _one_line(exc)
    return isinstance(exc, UnicodeDecodeError) or "UTF8" in text or "UTF-8" in text or "decode" in text.lower()


def _one_line(exc: BaseException, text: str | None = None, limit: int = 200) -> str:
    """The first line of `text` (by default `exc`'s message), printable and at most `limit` characters.

    Examples
    --------
    >>> _one_line(ValueError("Unsupported encoding\\n, line 1"))
    'Unsupported encoding'
    """
    text = (str(exc) if text is None else text).strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[:limit] + "..."


@contextmanager
def reading_errors(name: str, problem: Callable[[Exception], str], also: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Turn an error of reading the log `name` (unpacking it, Arrow's parsing, and those in `also`) into one line.

    `problem` says what the error means; a :class:`SourceReadError` passes unchanged.
    """
    try:
        yield
    except SourceReadError:
        raise
    except (pa.ArrowInvalid, OSError, EOFError, zipfile.BadZipFile, UnicodeDecodeError, *also) as exc:
        raise SourceReadError(name, problem(exc)) from None


@dataclass
class FileSource(Source):
    """A log in one file, perhaps compressed or zipped (see :class:`Packed`); progress counts the bytes on disk.

    Parameters
    ----------
    path : Path
        The file.
    packed : Packed, optional
        How the file is packed; by default found from its first bytes.
    """

    path: Path = Path()
    packed: Packed | None = None
    _reading: Reading | None = None

    @property
    def progress_total(self) -> int:
        return self.path.stat().st_size

    def progress(self) -> int:
        return self._reading.consumed() if self._reading is not None else 0

    def fingerprint(self) -> str:
        return _file_digest([self.path])

    def problem(self, exc: Exception) -> str:
        return read_problem(exc, self.packed)

    def _packing(self) -> Packed:
        if self.packed is None:
            self.packed = Packed.detect(self.path)
        return self.packed

    def _open(self) -> Reading:
        """Open the log to read it whole; :meth:`progress` follows this reading."""
        self._reading = self._packing().open()
        return self._reading


@dataclass
class CsvSource(FileSource):
    """A delimited text file, perhaps compressed or zipped; every column is read as text and converted later.

    Quoted values may hold newlines; each record is numbered by the line it starts on. Arrow reads
    the file and checks its text as it converts the values; only when it finds bytes that do not
    decode is the file read again, up to those bytes, to name their line.

    Parameters
    ----------
    path, packed
        As for :class:`FileSource`.
    sep : str
        The delimiter, one character.
    encoding : str
        The text encoding; bytes that do not decode fail the whole file.
    """

    sep: str = ","
    encoding: str = "utf-8"
    _names: list[str] | None = None

    def __post_init__(self) -> None:
        self.unit = "line"
        if len(self.sep) != 1:
            raise self.fail(f"the separator must be one character; got {self.sep!r}")

    def problem(self, exc: Exception) -> str:
        if _undecodable_text(exc) and (bad := self._first_undecodable()) is not None:
            return self.undecodable(*bad)
        return super().problem(exc)

    def _first_undecodable(self) -> tuple[int, int] | None:
        """The offset and line of the first bytes of the file that do not decode, read again from the start."""
        with reading_errors(self.name, super().problem), self._packing().open() as reading:
            return _first_undecodable(iter(lambda: reading.stream.read(CSV_SCAN_BYTES), b""), self.encoding)

    def undecodable(self, position: int, line: int) -> str:
        """Say that the bytes at offset `position`, on `line`, do not decode."""
        return (f"bytes that do not decode as {self.encoding} on line {line} (byte {position + 1}); "
                "read it with its own encoding, or it is not a text log")

    def check(self) -> None:
        self._header()

    def _check_text(self) -> None:
        """Refuse a head that is empty, binary, or not in the encoding."""
        head = self._packing().head()
        if not head.strip():
            raise self.fail("the file is empty: no header line")
        try:
            bad = _first_undecodable([head], self.encoding, final=False)
        except LookupError:
            raise self.fail(f"unknown text encoding {self.encoding!r}") from None
        if bad is not None:
            raise self.fail(self.undecodable(*bad))
        if "\x00" in head.decode(self.encoding, "replace"):
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
        with self.guarded(), self._packing().open() as reading, \
                self._reader(reading, block, _skip, pacsv.ConvertOptions(include_columns=[])) as reader:
            return reader.schema.names

    @contextmanager
    def _reader(self, reading: Reading, block: int, on_invalid: Callable[[pacsv.InvalidRow], str],
                convert: pacsv.ConvertOptions) -> Iterator[pa.RecordBatchReader]:
        """Arrow's CSV reader of `reading`, closed on leaving, error or not.

        Arrow decodes the text itself (UTF-8 is checked as the values are converted to strings).
        """
        with _decoding_errors_of(on_invalid):
            read = pacsv.ReadOptions(use_threads=False, block_size=block, encoding=self.encoding)
            parse = pacsv.ParseOptions(delimiter=self.sep, invalid_row_handler=on_invalid, ignore_empty_lines=False,
                                       newlines_in_values=True)
            with closing(pacsv.open_csv(reading.stream, read_options=read, parse_options=parse,
                                        convert_options=convert)) as reader:
                yield reader

    def batches(self) -> Iterator[pa.RecordBatch]:
        names = self._header()
        self.rejects = []
        lines = _Lines(first_line=2 + sum(_newlines_in(n) for n in names), rejects=self.rejects, sep=self.sep)
        convert = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=True,
                                       quoted_strings_can_be_null=False)
        with self.guarded(), self._open() as reading, \
                self._reader(reading, CSV_BLOCK_BYTES, lines.reject, convert) as reader:
            while (batch := _next_batch(reader)) is not None:
                yield batch.append_column(ROW, pa.array(lines.number(batch), pa.int64()))
            lines.finish()


def _skip(row: pacsv.InvalidRow) -> str:
    return "skip"


@contextmanager
def _decoding_errors_of(handler: Callable[[pacsv.InvalidRow], str]) -> Iterator[None]:
    """Raise the error of decoding a rejected line as UTF-8, which Arrow does before it calls `handler`.

    When that decoding fails, Python prints the error as one it cannot raise ("Exception ignored
    in ...") and Arrow fails the read with the line's raw bytes. This keeps the error of `handler`
    from being printed (every other such error is printed as before) and raises it in place of
    Arrow's, so that the line of the bytes is found and named.
    """
    previous = sys.unraisablehook
    caught: list[BaseException] = []

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if unraisable.object == handler and isinstance(unraisable.exc_value, UnicodeDecodeError):
            caught.append(unraisable.exc_value)
        else:
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    except pa.ArrowInvalid:
        if caught:
            raise caught[0] from None
        raise
    finally:
        if sys.unraisablehook is hook:
            sys.unraisablehook = previous


def _first_undecodable(chunks: Iterable[bytes], encoding: str, *, final: bool = True) -> tuple[int, int] | None:
    """The offset and 1-based line of the first bytes of `chunks` that do not decode, or None if all do.

    The chunks are decoded one after the other; a character cut at the end is undecodable only if
    `final`. Lines are counted in the decoded text, so they are right in every encoding.

    Examples
    --------
    >>> _first_undecodable([b"a,b\\n1,", b"\\xc3", b"\\xa9\\n2,\\xff\\n"], "utf-8")
    (11, 3)
    >>> _first_undecodable([b"a,b\\n1,\\xc3"], "utf-8", final=False) is None
    True
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    done = lines = 0
    for chunk in itertools.chain(chunks, [b""] if final else []):
        held = len(decoder.getstate()[0])
        try:
            lines += decoder.decode(chunk, final=final and not chunk).count("\n")
        except UnicodeDecodeError as exc:
            before = exc.object[: exc.start].decode(encoding, "replace")
            return done - held + exc.start, lines + before.count("\n") + 1
        done += len(chunk)
    return None


def _next_batch(reader: pa.RecordBatchReader) -> pa.RecordBatch | None:
    try:
        return reader.read_next_batch()
    except StopIteration:
        return None


def _newlines_in(text: str) -> int:
    """The line breaks inside `text`: CR LF, CR or LF."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _split_record(text: str, sep: str) -> tuple[str, ...]:
    """Split the text of one CSV record into its fields, unquoted, as Arrow reads them.

    A quote opens and closes quoting, and two quotes within quotes stand for one. Fast on a
    record of megabytes: it splits at the quotes, then at the separators outside them.

    Examples
    --------
    >>> _split_record('1,"a, b",,"say ""hi""\\nthere"', ",")
    ('1', 'a, b', '', 'say "hi"\\nthere')
    """
    fields = [""]
    parts = text.split('"')
    for index, part in enumerate(parts):
        if index % 2:  # within quotes
            fields[-1] += part
        elif not part and 0 < index < len(parts) - 1:  # between two quoted parts: a doubled quote
            fields[-1] += '"'
        else:
            first, *rest = part.split(sep)
            fields[-1] += first
            fields.extend(rest)
    return tuple(fields)


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
    Rejected records (:meth:`reject`) are added to `rejects` as their line becomes known, split
    into their fields at `sep`.
    """

    def __init__(self, first_line: int, rejects: list[Reject], sep: str) -> None:
        self.next_record = 2
        self.next_line = first_line
        self.pending: dict[int, tuple[str, str]] = {}
        self.rejects = rejects
        self.sep = sep

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
            self.next_line += 1 + self._quarantine(record, self.next_line)

    def _quarantine(self, record: int, line: int) -> int:
        """Add the pending `record`, which starts on `line`, to the rejects; return the line breaks in it."""
        reason, text = self.pending.pop(record)
        self.rejects.append(Reject(line, reason, _split_record(text, self.sep)))
        return _newlines_in(text)


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
            with reading_errors(str(path), read_problem):
                schema = pq.read_schema(path)
            self.check_names(schema.names, f"{path.name}'s schema")
            for name, type_ in zip(schema.names, schema.types, strict=True):
                known = fields.setdefault(name, pa.field(name, type_))
                if known.type != type_ and not pa.types.is_null(type_):
                    fields[name] = pa.field(name, type_ if pa.types.is_null(known.type) else pa.string())
        self._schema = pa.schema(list(fields.values()))
        return self._schema

    def batches(self) -> Iterator[pa.RecordBatch]:
        files = self._files()
        with self.guarded():
            dataset = pads.dataset([str(p) for p in files], schema=self._union(), format="parquet")
            self._rows_total = dataset.count_rows()
            with closing(dataset.scanner(batch_size=PARQUET_BATCH_ROWS, use_threads=True).to_reader()) as reader:
                while (batch := _next_batch(reader)) is not None:
                    rows = np.arange(self._rows_read + 1, self._rows_read + 1 + batch.num_rows, dtype=np.int64)
                    self._rows_read += batch.num_rows
                    yield batch.append_column(ROW, pa.array(rows))


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
        with self.guarded(pa.ArrowTypeError):
            table = pa.Table.from_pandas(pd.DataFrame(columns), preserve_index=False)
        table = table.append_column(ROW, pa.array(np.arange(1, len(frame) + 1, dtype=np.int64)))
        yield from table.to_batches(max_chunksize=PARQUET_BATCH_ROWS)
