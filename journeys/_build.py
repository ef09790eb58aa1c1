"""Build the steps and journey tables of a store: the work done once, so that questions are quick.

The store keeps each stage of the journey pipeline (:class:`najma.journeys.JourneyPipeline`,
which defines the steps, journeys, outcome and working time) in a table: ``steps`` (the columns
of :data:`najma.journeys._pipeline.STEPS_KEPT`) and ``journeys``; :func:`build_journeys` rebuilds only
the cases a new batch touched. The process map of each service and of all of them, per quarter
and over all cases, is kept too (:func:`najma.journeys._aggregates.service_maps`), worked out again from
the steps on every build.

The catalogue (see :mod:`najma.journeys._catalogue`) is written into the store by :func:`register_catalogue`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd
from ibis.expr.types import Table

from najma.journeys._aggregates import SERVICE_MAP_ACTIVITIES, SERVICE_MAP_EDGES, service_maps
from najma.journeys._catalogue import Catalogue
from najma.journeys._pipeline import STEPS_KEPT, JourneyPipeline
from najma.journeys._quarter import quarter_zone
from najma.journeys._store import Store

__all__ = ["build_journeys", "register_catalogue"]

Progress = Callable[[str], None]
#: The memory a build's window passes take per event (measured: 5.4 GB at 10.2M events). Under a
#: memory limit (``$NAJMA_MEMORY_LIMIT``) the build works through the cases in parts that each fit
#: half of it, so that DuckDB seldom spills: at 10.2M events and 2.5GB, five parts, peak 2.9 GB,
#: 51 s (one part: 64 s; without a limit: one part, 39 s and 6.4 GB).
BUILD_BYTES_PER_EVENT = 500
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
    designed = pd.DataFrame(
        [(key, position, activity) for key, spec in catalogue.services.items()
         for position, activity in enumerate(spec.designed_journey)],
        columns=["service", "position", "activity"],
    ).astype({"service": "string", "position": "int64", "activity": "string"})
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
              ("designed_journeys", designed), ("life_event_services", bundles), ("work_calendar", calendars))
    with store.transaction():
        for name, frame in tables:
            store.replace_rows(name, frame)
        store.note_change()


def build_journeys(store: Store, *, batch_id: int | None = None, progress: Progress | None = None) -> int:
    """(Re)build the store's ``steps`` and ``journeys`` tables; return the number of journeys.

    Parameters
    ----------
    store : Store
        The store; it is changed in one transaction. Under its memory limit the cases are built
        in parts that fit (see :data:`BUILD_BYTES_PER_EVENT`).
    batch_id : int, optional
        Rebuild only the cases that have events in this batch, when the journeys are current but for
        it (:meth:`Store.journeys_lack_only <najma.journeys.Store.journeys_lack_only>`); otherwise,
        and by default, every case is built. The outcomes of all cases are refreshed either way, as
        they depend on the store's last event.
    progress : callable, optional
        Called with the name of each stage as it starts.
    """
    backend = store.backend
    events = backend.table("events")
    pipeline = JourneyPipeline.of(store)
    partial = batch_id is not None and store.journeys_lack_only(batch_id)
    as_of = events.timestamp.max().to_pyarrow().as_py()
    with store.transaction():
        if partial:
            touched = events.filter(events.batch_id == batch_id).select("service", "case_id").distinct()
            store.replace_table("_touched", touched, temporary=True)
            events = events.semi_join(backend.table("_touched"), ["service", "case_id"])
            for table in ("steps", "journeys"):
                store.delete_matching(table, backend.table("_touched"), ["service", "case_id"])
        parts = _parts(store, events)
        for part in range(parts):
            if progress:
                progress(f"steps and journeys, part {part + 1} of {parts}")
            # A case's events are all in one part: the part is a hash of the case id.
            chosen = events if parts == 1 else events.filter((events.case_id.hash() % parts + parts) % parts == part)
            # All the step facts live in memory for the journeys; the store keeps the columns that
            # maps and variants read, which saves writing the events' text columns a second time.
            store.replace_table("_steps", pipeline.steps(chosen), temporary=True)
            _write(store, "steps", backend.table("_steps").select(*STEPS_KEPT), append=partial or part > 0)
            _write(store, "_fresh", pipeline.journeys(backend.table("_steps")), append=part > 0, temporary=True)
        if progress:
            progress("maps")
        # The maps of each service and of all of them, per quarter and over all cases, read back by process_map.
        first, last = _bounds(backend.table("steps"), "case_start", "case_start")
        maps = service_maps(backend.table("steps"), quarter_zone(store), first, last)
        for table, expression in zip((SERVICE_MAP_EDGES, SERVICE_MAP_ACTIVITIES), maps, strict=True):
            store.replace_table(table, expression)
        if progress:
            progress("outcomes")
        fresh = backend.table("_fresh")
        if partial:
            # Outcomes of every case depend on the store's last event: all are worked out again.
            store.append("_fresh", backend.table("journeys").drop("outcome", "working_seconds"))
        days = pipeline.calendar_days(*_bounds(fresh, "start", "end"))
        working = ["_steps", "_fresh", *(["_touched"] if partial else [])]
        if days is not None:
            store.replace_table("_calendar_days", days, temporary=True)
            working.append("_calendar_days")
        store.replace_table("journeys", pipeline.outcome(fresh, as_of, None if days is None else backend.table("_calendar_days")))
        for temporary in working:
            store.drop_table(temporary)
        store.note_journeys_built()
        return store.n_rows("journeys")


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
