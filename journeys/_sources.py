"""Sources of events: CSV, Parquet (file or folder), XES and pandas frames, read as Arrow batches.

Every source yields Arrow record batches in input order, with one extra column ``_row``: the
1-based line of the file (CSV), the 1-based row (Parquet, frames) or event (XES) each record came from,
so that a rejected record can be named. Records that cannot even be split into columns are
handed over as :class:`Reject` objects instead of being dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from najma._lazy import lazy_module
from najma.errors import SourceReadError

# Loaded at first use, so opening a store does not load them.
np = lazy_module("numpy")
pd = lazy_module("pandas")
pa = lazy_module("pyarrow")
pacsv = lazy_module("pyarrow.csv")
pads = lazy_module("pyarrow.dataset")

__all__ = ["Reject", "Source", "CsvSource", "ParquetSource", "FrameSource", "ROW"]

#: Name of the column that carries each record's place: its line (CSV), row (Parquet, frames) or event number (XES).
ROW = "_row"

CSV_BLOCK_BYTES = 128 << 20
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

    Subclasses implement :meth:`batches`. ``unit`` says whether ``_row`` counts lines or rows;
    ``progress_total`` and :meth:`progress` drive the progress bar in the same unit (bytes or rows).
    """

    name: str
    kind: str
    unit: str = "row"
    rejects: list[Reject] = field(default_factory=list)

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


def _file_digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


@dataclass
class CsvSource(Source):
    """A delimited text file; every column is read as text and converted later, per column.

    Parameters
    ----------
    path : Path
        The file.
    sep : str
        The delimiter, one character.
    encoding : str
        The text encoding; bytes that do not decode fail the whole file.
    """

    path: Path = Path()
    sep: str = ","
    encoding: str = "utf-8"
    _stream: pa.NativeFile | None = None

    def __post_init__(self) -> None:
        self.unit = "line"
        if len(self.sep) != 1:
            raise self.fail(f"the separator must be one character; got {self.sep!r}")

    @property
    def progress_total(self) -> int:
        return self.path.stat().st_size

    def progress(self) -> int:
        return self._stream.tell() if self._stream is not None and not self._stream.closed else 0

    def fingerprint(self) -> str:
        return _file_digest([self.path])

    def _guarded(self, call):  # noqa: ANN001, ANN202 - wraps one Arrow call
        """Run `call`, turning Arrow's read errors into one clear line about this file."""
        try:
            return call()
        except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
            raise self.fail(_arrow_problem(exc)) from None
        except UnicodeDecodeError as exc:
            raise self.fail(f"bytes that are not valid {self.encoding} near byte {exc.start}") from None

    def _header(self) -> list[str]:
        read = pacsv.ReadOptions(use_threads=False, block_size=1 << 20, encoding=self.encoding, skip_rows_after_names=0)
        reader = self._guarded(lambda: pacsv.open_csv(
            self.path,
            read_options=read,
            parse_options=pacsv.ParseOptions(delimiter=self.sep, invalid_row_handler=lambda _: "skip"),
            convert_options=pacsv.ConvertOptions(include_columns=[]),
        ))
        names = reader.schema.names
        if not names:
            raise self.fail("the file is empty: no header line")
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise self.fail(f"the header names {', '.join(map(repr, duplicated))} more than once")
        return names

    def batches(self) -> Iterator[pa.RecordBatch]:
        if self.path.stat().st_size == 0:
            raise self.fail("the file is empty: no header line")
        names = self._header()
        pending: list[int] = []

        def reject(row: pacsv.InvalidRow) -> str:
            pending.append(row.number)
            self.rejects.append(
                Reject(row.number, f"the line has {row.actual_columns} fields, expected {row.expected_columns}", row.text)
            )
            return "skip"

        self._stream = pa.OSFile(str(self.path), "rb")
        try:
            reader = self._guarded(lambda: pacsv.open_csv(
                self._stream,
                read_options=pacsv.ReadOptions(use_threads=False, block_size=CSV_BLOCK_BYTES, encoding=self.encoding),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.sep, invalid_row_handler=reject, ignore_empty_lines=False, newlines_in_values=False
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in names}, strings_can_be_null=True, quoted_strings_can_be_null=False
                ),
            ))
            next_line = 2
            for batch in _iterate(reader, self):
                lines, next_line, pending[:] = _good_lines(batch.num_rows, next_line, pending)
                yield batch.append_column(ROW, pa.array(lines, pa.int64()))
        finally:
            self._stream.close()


def _good_lines(n: int, start: int, pending: list[int]) -> tuple[np.ndarray, int, list[int]]:
    """Number `n` good lines from `start`, skipping the rejected lines in `pending`."""
    rejected = np.array(sorted(x for x in pending if x >= start), dtype=np.int64)
    candidates = np.arange(start, start + n + len(rejected), dtype=np.int64)
    good = candidates[~np.isin(candidates, rejected)][:n]
    following = int(good[-1]) + 1 if n else start
    return good, following, [int(x) for x in rejected if x >= following]


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


def _arrow_problem(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "UTF8" in text or "UTF-8" in text or "decode" in text.lower():
        return f"bytes that do not decode as text ({text}); read it with its own encoding"
    if "Parquet magic bytes" in text or "not a parquet file" in text.lower():
        return "not a Parquet file (its magic bytes are missing or it is truncated)"
    return text


@dataclass
class ParquetSource(Source):
    """A Parquet file or a folder of Parquet files (read in the order of their paths).

    Parameters
    ----------
    path : Path
        The file or folder.
    """

    path: Path = Path()
    _rows_read: int = 0
    _rows_total: int = 0

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

    def batches(self) -> Iterator[pa.RecordBatch]:
        try:
            dataset = pads.dataset([str(p) for p in self._files()], format="parquet")
            self._rows_total = dataset.count_rows()
            scanner = dataset.scanner(batch_size=PARQUET_BATCH_ROWS, use_threads=True)
            reader = scanner.to_reader()
        except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
            raise self.fail(_arrow_problem(exc)) from None
        for batch in _iterate(reader, self):
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

    def batches(self) -> Iterator[pa.RecordBatch]:
        frame = self.frame.reset_index(drop=True)
        duplicated = sorted({str(c) for c in frame.columns if list(frame.columns).count(c) > 1})
        if duplicated:
            raise self.fail(f"the frame has the columns {', '.join(duplicated)} more than once")
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
