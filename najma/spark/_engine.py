"""The Spark engine: the journey build on a Spark session, for event logs that outgrow one machine.

The steps and journey tables come from the same journey pipeline as in the DuckDB store
(:class:`najma.journeys.JourneyPipeline`), whose Ibis expressions are compiled by Ibis's
PySpark backend and run on the cluster; the steps are kept in a persisted frame. The events are
read from Parquet files in the canonical schema (:mod:`najma.journeys._schema`); the results are written
as Parquet beside them and attached to a najma store (:func:`attach_to_store`), where the
dashboard, reports and notebooks read them.

What runs where
---------------
On the cluster: reading and checking the events, the window functions of the steps, the
per-case aggregation of the journeys, outcomes and working time, the writing of every output,
and (see :func:`najma.spark.rate_on_spark`) the KPIs and bootstrap of each service and
quarter. On the driver: the catalogue (a few hundred rows), the calendar's days, two
one-row aggregates (the span of the log), and one row per rated service and quarter. Nothing
collects events or cases on the driver.

pyspark is imported on first use, so that najma runs without it; install it with
``pip install 'najma[spark]'``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ibis
import pandas as pd
from ibis.expr.types import Table

from najma.errors import NajmaError, SourceReadError, StoreError
from najma.journeys._pipeline import JourneyPipeline
from najma.journeys._schema import EVENT_COLUMNS
from najma.journeys._store import Store

__all__ = ["SparkTables", "SparkBuild", "spark_session", "build_on_spark", "attach_to_store", "ensure_attachable", "CATALOGUE_TABLES"]

#: The catalogue's tables that the build and the KPIs read, copied from the store to the session.
CATALOGUE_TABLES = ("activity_roles", "activity_documents", "service_settings", "channel_settings", "designed_journeys", "work_calendar")
#: Columns without which an event is quarantined (event_seq orders events that share a timestamp).
REQUIRED_VALUES = ("case_id", "activity", "timestamp", "event_seq")
_SPARK_TYPES = {"VARCHAR": "string", "JSON": "string", "TIMESTAMPTZ": "timestamp", "DOUBLE": "double",
                "BIGINT": "bigint", "INTEGER": "int"}
Progress = Callable[[str], None]


def spark_session(
    master: str | None = None, *, remote: str | None = None, conf: Sequence[tuple[str, str]] = (), app_name: str = "najma"
) -> object:
    """Start (or join) the Spark session najma runs on.

    Parameters
    ----------
    master : str, optional
        A Spark master URL, e.g. ``"local[4]"`` or ``"spark://host:7077"``. By default the master
        of ``spark-submit`` when najma runs under it, else ``local[*]`` (every core of this machine).
    remote : str, optional
        A Spark Connect URL, e.g. ``"sc://host:15002"``, instead of a master.
    conf : sequence of (key, value)
        Spark settings, e.g. ``[("spark.driver.memory", "8g")]``.

    Returns
    -------
    pyspark.sql.SparkSession
        With its SQL time zone in UTC, Parquet timestamps written as UTC instants, and no console
        progress bars.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise NajmaError("the Spark engine needs pyspark; install it with: pip install 'najma[spark]'") from None
    builder = SparkSession.builder.appName(app_name)
    if remote:
        builder = builder.remote(remote)
    elif master or "PYSPARK_GATEWAY_PORT" not in os.environ:  # spark-submit starts python with the gateway set
        builder = builder.master(master or "local[*]")
    settings = {"spark.sql.session.timeZone": "UTC", "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
                "spark.ui.showConsoleProgress": "false"}
    local = (master or "local").startswith("local") and not remote and "PYSPARK_GATEWAY_PORT" not in os.environ
    if local:
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # local workers run this Python, which has najma
        settings["spark.sql.shuffle.partitions"] = str(4 * (os.cpu_count() or 1))  # not a cluster's 200
    for key, value in {**settings, **dict(conf)}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    if local:
        session.sparkContext.setLogLevel("ERROR")
    return session


