"""The journey pipeline: events -> steps -> journeys -> outcome and working time, described once.

One description, :class:`JourneyPipeline`, run by every engine: the DuckDB store's build
(:func:`najma.journeys.build_journeys`) keeps each stage in a table, the Spark engine
(:func:`najma.spark.build_on_spark`) in a persisted frame, and the redesign projection
(:func:`najma.journeys.project_journeys`) runs it as one expression. Each stage is an Ibis expression,
so an engine only decides where a stage's result is kept.

``steps`` holds every event with its place in its case (ordered by timestamp, then event_seq),
its case's start and key (an integer that names the case: the store's ``case_key``, given at
ingest, or for events read elsewhere the event_seq of the case's first event), its successor and the
seconds until it, whether it repeats an activity of its case, and its roles. On a store's coded events
the steps hold codes and no text, and a case's facts that its order does not change (customer, start,
end, cost...) are read from its events by key: only what is written is decoded (see :func:`steps_expr`).
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
from ibis.expr.types import BooleanValue, Table

import najma.journeys._duckdb_sql  # noqa: F401  (DuckDB reads an instant's epoch without a cast; see there)
from najma.errors import InvalidParameterError
from najma.journeys._aggregates import count_true
from najma.journeys._catalogue import DEFAULT_OPEN_DAYS, ROLES
from najma.journeys._codes import CODE_COLUMNS, CODED, StoreCodes
from najma.journeys._tables import JourneyTables
from najma.journeys._working_time import (
    WorkCalendar,
    covering_days,
    days_by_utc_day,
    registered_calendar,
    with_working_time,
)

__all__ = ["JourneyPipeline", "steps_expr", "kept_steps", "journeys_expr", "document_supplies", "with_outcome", "has_role", "with_roles", "VARIANT_SEP", "STEPS_KEPT"]

#: Separates the activities of a variant in its text form.
VARIANT_SEP = " → "
#: Each role of the catalogue's :data:`~najma.journeys._catalogue.ROLES` as a bit of a step's ``roles`` (see :func:`has_role`).
_ROLE_BITS: dict[str, int] = {role: 1 << bit for bit, role in enumerate(ROLES)}
_ACTOR_ROLES = {"customer_step": "customer", "staff_step": "staff", "system_step": "system"}
#: The columns of the steps table an engine keeps (decoded, see :func:`kept_steps`). A step's roles are counted
#: into the journeys and not kept: no map, variant or conformance question reads them.
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
    codes : StoreCodes, optional
        The store's codes (see :mod:`najma.journeys._codes`): events that carry them are put in order
        and summed up on them. None, the default, compares the events' text.

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
    codes: StoreCodes | None = None

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
        codes = StoreCodes(backend.table("labels"), backend.table("case_keys")) if tables.has_table("labels") else None
        return cls(backend.table("activity_roles") if roles is None else roles,
                   backend.table("activity_documents") if documents is None else documents,
                   backend.table("service_settings"), registered_calendar(tables), codes)

    def steps(self, events: Table) -> Table:
        """The steps of `events` (in the store's event schema, coded or not); see :func:`steps_expr`."""
        return steps_expr(events, self.roles, self.codes)

    def kept_steps(self, steps: Table) -> Table:
        """The columns of `steps` an engine keeps (:data:`STEPS_KEPT`), decoded; see :func:`kept_steps`."""
        return kept_steps(steps, self.codes)

    def journeys(self, steps: Table, events: Table | None = None) -> Table:
        """One row per case of `steps` (of `events`), without outcome or working time; see :func:`journeys_expr`."""
        return journeys_expr(steps, self.documents, self.codes, events)

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
        return self.outcome(self.journeys(self.steps(events), events), as_of, None if days is None else ibis.memtable(days))


def steps_expr(events: Table, roles: Table, codes: StoreCodes | None = None) -> Table:
    """Return every event with its position, successor, predecessor facts and roles (a mask, see :func:`has_role`).

    Events coded by the store (its ``case_key`` and dictionary codes, see :mod:`najma.journeys._codes`)
    are put in order on those integers alone, and carry only what the order gives and the journeys
    read of each step: their activity, channel and agency as codes (``activity_code``, ...),
    their successor as ``next_activity_code``, and no service, case id, customer or other fact that
    the order does not change (:func:`kept_steps` and :func:`journeys_expr` decode them, and read the
    rest from the events). A window sorts every column it carries. Other events (a redesign's,
    Spark's) are put in order on their text and keep every column. What :func:`kept_steps` and
    :func:`journeys_expr` make of them is the same either way, but for the values of ``case_key``
    when the events carry none (see :func:`_text_order`).

    Parameters
    ----------
    events : ibis Table
        Events in the store's schema, with or without the store's codes.
    roles : ibis Table
        (service, activity, role) rows of the catalogue.
    codes : StoreCodes, optional
        The store's codes; without them, the events are put in order on their text.
    """
    flagged = with_roles(events, roles)
    coded = codes is not None and set(CODE_COLUMNS) <= set(events.columns)
    ordered = _coded_order(flagged) if coded else _text_order(flagged)
    return ordered.mutate(
        seconds_to_next=ordered.next_timestamp.epoch_seconds() - ordered.timestamp.epoch_seconds(),
        repetition=ordered.occurrence > 0,
    )


def kept_steps(steps: Table, codes: StoreCodes | None = None) -> Table:
    """The columns of `steps` (as made by :func:`steps_expr`) an engine keeps, :data:`STEPS_KEPT`, with their text.

    Coded steps are decoded: their case's service and id from its key, their activities from their codes.
    """
    if not _is_coded(steps):
        return steps.select(*STEPS_KEPT)
    named = steps.join(codes.case_keys, "case_key")
    return codes.decoded(named, "activity", {"activity_code": "activity", "next_activity_code": "next_activity"}).select(
        *STEPS_KEPT)


def _is_coded(steps: Table) -> bool:
    """Whether `steps` carry the store's codes in place of their text (see :func:`steps_expr`)."""
    return CODED["activity"] in steps.columns


def has_role(steps: Table, role: str) -> BooleanValue:
    """Whether each of `steps` has `role` (one of :data:`najma.journeys._catalogue.ROLES`): a bit of its ``roles``.

    The roles of a step are one integer, a bit per role, so that a window carries one column, not one per role.
    """
    return (steps.roles & _ROLE_BITS[role]) != 0


def with_roles(events: Table, roles: Table) -> Table:
    """`events` with their ``roles`` (see :func:`has_role`) in place of their ``actor``.

    A service the catalogue does not describe takes its customer, staff and system steps from the actor.
    """
    distinct = roles.select("service", "activity", "role").distinct()  # each role's bit once: a sum of them is their "or"
    bits = distinct.group_by(["service", "activity"]).aggregate(
        bits=distinct.role.substitute(_ROLE_BITS, else_=0).sum().cast("int32"))
    catalogued = roles.select("service").distinct().mutate(catalogued=ibis.literal(True))
    joined = events.left_join(bits, ["service", "activity"]).left_join(catalogued, "service")
    by_actor = events.actor.substitute({actor: _ROLE_BITS[role] for role, actor in _ACTOR_ROLES.items()}, else_=0)
    mask = ibis.coalesce(bits.bits, 0) + ibis.ifelse(catalogued.catalogued.notnull(), 0, by_actor)
    return joined.select(events, roles=mask.cast("int32")).drop("actor")


#: The events' columns the steps keep beside those the order gives, coded or not.
_CARRIED = ("event_seq", "timestamp", "roles")
#: ... and those they keep only when they are not coded: their text and the facts summed up per case (see :func:`_case_facts`).
_TEXT = ("service", "case_id", "activity", "channel", "agency", "start_timestamp", "customer_id",
         "satisfaction", "cost")


def _in_case_order(rows: Table, case: list[str], activity: str, channel: str, agency: str,
                   *, keyed: bool) -> Table:
    """`rows` with each one's place in its case (the columns `case` name it) and what it shares with the one before.

    `activity`, `channel` and `agency` name the columns compared: text, or the store's codes
    of it, which are equal exactly when their text is. Adds ``position``, ``case_start``, ``next`` (the
    next row's `activity`), ``next_timestamp``, ``occurrence`` (earlier rows of the case with the same
    activity), ``self_loop``, ``channel_switch`` and ``agency_handoff``; and,
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
        channel_switch=ibis.coalesce(rows[channel].lag().over(case_window) != rows[channel], False),
        agency_handoff=ibis.coalesce(rows[agency].lag().over(case_window) != rows[agency], False),
        **({} if keyed else {"case_key": rows.event_seq.first().over(case_window)}),
    )


def _text_order(events: Table) -> Table:
    """The events in case order, compared on their text. Events that carry the store's ``case_key`` (a
    redesign's, whose activities changed) keep it; for others a case's key is the event_seq of its first event."""
    keyed = "case_key" in events.columns
    case = ["case_key"] if keyed else ["service", "case_id"]
    rows = events.select(*_TEXT, *_CARRIED, *(["case_key"] if keyed else []))
    ordered = _in_case_order(rows, case, "activity", "channel", "agency", keyed=keyed)
    return ordered.rename(next_activity="next")


def _coded_order(events: Table) -> Table:
    """The coded events in case order, compared on the store's codes, without their text."""
    codes = [CODED[column] for column in ("activity", "channel", "agency")]
    rows = events.select("case_key", *codes, *_CARRIED)
    return _in_case_order(rows, ["case_key"], *codes, keyed=True).rename(next_activity_code="next")


def journeys_expr(steps: Table, documents: Table, codes: StoreCodes | None = None, events: Table | None = None) -> Table:
    """Return one row per case (service, case_id) with its metrics and variant, but no outcome.

    Parameters
    ----------
    steps : ibis Table
        As made by :func:`steps_expr`, coded or not.
    documents : ibis Table
        The catalogue's (service, activity, document) rows.
    codes : StoreCodes, optional
        The store's codes, which coded steps need.
    events : ibis Table, optional
        The events of the steps, which coded steps need: the facts of a case that its order does not
        change are read from its events by its key (:func:`_case_facts`). Text steps need neither:
        they are summed up on their own columns.

    Raises
    ------
    InvalidParameterError
        If the steps are coded and `codes` or `events` is missing.
    """
    coded = _is_coded(steps)
    if coded and (codes is None or events is None):
        raise InvalidParameterError("The 'codes' and 'events' parameters of journeys_expr must be given with coded steps. "
                                    "Got None instead.", parameter="events")
    activity, channel, agency = (CODED[name] if coded else name for name in ("activity", "channel", "agency"))
    # A variant is found by an order-sensitive key (a sum of hashes of activity and position), so
    # that the costly ordered text of a variant is built once per variant, not once per case.
    step_hash = ibis.struct({"activity": steps[activity], "position": steps.position}).hash()
    # A case is grouped by its integer key, which names it as (service, case_id) does but hashes
    # and compares much faster than two strings.
    cases = steps.group_by("case_key").aggregate(
        **({} if coded else {"service": steps.service.arbitrary(), "case_id": steps.case_id.arbitrary()}),
        first_channel=steps[channel].argmin(steps.position, where=steps[channel].notnull()),
        first_agency=steps[agency].argmin(steps.position, where=steps[agency].notnull()),
        channel_list=steps[channel].collect(distinct=True),
        events=steps.count().cast("int64"),
        **{f"{role}s": count_true(has_role(steps, role)) for role in _COUNTED_ROLES},
        channel_switches=count_true(steps.channel_switch),
        agency_handoffs=count_true(steps.agency_handoff),
        agencies=steps[agency].nunique(),
        self_loops=count_true(steps.self_loop),
        repetitions=count_true(steps.repetition),
        customer_repeats=count_true(has_role(steps, "customer_step") & steps.repetition),
        approved=has_role(steps, "approval").any(),
        rejected=has_role(steps, "rejection").any(),
        proactive=has_role(steps, "proactive_start").any(),
        variant_key=step_hash.cast("decimal(38, 0)").sum(),
    )
    facts = _case_facts(events if coded else steps)
    cases = cases.join(facts, "case_key")
    if coded:
        cases = _decoded_cases(cases, codes)
    representatives = cases.group_by(["variant_key", "events"]).aggregate(case_key=cases.case_key.min())
    shown = steps.semi_join(representatives, "case_key").select("case_key", "position", activity)
    if coded:
        shown = codes.decoded(shown, "activity", {activity: "activity"})
    texts = shown.group_by("case_key").aggregate(
        ordered=ibis.struct({"position": shown.position, "activity": shown.activity}).collect())
    # Sorting the collected (position, activity) pairs orders them portably (no ordered aggregate on every engine).
    variant = texts.ordered.sort().map(lambda step: step.activity).join(VARIANT_SEP)
    names = representatives.join(texts, "case_key").select("variant_key", "events", variant=variant)
    cases = cases.join(names, ["variant_key", "events"]).drop("variant_key")
    again = _documents_asked_again(steps, documents, codes)
    cases = cases.left_join(again, "case_key").select(cases, asked_again=again.asked_again)
    return cases.mutate(
        # Without a customer, a case is its own customer (named by its service and id): suppression then counts cases.
        customer_id=ibis.coalesce(cases.customer_id, cases.service.concat("/", cases.case_id)),
        channel_list=cases.channel_list.sort(),
        channels=ibis.coalesce(cases.channel_list.length(), 0).cast("int64"),  # no second count of distinct channels
        duration_seconds=cases.end.epoch_seconds() - cases.start.epoch_seconds(),
        documents_asked_again=ibis.coalesce(cases.asked_again, 0).cast("int64"),
    ).drop("asked_again").relocate("service", "case_id", "customer_id", "first_channel", "first_agency", "channels",
                                   "channel_list", "start", "end", "events")


#: The roles whose steps a journey counts, each in the column named by its plural (``visits``, ...).
_COUNTED_ROLES = ("customer_step", "staff_step", "system_step", "visit", "document_request", "document_submission",
                  "payment")


def _case_facts(rows: Table) -> Table:
    """Per case key, what its order does not change, from its events (or steps) `rows`: its customer (that of its
    first event that names one, in the order of the steps), start, end, processing time, satisfaction and cost."""
    processing = rows.timestamp.epoch_seconds() - rows.start_timestamp.epoch_seconds()
    first = ibis.struct({"timestamp": rows.timestamp, "event_seq": rows.event_seq})
    return rows.group_by("case_key").aggregate(
        customer_id=rows.customer_id.argmin(first, where=rows.customer_id.notnull()),
        start=rows.timestamp.min(),
        end=rows.timestamp.max(),
        processing_seconds=processing.sum(where=rows.start_timestamp.notnull()),
        satisfaction=rows.satisfaction.mean(),
        cost=rows.cost.sum(),
    )


def _decoded_cases(cases: Table, codes: StoreCodes) -> Table:
    """Coded `cases` (see :func:`journeys_expr`) with their service and id, and their channels and agency named."""
    named = cases.join(codes.case_keys, "case_key")
    named = codes.decoded(named, "channel", {"first_channel": "first_channel"})
    named = codes.decoded(named, "agency", {"first_agency": "first_agency"})
    listed = named.select("case_key", channel_code=named.channel_list.unnest())
    listed = codes.decoded(listed, "channel", {"channel_code": "channel"})
    channel_lists = listed.group_by("case_key").aggregate(channel_list=listed.channel.collect())
    named = named.drop("channel_list")
    return named.left_join(channel_lists, "case_key").select(named, channel_lists.channel_list)


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


def _documents_asked_again(steps: Table, documents: Table, codes: StoreCodes | None) -> Table:
    """Per case key, its supplies of a document it had already supplied: supplies less distinct documents."""
    submissions = steps.filter(has_role(steps, "document_submission")).mutate(document_submission=True)
    if _is_coded(steps):
        named = submissions.select("case_key", "activity_code", "document_submission").join(
            codes.case_keys.select("case_key", "service"), "case_key")
        submissions = codes.decoded(named, "activity", {"activity_code": "activity"})
    supplies = document_supplies(submissions.select("case_key", "service", "activity", "document_submission"), documents)
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
