"""The Spark engine: the journey build on a Spark session, for event logs that outgrow one machine.

The steps and journey tables come from the same journey pipeline as in the DuckDB store
(:class:`najma.journeys.JourneyPipeline`), and the maps of each service and quarter from the same
aggregations as the store keeps (:func:`najma.journeys._aggregates.service_maps`); their Ibis
expressions are compiled by Ibis's PySpark backend and run on the cluster; the steps are kept in a
persisted frame. The events are read from Parquet files in the canonical schema
(:mod:`najma.journeys._schema`), or from the lake a Spark ingest writes (partitioned as
``service=<service>/month=<YYYY-MM>``); the results are written as Parquet and attached to a najma
store (:func:`attach_to_store`), where the dashboard, reports and notebooks read them.

A lake is built incrementally: the build keeps, in its output folder, the files of each partition
it read; the next build reads only the partitions whose files changed and builds again only the
cases with an event in them, keeping the other cases' rows and the map rows of the groups
(service, quarter) none of those cases is in, as the DuckDB store does after a new batch.

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

import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from urllib.parse import unquote

import ibis
import pandas as pd
from ibis.expr.types import Table

from najma.errors import NajmaError, SourceReadError, StoreError
from najma.journeys._aggregates import SERVICE_MAP_ACTIVITIES, SERVICE_MAP_EDGES, ChangedGroups, service_maps
from najma.journeys._build import map_groups
from najma.journeys._pipeline import JourneyPipeline, with_outcome
from najma.journeys._quarter import quarter_start, quarter_zone
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
#: The kept maps, as the DuckDB store keeps them (see :func:`najma.journeys._aggregates.service_maps`).
MAP_TABLES = (SERVICE_MAP_EDGES, SERVICE_MAP_ACTIVITIES)
#: The tables a build writes to its output folder, each a folder of Parquet files of that name.
OUTPUTS = ("steps", "journeys", *MAP_TABLES)
#: The folder (of one line of JSON) in which a build of a lake keeps what it read, for the next build.
STATE = "_najma_build"
_STATE_FORMAT = 1
#: A file of a lake's partition: ``.../service=<service>/month=<YYYY-MM>/<file>``.
_PARTITION = re.compile(r"/service=(?P<service>[^/]*)/month=(?P<month>[^/]*)/(?P<file>[^/]+)$")


def spark_session(
    master: str | None = None, *, remote: str | None = None, conf: Sequence[tuple[str, str]] = (), app_name: str = "najma",
    log: str | os.PathLike[str] | None = None,
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
    log : path, optional
        A file the JVM this call starts writes its own messages to (appended) for its whole life:
        its start-up warnings and its executors' warnings then stay off this process's standard
        error. By default they share it.

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
    with _stderr_to(log) if log is not None else nullcontext():
        session = builder.getOrCreate()
    if local:
        session.sparkContext.setLogLevel("ERROR")
    return session


@contextmanager
def _stderr_to(log: str | os.PathLike[str]) -> Iterator[None]:
    """Point this process's standard error (file descriptor 2) at `log` for the block: a JVM started in it keeps it."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(log, "ab") as handle:
            os.dup2(handle.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


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

    ``read == loaded + quarantined`` always holds, over the events this build read. ``out`` holds the
    folders ``steps``, ``journeys``, ``service_map_edges``, ``service_map_activities`` and ``quarantine``
    (Parquet), and the build's state (:data:`STATE`).

    ``touched`` is None when every case was built; after an incremental build of a lake, the
    partitions (service to months) it read, whose cases (``rebuilt`` of them) it built again.
    """

    tables: SparkTables
    events: tuple[str, ...]
    out: str
    read: int
    loaded: int
    quarantined: int
    journeys: int
    rebuilt: int | None = None
    touched: Mapping[str, tuple[str, ...]] | None = None
    lake: bool = False


def _output(out: str, name: str) -> str:
    return out.rstrip("/") + "/" + name


@contextmanager
def _partition_values_as_text(session: object) -> Iterator[None]:
    """Read Hive partition values as text within the block (a service named ``007`` stays ``007``)."""
    key = "spark.sql.sources.partitionColumnTypeInference.enabled"
    before = session.conf.get(key, "true")
    session.conf.set(key, "false")
    try:
        yield
    finally:
        session.conf.set(key, before)


def _lake_files(frame: object) -> dict[tuple[str, str], list[str]] | None:
    """The files of each (service, month) partition of a lake (``service=<service>/month=<YYYY-MM>/``), or None
    when the events are not laid out so."""
    files: dict[tuple[str, str], list[str]] = {}
    for path in frame.inputFiles():
        found = _PARTITION.search(path)
        if found is None:
            return None
        files.setdefault((unquote(found["service"]), unquote(found["month"])), []).append(found["file"])
    return {key: sorted(names) for key, names in files.items()} or None


def require_columns(source: str, columns: Collection[str]) -> None:
    """Refuse the events of `source`, whose columns are `columns`, if they lack one of :data:`REQUIRED_VALUES`.

    Raises
    ------
    SourceReadError
        Naming every required column it lacks.
    """
    missing = [name for name in REQUIRED_VALUES if name not in columns]
    if missing:
        raise SourceReadError(source, f"no column {', '.join(missing)}: events for Spark must be in najma's canonical "
                                      "schema (see najma.journeys._schema; the Spark ingest and Store.export_events write it)")


def not_parquet(source: str, error: Exception) -> SourceReadError:
    r"""The error refusing the events of `source`, which `error` says cannot be read as Parquet (its first line says why).

    Examples
    --------
    >>> print(not_parquet("events.parquet", OSError("Parquet magic bytes not found\nin the footer")))
    events.parquet: cannot read as Parquet: Parquet magic bytes not found
    """
    return SourceReadError(source, f"cannot read as Parquet: {str(error).splitlines()[0]}")


def require_timestamp(source: str, kind: object, is_timestamp: bool) -> None:
    """Refuse the events of `source` unless their timestamp column, of type `kind` (as its reader names it),
    `is_timestamp`.

    Raises
    ------
    SourceReadError
        Naming the column's type.

    Examples
    --------
    >>> require_timestamp("events.parquet", "string", False)
    Traceback (most recent call last):
    ...
    najma.errors.SourceReadError: events.parquet: column timestamp is string, not a timestamp
    """
    if not is_timestamp:
        raise SourceReadError(source, f"column timestamp is {kind}, not a timestamp")


def _read_events(session: object, events: Sequence[str]) -> tuple[object, dict[tuple[str, str], list[str]] | None]:
    """The events of the Parquet files as a Spark DataFrame in the canonical schema, with ``_reason``
    and ``_column`` set on rows that cannot be loaded and ``_month`` the month partition of a lake's rows;
    and the files of each partition of a lake (None when the events are not a lake)."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention

    named = ", ".join(events)
    try:
        with _partition_values_as_text(session):
            frame = session.read.parquet(*events)
    except AnalysisException as exc:
        raise not_parquet(named, exc) from None
    present = {field.name: field.dataType.simpleString() for field in frame.schema.fields}
    require_columns(named, present)
    require_timestamp(named, present["timestamp"], present["timestamp"].startswith("timestamp"))
    lake = _lake_files(frame) if "month" in present else None
    columns = []
    for column in EVENT_COLUMNS:
        kind = _SPARK_TYPES[column.sql_type]
        value = F.col(column.name) if column.name in present else F.lit(None)
        columns.append(value.cast(kind).alias(column.name))
    month = F.col("month").cast("string") if lake is not None else F.lit(None).cast("string")
    frame = frame.select(*columns, F.input_file_name().alias("_file"), month.alias("_month"))
    reason, where = F.lit(None).cast("string"), F.lit(None).cast("string")
    for name in reversed(REQUIRED_VALUES):  # the first empty column of the row is named
        empty = F.col(name).isNull() | ((F.trim(F.col(name)) == "") if name in ("case_id", "activity") else F.lit(False))
        reason = F.when(empty, F.lit(f"no {name}")).otherwise(reason)
        where = F.when(empty, F.lit(name)).otherwise(where)
    return frame.withColumn("_reason", reason).withColumn("_column", where), lake


def _copy_catalogue(store: Store, tables: SparkTables) -> str:
    """Copy the catalogue's tables from the store onto the session (they are small); return their fingerprint."""
    digest = hashlib.sha256()
    for name in CATALOGUE_TABLES:
        table = store.backend.table(name)
        frame = table.to_pandas()
        digest.update(name.encode() + frame.to_json(orient="split", date_format="iso").encode())
        tables.backend.create_view(name, ibis.memtable(frame, schema=table.schema()), overwrite=True)
    return digest.hexdigest()


def _read_state(session: object, out: str) -> dict | None:
    """The state a finished build left in `out` (None when none did, or one was cut short)."""
    from pyspark.errors import AnalysisException

    try:
        rows = session.read.text(_output(out, STATE)).collect()
    except AnalysisException:
        return None
    state = json.loads(rows[0][0]) if len(rows) == 1 else None
    return state if state and state.get("complete") and state.get("format") == _STATE_FORMAT else None


def _write_state(session: object, out: str, state: dict) -> None:
    session.createDataFrame([(json.dumps(state),)], "state string").coalesce(1).write.mode("overwrite").text(
        _output(out, STATE))


def _instant(micros: int | None) -> pd.Timestamp | None:
    # Instants reach the driver as microseconds since 1970: Python's datetimes would be read in its local zone.
    return None if micros is None else pd.Timestamp(micros, unit="us", tz="UTC")


def _span(frame: object, low: str, high: str) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The least instant of column `low` and the greatest of `high` of a Spark DataFrame (None when it is empty)."""
    from pyspark.sql import functions as F  # noqa: N812

    row = frame.agg(F.min(F.unix_micros(low)).alias("first"), F.max(F.unix_micros(high)).alias("last")).collect()[0]
    return _instant(row["first"]), _instant(row["last"])


def build_on_spark(
    session: object, events: Sequence[str], store: Store, out: str, *, incremental: bool = True,
    progress: Progress | None = None,
) -> SparkBuild:
    """Build the steps, journeys and maps of Parquet events on Spark and write them, as Parquet, to `out`.

    Parameters
    ----------
    session : pyspark.sql.SparkSession
        See :func:`spark_session`.
    events : sequence of str
        Parquet files, folders or globs in the canonical event schema, on any filesystem Spark
        reads (``/data/events/*.parquet``, ``s3a://bucket/events/``, ...); or the root of a lake
        that :func:`najma.spark.ingest_on_spark` writes (``OUT/events``, partitioned as
        ``service=<service>/month=<YYYY-MM>``).
    store : Store
        The store whose catalogue (roles, settings, designed journeys, calendar) the build uses.
    out : str
        A folder Spark writes to: ``steps``, ``journeys``, the kept maps (``service_map_edges``,
        ``service_map_activities``, as the DuckDB store keeps them) and ``quarantine`` (rows of this
        build's read that cannot be loaded, with the file, column and reason), and the build's state.
    incremental : bool, default True
        When `events` is a lake that the last build in `out` read, with the same catalogue: read only
        the partitions whose files changed since, and build again only the cases with an event in
        them (before or after the change); the other cases' steps, journeys and map rows are kept
        (their outcome, open or abandoned, is read again at the new last event, as on DuckDB).
        Otherwise every case is built.
    progress : callable, optional
        Called with the name of each stage as it starts.

    Returns
    -------
    SparkBuild
        The counts, and the tables, which stay registered on the session for maps, variants
        and KPIs.
    """
    from pyspark import StorageLevel

    tables = SparkTables(session, out)
    catalogue = _copy_catalogue(store, tables)
    pipeline = JourneyPipeline.of(tables)
    if progress:
        progress("events")
    checked, lake = _read_events(session, events)
    touched = _changed_partitions(session, events, out, lake, catalogue) if incremental and lake is not None else None
    fresh = touched is None
    if lake is not None:  # a build cut short leaves no state: the next one builds every case
        _write_state(session, out, {"complete": False, "format": _STATE_FORMAT})
    read = checked.filter(_in_partitions(touched)) if not fresh else checked
    read = read.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts = _quarantine(read, out)
        loaded = checked.filter("_reason IS NULL").drop("_file", "_reason", "_column")
        loaded.drop("_month").createOrReplaceTempView("events")
        if fresh:
            rebuilt = _build_all(tables, pipeline, loaded, out, progress)
        else:
            rebuilt = _build_touched(tables, pipeline, loaded, read, touched, out, progress) if touched else 0
    finally:
        read.unpersist()
    for name in OUTPUTS:
        session.read.parquet(_output(out, name)).createOrReplaceTempView(name)
    if lake is not None:
        _write_state(session, out, {"complete": True, "format": _STATE_FORMAT, "events": list(events),
                                    "catalogue": catalogue, "files": [[s, m, f] for (s, m), f in sorted(lake.items())]})
    by_service: dict[str, tuple[str, ...]] = {}
    for service, month in touched or ():
        by_service[service] = (*by_service.get(service, ()), month)
    return SparkBuild(tables, tuple(events), out, counts[0], counts[0] - counts[1], counts[1],
                      session.table("journeys").count(), rebuilt, None if fresh else by_service, lake is not None)


def _changed_partitions(session: object, events: Sequence[str], out: str, lake: dict[tuple[str, str], list[str]],
                        catalogue: str) -> list[tuple[str, str]] | None:
    """The (service, month) partitions of `lake` whose files changed since the last build in `out` (added, replaced
    or removed); None when that build did not finish, read other events or used another catalogue."""
    state = _read_state(session, out)
    if state is None or state["events"] != list(events) or state["catalogue"] != catalogue:
        return None
    before = {(service, month): files for service, month, files in state["files"]}
    return sorted(key for key in before.keys() | lake.keys() if before.get(key) != lake.get(key))


def _in_partitions(touched: Sequence[tuple[str, str]]) -> object:
    """A predicate on the rows of the (service, month) partitions `touched` (False for none), which Spark prunes by."""
    from pyspark.sql import functions as F  # noqa: N812

    months: dict[str, list[str]] = {}
    for service, month in touched:
        months.setdefault(service, []).append(month)
    predicate = F.lit(False)
    for service, listed in months.items():
        predicate = predicate | ((F.col("service") == service) & F.col("_month").isin(listed))
    return predicate


def _quarantine(read: object, out: str) -> tuple[int, int]:
    """Write the rows of `read` that cannot be loaded to ``out/quarantine``; return the rows read and quarantined."""
    from pyspark.sql import functions as F  # noqa: N812

    counts = read.agg(F.count(F.lit(1)).alias("read"), F.count("_reason").alias("quarantined")).collect()[0]
    bad = read.filter(F.col("_reason").isNotNull())
    bad.select(F.col("_file").alias("source"), F.lit(None).cast("bigint").alias("row"), F.lit("row").alias("unit"),
               F.col("_column").alias("column"), F.col("_reason").alias("reason"),
               F.to_json(F.struct(*[c.name for c in EVENT_COLUMNS])).alias("record"),
               ).write.mode("overwrite").parquet(_output(out, "quarantine"))
    return counts["read"], counts["quarantined"]


def _build_all(tables: SparkTables, pipeline: JourneyPipeline, events: object, out: str,
               progress: Progress | None) -> int:
    """Build every case of `events` (the loaded events) and write the steps, journeys and maps; return the cases."""
    events = events.drop("_month")
    first, last = _span(events, "timestamp", "timestamp")
    with _steps_and_journeys(tables, pipeline, events, first, last, progress) as (steps, journeys):
        steps.write.mode("overwrite").parquet(_output(out, "steps"))
        journeys.write.mode("overwrite").parquet(_output(out, "journeys"))
    _keep_maps(tables, tables.session.read.parquet(_output(out, "steps")), out, None, progress)
    return tables.session.read.parquet(_output(out, "journeys")).count()


@contextmanager
def _steps_and_journeys(tables: SparkTables, pipeline: JourneyPipeline, events: object, first: object, last: object,
                        progress: Progress | None) -> Iterator[tuple[object, object]]:
    """The kept steps and the finished journeys of `events` (every event of their cases; the first at `first`),
    with outcomes as of `last`, the last event of the whole log: Spark DataFrames, to be computed within the block,
    while the steps they both read are persisted."""
    from pyspark import StorageLevel

    if progress:
        progress("steps")
    events.createOrReplaceTempView("_build_events")
    steps = tables.to_spark(pipeline.steps(tables.backend.table("_build_events"))).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        steps.createOrReplaceTempView("_steps")
        kept = tables.to_spark(pipeline.kept_steps(tables.backend.table("_steps")))
        if progress:
            progress("journeys")
        days = pipeline.calendar_days(first, last)
        if days is not None:
            tables.session.createDataFrame(days).createOrReplaceTempView("_calendar_days")
        finished = pipeline.outcome(pipeline.journeys(tables.backend.table("_steps")), last,
                                    None if days is None else tables.backend.table("_calendar_days"))
        yield kept, tables.to_spark(finished)
    finally:
        steps.unpersist()


def _build_touched(tables: SparkTables, pipeline: JourneyPipeline, events: object, read: object,
                   touched: Sequence[tuple[str, str]], out: str, progress: Progress | None) -> int:
    """Build again the cases with an event in the `touched` partitions, now (`read`, the events of those partitions)
    or before (in the kept steps); keep the others' rows. Return the cases built."""
    from pyspark.sql import functions as F  # noqa: N812

    session = tables.session
    old_steps, old_journeys = (session.read.parquet(_output(out, name)) for name in ("steps", "journeys"))
    month = F.date_format("timestamp", "yyyy-MM").alias("_month")  # the session reads instants in UTC
    cases = (read.filter("_reason IS NULL").select("service", "case_id")
             .union(old_steps.select("service", "case_id", month).filter(_in_partitions(touched)).select("service", "case_id"))
             .distinct().localCheckpoint())
    # A case's events are all at or after its start: the months before the earliest start of a touched case
    # (and before the first touched month) are not read.
    earliest, _ = _span(old_journeys.join(cases, ["service", "case_id"], "left_semi"), "start", "start")
    since = min([month for _, month in touched] + ([] if earliest is None else [earliest.strftime("%Y-%m")]))
    services = sorted({service for service, _ in touched})
    mine = (events.filter(F.col("service").isin(services) & (F.col("_month") >= since))
            .join(cases, ["service", "case_id"], "left_semi").drop("_month"))
    first, _ = _span(mine, "timestamp", "timestamp")
    _, last = _span(events, "timestamp", "timestamp")
    with _steps_and_journeys(tables, pipeline, mine, first, last, progress) as (steps, journeys):
        steps, journeys = steps.localCheckpoint(), journeys.localCheckpoint()
    rebuilt = journeys.count()
    kept = old_journeys.join(cases, ["service", "case_id"], "left_anti")
    kept.createOrReplaceTempView("_kept_journeys")
    all_journeys = (_with_outcome_at(tables, pipeline, last).union(journeys.select(*old_journeys.columns))
                    .localCheckpoint())
    all_steps = (old_steps.join(cases, ["service", "case_id"], "left_anti").unionByName(steps).localCheckpoint())
    # The groups of the maps the rebuilt cases were in, before and after.
    starts = (old_journeys.join(cases, ["service", "case_id"], "left_semi").select("service", "start")
              .union(journeys.select("service", "start")).localCheckpoint())
    maps = [session.read.parquet(_output(out, name)).localCheckpoint() for name in MAP_TABLES]
    all_steps.write.mode("overwrite").parquet(_output(out, "steps"))
    all_journeys.write.mode("overwrite").parquet(_output(out, "journeys"))
    _keep_maps(tables, all_steps, out, (starts, *maps), progress)
    return rebuilt


def _with_outcome_at(tables: SparkTables, pipeline: JourneyPipeline, as_of: object) -> object:
    """The kept journeys (view ``_kept_journeys``) with the outcome of each undecided one (open, or abandoned by how
    long before the log's last event it ended) read again at `as_of`, the new last event."""
    journeys = tables.backend.table("_kept_journeys")
    undecided = journeys.outcome.isin(["open", "abandoned"])
    again = with_outcome(journeys.filter(undecided).drop("outcome"), pipeline.roles, pipeline.settings, as_of)
    return tables.to_spark(journeys.filter(~undecided | journeys.outcome.isnull()).union(again.select(*journeys.columns)))


def _keep_maps(tables: SparkTables, steps: object, out: str, changed: tuple[object, object, object] | None,
               progress: Progress | None) -> None:
    """Write the kept maps of `steps` (see :func:`najma.journeys._aggregates.service_maps`): every row, or with
    `changed` (the (service, start) of the rebuilt cases before and after, and the maps as kept) only the rows of
    the groups that hold one, the others kept."""
    if progress:
        progress("maps")
    zone = quarter_zone(tables)
    steps.createOrReplaceTempView("_map_steps")
    first, last = _span(steps, "case_start", "case_start")
    groups = None
    if changed is not None:
        starts, edges, activities = changed
        low, high = _span(starts, "start", "start")
        starts.createOrReplaceTempView("_starts")
        tables.to_spark(map_groups(tables.backend.table("_starts"), zone, low, high)).createOrReplaceTempView("_groups")
        edges.createOrReplaceTempView("_kept_edges")
        activities.createOrReplaceTempView("_kept_activities")
        groups = ChangedGroups(tables.backend.table("_groups"), tables.backend.table("_kept_edges"),
                               tables.backend.table("_kept_activities"), None if low is None else quarter_start(low, zone))
    maps = service_maps(tables.backend.table("_map_steps"), zone, first, last, groups)
    for name, expression in zip(MAP_TABLES, maps, strict=True):
        tables.to_spark(expression).write.mode("overwrite").parquet(_output(out, name))


def attach_to_store(store: Store, build: SparkBuild) -> list[str]:
    """Point the store's ``steps``, ``journeys``, kept maps and ``events`` at the build's Parquet files, and record
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
    parquet = {name: _output(build.out, name) + "/*.parquet" for name in (*OUTPUTS, "quarantine")}
    files = [path if "://" in path else os.path.abspath(path) for path in build.events]
    if build.lake:  # DuckDB reads the service from the folder names
        files = [_output(path, "**/*.parquet") for path in files]
    try:
        store.parquet_columns(files)
    except StoreError as exc:
        readable, notes = False, [f"{exc}: its events stay empty, so filters on event attributes and redesigns find nothing"]
    else:
        readable, notes = True, []
    with store.transaction():
        for name in OUTPUTS:
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
