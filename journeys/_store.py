"""The event store: a DuckDB file with the events, import batches, quarantined rows and metadata.

Loading a source, with the build of its journeys, is one transaction: an error or an interrupt at
any point leaves the store as it was. A source whose content was loaded before with the same
options is skipped; of its events, those an earlier source loaded are not loaded again, while
identical events within it are kept as repeats. Rows that cannot be loaded are quarantined with
their file, place (CSV line, row, or XES event number), column and reason, so loaded +
quarantined = read.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeAlias

import duckdb
from duckdb import ColumnExpression, ConstantExpression

from najma._lazy import lazy_module
from najma.errors import InvalidParameterError, OutdatedStoreError, StoreError
from najma.journeys._codes import CODE_COLUMNS, insert_statements
from najma.journeys._mapping import ColumnMapping, resolve_mapping
from najma.journeys._normalise import STAGE_COLUMNS, Normaliser, check_time_format, check_zone, with_clean_text
from najma.journeys._pseudonym import Pseudonymiser, load_key, reject_rows
from najma.journeys._read_ahead import read_ahead
from najma.journeys._schema import EVENT_COLUMNS
from najma.journeys._sources import ROW, FrameSource, Source, load_fingerprint
from najma.journeys._store_schema import MIGRATIONS, SCHEMA_VERSION, TABLES, create_statement

if TYPE_CHECKING:
    from ibis.expr.types import Table

# Loaded at first use: opening a store and reading its batches needs DuckDB alone, so `najma info` starts at once.
ibis = lazy_module("ibis")
pd = lazy_module("pandas")
pa = lazy_module("pyarrow")
pc = lazy_module("pyarrow.compute")
sqlglot = lazy_module("sqlglot")

__all__ = ["Store", "Batch", "BatchResult", "ServiceSummary", "Rows", "default_store_path", "memory_limit", "STORE_ENV", "MEMORY_ENV"]

STORE_ENV = "NAJMA_STORE"
#: Caps the memory DuckDB may use (e.g. ``2GB``); above it, DuckDB spills to a file beside the store.
MEMORY_ENV = "NAJMA_MEMORY_LIMIT"
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
Progress = Callable[[int, int], None]
#: Rows to write into a table of the store: an Ibis expression over the store's tables, or a frame.
Rows: TypeAlias = "Table | pd.DataFrame | pa.Table"

#: What an event is: every canonical column but its place (event_seq, batch_id). Fixed names, never user text.
_IDENTITY = ", ".join(c for c in STAGE_COLUMNS if c != ROW)
#: The temporary table that holds a load's events until they are checked and coded (the events' columns but the codes).
_STAGED = "_staged"
#: What `repeats` may ask of identical events within one file.
_REPEATS = ("keep", "quarantine")
#: How long opening a store waits for another process to let go of it (a command, or a dashboard
#: taking its copy) before saying which process holds it.
LOCK_WAIT_SECONDS = 30.0
#: The share of ``$NAJMA_MEMORY_LIMIT`` DuckDB is given: the rest is for the rest of the process and for what
#: DuckDB allocates beyond its own limit (given all 3GB, a 10.4M-event build peaked at 3.25 GB).
DUCKDB_SHARE = 0.9
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")


def memory_limit() -> int | None:
    """The bytes that ``$NAJMA_MEMORY_LIMIT`` allows (``"2GB"``, ``"1.5 GiB"``), or None when it is not set.

    Raises
    ------
    StoreError
        If the variable is not a size.
    """
    text = os.environ.get(MEMORY_ENV, "").strip()
    if not text:
        return None
    size = _SIZE.fullmatch(text)
    limit = 0 if size is None else int(float(size.group(1)) * _UNITS[size.group(2).lower()])
    if limit <= 0:
        raise StoreError(f"{MEMORY_ENV}={text!r} is not a memory size; write it as e.g. 2GB or 1.5GiB")
    return limit


def default_store_path() -> Path:
    """Return the store's path: ``$NAJMA_STORE`` or ``./najma.duckdb``."""
    return Path(os.environ.get(STORE_ENV) or "najma.duckdb")


@dataclass(frozen=True)
class BatchResult:
    """What one load did.

    ``read`` counts every record of the source; ``loaded + quarantined == read`` always holds.
    ``repeated`` counts the events equal to an earlier event of the same source (kept, or
    quarantined when asked). ``skipped`` is True when the same content had been loaded before,
    as ``batch_id``. ``cases_elsewhere`` counts the cases of a source without a service (whose
    events took the file's name as their service) that the store holds under another service
    too: most likely extracts of one service, to be loaded with the same `service`.
    """

    batch_id: int
    source: str
    read: int
    loaded: int
    quarantined: int
    repeated: int
    skipped: bool
    seconds: float
    cases_elsewhere: int = 0

    def as_dict(self) -> dict[str, object]:
        """Return the result as a plain dict."""
        return asdict(self)