class SparkTables:
    """The journey tables on a Spark session: what :func:`najma.journeys.process_map`, :func:`najma.journeys.variants`
    and :func:`najma.rating.case_features` read when they run on Spark.

    Parameters
    ----------
    session : pyspark.sql.SparkSession
        The session whose temporary views hold the tables.
    path : str
        Where the build wrote them (for messages).
    """

    def __init__(self, session: object, path: str) -> None:
        self.session = session
        self.path = path
        self.backend = ibis.pyspark.connect(session)

    def has_table(self, name: str) -> bool:
        """Whether the session has a table or view called `name`."""
        return bool(self.session.catalog.tableExists(name))

    def to_spark(self, table: Table) -> object:
        """The Spark DataFrame of an Ibis expression over these tables (nothing is computed yet)."""
        return self.session.sql(self.backend.compile(table))


@dataclass(frozen=True)
class SparkBuild:
    """What a Spark build read and wrote.

    ``read == loaded + quarantined`` always holds. ``out`` holds the folders ``steps``,
    ``journeys`` and ``quarantine`` (Parquet).
    """

    tables: SparkTables
    events: tuple[str, ...]
    out: str
    read: int
    loaded: int
    quarantined: int
    journeys: int


def _output(out: str, name: str) -> str:
    return out.rstrip("/") + "/" + name


def _read_events(session: object, events: Sequence[str]) -> object:
    """The events of the Parquet files as a Spark DataFrame in the canonical schema, with ``_reason``
    and ``_column`` set on rows that cannot be loaded."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention

    named = ", ".join(events)
    try:
        frame = session.read.parquet(*events)
    except AnalysisException as exc:
        raise SourceReadError(named, f"cannot read as Parquet: {str(exc).splitlines()[0]}") from None
    present = {field.name: field.dataType.simpleString() for field in frame.schema.fields}
    missing = [name for name in REQUIRED_VALUES if name not in present]
    if missing:
        raise SourceReadError(named, f"no column {', '.join(missing)}: events for Spark must be in najma's canonical "
                                     "schema (see najma.journeys._schema; Store.export_events writes it)")
    if not present["timestamp"].startswith("timestamp"):
        raise SourceReadError(named, f"column timestamp is {present['timestamp']}, not a timestamp")
    columns = []
    for column in EVENT_COLUMNS:
        kind = _SPARK_TYPES[column.sql_type]
        value = F.col(column.name) if column.name in present else F.lit(None)
        columns.append(value.cast(kind).alias(column.name))
    frame = frame.select(*columns, F.input_file_name().alias("_file"))
    reason, where = F.lit(None).cast("string"), F.lit(None).cast("string")
    for name in reversed(REQUIRED_VALUES):  # the first empty column of the row is named
        empty = F.col(name).isNull() | ((F.trim(F.col(name)) == "") if name in ("case_id", "activity") else F.lit(False))
        reason = F.when(empty, F.lit(f"no {name}")).otherwise(reason)
        where = F.when(empty, F.lit(name)).otherwise(where)
    return frame.withColumn("_reason", reason).withColumn("_column", where)


def _copy_catalogue(store: Store, tables: SparkTables) -> None:
    """Copy the catalogue's tables from the store onto the session (they are small)."""
    for name in CATALOGUE_TABLES:
        table = store.backend.table(name)
        tables.backend.create_view(name, ibis.memtable(table.to_pandas(), schema=table.schema()), overwrite=True)


