"""Build the steps and journey tables of a store: the work done once, so that questions are quick.

The store keeps each stage of the journey pipeline (:class:`najma.journeys.JourneyPipeline`,
which defines the steps, journeys, outcome and working time) in a table: ``steps`` (the columns
of :data:`najma.journeys._pipeline.STEPS_KEPT`) and ``journeys``; :func:`build_journeys` rebuilds only
the cases a new batch touched. The process map of each service and of all of them, per quarter
and over all cases, is kept too (:func:`najma.journeys._aggregates.service_maps`), worked out again from
the steps: after a new batch, only the rows of the groups its cases fall in.

The catalogue (see :mod:`najma.journeys._catalogue`) is written into the store by :func:`register_catalogue`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import ibis
import pandas as pd
from ibis.expr.types import Table

from najma.errors import StoreError
from najma.journeys._aggregates import SERVICE_MAP_ACTIVITIES, SERVICE_MAP_EDGES, ChangedGroups, service_maps
from najma.journeys._catalogue import Catalogue
from najma.journeys._conformance_checking import designed_rows
from najma.journeys._pipeline import JourneyPipeline, with_outcome
from najma.journeys._quarter import quarter_expr, quarter_start, quarter_zone
from najma.journeys._store import Store

__all__ = ["build_journeys", "register_catalogue", "map_groups"]

Progress = Callable[[str], None]
#: The memory (bytes) a build takes per event of a part: the peak resident memory of a build in one part, above
#: the process's imports, over its events, with the narrow coded steps. Under a memory limit
#: (``$NAJMA_MEMORY_LIMIT``, of which DuckDB is given :data:`najma.journeys._store.DUCKDB_SHARE`) the build works
#: through the cases in parts that each fit half of the limit, so that DuckDB seldom spills. Measured with
#: ``benchmarks/journey_build.py`` (its "bytes per event" line, run without a limit; update this figure from it):
#: 463 at 10.4M events (4.6 GB), 719 at 1.0M (a fixed part weighs more in a small build). At 10.4M events under
#: 3GB: 4 parts, 30.5 s, peak 2,937 MiB.
BUILD_BYTES_PER_EVENT = 470
#: The catalogue's facts per service, as kept in the store's ``service_settings`` table.
SERVICE_SETTINGS: dict[str, str] = {
    "service": "string", "name_en": "string", "name_ar": "string", "agency": "string", "sla_hours": "float64",
    "open_days": "float64", "draft": "bool",
}


def register_catalogue(store: Store, catalogue: Catalogue) -> None:
    """Write the catalogue's roles, documents, settings (with its draft marks), designed journeys and life events into
    the store (replacing earlier ones).

    The journeys are stale until :func:`build_journeys` runs (see :meth:`najma.journeys.Store.journeys_stale`).
    """
    roles = pd.DataFrame(
        [(key, activity, role) for key, spec in catalogue.services.items()
         for activity, names in spec.activities.items() for role in names],
        columns=["service", "activity", "role"],
    ).astype("string")
    settings = pd.DataFrame(
        [(key, s.name_en, s.name_ar, s.agency, s.sla_hours, s.open_days, s.draft) for key, s in catalogue.services.items()],
        columns=list(SERVICE_SETTINGS),
    ).astype(SERVICE_SETTINGS)
    documents = pd.DataFrame(
        [(key, activity, document) for key, spec in catalogue.services.items()
         for activity, names in spec.documents.items() for document in names],
        columns=["service", "activity", "document"],
    ).astype("string")
    channels = pd.DataFrame(
        [(name, str(spec.get("name_ar", name)), bool(spec.get("digital", False)))
         for name, spec in catalogue.channels.items()],
        columns=["channel", "name_ar", "digital"],
    ).astype({"channel": "string", "name_ar": "string", "digital": "bool"})
    bundles = pd.DataFrame(
        [(key, service, life.window_days) for key, life in catalogue.life_events.items() for service in life.services],
        columns=["life_event", "service", "window_days"],
    ).astype({"life_event": "string", "service": "string", "window_days": "int64"})
    names = pd.DataFrame(
        list(catalogue.activity_names_ar.items()), columns=["activity", "name_ar"]
    ).astype("string")
    display = pd.DataFrame(
        [("agency", name, name, str(spec.get("name_ar", name))) for name, spec in catalogue.agencies.items()]
        + [("life_event", key, life.name_en, life.name_ar) for key, life in catalogue.life_events.items()],
        columns=["kind", "key", "name_en", "name_ar"],
    ).astype("string")
    calendar = catalogue.calendar
    calendars = pd.DataFrame(
        [] if calendar is None else [(calendar.time_zone, list(calendar.work_days), calendar.opens, calendar.closes,
                                      list(calendar.holidays))],
        columns=["time_zone", "work_days", "opens", "closes", "holidays"],
    )
    tables = (("activity_roles", roles), ("activity_documents", documents), ("service_settings", settings),
              ("channel_settings", channels),
              ("activity_names", names), ("display_names", display),
              ("designed_journeys", designed_rows(catalogue)), ("life_event_services", bundles), ("work_calendar", calendars))
    with store.transaction():
        for name, frame in tables:
            store.replace_rows(name, frame)
        store.note_change()


def build_journeys(store: Store, *, batch_id: int | None = None, progress: Progress | None = None) -> int:
    """(Re)build the store's ``steps`` and ``journeys`` tables and its kept maps; return the number of journeys.

    Parameters
    ----------
    store : Store
        The store; it is changed in one transaction. Under its memory limit the cases are built
        in parts that fit (see :data:`BUILD_BYTES_PER_EVENT`).
    batch_id : int, optional
        Rebuild only the cases that have events in this batch, when the journeys are current but for
        it (:meth:`Store.journeys_lack_only <najma.journeys.Store.journeys_lack_only>`); otherwise,
        and by default, every case is built. Then only the rows of the kept maps whose groups hold
        one of those cases are worked out again (:class:`~najma.journeys._aggregates.ChangedGroups`),
        and of the other cases only those whose outcome the store's new last event changes (open to
        abandoned) are written again.
    progress : callable, optional
        Called with the name of each stage as it starts.

    Raises
    ------
    StoreError
        If the store reads the tables of a Spark build (:func:`najma.spark.attach_to_store`): they are built on Spark.
    """
    if store.table_kind("events") == "VIEW":
        raise StoreError(f"{store.path} reads the events, steps and journeys of a Spark build; build them again on "
                         "Spark (najma.spark.build_on_spark) and attach that build", parameter="store")
    backend = store.backend
    events = backend.table("events")
    pipeline = JourneyPipeline.of(store)
    partial = batch_id is not None and store.journeys_lack_only(batch_id)
    as_of = events.timestamp.max().to_pyarrow().as_py()
    zone = quarter_zone(store)
    working = ["_steps", "_fresh"]
    with store.transaction():
        if partial:
            # A case is named by its integer key (the events, steps and journeys of a store all carry it): matching
            # on it rather than on (service, case_id) saves comparing long strings over every event.
            touched = events.filter(events.batch_id == batch_id).select("case_key").distinct()
            store.replace_table("_touched", touched, temporary=True)
            events = events.semi_join(backend.table("_touched"), "case_key")
            # The groups of the maps the touched cases were in before: their old starts.
            journeys = backend.table("journeys")
            store.replace_table("_before", journeys.semi_join(backend.table("_touched"), "case_key")
                                .select("service", "start"), temporary=True)
            for table in ("steps", "journeys"):
                store.delete_matching(table, backend.table("_touched"), ["case_key"])
            working += ["_touched", "_before"]
        parts = _parts(store, events)
        for part in range(parts):
            if progress:
                progress(f"steps and journeys, part {part + 1} of {parts}")
            # A case's events are all in one part: the part is its key's remainder (keys are given in turn).
            chosen = events if parts == 1 else events.filter(events.case_key % parts == part)
            # The steps of the part, coded, stay aside for the journeys; the store keeps their decoded columns
            # (STEPS_KEPT), those that maps and variants read.
            store.replace_table("_steps", pipeline.steps(chosen), temporary=True)
            _write(store, "steps", pipeline.kept_steps(backend.table("_steps")), append=partial or part > 0)
            _write(store, "_fresh", pipeline.journeys(backend.table("_steps"), chosen), append=part > 0, temporary=True)
        fresh = backend.table("_fresh")
        if progress:
            progress("maps of the touched groups" if partial else "maps")
        changed = None
        if partial:
            starts = backend.table("_before").union(fresh.select("service", "start"))
            first, last = _bounds(starts, "start", "start")
            store.replace_table("_groups", map_groups(starts, zone, first, last), temporary=True)
            working.append("_groups")
            changed = ChangedGroups(backend.table("_groups"), backend.table(SERVICE_MAP_EDGES),
                                    backend.table(SERVICE_MAP_ACTIVITIES), None if first is None else quarter_start(first, zone))
        _keep_maps(store, zone, changed)
        if progress:
            progress("outcomes")
        days = pipeline.calendar_days(*_bounds(fresh, "start", "end"))
        if days is not None:
            store.replace_table("_calendar_days", days, temporary=True)
            working.append("_calendar_days")
        finished = pipeline.outcome(fresh, as_of, None if days is None else backend.table("_calendar_days"))
        if partial:
            _refresh_outcomes(store, pipeline, as_of)
            store.append("journeys", finished)
        else:
            store.replace_table("journeys", finished)
        for temporary in working:
            store.drop_table(temporary)
        store.note_journeys_built()
        return store.n_rows("journeys")


def map_groups(starts: Table, zone: str, first: object, last: object) -> Table:
    """The distinct (service, quarter) of cases with these (service, start), their quarters read in `zone`; `first`
    and `last` are the least and greatest start (None when there are none)."""
    quarter = ibis.null("string") if first is None else quarter_expr(starts.start, zone, first, last)
    return starts.select("service", quarter=quarter).distinct()


def _keep_maps(store: Store, zone: str, changed: ChangedGroups | None) -> None:
    """Write the kept maps of the steps: all their rows, or only the rows of the `changed` groups (keeping the others)."""
    steps = store.backend.table("steps")
    maps = service_maps(steps, zone, *_bounds(steps, "case_start", "case_start"), changed)
    for table, expression in zip((SERVICE_MAP_EDGES, SERVICE_MAP_ACTIVITIES), maps, strict=True):
        # Made aside first when the expression reads the table it replaces.
        store.replace_table("_map", expression, temporary=True)
        store.replace_table(table, store.backend.table("_map"))
        store.drop_table("_map")


def _refresh_outcomes(store: Store, pipeline: JourneyPipeline, as_of: object) -> None:
    """Write again the journeys whose outcome `as_of` (the store's new last event) changes: only an undecided case,
    open or abandoned by how long before the store's last event it ended, can change."""
    journeys = store.backend.table("journeys")
    undecided = journeys.filter(journeys.outcome.isin(["open", "abandoned"])).rename(was="outcome")
    again = with_outcome(undecided, pipeline.roles, pipeline.settings, as_of)
    store.replace_table("_changed", again.filter(again.outcome != again.was).drop("was"), temporary=True)
    store.delete_matching("journeys", store.backend.table("_changed"), ["case_key"])
    store.append("journeys", store.backend.table("_changed"))
    store.drop_table("_changed")


def _parts(store: Store, events: Table) -> int:
    """In how many parts to build `events`: one without a memory limit, else parts that fit half of it."""
    if store.memory_limit is None:
        return 1
    count = int(store.backend.execute(events.count()))
    return max(1, math.ceil(count * BUILD_BYTES_PER_EVENT / (store.memory_limit / 2)))


def _write(store: Store, table: str, expression: Table, append: bool, temporary: bool = False) -> None:
    """Create `table` from `expression`, or append to it."""
    if append:
        store.append(table, expression)
    else:
        store.replace_table(table, expression, temporary=temporary)


def _bounds(table: Table, low: str, high: str) -> tuple[object, object]:
    """The least value of column `low` and the greatest of `high` of `table` (None when it is empty)."""
    row = table.aggregate(first=table[low].min(), last=table[high].max()).to_pyarrow().to_pylist()[0]
    return row["first"], row["last"]
