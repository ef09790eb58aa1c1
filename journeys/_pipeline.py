"""The journey pipeline: events -> steps -> journeys -> outcome and working time, described once.

One description, :class:`JourneyPipeline`, run by every engine: the DuckDB store's build
(:func:`najma.journeys.build_journeys`) keeps each stage in a table, the Spark engine
(:func:`najma.spark.build_on_spark`) in a persisted frame, and the redesign projection
(:func:`najma.journeys.project_journeys`) runs it as one expression. Each stage is an Ibis expression,
so an engine only decides where a stage's result is kept.

``steps`` holds every event with its place in its case (ordered by timestamp, then event_seq),
its case's start and key (an integer that names the case: the store's ``case_key``, given at
ingest, or for events read elsewhere the event_seq of the case's first event), its successor and the seconds until it, and whether it repeats an activity of its case.
``journeys`` holds one row per case with its metrics and variant. A case whose events name no
customer is its own customer (``service/case_id``), so that every count of customers counts cases
when a log has no customer column (see :mod:`najma.journeys._columns`).

Roles come from the service catalogue (see :mod:`najma.journeys._catalogue`) registered with
:func:`najma.journeys.register_catalogue`. A service the catalogue does not describe falls back on the
events' ``actor`` column for its customer, staff and system steps and has no other roles.

Outcome
-------
A case is *rejected* or *completed* once an activity with the role ``rejection`` or
``approval`` is in it. An undecided case is *open* while its last event is less than the
service's ``open_days`` (default 30) before the last event of the store, *abandoned* after that.
A service without decision roles has no outcome (NULL).

Documents asked again
---------------------
A step with the role ``document_submission`` supplies the documents the catalogue's ``documents``
table maps its activity to, or, when it maps none, one document named after its activity (see
:mod:`najma.journeys._catalogue`). ``documents_asked_again`` counts a case's supplies of a document
it had already supplied earlier in the case (its events ordered by timestamp, then event_seq). That
is the number of its supplies less the number of distinct documents among them, whatever the
order: three different documents count 0; the same document supplied twice counts 1.

Working time
------------
``working_seconds`` is the part of a journey's duration within the working hours of the
catalogue's work calendar (see :mod:`najma.journeys._working_time`); empty without a calendar.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import pandas as pd
from ibis.expr.types import Table

from najma.journeys._aggregates import count_true
from najma.journeys._catalogue import DEFAULT_OPEN_DAYS, ROLES
from najma.journeys._codes import CODE_COLUMNS, CODED
from najma.journeys._tables import JourneyTables
from najma.journeys._working_time import (
    WorkCalendar,
    covering_days,
    days_by_utc_day,
    registered_calendar,
    with_working_time,
)

__all__ = ["JourneyPipeline", "steps_expr", "journeys_expr", "document_supplies", "with_outcome", "VARIANT_SEP", "ROLE_FLAGS", "STEPS_KEPT"]

#: Separates the activities of a variant in its text form.
VARIANT_SEP = " → "
#: The roles kept as boolean columns of the steps table.
ROLE_FLAGS: tuple[str, ...] = tuple(ROLES)
_ACTOR_ROLES = {"customer_step": "customer", "staff_step": "staff", "system_step": "system"}
#: The columns of the steps table an engine keeps. The role flags are counted into the journeys
#: and not kept: no map, variant or conformance question reads them, and they were a third of the
#: time it takes to write the table.
STEPS_KEPT: tuple[str, ...] = (
    "service", "case_id", "event_seq", "activity", "timestamp", "case_start", "case_key", "position", "next_activity", "seconds_to_next",
    "occurrence", "self_loop", "repetition",
)


@dataclass(frozen=True)
class JourneyPipeline:
    """Steps -> journeys -> outcome and working time, with the catalogue of one engine's tables.

    Parameters
    ----------
    roles : ibis Table
        The catalogue's (service, activity, role) rows.
    documents : ibis Table
        The catalogue's (service, activity, document) rows: the documents a submission supplies.
    settings : ibis Table
        The catalogue's settings per service (``service_settings``: service, open_days, ...).
    calendar : WorkCalendar, optional
        The work calendar; None leaves the working time empty.

    Examples
    --------
    >>> import os, pandas as pd
    >>> from najma.journeys import EventLog
    >>> os.environ.setdefault("NAJMA_PSEUDONYM_KEY", "example-key")
    '...'
    >>> log = EventLog.from_frame(pd.DataFrame({
    ...     "case_id": ["a", "a", "b"], "activity": ["Apply", "Pay", "Apply"],
    ...     "timestamp": pd.date_range("2025-01-05", periods=3, freq="h", tz="UTC")}), service="permit")
    >>> pipeline = JourneyPipeline.of(log.store)
    >>> events = log.store.backend.table("events")
    >>> journeys = pipeline.run(events, pd.Timestamp("2025-01-06", tz="UTC"), None, None).order_by("case_id")
    >>> journeys.select("variant", "events").to_pandas().to_dict("list")
    {'variant': ['Apply → Pay', 'Apply'], 'events': [2, 1]}
    """

    roles: Table
    documents: Table
    settings: Table
    calendar: WorkCalendar | None
    labels: Table | None = None

    @classmethod
    def of(cls, tables: JourneyTables, roles: Table | None = None, documents: Table | None = None) -> JourneyPipeline:
        """The pipeline with the catalogue registered in `tables` (a Store or SparkTables).

        Parameters
        ----------
        tables : Store or SparkTables
            Tables holding ``activity_roles``, ``activity_documents``, ``service_settings`` and ``work_calendar``.
        roles : ibis Table, optional
            (service, activity, role) rows to use instead of the registered ones (a redesign's).
        documents : ibis Table, optional
            (service, activity, document) rows to use instead of the registered ones (a redesign's).
        """
        backend = tables.backend
        return cls(backend.table("activity_roles") if roles is None else roles,
                   backend.table("activity_documents") if documents is None else documents,
                   backend.table("service_settings"), registered_calendar(tables),
                   backend.table("labels") if tables.has_table("labels") else None)

    def steps(self, events: Table) -> Table:
        """The steps of `events` (in the store's event schema, coded or not); see :func:`steps_expr`."""
        return steps_expr(events, self.roles, self.labels)

    def journeys(self, steps: Table) -> Table:
        """One row per case of `steps`, without outcome or working time; see :func:`journeys_expr`."""
        return journeys_expr(steps, self.documents)

    def calendar_days(self, first: object, last: object) -> pd.DataFrame | None:
        """The calendar's days covering instants `first` to `last`, keyed by UTC day (see
        :func:`najma.journeys._working_time.days_by_utc_day`); None without a calendar or instants.

        An engine keeps them where :meth:`outcome` reads them: a table, a view, a memtable.
        """
        days = covering_days(self.calendar, first, last)
        return None if days is None else days_by_utc_day(days)

    def outcome(self, journeys: Table, as_of: object, days: Table | None) -> Table:
        """The finished journeys: `journeys` with their ``outcome`` at `as_of` and their ``working_seconds``.

        Parameters
        ----------
        journeys : ibis Table
            As made by :meth:`journeys`.
        as_of : timestamp
            The store's last event.
        days : ibis Table, optional
            :meth:`calendar_days` over a span covering every journey, as a table of the journeys'
            engine; None leaves the working time empty.
        """
        return with_working_time(with_outcome(journeys, self.roles, self.settings, as_of), days)

    def run(self, events: Table, as_of: object, first: object, last: object) -> Table:
        """The finished journeys of `events` as one expression, the calendar's days (from `first` to
        `last`) in memory.

        Parameters
        ----------
        events : ibis Table
            Events in the store's schema.
        as_of : timestamp
            The store's last event.
        first, last : timestamp
            Instants that span every journey, for the working time.
        """
        days = self.calendar_days(first, last)
        return self.outcome(self.journeys(self.steps(events)), as_of, None if days is None else ibis.memtable(days))


def steps_expr(events: Table, roles: Table, labels: Table | None = None) -> Table:
    """Return every event with its position, successor, predecessor facts and role flags.

    Events coded by the store (its ``case_key`` and dictionary codes, see :mod:`najma.journeys._codes`)
    are put in order on those integers alone, and their other columns joined back by ``event_seq``:
    a window over text carries and sorts the text. Other events (a redesign's, Spark's) are put in
    order on their text. The steps are the same either way, but for the values of ``case_key`` when
    the events carry none (see :func:`_text_order`).

    Parameters
    ----------
    events : ibis Table
        Events in the store's schema, with or without the store's codes.
    roles : ibis Table
        (service, activity, role) rows of the catalogue.
    labels : ibis Table, optional
        The store's ``labels`` (kind, code, label), which decode coded events; without it, the
        events are put in order on their text.
    """
    coded = labels is not None and set(CODE_COLUMNS) <= set(events.columns)
    ordered = _coded_order(events, labels) if coded else _text_order(events)
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
        repetition=steps.occurrence > 0,
    ).drop("actor")


#: The events' columns the steps keep beside those the order gives.
_CARRIED = ("service", "case_id", "event_seq", "activity", "timestamp", "start_timestamp", "customer_id", "channel",
            "agency", "resource", "satisfaction", "cost", "actor")


def _in_case_order(rows: Table, case: list[str], activity: str, channel: str, agency: str, resource: str,
                   *, keyed: bool) -> Table:
    """`rows` with each one's place in its case (the columns `case` name it) and what it shares with the one before.

    `activity`, `channel`, `agency` and `resource` name the columns compared: text, or the store's codes
    of it, which are equal exactly when their text is. Adds ``position``, ``case_start``, ``next`` (the
    next row's `activity`), ``next_timestamp``, ``occurrence`` (earlier rows of the case with the same
    activity), ``self_loop``, ``repeat_same_resource``, ``channel_switch`` and ``agency_handoff``; and,
    unless the rows are `keyed` already, ``case_key``: the event_seq of the case's first row.
    """
    order = [rows.timestamp, rows.event_seq]
    case_window = ibis.window(group_by=[rows[c] for c in case], order_by=order)
    same = ibis.window(group_by=[*(rows[c] for c in case), rows[activity]], order_by=order)
    occurrence = ibis.row_number().over(same)
    return rows.mutate(
        position=ibis.row_number().over(case_window),
        case_start=rows.timestamp.first().over(case_window),
        next=rows[activity].lead().over(case_window),
        next_timestamp=rows.timestamp.lead().over(case_window),
        occurrence=occurrence,
        self_loop=ibis.coalesce(rows[activity].lag().over(case_window) == rows[activity], False),
        repeat_same_resource=(occurrence > 0) & ibis.coalesce(rows[resource].lag().over(same) == rows[resource], False),
        channel_switch=ibis.coalesce(rows[channel].lag().over(case_window) != rows[channel], False),
        agency_handoff=ibis.coalesce(rows[agency].lag().over(case_window) != rows[agency], False),
        **({} if keyed else {"case_key": rows.event_seq.first().over(case_window)}),
    )


def _text_order(events: Table) -> Table:
    """The events in case order, compared on their text. Events that carry the store's ``case_key`` (a
    redesign's, whose activities changed) keep it; for others a case's key is the event_seq of its first event."""
    keyed = "case_key" in events.columns
    case = ["case_key"] if keyed else ["service", "case_id"]
    rows = events.select(*_CARRIED, *(["case_key"] if keyed else []))
    ordered = _in_case_order(rows, case, "activity", "channel", "agency", "resource", keyed=keyed)
    return ordered.rename(next_activity="next")


def _coded_order(events: Table, labels: Table) -> Table:
    """The events in case order, compared on the store's codes; the other columns joined back by event_seq."""
    codes = {column: CODED[column] for column in ("activity", "channel", "agency", "resource")}
    narrow = events.select("event_seq", "case_key", "timestamp", *codes.values())
    ordered = _in_case_order(narrow, ["case_key"], *codes.values(), keyed=True).drop("timestamp", *codes.values())
    activities = labels.filter(labels.kind == "activity").select(next=labels.code, next_activity=labels.label)
    ordered = ordered.left_join(activities, "next").drop("next")
    carried = events.select(*_CARRIED)
    return carried.join(ordered, "event_seq")


def journeys_expr(steps: Table, documents: Table) -> Table:
    """Return one row per case (service, case_id) with its metrics and variant, but no outcome.

    Parameters
    ----------
    steps : ibis Table
        As made by :func:`steps_expr`.
    documents : ibis Table
        The catalogue's (service, activity, document) rows.
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
        # Without a customer, a case is its own customer (named by its service and id): suppression then counts cases.
        customer_id=ibis.coalesce(
            steps.customer_id.argmin(steps.position, where=steps.customer_id.notnull()),
            steps.service.arbitrary().concat("/", steps.case_id.arbitrary()),
        ),
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
    again = _documents_asked_again(steps, documents)
    cases = cases.left_join(again, "case_key").select(cases, asked_again=again.asked_again)
    return cases.mutate(
        channels=ibis.coalesce(cases.channel_list.length(), 0).cast("int64"),  # no second count of distinct channels
        duration_seconds=cases.end.epoch_seconds() - cases.start.epoch_seconds(),
        documents_asked_again=ibis.coalesce(cases.asked_again, 0).cast("int64"),
        redos_other_resource=cases.repetitions - cases.repeats_same_resource,
    ).drop("asked_again").relocate("service", "case_id").relocate("channels", before="channel_list")


def document_supplies(steps: Table, documents: Table) -> Table:
    """One row per document each document submission of `steps` supplies (the module docstring's rule).

    Parameters
    ----------
    steps : ibis Table
        Steps with a ``document_submission`` flag, or any rows with a service, an activity and that flag.
    documents : ibis Table
        The catalogue's (service, activity, document) rows.

    Returns
    -------
    ibis Table
        The columns of `steps` but the flag, and ``document``.
    """
    submitted = steps.filter(steps.document_submission).drop("document_submission")
    supplied = submitted.left_join(documents, ["service", "activity"])
    return supplied.select(submitted, document=ibis.coalesce(documents.document, submitted.activity))


def _documents_asked_again(steps: Table, documents: Table) -> Table:
    """Per case key, its supplies of a document it had already supplied: supplies less distinct documents."""
    supplies = document_supplies(steps.select("case_key", "service", "activity", "document_submission"), documents)
    return supplies.group_by("case_key").aggregate(
        asked_again=supplies.count() - supplies.document.nunique()
    )


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