@dataclass(frozen=True)
class Batch:
    """One import batch: a source loaded once, its counts (``rows_loaded + rows_quarantined == rows_read``;
    ``rows_repeated`` events equal to an earlier event of the same source) and when it was loaded."""

    batch_id: int
    source: str
    kind: str
    service: str | None
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_repeated: int
    loaded_at: datetime
    seconds: float


@dataclass(frozen=True)
class ServiceSummary:
    """What the store holds of one service: cases, events, distinct activities, first and last event (UTC)."""

    service: str
    cases: int
    events: int
    activities: int
    first: datetime
    last: datetime


class Store:
    """An event store in a DuckDB file.

    Parameters
    ----------
    path : str or path-like, optional
        The DuckDB file; by default ``$NAJMA_STORE`` or ``./najma.duckdb``.
    read_only : bool, default False
        Open without the right to change it (the file must exist).

    Attributes
    ----------
    memory_limit : int or None
        The bytes the process may use (``$NAJMA_MEMORY_LIMIT``), None for DuckDB's default (most of
        the machine's memory). DuckDB is given :data:`DUCKDB_SHARE` of it, and a journey build sizes
        its work to fit half of it.
    schema_version : str
        The version of the store's layout (:data:`najma.journeys._store_schema.SCHEMA_VERSION`). A store
        of an older version is brought up to date when it is opened for writing; read-only, it is
        refused with an :class:`~najma.errors.OutdatedStoreError`.
    con : duckdb.DuckDBPyConnection
        The connection, which only the store uses: other modules ask the store's methods, or Ibis
        expressions over :attr:`backend`.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> os.environ["NAJMA_PSEUDONYM_KEY"] = "example-key"
    >>> frame = pd.DataFrame({"case_id": ["a", "a"], "activity": ["Apply", "Pay"],
    ...                       "timestamp": ["2025-01-05 09:00", "2025-01-05 09:30"]})
    >>> with Store(os.path.join(folder, "s.duckdb")) as store:
    ...     result = store.ingest_frame(frame, service="Trade licence")
    >>> (result.read, result.loaded, result.quarantined)
    (2, 2, 0)
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        if read_only and not self.path.exists():
            raise StoreError(f"no store at {self.path}; make one with najma.Store(path) and load events into it", parameter="store")
        self.memory_limit = memory_limit()
        limits = {} if self.memory_limit is None else {"memory_limit": f"{int(self.memory_limit * DUCKDB_SHARE)}B"}
        self.con = self._connect(read_only, limits)
        self.con.execute("SET TimeZone = 'UTC'")
        self._in_transaction = self._doomed = False
        try:
            self.schema_version = self._up_to_date(read_only)
        except BaseException:
            self.con.close()
            raise

    def _connect(self, read_only: bool, config: dict[str, str]) -> duckdb.DuckDBPyConnection:
        """Connect to the file, waiting up to :data:`LOCK_WAIT_SECONDS` while another process holds it.

        Raises
        ------
        StoreError
            If the file cannot be opened, or another process still holds it after the wait.
        """
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        pause = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only, config=config)
            except duckdb.Error as exc:
                holder = _LOCK_HOLDER.search(str(exc))
                if holder is None:
                    raise StoreError(f"cannot open the store {self.path}: {str(exc).splitlines()[0]}", parameter="store") from None
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"the store {self.path} is held by another program ({Path(holder.group(1)).name}, process "
                        f"{holder.group(2)}); wait until it ends, or stop it, then try again",
                        parameter="store") from None
            time.sleep(pause)  # another command holds the file for the length of its work: wait a little for it
            pause = min(pause * 2, 1.0)

    def _up_to_date(self, read_only: bool) -> str:
        """Read the store's version; make a new store's tables, or bring an older store up to date.

        Raises
        ------
        OutdatedStoreError
            If the store is older and opened read-only.
        StoreError
            If the store is of a version this najma cannot bring up to date.
        """
        version = self._meta("schema_version") if self.has_table("meta") else None
        if version == SCHEMA_VERSION:
            return version
        if read_only and version is None:
            raise StoreError(f"{self.path} is not a najma store; make one with najma.Store(path)", parameter="store")
        if version is not None and version not in MIGRATIONS:
            newer = version.isdigit() and int(version) > int(SCHEMA_VERSION)
            raise StoreError(
                f"{self.path} is a store of version {version}, " + (
                    f"written by a newer najma; open it with that najma, this one reads version {SCHEMA_VERSION}"
                    if newer else "which this najma cannot bring up to date; load its events into a new store"), parameter="store")
        if read_only:
            raise OutdatedStoreError(
                f"{self.path} is a store of an earlier najma (version {version}, this one writes {SCHEMA_VERSION}); "
                "open it once with najma.Store(path), not read-only, to bring it up to date, then rebuild its "
                "journeys with najma.build_journeys(store)", path=self.path)
        with self.transaction():
            if version is None:
                for name in TABLES:
                    self.con.execute(create_statement(name))
            while version in MIGRATIONS:
                for statement in MIGRATIONS[version]:
                    self.con.execute(statement)
                version = str(int(version) + 1)
            self.con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
        return SCHEMA_VERSION

    def _meta(self, key: str) -> str | None:
        """The value kept under `key` in the ``meta`` table, or None."""
        found = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
        return found[0][0] if found else None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    def cursor(self) -> Store:
        """Another handle on the same open database, to be used from another thread.

        DuckDB connections are not shared between threads; a web server's threads each take a cursor.
        """
        handle = object.__new__(Store)
        handle.path, handle.memory_limit, handle.schema_version = self.path, self.memory_limit, self.schema_version
        handle.con = self.con.cursor()
        handle._in_transaction = handle._doomed = False
        handle.con.execute("SET TimeZone = 'UTC'")
        return handle

    @property
    def backend(self) -> ibis.BaseBackend:
        """The store as an Ibis backend, on which journeys, maps, variants and KPIs are expressions."""
        return ibis.duckdb.from_connection(self.con)

    def export_events(self, folder: str | os.PathLike[str]) -> int:
        """Write the events as Parquet files in the canonical schema into `folder` (the input of the
        Spark engine, see :mod:`najma.spark`); return how many were written. The store's codes stay in the store."""
        events = self.con.table("events").project(
            f"* EXCLUDE ({', '.join(CODE_COLUMNS)}) REPLACE (attributes::VARCHAR AS attributes)")
        total = events.count("*").fetchall()[0][0]
        events.write_parquet(str(folder), per_thread_output=True, overwrite=True)
        return total

    # -- reading ---------------------------------------------------------------------------------

    def batches(self) -> list[Batch]:
        """The import batches, in the order they were loaded (read with DuckDB alone: no frame library loads)."""
        rows = self.con.table("batches").order("batch_id").select(*(f.name for f in fields(Batch))).fetchall()
        return [Batch(*row) for row in rows]

    def service_summary(self, services: Sequence[str] | None = None) -> list[ServiceSummary]:
        """Per service (of `services`, or all), by name: its cases, events, activities, first and last event (UTC)."""
        events = self.con.table("events")
        if services is not None:
            wanted = duckdb.FunctionExpression("list_value", *(ConstantExpression(s) for s in services))
            events = events.filter(duckdb.FunctionExpression("list_contains", wanted, ColumnExpression("service")))
        rows = events.aggregate(
            "service, count(DISTINCT case_id), count(*), count(DISTINCT activity), min(timestamp), max(timestamp)", "service",
        ).order("service").fetchall()
        return [ServiceSummary(*row) for row in rows]

    def quarantined(self, batch: int | None = None) -> Table:
        """The quarantined rows (of one batch, or all), by batch and row: source, place, column, reason, record."""
        rows = self.backend.table("quarantine")
        if batch is not None:
            rows = rows.filter(rows.batch_id == batch)
        return rows.mutate(record=rows.record.cast("string")).order_by(["batch_id", "row"])

    def n_rows(self, table: str) -> int:
        """How many rows the store's table `table` holds (0 for a table it does not have)."""
        return self.con.table(table).count("*").fetchall()[0][0] if self.has_table(table) else 0

    def has_table(self, name: str) -> bool:
        """Whether the store holds a table, view or temporary table called `name`."""
        return self.table_kind(name) is not None

    def table_kind(self, name: str) -> str | None:
        """``"BASE TABLE"``, ``"LOCAL TEMPORARY"`` or ``"VIEW"`` for the store's table `name`, None without one."""
        found = self.con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()
        return found[0][0] if found else None

    def journeys_stale(self) -> str | None:
        """Why the store's journeys do not show all its events as they stand, or None when they do.

        They are stale when events are loaded without a build after them (``ingest(build=False)``),
        when the catalogue changed since the last build, or when an earlier najma built them (under an
        older version of the store). A store without events has nothing to be stale about.
        """
        if not self.has_table("journeys"):
            return "no journeys have been built for its events" if self.n_rows("events") else None
        if self._meta("journeys_version") != SCHEMA_VERSION:
            return "its journeys were built by an earlier najma"
        if self._meta("journeys_generation") != self._meta("generation"):
            return "events or the catalogue changed after its journeys were built"
        return None

    # -- writing ---------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one transaction: committed at its end, rolled back on any exception.

        A block inside another store transaction joins it: all of it is committed or rolled back
        with the outer block (so a load and the journey build that follows it are one unit). A
        joined block that fails dooms the whole transaction: even if its error is caught, the outer
        block ends rolled back, with a :class:`~najma.errors.StoreError`, never half committed.
        The session's time zone is UTC again at the end.
        """
        if self._in_transaction:
            try:
                yield
            except BaseException:
                self._doomed = True
                raise
            return
        self.con.execute("BEGIN TRANSACTION")
        self._in_transaction, self._doomed = True, False
        try:
            yield
        except BaseException:
            self._end("ROLLBACK")
            raise
        if self._doomed:
            self._end("ROLLBACK")
            raise StoreError(f"a step of a change to {self.path} failed and its error was caught; nothing of the "
                             "change was kept", parameter="store")
        self._end("COMMIT")

    def _end(self, how: str) -> None:
        """End the transaction (COMMIT or ROLLBACK) and set the session's time zone back to UTC."""
        self._in_transaction = False
        try:
            self.con.execute(how)
        finally:
            self.con.execute("SET TimeZone = 'UTC'")

    def replace_table(self, name: str, rows: Rows, *, temporary: bool = False) -> None:
        """Make the table `name` (a temporary one if asked) hold `rows`, whatever it held before.

        For the tables a build writes whole (steps, journeys, maps) and its working tables; an
        Ibis expression is compiled to SQL and run by DuckDB, never brought into Python.
        """
        with self._select(rows) as select:
            self.con.execute(f"CREATE OR REPLACE {'TEMP TABLE' if temporary else 'TABLE'} {name} AS {select}")

    def replace_rows(self, name: str, rows: Rows) -> None:
        """Make the store's own table `name` (its columns fixed by the store) hold `rows`, matched by column name."""
        self.con.execute(f"DELETE FROM {name}")
        self.append(name, rows)

    def append(self, name: str, rows: Rows) -> None:
        """Add `rows` to the table `name`, matched by column name."""
        with self._select(rows) as select:
            self.con.execute(f"INSERT INTO {name} BY NAME {select}")

    def delete_matching(self, name: str, rows: Rows, columns: Sequence[str]) -> None:
        """Delete the rows of table `name` whose `columns` equal those of a row of `rows`."""
        listed = ", ".join(f'"{column}"' for column in columns)
        with self._select(rows) as select:
            self.con.execute(f"DELETE FROM {name} WHERE ({listed}) IN (SELECT {listed} FROM ({select}))")

    def drop_table(self, name: str) -> None:
        """Drop the table (or temporary table) `name`."""
        self.con.execute(f"DROP TABLE {name}")

    def note_change(self, batch_id: int | None = None) -> None:
        """Record that what the journeys are built from changed: by the load of `batch_id`, or (None) otherwise,
        e.g. a new catalogue. The journeys are stale until the next build."""
        self.con.execute("INSERT OR REPLACE INTO meta SELECT 'generation', (coalesce(max(value::BIGINT), 0) + 1)::VARCHAR "
                         "FROM meta WHERE key = 'generation'")
        self.con.execute("INSERT OR REPLACE INTO meta VALUES ('changed_by_batch', ?)",
                         [None if batch_id is None else str(batch_id)])

    def journeys_lack_only(self, batch_id: int) -> bool:
        """Whether the journeys are current but for the events of batch `batch_id`, the last change to the store
        (so building the cases it touches makes them current)."""
        if not (self.has_table("journeys") and self.has_table("steps")
                and self._meta("journeys_version") == SCHEMA_VERSION and self._meta("changed_by_batch") == str(batch_id)):
            return False
        return int(self._meta("generation") or 0) == int(self._meta("journeys_generation") or 0) + 1

    def note_journeys_built(self) -> None:
        """Record that the journeys were built by this najma from the store as it stands (see :meth:`journeys_stale`)."""
        self.con.execute("INSERT OR REPLACE INTO meta VALUES ('journeys_version', ?)", [SCHEMA_VERSION])
        self.con.execute("INSERT OR REPLACE INTO meta SELECT 'journeys_generation', value FROM meta WHERE key = 'generation'")

    @contextmanager
    def _select(self, rows: Rows) -> Iterator[str]:
        """A SELECT of `rows`: the SQL Ibis compiles, or a frame registered for the block's length."""
        if isinstance(rows, ibis.expr.types.Table):
            yield ibis.to_sql(rows, dialect="duckdb")
            return
        self.con.register("_rows", rows)
        try:
            yield "SELECT * FROM _rows"
        finally:
            with contextlib.suppress(duckdb.Error):  # in an aborted transaction: the statement's own error is the one to see
                self.con.unregister("_rows")

    # -- Parquet built elsewhere -------------------------------------------------------------------

    def parquet_columns(self, files: Sequence[str]) -> set[str]:
        """The columns of the Parquet `files` (unioned by name).

        Raises
        ------
        StoreError
            If the files cannot be read.
        """
        try:
            return set(self.con.execute("SELECT * FROM read_parquet(?, union_by_name = true) LIMIT 0", [list(files)])
                       .fetchdf().columns)
        except duckdb.Error as exc:
            raise StoreError(f"the store cannot read {', '.join(files)} ({str(exc).splitlines()[0]})") from None

    def view_parquet(self, name: str, files: Sequence[str], *, events: bool = False) -> None:
        """Make `name` a view of the Parquet `files`, read in place, in place of a table of that name.

        With `events`, the files are events in the canonical schema: a column they lack is empty,
        and the rows without case, activity, time or sequence number are left out.
        """
        if self.table_kind(name) == "BASE TABLE":
            self.drop_table(name)
        listed = "[" + ", ".join(_quoted(path) for path in files) + "]"  # a view cannot take parameters
        select = "*"
        where = ""
        if events:
            present = self.parquet_columns(files)
            select = ", ".join(f"{c.name}::{c.sql_type} AS {c.name}" if c.name in present else
                               f"NULL::{c.sql_type} AS {c.name}" for c in EVENT_COLUMNS)
            where = (" WHERE case_id IS NOT NULL AND trim(case_id) <> '' AND activity IS NOT NULL"
                     " AND trim(activity) <> '' AND timestamp IS NOT NULL AND event_seq IS NOT NULL")
        self.con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT {select} "
                         f"FROM read_parquet({listed}, union_by_name = true){where}")

    def record_parquet_batch(self, source: str, fingerprint: str, counts: tuple[int, int, int], quarantine: str) -> int:
        """Record a batch loaded elsewhere (a Spark build) with its quarantined rows, read from the Parquet
        files `quarantine`; `counts` are its rows read, loaded and quarantined. Return its batch id."""
        batch_id = self._next_batch_id()
        self.con.execute(
            "INSERT INTO batches VALUES (?, ?, 'spark', ?, NULL, NULL, 'UTC', NULL, ?, ?, ?, 0, now(), NULL, 0)",
            [batch_id, source, fingerprint, *counts],
        )
        self.con.execute(
            "INSERT INTO quarantine SELECT ?, source, row, unit, \"column\", reason, record::JSON FROM read_parquet("
            + _quoted(quarantine) + ")", [batch_id])
        return batch_id

    def _next_batch_id(self) -> int:
        return self.con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM batches").fetchall()[0][0]

    # -- loading ---------------------------------------------------------------------------------

    def ingest_frame(self, frame: pd.DataFrame, *, name: str = "<DataFrame>", **options: object) -> BatchResult:
        """Load a pandas frame (see :meth:`ingest`); the frame is not modified."""
        return self.ingest(FrameSource(name=name, kind="frame", frame=frame), **options)

    def ingest(
        self,
        source: Source,
        *,
        mapping: ColumnMapping | None = None,
        service: str | None = None,
        tz: str = "UTC",
        time_format: str | None = None,
        progress: Progress | None = None,
        build: bool = True,
        repeats: str = "keep",
    ) -> BatchResult:
        """Load `source` and build the journeys of the cases it touches, in one transaction.

        Parameters
        ----------
        source : Source
            What to load (see :func:`najma.journeys.open_source`).
        mapping : ColumnMapping, optional
            Source columns onto canonical ones; XES sources start from :data:`XES_MAPPING`.
        service : str, optional
            The service of every event; by default a mapped ``service`` column, else the
            source's file name.
        tz : str, default "UTC"
            The zone of times written without an offset.
        time_format : str, optional
            A strptime format for times, e.g. ``"%d/%m/%Y %H:%M"``.
        progress : callable, optional
            Called as ``progress(done, total)`` after each batch, with ``done == total`` once the
            source is read (the build starts) and once more before committing; an exception it
            raises (such as KeyboardInterrupt) cancels the whole load and its build.
        build : bool, default True
            Build the journeys of the cases the source touches (all of them when the journeys were
            stale before), so that every question sees the new events. With False, many sources can
            be loaded before one :func:`najma.journeys.build_journeys`; until then the store says its
            journeys are stale (:meth:`journeys_stale`), and the commands that read them build them first.
        repeats : {"keep", "quarantine"}, default "keep"
            What to do with an event equal in every column to an earlier event of the same source:
            keep it, as a genuine repeat (as pm4py does), or quarantine it as a row repeated by
            mistake, naming the first copy's place. Either way an event that an earlier batch loaded
            is not loaded again: the source's events are matched, as a multiset, against those the
            store holds for the same cases, and only the extra copies are added.

        Returns
        -------
        BatchResult

        Raises
        ------
        SourceReadError
            If the source cannot be read at all; nothing of it is loaded.
        InvalidParameterError
            If `repeats` is not one of its choices.
        """
        started = time.perf_counter()
        if repeats not in _REPEATS:
            raise InvalidParameterError(f"The 'repeats' parameter of Store.ingest must be 'keep' or 'quarantine'. "
                                        f"Got {repeats!r} instead.", parameter="repeats")
        check_zone(tz)
        if time_format is not None:
            check_time_format(time_format)
        if self.table_kind("events") == "VIEW":
            raise StoreError(f"{self.path} reads the events of a Spark build; add new events to the Spark run's Parquet "
                             "folder and build again, or load them into another store")
        user_mapping = mapping or ColumnMapping()
        # The same content read with other options gives other events: it is another load.
        fingerprint = load_fingerprint(source, service, user_mapping.columns, tz, time_format)
        previous = next(iter(self.con.execute(
            "SELECT batch_id, rows_read, rows_loaded, rows_quarantined, rows_repeated FROM batches WHERE fingerprint = ?",
            [fingerprint]
        ).fetchall()), None)
        if previous:
            if build:
                self._build_if_stale(None)
            return BatchResult(previous[0], source.name, *previous[1:], True, 0.0)
        pseudonymiser = self._pseudonymiser()
        with self.transaction():  # it sets the session's zone back to UTC at its end, whatever happens
            self.con.execute("SET TimeZone = ?", [tz])
            batch_id = self._next_batch_id()
            first_seq = self.con.execute("SELECT coalesce(max(event_seq), 0) + 1 FROM events").fetchall()[0][0]
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {_STAGED} AS SELECT * EXCLUDE ({', '.join(CODE_COLUMNS)}) "
                             "FROM events LIMIT 0")
            seen_columns: set[str] = set()

            def prepare(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.RecordBatch, dict[str, str]]:
                resolved = resolve_mapping(source, user_mapping, batch.schema.names)
                if "customer_id" in resolved:
                    batch = pseudonymiser.in_batch(batch, resolved["customer_id"])
                return batch, with_clean_text(batch), resolved

            default_service = Path(source.name).name.split(".")[0]
            for batch, cleaned, resolved in read_ahead(source.batches(), prepare):
                seen_columns.update(batch.schema.names)
                normaliser = Normaliser(resolved, service, default_service, tz, time_format)
                self._stage(batch, cleaned, normaliser, batch_id, first_seq, source)
                if progress:
                    progress(source.progress(), source.progress_total)
            unseen = sorted(set(user_mapping.columns.values()) - seen_columns)
            if unseen and source.kind == "xes":
                raise source.fail(f"no event or trace has the attribute {unseen[0]!r} named in the mapping")
            self._quarantine_rejects(source, batch_id, pseudonymiser)
            repeated = self._repeats(source, batch_id, first_seq, quarantine=repeats == "quarantine")
            self._quarantine_loaded_before(source, batch_id, first_seq)
            elsewhere = 0 if service is not None else self._cases_elsewhere(default_service)
            loaded = self.n_rows(_STAGED)
            for statement in insert_statements(_STAGED):  # the events are written once, with their codes
                self.con.execute(statement)
            self.drop_table(_STAGED)
            quarantined = self.con.execute("SELECT count(*) FROM quarantine WHERE batch_id = ?", [batch_id]).fetchall()[0][0]
            seconds = time.perf_counter() - started
            self.con.execute(
                "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?, ?)",
                [
                    batch_id, source.name, source.kind, fingerprint, service, json.dumps(user_mapping.columns),
                    tz, time_format, loaded + quarantined, loaded, quarantined, first_seq, seconds, repeated,
                ],
            )
            self.con.execute("SET TimeZone = 'UTC'")
            if loaded:
                self.note_change(batch_id)
            if progress:
                progress(source.progress_total, source.progress_total)  # read whole: the build starts
            if build:
                self._build_if_stale(batch_id)
            if progress:
                progress(source.progress_total, source.progress_total)  # built: the last chance to cancel
        return BatchResult(batch_id, source.name, loaded + quarantined, loaded, quarantined, repeated, False, seconds,
                           elsewhere)

    def _build_if_stale(self, batch_id: int | None) -> None:
        """Build the journeys if they are stale: only the cases of `batch_id` when they lack only those, else all."""
        if self.journeys_stale():
            from najma.journeys._build import build_journeys  # the build reads the store: imported when used

            build_journeys(self, batch_id=batch_id)

    def pseudonymiser(self) -> Pseudonymiser:
        """The pseudonymiser of the ids loaded into this store (its key checked against the store's); for
        inputs beside the events (survey answers) whose ids must match those of the events."""
        return self._pseudonymiser()

    def _pseudonymiser(self) -> Pseudonymiser:
        pseudonymiser = Pseudonymiser(load_key())
        stored = self._meta("key_fingerprint")
        if stored is None:
            self.con.execute("INSERT INTO meta VALUES ('key_fingerprint', ?)", [pseudonymiser.fingerprint])
        elif stored != pseudonymiser.fingerprint:
            raise StoreError(
                f"the pseudonymisation key differs from the one this store was loaded with ({self.path}); "
                "set NAJMA_PSEUDONYM_KEY or NAJMA_KEY_FILE to that key"
            )
        return pseudonymiser

    def _stage(self, batch: pa.RecordBatch, cleaned: pa.RecordBatch, normaliser: Normaliser, batch_id: int,
               first_seq: int, source: Source) -> None:
        """Normalise one batch: good rows into the staged events (:data:`_STAGED`), bad rows into quarantine.

        `cleaned` is the batch with its text cleaned (:func:`najma.journeys._normalise.with_clean_text`).
        The good rows are inserted in one pass; the batch is read a second time only when some
        rows were left out, to quarantine them.
        """
        if not batch.num_rows:
            return
        relation = self.con.from_arrow(pa.Table.from_batches([cleaned])).select(*normaliser.select(batch.schema))
        seq = (ColumnExpression(ROW) + ConstantExpression(first_seq)).cast("BIGINT")
        relation.filter("_reason IS NULL").select(
            *(name for name in STAGE_COLUMNS if name != ROW),
            seq.alias("event_seq"),
            ConstantExpression(batch_id).cast("INTEGER").alias("batch_id"),
        ).insert_into(_STAGED)
        lowest = pc.min(batch.column(ROW)).as_py() + first_seq
        loaded = self.con.execute(f"SELECT count(*) FROM {_STAGED} WHERE event_seq >= ?", [lowest]).fetchall()[0][0]
        if loaded == batch.num_rows:
            return
        relation.filter("_reason IS NOT NULL").select(
            ConstantExpression(batch_id).cast("INTEGER"),
            ConstantExpression(source.name).cast("VARCHAR"),
            ColumnExpression(ROW),
            ConstantExpression(source.unit).cast("VARCHAR"),
            ColumnExpression("_column"),
            ColumnExpression("_reason"),
            ColumnExpression("_record"),
        ).insert_into("quarantine")

    def _quarantine_rejects(self, source: Source, batch_id: int, pseudonymiser: Pseudonymiser) -> None:
        """Quarantine the records of `source` that could not be split into its columns (:func:`reject_rows`)."""
        if not source.rejects:
            return
        rows = reject_rows(self.con, source, pseudonymiser)
        rows.select(ConstantExpression(batch_id).cast("INTEGER"), *map(ColumnExpression, rows.columns)).insert_into("quarantine")

    def _repeats(self, source: Source, batch_id: int, first_seq: int, *, quarantine: bool) -> int:
        """Count the staged events equal in every column to an earlier event of the same source;
        with `quarantine`, move them to the quarantine with the first copy's place.

        Only the events whose hash is shared are compared column by column, so a source without
        repeats costs one pass.
        """
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _repeats AS
            WITH shared AS (SELECT hash({_IDENTITY}) AS h FROM {_STAGED} GROUP BY h HAVING count(*) > 1)
            SELECT event_seq, 'repeat of ' || $unit || ' ' || (first - $first) || ' of the same file' AS reason FROM (
                SELECT event_seq, min(event_seq) OVER (PARTITION BY {_IDENTITY}) AS first FROM {_STAGED}
                WHERE hash({_IDENTITY}) IN (SELECT h FROM shared))
            WHERE event_seq <> first""",
            {"unit": source.unit, "first": first_seq},
        )
        repeated = self.n_rows("_repeats")
        if quarantine and repeated:
            self._move_to_quarantine("_repeats", source, batch_id, first_seq)
        self.drop_table("_repeats")
        return repeated

    def _quarantine_loaded_before(self, source: Source, batch_id: int, first_seq: int) -> None:
        """Quarantine the staged events that earlier batches loaded, matched as a multiset per case.

        Of `k` equal events of the batch and `m` equal events stored before, ``max(0, k - m)`` stay:
        the copies of each side are numbered in load order, and a copy of the batch whose number a
        stored copy has too is that stored event, loaded again. Events are compared as one row value,
        in which missing values are equal. Only the cases that both the batch and earlier batches
        hold are compared: those of ``case_keys`` (every stored event's case, coded), whose stored
        events are found by their key, within the times of the batch's events of those cases (an
        event at another time equals none of them, and the copies of an event all share its time).
        """
        if not self.n_rows("case_keys"):
            return
        self.con.execute(f"""CREATE OR REPLACE TEMP TABLE _shared AS
            SELECT case_key, service, case_id FROM case_keys SEMI JOIN {_STAGED} USING (service, case_id)""")
        first, last = self.con.execute(
            f"SELECT min(timestamp), max(timestamp) FROM {_STAGED} SEMI JOIN _shared USING (service, case_id)").fetchall()[0]
        if first is not None:
            copies = f"row({_IDENTITY}) AS event, row_number() OVER (PARTITION BY {_IDENTITY} ORDER BY event_seq) AS copy"
            self.con.execute(
                f"""CREATE OR REPLACE TEMP TABLE _loaded_before AS
                WITH fresh AS (SELECT event_seq, {copies} FROM {_STAGED} SEMI JOIN _shared USING (service, case_id)),
                stored AS (SELECT batch_id, {copies} FROM events
                           WHERE case_key IN (SELECT case_key FROM _shared) AND timestamp BETWEEN $first AND $last)
                SELECT f.event_seq, 'already loaded in batch ' || s.batch_id AS reason
                FROM fresh f JOIN stored s USING (event, copy)""",
                {"first": first, "last": last},
            )
            if self.n_rows("_loaded_before"):
                self._move_to_quarantine("_loaded_before", source, batch_id, first_seq)
            self.drop_table("_loaded_before")
        self.drop_table("_shared")

    def _cases_elsewhere(self, default_service: str) -> int:
        """How many staged cases, in the service named after their file, the store or the batch holds under another service."""
        named = self.con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {_STAGED} WHERE service = ? LIMIT 1)", [default_service])
        if not named.fetchall()[0][0]:
            return 0
        return self.con.execute(
            f"""SELECT count(DISTINCT case_id) FROM {_STAGED} WHERE service = $service AND case_id IN (
                SELECT case_id FROM case_keys WHERE service <> $service
                UNION ALL SELECT case_id FROM {_STAGED} WHERE service <> $service)""",
            {"service": default_service}).fetchall()[0][0]

    def _move_to_quarantine(self, table: str, source: Source, batch_id: int, first_seq: int) -> None:
        """Move the events listed in the temporary `table` (event_seq, reason) from the staged events to the quarantine."""
        self.con.execute(
            f"""INSERT INTO quarantine SELECT ?, ?, e.event_seq - ?, ?, NULL, d.reason, to_json(e)
            FROM {table} d JOIN {_STAGED} e USING (event_seq)""",
            [batch_id, source.name, first_seq, source.unit],
        )
        self.con.execute(f"DELETE FROM {_STAGED} WHERE event_seq IN (SELECT event_seq FROM {table})")


def _quoted(path: str) -> str:
    """`path` (absolute when local) as an SQL string literal built by sqlglot: never pasted raw."""
    return sqlglot.exp.Literal.string(path if "://" in path else os.path.abspath(path)).sql("duckdb")