def build_on_spark(
    session: object, events: Sequence[str], store: Store, out: str, *, progress: Progress | None = None
) -> SparkBuild:
    """Build the steps and journeys of Parquet events on Spark and write them, as Parquet, to `out`.

    Parameters
    ----------
    session : pyspark.sql.SparkSession
        See :func:`spark_session`.
    events : sequence of str
        Parquet files, folders or globs in the canonical event schema, on any filesystem Spark
        reads (``/data/events/*.parquet``, ``s3a://bucket/events/``, ...).
    store : Store
        The store whose catalogue (roles, settings, designed journeys, calendar) the build uses.
    out : str
        A folder Spark writes to: ``steps``, ``journeys`` and ``quarantine`` (rows that cannot be
        loaded, with the file, column and reason). Earlier outputs there are replaced.
    progress : callable, optional
        Called with the name of each stage as it starts.

    Returns
    -------
    SparkBuild
        The counts, and the tables, which stay registered on the session for maps, variants
        and KPIs.
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F  # noqa: N812

    tables = SparkTables(session, out)
    _copy_catalogue(store, tables)
    pipeline = JourneyPipeline.of(tables)
    if progress:
        progress("events")
    checked = _read_events(session, events).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        # Instants reach the driver as microseconds since 1970: Python's datetimes would be read in its local zone.
        loaded = F.col("_reason").isNull()
        counts = checked.agg(F.count(F.lit(1)).alias("read"), F.count("_reason").alias("quarantined"),
                             F.min(F.when(loaded, F.unix_micros("timestamp"))).alias("first"),
                             F.max(F.when(loaded, F.unix_micros("timestamp"))).alias("last")).collect()[0]
        first, last = (None if counts[name] is None else pd.Timestamp(counts[name], unit="us", tz="UTC")
                       for name in ("first", "last"))
        bad = checked.filter(F.col("_reason").isNotNull())
        bad.select(F.col("_file").alias("source"), F.lit(None).cast("bigint").alias("row"), F.lit("row").alias("unit"),
                   F.col("_column").alias("column"), F.col("_reason").alias("reason"),
                   F.to_json(F.struct(*[c.name for c in EVENT_COLUMNS])).alias("record"),
                   ).write.mode("overwrite").parquet(_output(out, "quarantine"))
        checked.filter(F.col("_reason").isNull()).drop("_file", "_reason", "_column").createOrReplaceTempView("events")
        if progress:
            progress("steps")
        steps = tables.to_spark(pipeline.steps(tables.backend.table("events"))).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            steps.createOrReplaceTempView("_steps")
            tables.to_spark(pipeline.kept_steps(tables.backend.table("_steps"))).write.mode("overwrite").parquet(
                _output(out, "steps"))
            if progress:
                progress("journeys")
            days = pipeline.calendar_days(first, last)
            if days is not None:
                session.createDataFrame(days).createOrReplaceTempView("_calendar_days")
            finished = pipeline.outcome(pipeline.journeys(tables.backend.table("_steps")), last,
                                        None if days is None else tables.backend.table("_calendar_days"))
            tables.to_spark(finished).write.mode("overwrite").parquet(_output(out, "journeys"))
        finally:
            steps.unpersist()
    finally:
        checked.unpersist()
    for name in ("steps", "journeys"):
        session.read.parquet(_output(out, name)).createOrReplaceTempView(name)
    cases = session.table("journeys").count()
    return SparkBuild(tables, tuple(events), out, counts["read"], counts["read"] - counts["quarantined"],
                      counts["quarantined"], cases)


def attach_to_store(store: Store, build: SparkBuild) -> list[str]:
    """Point the store's ``steps``, ``journeys`` and ``events`` at the build's Parquet files, and record
    the build as an import batch with its quarantined rows, in one transaction.

    The store then serves the dashboard, reports and notebooks as if it had built the journeys
    itself; it reads the Parquet files in place (DuckDB reads local paths, and ``s3://`` with its
    httpfs extension). A store that holds events of its own is refused, so that nothing is mixed.

    Returns
    -------
    list of str
        What the user should know: the events the store could not read, if any.

    Raises
    ------
    StoreError
        When the store holds events it loaded itself.
    """
    ensure_attachable(store)
    parquet = {name: _output(build.out, name) + "/*.parquet" for name in ("steps", "journeys", "quarantine")}
    files = [path if "://" in path else os.path.abspath(path) for path in build.events]
    try:
        store.parquet_columns(files)
    except StoreError as exc:
        readable, notes = False, [f"{exc}: its events stay empty, so filters on event attributes and redesigns find nothing"]
    else:
        readable, notes = True, []
    with store.transaction():
        for name in ("steps", "journeys"):
            store.view_parquet(name, [parquet[name]])
        if readable:
            store.view_parquet("events", files, events=True)
        store.record_parquet_batch(", ".join(build.events), f"spark:{build.out}:{pd.Timestamp.now(tz='UTC').isoformat()}",
                                   (build.read, build.loaded, build.quarantined), parquet["quarantine"])
        store.note_journeys_built()
    return notes


def ensure_attachable(store: Store) -> None:
    """Refuse a store that holds events of its own (loaded by an ingest).

    Raises
    ------
    StoreError
        Naming the store, so that the user picks another before a long Spark run.
    """
    if store.table_kind("events") == "BASE TABLE" and store.n_rows("events"):
        raise StoreError(f"{store.path} holds events loaded into it; give the Spark run a store of its own")
