"""Ingest on Spark: CSV, Parquet and XES files into a *Spark lake*, by the rules of the DuckDB store's ingest.

Design: one home for each rule. Reading a file and normalising its records is the DuckDB path's own
code, run per file on the executors (``DataFrame.mapInArrow`` over a table of the files): the
readers of :func:`najma.journeys.open_source` (CSV, Parquet, XES streamed), the column mapping as the
store resolves it, :class:`~najma.journeys._normalise.Normaliser` (zones, time formats, cleaning,
quarantine reasons, canonical attributes) in an in-memory DuckDB of the task, and
:class:`~najma.journeys._pseudonym.Pseudonymiser` with the same key. So mapping, times, cleaning,
reasons and pseudonyms cannot drift from the store's. What needs every file at once is done in
Spark, by the rules of :class:`najma.journeys.Store` (see :mod:`najma.journeys._store_schema`,
version 3): identical events within a file are repeats (kept, or quarantined naming the first
copy); an event already loaded by an earlier batch is not loaded again (matched as a multiset:
the n-th copy of an event in a file is the n-th copy stored, so it is loaded only by the first
batch holding an n-th copy); ``event_seq`` and ``batch_id`` are numbered as the store numbers
them. Nothing is collected on the driver but per-batch counts and the months touched.

The lake (``OUT``):

- ``events/service=<service>/month=<YYYY-MM>/part-*.parquet``: the canonical events, times as UTC
  instants (TIMESTAMP_MICROS), ``month`` the UTC month of ``timestamp``;
- ``quarantine/batch=<id>/part-*.parquet``: batch_id, source, row, unit, column, reason, values;
- ``batches/*.parquet``: one row per file loaded, with its counts; written last, so it is the
  record that a load finished. A file whose fingerprint it holds is skipped.

The records of rows the normaliser refused are the store's own (its DuckDB expression); those of
events moved to quarantine after normalising (repeats, events loaded before) are Spark's JSON of
the event, whose time format differs from DuckDB's ``to_json``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from duckdb import ColumnExpression, ConstantExpression, FunctionExpression

from najma import errors
from najma._lazy import lazy_module
from najma.errors import InvalidParameterError, NajmaError, SourceReadError, StoreError
from najma.journeys._formats import open_source
from najma.journeys._mapping import ColumnMapping, resolve_mapping
from najma.journeys._normalise import Normaliser, check_time_format, check_zone, with_clean_text
from najma.journeys._pseudonym import Pseudonymiser, load_key, reject_rows
from najma.journeys._schema import EVENT_COLUMNS, MAPPABLE
from najma.journeys._sources import ROW, Source, load_fingerprint
from najma.journeys._store import BatchResult

pa = lazy_module("pyarrow")
pafs = lazy_module("pyarrow.fs")
pads = lazy_module("pyarrow.dataset")
pq = lazy_module("pyarrow.parquet")

__all__ = ["ingest_on_spark", "check_spark_ingest", "SparkIngest"]

#: What `repeats` may ask of identical events within one file (as :meth:`najma.journeys.Store.ingest`).
REPEATS = ("keep", "quarantine")
#: An event's identity: every canonical column but its place (event_seq, batch_id), as the store compares them.
IDENTITY = (*MAPPABLE, "attributes")
_SPARK_TYPES = {"VARCHAR": "string", "TIMESTAMPTZ": "timestamp", "DOUBLE": "double", "JSON": "string",
                "BIGINT": "bigint", "INTEGER": "int"}
#: The rows a file task hands to Spark: its normalised records, good (no reason) and bad.
STAGED = (("batch_id", "INTEGER"), ("row", "BIGINT"), *((c.name, c.sql_type) for c in EVENT_COLUMNS if c.kind != "internal"),
          ("attributes", "VARCHAR"), ("month", "VARCHAR"), ("_column", "VARCHAR"), ("_reason", "VARCHAR"),
          ("_record", "VARCHAR"))
#: How a file task's najma error travels in the message of the Spark error (its fields as JSON, in base64).
_CARRIED = re.compile(r"najma-error:([A-Za-z0-9+/=]+):najma-error")
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SparkIngest:
    """What an ingest on Spark did.

    Attributes
    ----------
    batches : list of BatchResult
        One per file, in the order given (``skipped`` for a file the lake held already); ``seconds``
        is the whole run's, the files being loaded together.
    read, loaded, quarantined, repeated : int
        The sums over the files loaded now; ``read == loaded + quarantined``.
    out : str
        The lake.
    events_path : str
        Its events folder (what :func:`najma.spark.build_on_spark` reads).
    months_touched : dict of str to list of str
        Per service, the UTC months (``YYYY-MM``) that received events: what an incremental build redoes.
    """

    batches: list[BatchResult]
    read: int
    loaded: int
    quarantined: int
    repeated: int
    out: str
    events_path: str
    months_touched: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Options:
    """The options of one ingest, as every file task needs them."""

    mapping: ColumnMapping
    service: str | None
    tz: str
    time_format: str | None
    sep: str | None
    encoding: str


class _Lake:
    """A lake folder, local or on any file system Arrow reaches (its metadata is read on the driver alone)."""

    def __init__(self, out: str) -> None:
        self.root = out if "://" in out else os.path.abspath(out)
        self.fs, self.path = pafs.FileSystem.from_uri(self.root)

    def _info(self, name: str = "") -> pafs.FileInfo:
        return self.fs.get_file_info(f"{self.path}/{name}" if name else self.path)

    def check(self) -> None:
        """Refuse a folder that is not a lake (a file, or a folder that holds something else)."""
        root = self._info()
        if root.type == pafs.FileType.File:
            raise StoreError(f"{self.root} is a file, not a folder for a Spark lake", parameter="out")
        if root.type == pafs.FileType.NotFound:
            return
        names = {Path(i.path).name for i in self.fs.get_file_info(pafs.FileSelector(self.path))}
        names = {name for name in names if not name.startswith(("_", "."))}  # hidden, as Spark and Arrow hide them
        if names and "batches" not in names:
            raise StoreError(f"{self.root} is not a najma Spark lake (it has no batches folder); name an empty or new folder",
                             parameter="out")

    def batches(self) -> list[dict[str, object]]:
        """The batches the lake holds, by batch id."""
        if self._info("batches").type != pafs.FileType.Directory:
            return []
        rows = pads.dataset(f"{self.path}/batches", filesystem=self.fs, format="parquet").to_table().to_pylist()
        return sorted(rows, key=lambda row: row["batch_id"])

    def url(self, name: str) -> str:
        return f"{self.root}/{name}"

    def write_batches(self, rows: list[dict[str, object]]) -> None:
        self.fs.create_dir(f"{self.path}/batches", recursive=True)
        pq.write_table(pa.Table.from_pylist(rows), f"{self.path}/batches/part-{rows[0]['batch_id']:08d}.parquet",
                       filesystem=self.fs)

    def remove(self, name: str) -> None:
        if self._info(name).type != pafs.FileType.NotFound:
            self.fs.delete_dir(f"{self.path}/{name}")


def check_spark_ingest(sources: Sequence[str], out: str, *, mapping: ColumnMapping | None = None, tz: str = "UTC",
                       time_format: str | None = None, service: str | None = None, key: bytes | None = None,
                       sep: str | None = None, encoding: str = "utf-8") -> None:
    """Refuse, before Spark starts, an ingest that cannot run: every check that needs no Spark.

    Parameters are those of :func:`ingest_on_spark`.

    Raises
    ------
    SourceReadError
        If a file is missing or cannot be read at all (its head: a header, a prolog, the footers).
    InvalidEventLogError
        If the time zone or time format is not one, or the mapping is not valid.
    StoreError
        If `out` is not a lake, or the key cannot be loaded or differs from the one the lake was loaded with.
    """
    _prepare(sources, out, mapping=mapping, tz=tz, time_format=time_format, key=key, sep=sep, encoding=encoding)


def _prepare(sources: Sequence[str], out: str, *, mapping: ColumnMapping | None, tz: str, time_format: str | None,
             key: bytes | None, sep: str | None, encoding: str) -> tuple[list[Source], bytes, _Lake]:
    """The checks of :func:`check_spark_ingest`; return the opened sources, the key and the lake."""
    if not sources:
        raise InvalidParameterError("The 'sources' parameter of ingest_on_spark must name at least one file. Got none.",
                                    parameter="sources")
    check_zone(tz)
    if time_format is not None:
        check_time_format(time_format)
    if mapping is not None and not isinstance(mapping, ColumnMapping):
        raise InvalidParameterError(f"The 'mapping' parameter of ingest_on_spark must be a ColumnMapping. Got {mapping!r} "
                                    "instead.", parameter="mapping")
    lake = _Lake(out)
    lake.check()
    key = key if key is not None else load_key()
    pseudonymiser = Pseudonymiser(key)
    held = {row["key_fingerprint"] for row in lake.batches()}
    if held - {pseudonymiser.fingerprint}:
        raise StoreError(f"the pseudonymisation key differs from the one the lake {lake.root} was loaded with; set "
                         "NAJMA_PSEUDONYM_KEY or NAJMA_KEY_FILE to that key", parameter="key")
    opened = [open_source(path, sep=sep, encoding=encoding) for path in sources]
    return opened, key, lake


def ingest_on_spark(session: object, sources: Sequence[str], out: str, *, mapping: ColumnMapping | None = None,
                    service: str | None = None, tz: str = "UTC", time_format: str | None = None, repeats: str = "keep",
                    key: bytes | None = None, progress: Progress | None = None, sep: str | None = None,
                    encoding: str = "utf-8") -> SparkIngest:
    """Load `sources`, in order, into the Spark lake `out`, by the rules of :meth:`najma.journeys.Store.ingest`.

    Parameters
    ----------
    session : pyspark.sql.SparkSession
        The session to run on (see :func:`najma.spark.spark_session`); a Spark Connect session works too.
    sources : sequence of str
        CSV, Parquet (file or folder) and XES files, as :func:`najma.journeys.open_source` reads them.
    out : str
        The lake folder: new, empty, or a lake written before (its batches continue).
    mapping, service, tz, time_format, repeats
        As in :meth:`najma.journeys.Store.ingest`.
    key : bytes, optional
        The pseudonymisation key; by default the store's (:func:`najma.journeys._pseudonym.load_key`).
    progress : callable, optional
        Called as ``progress(done, total)`` after each step of the run.
    sep, encoding
        As in :func:`najma.journeys.open_source`.

    Returns
    -------
    SparkIngest

    Raises
    ------
    SourceReadError
        If a file cannot be read; nothing is added to the lake.
    InvalidParameterError, InvalidEventLogError, StoreError
        As :func:`check_spark_ingest`, and for a `repeats` that is not one of its choices.
    """
    started = time.perf_counter()
    if repeats not in REPEATS:
        raise InvalidParameterError(f"The 'repeats' parameter of ingest_on_spark must be 'keep' or 'quarantine'. "
                                    f"Got {repeats!r} instead.", parameter="repeats")
    opened, key, lake = _prepare(sources, out, mapping=mapping, tz=tz, time_format=time_format, key=key,
                                           sep=sep, encoding=encoding)
    options = _Options(mapping or ColumnMapping(), service, tz, time_format, sep, encoding)
    held = lake.batches()
    plan, results = _plan(opened, options, held)
    report = progress or (lambda done, total: None)
    if plan:
        loaded = _Load(session, lake, options, plan, held, repeats, key, report)
        results.update(loaded.run(started))
        months = loaded.months
    else:
        months = {}
    ordered = [results[index] for index in range(len(opened))]
    fresh = [r for r in ordered if not r.skipped]
    return SparkIngest(ordered, *(sum(getattr(r, name) for r in fresh) for name in ("read", "loaded", "quarantined", "repeated")),
                       out=lake.root, events_path=lake.url("events"), months_touched=months)


@dataclass(frozen=True)
class _File:
    """A file to load now: its place in the call, its batch id and fingerprint."""

    index: int
    batch_id: int
    source: Source
    fingerprint: str


def _plan(opened: list[Source], options: _Options, held: list[dict[str, object]]) -> tuple[list[_File], dict[int, BatchResult]]:
    """The files to load, numbered after the lake's batches, and the results of those the lake (or this call) holds."""
    known = {row["fingerprint"]: row for row in held}
    next_id = max((int(row["batch_id"]) for row in held), default=0) + 1
    plan: list[_File] = []
    skipped: dict[int, BatchResult] = {}
    for index, source in enumerate(opened):
        fingerprint = load_fingerprint(source, options.service, dict(options.mapping.columns), options.tz, options.time_format)
        earlier = known.get(fingerprint)
        if earlier is not None:
            skipped[index] = BatchResult(int(earlier["batch_id"]), source.name, int(earlier["rows_read"]),
                                         int(earlier["rows_loaded"]), int(earlier["rows_quarantined"]),
                                         int(earlier["rows_repeated"]), True, 0.0)
            continue
        plan.append(_File(index, next_id, source, fingerprint))
        known[fingerprint] = {"batch_id": next_id, "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "rows_repeated": 0}
        next_id += 1
    return plan, skipped


# -- on the executors: one file read and normalised by the store's rules ---------------------------------------


def _arrow_schema(time_zone: str) -> pa.Schema:
    """The Arrow schema of the staged rows, times in Spark's session zone (as Spark expects them)."""
    types = {"VARCHAR": pa.string(), "TIMESTAMPTZ": pa.timestamp("us", tz=time_zone), "DOUBLE": pa.float64(),
             "BIGINT": pa.int64(), "INTEGER": pa.int32()}
    return pa.schema([(name, types[sql_type]) for name, sql_type in STAGED])


def _spark_schema() -> str:
    return ", ".join(f"`{name}` {_SPARK_TYPES[sql_type]}" for name, sql_type in STAGED)


def _stage_file(batch_id: int, path: str, options: _Options, key: bytes, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """Read one file and yield its records normalised as the store stages them, with their quarantine reasons."""
    source = open_source(path, sep=options.sep, encoding=options.encoding)
    pseudonymiser = Pseudonymiser(key)
    default_service = Path(source.name).name.split(".")[0]
    seen: set[str] = set()
    batch_key = ConstantExpression(batch_id).cast("INTEGER").alias("batch_id")
    with duckdb.connect() as con:
        con.execute("SET TimeZone = ?", [options.tz])
        for batch in source.batches():
            seen.update(batch.schema.names)
            resolved = resolve_mapping(source, options.mapping, batch.schema.names)
            if "customer_id" in resolved:
                batch = pseudonymiser.in_batch(batch, resolved["customer_id"])
            if not batch.num_rows:
                continue
            normaliser = Normaliser(resolved, options.service, default_service, options.tz, options.time_format)
            relation = con.from_arrow(pa.Table.from_batches([with_clean_text(batch)])).select(*normaliser.select(batch.schema))
            month = FunctionExpression("strftime", FunctionExpression("timezone", ConstantExpression("UTC"),
                                                                      ColumnExpression("timestamp")), ConstantExpression("%Y-%m"))
            staged = relation.select(batch_key, ColumnExpression(ROW).alias("row"), *map(ColumnExpression, MAPPABLE),
                                     ColumnExpression("attributes").cast("VARCHAR").alias("attributes"), month.alias("month"),
                                     ColumnExpression("_column"), ColumnExpression("_reason"),
                                     ColumnExpression("_record").cast("VARCHAR").alias("_record"))
            yield from staged.to_arrow_table().cast(schema).to_batches()
        unseen = sorted(set(options.mapping.columns.values()) - seen)
        if unseen and source.kind == "xes":
            raise source.fail(f"no event or trace has the attribute {unseen[0]!r} named in the mapping")
        if source.rejects:
            yield from _rejects(con, source, batch_id, pseudonymiser).cast(schema).to_batches()


def _rejects(con: duckdb.DuckDBPyConnection, source: Source, batch_id: int, pseudonymiser: Pseudonymiser) -> pa.Table:
    """The records that could not be split into columns (:func:`reject_rows`), laid out as staged records."""
    nulls = {name: sql_type for name, sql_type in STAGED}
    return reject_rows(con, source, pseudonymiser).select(
        ConstantExpression(batch_id).cast("INTEGER").alias("batch_id"), ColumnExpression("row"),
        *(ConstantExpression(None).cast(nulls[name]).alias(name) for name in (*MAPPABLE, "attributes", "month")),
        ColumnExpression("column").alias("_column"), ColumnExpression("reason").alias("_reason"),
        ColumnExpression("record").cast("VARCHAR").alias("_record"),
    ).to_arrow_table()


def _stage_tasks(tasks: Iterator[pa.RecordBatch], options: _Options, key: bytes, time_zone: str) -> Iterator[pa.RecordBatch]:
    """The ``mapInArrow`` function: stage each file of `tasks`; a najma error travels to the driver in its message."""
    schema = _arrow_schema(time_zone)
    for task in tasks:
        for batch_id, path in zip(task.column("batch_id").to_pylist(), task.column("path").to_pylist(), strict=True):
            try:
                yield from _stage_file(batch_id, path, options, key, schema)
            except NajmaError as exc:
                carried = {"kind": type(exc).__name__, "message": str(exc), "parameter": exc.parameter,
                           "source": getattr(exc, "source", None), "problem": getattr(exc, "problem", None)}
                encoded = base64.b64encode(json.dumps(carried).encode()).decode()
                raise RuntimeError(f"najma-error:{encoded}:najma-error") from None


def _carried_error(exc: Exception) -> NajmaError | None:
    """The najma error a file task raised, found in the message of the Spark error that ended its job."""
    found = _CARRIED.search(str(exc))
    if found is None:
        return None
    carried = json.loads(base64.b64decode(found.group(1)))
    kind = getattr(errors, carried["kind"], NajmaError)
    if kind is SourceReadError:
        return SourceReadError(carried["source"], carried["problem"])
    return kind(carried["message"], parameter=carried["parameter"])


# -- on the driver: the work across files, in Spark ---------------------------------------------------------------


class _Load:
    """One run of :func:`ingest_on_spark` over the files of `plan`."""

    def __init__(self, session: object, lake: _Lake, options: _Options, plan: list[_File], held: list[dict[str, object]],
                 repeats: str, key: bytes, report: Progress) -> None:
        from pyspark.sql import functions

        self.F = functions
        self.session, self.lake, self.options, self.plan, self.held = session, lake, options, plan, held
        self.repeats, self.key, self.report = repeats, key, report
        self.key_fingerprint = Pseudonymiser(key).fingerprint
        self.staging = f"_staging/{uuid.uuid4().hex}"
        self.months: dict[str, list[str]] = {}

    def run(self, started: float) -> dict[int, BatchResult]:
        self.session.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        try:
            self._stage()
            self.report(1, 4)
            classified = self._classify()
            self.report(2, 4)
            counts = self._counts(classified)
            first_seqs = self._first_seqs(counts)
            self._write(classified, first_seqs)
            self.report(3, 4)
            results = self._record(counts, first_seqs, time.perf_counter() - started)
            self.report(4, 4)
            return results
        finally:
            self.lake.remove(self.staging)

    def _stage(self) -> None:
        """Read and normalise every file on the executors, one task per file, into the staging folder."""
        tasks = self.session.createDataFrame([(f.batch_id, f.source.name) for f in self.plan], "batch_id int, path string")
        key, options, zone = self.key, self.options, self.session.conf.get("spark.sql.session.timeZone")
        staged = tasks.repartition(len(self.plan)).mapInArrow(
            lambda batches: _stage_tasks(batches, options, key, zone), _spark_schema())
        try:
            staged.write.mode("overwrite").parquet(self.lake.url(f"{self.staging}/staged"))
        except Exception as exc:
            carried = _carried_error(exc)
            if carried is None:
                raise
            raise carried from None

    def _files(self) -> object:
        return self.session.createDataFrame(
            [(f.batch_id, f.source.name, f.source.unit) for f in self.plan], "batch_id int, source string, unit string")

    def _classify(self) -> object:
        """Each staged record with its fate: ``_fate`` null for an event to load, else the reason it is quarantined;
        ``_repeat`` whether it repeats an earlier event of its file. Written to the staging folder and read back."""

        F = self.F
        staged = self.session.read.parquet(self.lake.url(f"{self.staging}/staged"))
        good = staged.where(F.col("_reason").isNull())
        good = self._copies(good.join(F.broadcast(self._files().drop("source")), "batch_id"))
        good = good.withColumn("_repeat", F.col("_copy") > 1).withColumn("_fate", F.lit(None).cast("string"))
        if self.repeats == "quarantine":
            good = good.withColumns({
                "_fate": F.when(F.col("_repeat"), F.concat(F.lit("repeat of "), F.col("unit"), F.lit(" "),
                                                           F.col("_first_row").cast("string"), F.lit(" of the same file"))),
                "_copy": F.when(F.col("_repeat"), F.lit(None)).otherwise(F.col("_copy"))})
        good = self._loaded_before(good)
        bad = staged.where(F.col("_reason").isNotNull()).withColumns(
            {"_repeat": F.lit(False), "_fate": F.col("_reason")})
        columns = [*staged.columns, "_repeat", "_fate"]
        path = self.lake.url(f"{self.staging}/classified")
        good.select(*columns).unionByName(bad.select(*columns)).write.mode("overwrite").parquet(path)
        return self.session.read.parquet(path)

    def _copies(self, good: object) -> object:
        """Number the copies of each event within its file (``_copy``, by row) with the row of the first (``_first_row``).

        As the store does, only the events whose hash another event of the file shares are compared column by
        column (sorted in a window); a file without repeats costs a count of its hashes.
        """
        from pyspark.sql import Window

        F = self.F
        good = good.withColumn("_hash", F.xxhash64(*IDENTITY))
        shared = good.groupBy("batch_id", "_hash").count().where(F.col("count") > 1).drop("count")
        alone = good.join(shared, ["batch_id", "_hash"], "left_anti").withColumns(
            {"_copy": F.lit(1), "_first_row": F.col("row")})
        in_file = Window.partitionBy("batch_id", *IDENTITY)
        suspects = good.join(shared, ["batch_id", "_hash"], "left_semi").withColumns({
            "_copy": F.row_number().over(in_file.orderBy("row")), "_first_row": F.min("row").over(in_file)})
        return alone.unionByName(suspects).drop("_hash")

    def _loaded_before(self, good: object) -> object:
        """Mark the events an earlier batch loaded: the n-th copy of an event is loaded by the first batch that holds
        an n-th copy (the lake's, numbered in event_seq order, or an earlier file of this run).

        As in :meth:`_copies`, only the events whose hash more than one batch holds are compared column by column
        (sorted in a window); files that share no event cost a count of their hashes.
        """
        from pyspark.sql import Window

        F = self.F
        candidates = good.where(F.col("_copy").isNotNull()).select(*IDENTITY, "_copy", "batch_id", "row").withColumn(
            "_hash", F.xxhash64(*IDENTITY))
        lake_events = self._lake_events(candidates)
        if lake_events is None and len(self.plan) == 1:
            return good
        if lake_events is not None:
            candidates = candidates.unionByName(lake_events.withColumn("row", F.lit(None).cast("bigint")))
        shared = candidates.groupBy("_hash").agg(F.countDistinct("batch_id").alias("batches")).where(F.col("batches") > 1)
        candidates = candidates.join(shared.select("_hash"), "_hash", "left_semi")
        first = candidates.withColumn("_loaded_by", F.min("batch_id").over(Window.partitionBy(*IDENTITY, "_copy")))
        first = first.where(F.col("row").isNotNull() & (F.col("_loaded_by") != F.col("batch_id")))
        first = first.select("batch_id", "row", F.concat(F.lit("already loaded in batch "),
                                                         F.col("_loaded_by").cast("string")).alias("_before"))
        marked = good.join(first, ["batch_id", "row"], "left")
        return marked.withColumn("_fate", F.coalesce("_fate", "_before")).drop("_before")

    def _lake_events(self, candidates: object) -> object | None:
        """The lake's events whose hash (``_hash``) one of `candidates` has, each with its copy number among equal
        events (by event_seq); every copy of an event has its hash, so the numbering counts them all."""
        from pyspark.sql import Window

        if not any(int(row["rows_loaded"]) for row in self.held):
            return None
        F = self.F
        schema = ", ".join(f"`{c.name}` {_SPARK_TYPES[c.sql_type]}" for c in EVENT_COLUMNS) + ", `month` string"
        stored = self.session.read.schema(schema).parquet(self.lake.url("events")).withColumn("_hash", F.xxhash64(*IDENTITY))
        stored = stored.join(candidates.select("_hash").distinct(), "_hash", "left_semi")
        return stored.select(*IDENTITY, "batch_id", "_hash", F.row_number().over(
            Window.partitionBy(*IDENTITY).orderBy("event_seq")).alias("_copy"))

    def _counts(self, classified: object) -> dict[int, dict[str, int]]:
        """Per batch: records read, loaded, repeated, and the last row loaded (a handful of numbers)."""
        F = self.F
        loaded = F.col("_fate").isNull()
        rows = classified.groupBy("batch_id", "service", "month").agg(
            F.count(F.lit(1)).alias("read"), F.sum(loaded.cast("int")).alias("loaded"),
            F.sum(F.col("_repeat").cast("int")).alias("repeated"), F.max(F.when(loaded, F.col("row"))).alias("last_row"),
        ).collect()  # one row per batch, service and month: a handful
        counts: dict[int, dict[str, int]] = {}
        for row in sorted(rows, key=lambda r: (r["service"] or "", r["month"] or "")):
            count = counts.setdefault(int(row["batch_id"]), {"read": 0, "loaded": 0, "repeated": 0, "last_row": 0})
            for name in ("read", "loaded", "repeated"):
                count[name] += int(row[name] or 0)
            count["last_row"] = max(count["last_row"], int(row["last_row"] or 0))
            if row["loaded"] and row["month"] not in self.months.get(row["service"], []):
                self.months.setdefault(row["service"], []).append(row["month"])
        return {f.batch_id: counts.get(f.batch_id, {"read": 0, "loaded": 0, "repeated": 0, "last_row": 0}) for f in self.plan}

    def _first_seqs(self, counts: dict[int, dict[str, int]]) -> dict[int, int]:
        """Each batch's first event_seq, as the store gives it: one past the highest event_seq loaded before it."""
        highest = max((int(row["last_seq"]) for row in self.held), default=0)
        first: dict[int, int] = {}
        for batch_id in sorted(counts):
            first[batch_id] = highest + 1
            if counts[batch_id]["loaded"]:
                highest = max(highest, first[batch_id] + counts[batch_id]["last_row"])
        return first

    def _write(self, classified: object, first_seqs: dict[int, int]) -> None:
        """Append the loaded events (by service and month) and the quarantined rows (by batch) to the lake."""
        F = self.F
        starts = self.session.createDataFrame(list(first_seqs.items()), "batch_id int, _first_seq bigint")
        rows = classified.join(F.broadcast(starts), "batch_id").join(F.broadcast(self._files()), "batch_id")
        rows = rows.withColumn("event_seq", F.col("row") + F.col("_first_seq"))
        names = [c.name for c in EVENT_COLUMNS]
        events = rows.where(F.col("_fate").isNull()).select(*names, "month")
        events.write.mode("append").partitionBy("service", "month").parquet(self.lake.url("events"))
        moved = F.to_json(F.struct(*names))
        quarantine = rows.where(F.col("_fate").isNotNull()).select(
            "batch_id", "source", "row", "unit", F.col("_column").alias("column"), F.col("_fate").alias("reason"),
            F.coalesce("_record", moved).alias("values"), F.col("batch_id").alias("batch"))
        quarantine.write.mode("append").partitionBy("batch").parquet(self.lake.url("quarantine"))

    def _record(self, counts: dict[int, dict[str, int]], first_seqs: dict[int, int], seconds: float) -> dict[int, BatchResult]:
        """Write the batches' rows (the record that they are loaded) and return their results."""
        now = datetime.now(UTC)
        rows, results, highest = [], {}, max((int(row["last_seq"]) for row in self.held), default=0)
        for file in self.plan:
            count = counts[file.batch_id]
            quarantined = count["read"] - count["loaded"]
            if count["loaded"]:
                highest = max(highest, first_seqs[file.batch_id] + count["last_row"])
            rows.append({
                "batch_id": file.batch_id, "source": file.source.name, "kind": file.source.kind,
                "fingerprint": file.fingerprint, "service": self.options.service,
                "mapping": json.dumps(dict(self.options.mapping.columns)), "tz": self.options.tz,
                "time_format": self.options.time_format, "rows_read": count["read"], "rows_loaded": count["loaded"],
                "rows_quarantined": quarantined, "rows_repeated": count["repeated"], "first_seq": first_seqs[file.batch_id],
                "last_seq": highest, "loaded_at": now, "seconds": seconds, "key_fingerprint": self.key_fingerprint,
            })
            results[file.index] = BatchResult(file.batch_id, file.source.name, count["read"], count["loaded"], quarantined,
                                              count["repeated"], False, seconds)
        self.lake.write_batches(rows)
        return results
