"""Build the steps and journey tables of a store: the work done once, so that questions are quick.

``steps`` holds every event with its place in its case (ordered by timestamp, then event_seq),
its case's start and key (the event_seq of the case's first event, an integer that names the case
in the store), its successor and the seconds until it, and whether it repeats an activity of its case.
``journeys`` holds one row per case with its metrics and variant. Both are Ibis expressions over
the store's tables, materialised in the store; :func:`build_journeys` rebuilds only the cases a
new batch touched. The process map of each service and of all of them, per quarter and over all
cases, is kept too (:func:`journeys.aggregates.service_maps`), worked out again from the steps on
every build.

Roles come from the service catalogue (see :mod:`journeys.catalogue`) registered with
:func:`register_catalogue`. A service the catalogue does not describe falls back on the events'
``actor`` column for its customer, staff and system steps and has no other roles.

Outcome
-------
A case is *rejected* or *completed* once an activity with the role ``rejection`` or
``approval`` is in it. An undecided case is *open* while its last event is less than the
service's ``open_days`` (default 30) before the last event of the store, *abandoned* after that.
A service without decision roles has no outcome (NULL).

Working time
------------
``working_seconds`` is the part of a journey's duration within the working hours of the
catalogue's work calendar (see :mod:`journeys.working_time`); empty without a calendar.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import ibis
import pandas as pd
from ibis.expr.types import Table

from najma.journeys._aggregates import SERVICE_MAP_ACTIVITIES, SERVICE_MAP_EDGES, count_true, service_maps
from najma.journeys._catalogue import DEFAULT_OPEN_DAYS, ROLES, Catalogue
from najma.journeys._store import Store
from najma.journeys._quarter import quarter_zone
from najma.journeys._working_time import covering_days, days_by_utc_day, registered_calendar, with_working_time

__all__ = ["build_journeys", "register_catalogue", "steps_expr", "journeys_expr", "with_outcome", "VARIANT_SEP", "ROLE_FLAGS"]

#: Separates the activities of a variant in its text form.
VARIANT_SEP = " → "
#: The roles kept as boolean columns of the steps table.
ROLE_FLAGS: tuple[str, ...] = tuple(ROLES)
_ACTOR_ROLES = {"customer_step": "customer", "staff_step": "staff", "system_step": "system"}
Progress = Callable[[str], None]
#: The memory a build's window passes take per event (measured: 5.4 GB at 10.2M events). Under a
#: memory limit (``$NAJMA_MEMORY_LIMIT``) the build works through the cases in parts that each fit
#: half of it, so that DuckDB seldom spills: at 10.2M events and 2.5GB, five parts, peak 2.9 GB,
#: 51 s (one part: 64 s; without a limit: one part, 39 s and 6.4 GB).
BUILD_BYTES_PER_EVENT = 500
#: The catalogue's facts per service, as kept in the store's ``service_settings`` table.
SERVICE_SETTINGS: dict[str, str] = {
    "service": "string", "name_en": "string", "name_ar": "string", "agency": "string", "sla_hours": "float64",
    "open_days": "float64",
}
#: The columns of the steps table kept in the store. The role flags are counted into the journeys
#: and not kept: no map, variant or conformance question reads them, and they were a third of the
#: time it takes to write the table.
STEPS_KEPT: tuple[str, ...] = (
    "service", "case_id", "event_seq", "activity", "timestamp", "case_start", "case_key", "position", "next_activity", "seconds_to_next",
    "occurrence", "self_loop", "repetition",
)


def register_catalogue(store: Store, catalogue: Catalogue) -> None:
    """Write the catalogue's roles, settings, designed journeys and life events into the store (replacing earlier ones).

    Call :func:`build_journeys` afterwards for the journeys to follow.
    """
    roles = pd.DataFrame(
        [(key, activity, role) for key, spec in catalogue.services.items()
         for activity, names in spec.activities.items() for role in names],
        columns=["service", "activity", "role"],
    ).astype("string")
    settings = pd.DataFrame(
        [(key, s.name_en, s.name_ar, s.agency, s.sla_hours, s.open_days) for key, s in catalogue.services.items()],
        columns=list(SERVICE_SETTINGS),
    ).astype(SERVICE_SETTINGS)
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
    tables = (("activity_roles", roles), ("service_settings", settings), ("channel_settings", channels),
              ("activity_names", names), ("display_names", display),
              ("designed_journeys", designed), ("life_event_services", bundles), ("work_calendar", calendars))
    with store.transaction():
        for name, frame in tables:
            store.replace_rows(name, frame)


def steps_expr(events: Table, roles: Table) -> Table:
    """Return every event with its position, successor, predecessor facts and role flags.

    Parameters
    ----------
    events : ibis Table
        Events in the store's schema.
    roles : ibis Table
        (service, activity, role) rows of the catalogue.
    """
    # The window passes sort every column they carry, so the role flags are joined after them.
    events = events.select(
        "service", "case_id", "event_seq", "activity", "timestamp", "start_timestamp", "customer_id", "channel",
        "agency", "resource", "satisfaction", "cost", "actor",
    )
    case = ibis.window(group_by=[events.service, events.case_id], order_by=[events.timestamp, events.event_seq])
    same = ibis.window(
        group_by=[events.service, events.case_id, events.activity], order_by=[events.timestamp, events.event_seq]
    )
    ordered = events.mutate(
        position=ibis.row_number().over(case),
        case_start=events.timestamp.first().over(case),
        case_key=events.event_seq.first().over(case),
        next_activity=events.activity.lead().over(case),
        next_timestamp=events.timestamp.lead().over(case),
        previous_activity=events.activity.lag().over(case),
        previous_channel=events.channel.lag().over(case),
        previous_agency=events.agency.lag().over(case),
        occurrence=ibis.row_number().over(same),
        previous_resource_same_activity=events.resource.lag().over(same),
    )
    flags = roles.group_by(["service", "activity"]).aggregate(
        **{role: (roles.role == role).any() for role in ROLE_FLAGS}
    )
    catalogued = roles.select("service").distinct().mutate(catalogued=ibis.literal(True))
    steps = (
        ordered.left_join(flags, ["service", "activity"])
        .left_join(catalogued, "service")
        .select(
            ordered,
            **{
                role: (
                    ibis.coalesce(flags[role], False)
                    if role not in _ACTOR_ROLES
                    else ibis.ifelse(
                        catalogued.catalogued.notnull(), ibis.coalesce(flags[role], False),
                        ibis.coalesce(ordered.actor == _ACTOR_ROLES[role], False),
                    )
                )
                for role in ROLE_FLAGS
            },
        )
    )
    return steps.mutate(
        seconds_to_next=steps.next_timestamp.epoch_seconds() - steps.timestamp.epoch_seconds(),
        self_loop=ibis.coalesce(steps.previous_activity == steps.activity, False),
        repetition=steps.occurrence > 0,
        repeat_same_resource=(steps.occurrence > 0)
        & ibis.coalesce(steps.previous_resource_same_activity == steps.resource, False),
        channel_switch=ibis.coalesce(steps.previous_channel != steps.channel, False),
        agency_handoff=ibis.coalesce(steps.previous_agency != steps.agency, False),
    ).drop("actor", "previous_channel", "previous_agency", "previous_resource_same_activity")


def journeys_expr(steps: Table) -> Table:
    """Return one row per case (service, case_id) with its metrics and variant, but no outcome.

    Parameters
    ----------
    steps : ibis Table
        As made by :func:`steps_expr`.
    """
    has_processing = steps.start_timestamp.notnull()
    # A variant is found by an order-sensitive key (a sum of hashes of activity and position), so
    # that the costly ordered text of a variant is built once per variant, not once per case.
    step_hash = ibis.struct({"activity": steps.activity, "position": steps.position}).hash()
    # A case is grouped by its integer key, which names it as (service, case_id) does but hashes
    # and compares much faster than two strings.
    cases = steps.group_by("case_key").aggregate(
        service=steps.service.arbitrary(),
        case_id=steps.case_id.arbitrary(),
        customer_id=steps.customer_id.argmin(steps.position, where=steps.customer_id.notnull()),
        first_channel=steps.channel.argmin(steps.position, where=steps.channel.notnull()),
        first_agency=steps.agency.argmin(steps.position, where=steps.agency.notnull()),
        channel_list=steps.channel.collect(distinct=True).sort(),
        start=steps.timestamp.min(),
        end=steps.timestamp.max(),
        events=steps.count().cast("int64"),
        customer_steps=count_true(steps.customer_step),
        staff_steps=count_true(steps.staff_step),
        system_steps=count_true(steps.system_step),
        visits=count_true(steps.visit),
        document_requests=count_true(steps.document_request),
        document_submissions=count_true(steps.document_submission),
        payments=count_true(steps.payment),
        channel_switches=count_true(steps.channel_switch),
        agency_handoffs=count_true(steps.agency_handoff),
        agencies=steps.agency.nunique(),
        self_loops=count_true(steps.self_loop),
        repetitions=count_true(steps.repetition),
        customer_repeats=count_true(steps.customer_step & steps.repetition),
        repeats_same_resource=count_true(steps.repeat_same_resource),
        processing_seconds=(steps.timestamp.epoch_seconds() - steps.start_timestamp.epoch_seconds()).sum(
            where=has_processing
        ),
        approved=steps.approval.any(),
        rejected=steps.rejection.any(),
        proactive=steps.proactive_start.any(),
        satisfaction=steps.satisfaction.mean(),
        cost=steps.cost.sum(),
        variant_key=step_hash.cast("decimal(38, 0)").sum(),
    )
    representatives = cases.group_by(["variant_key", "events"]).aggregate(case_key=cases.case_key.min())
    texts = (
        steps.semi_join(representatives, "case_key")
        .group_by("case_key")
        .aggregate(ordered=ibis.struct({"position": steps.position, "activity": steps.activity}).collect())
    )
    # Sorting the collected (position, activity) pairs orders them portably (no ordered aggregate on every engine).
    variant = texts.ordered.sort().map(lambda step: step.activity).join(VARIANT_SEP)
    names = representatives.join(texts, "case_key").select("variant_key", "events", variant=variant)
    cases = cases.join(names, ["variant_key", "events"]).drop("variant_key")
    return cases.mutate(
        channels=ibis.coalesce(cases.channel_list.length(), 0).cast("int64"),  # no second count of distinct channels
        duration_seconds=cases.end.epoch_seconds() - cases.start.epoch_seconds(),
        documents_asked_again=ibis.greatest(cases.document_submissions - 1, 0).cast("int64"),
        redos_other_resource=cases.repetitions - cases.repeats_same_resource,
    ).relocate("service", "case_id").relocate("channels", before="channel_list")


def with_outcome(journeys: Table, roles: Table, settings: Table, as_of: object) -> Table:
    """Add the ``outcome`` of each case, as the module docstring defines it.

    Parameters
    ----------
    journeys : ibis Table
        As made by :func:`journeys_expr`.
    roles, settings : ibis Table
        The catalogue's (service, activity, role) and (service, open_days) rows.
    as_of : timestamp
        The store's last event.
    """
    deciding = roles.filter(roles.role.isin(["approval", "rejection"])).select("service").distinct()
    deciding = deciding.mutate(has_decisions=ibis.literal(True))
    joined = (
        journeys.left_join(settings, "service")
        .left_join(deciding, "service")
        .select(journeys, settings.open_days, deciding.has_decisions)
    )
    open_days = ibis.coalesce(joined.open_days, float(DEFAULT_OPEN_DAYS))
    idle_days = (ibis.literal(as_of).cast("timestamp('UTC')").epoch_seconds() - joined.end.epoch_seconds()) / 86400
    outcome = ibis.cases(
        (joined.has_decisions.isnull(), ibis.null("string")),
        (joined.rejected, "rejected"),
        (joined.approved, "completed"),
        (idle_days >= open_days, "abandoned"),
        else_="open",
    )
    return joined.mutate(outcome=outcome).drop("open_days", "has_decisions")


def build_journeys(store: Store, *, batch_id: int | None = None, progress: Progress | None = None) -> int:
    """(Re)build the store's ``steps`` and ``journeys`` tables; return the number of journeys.

    Parameters
    ----------
    store : Store
        The store; it is changed in one transaction. Under its memory limit the cases are built
        in parts that fit (see :data:`BUILD_BYTES_PER_EVENT`).
    batch_id : int, optional
        Rebuild only the cases that have events in this batch (after an ingest); the outcomes
        of all cases are refreshed, as they depend on the store's last event.
    progress : callable, optional
        Called with the name of each stage as it starts.
    """
    backend = store.backend
    events = backend.table("events")
    # Journeys an earlier najma built are rebuilt whole.
    partial = (batch_id is not None and store.has_table("steps") and store.has_table("journeys")
               and not store.journeys_outdated())
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
            store.replace_table("_steps", steps_expr(chosen, backend.table("activity_roles")), temporary=True)
            _write(store, "steps", backend.table("_steps").select(*STEPS_KEPT), append=partial or part > 0)
            _write(store, "_fresh", journeys_expr(backend.table("_steps")), append=part > 0, temporary=True)
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
        outcomes = with_outcome(fresh, backend.table("activity_roles"), backend.table("service_settings"), as_of)
        days = covering_days(registered_calendar(store), *_bounds(fresh, "start", "end"))
        working = ["_steps", "_fresh", *(["_touched"] if partial else [])]
        if days is not None:
            store.replace_table("_calendar_days", days_by_utc_day(days), temporary=True)
            working.append("_calendar_days")
        store.replace_table("journeys", with_working_time(outcomes, None if days is None else backend.table("_calendar_days")))
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
