"""Rework: the same activity done again in a case, told apart as bupaR's edeaR tells it.

Every step of a case (its events in time order: by timestamp, then event_seq, never by the order of the input
rows) that repeats an activity of its case is one of two kinds, after edeaR's ``number_of_selfloops`` and
``number_of_repetitions`` (https://bupaverse.github.io/edeaR/reference/number_of_selfloops.html and
https://rdrr.io/cran/edeaR/man/number_of_repetitions.html; Swennen, M. (2018), *Using Event Log Knowledge to
Support Operational Excellence Techniques*, Hasselt University):

* a **self-loop**: the activity again right after itself ("activity instances of the same activity type that are
  executed more than once immediately after each other"). A run of k steps of one activity holds k - 1 of them
  (edeaR calls it a self-loop "of size k - 1");
* a **repetition** (a later repeat): the activity again after other activities ("an execution of an activity within
  a case while that activity has already been executed before, but one or more other activities are executed in
  between").

Each is then, by who did it, as edeaR's ``type`` argument has it:

* **repeat**: by the same resource: for a self-loop, the resource of the step right before it; for a repetition,
  the resource of the activity's first step in the case (edeaR: redo repetitions are "executed ... by a different
  resource than the first activity occurrence of this activity type");
* **redo**: by another resource than that one;
* **unknown**: either resource is not known. Nothing is guessed: a log without a resource column has all its
  rework unknown, none of it redone.

najma counts steps (each self-loop or repetition step once), so a case's self-loops are the sum of the sizes of
edeaR's self-loops in it. edeaR's per-case tables count groups instead (one per run of a self-loop, one per repeated
activity of a case) and call a group repeat only when one resource did all of it; the kinds of each step are the
same, the sums differ where one group mixes resources.

The counts are given per case, per activity (of a service) or per service (:func:`rework`).
"""

from __future__ import annotations

from typing import Literal

import ibis
import pandas as pd
from ibis.expr.types import Table

from najma.errors import InvalidParameterError
from najma.journeys._aggregates import count_true
from najma.journeys._filters import CaseFilter
from najma.journeys._process_map import filtered_steps
from najma.journeys._tables import JourneyTables, require_journeys
from najma.journeys._variants import journey_table

__all__ = ["rework", "rework_steps", "rework_per_activity", "REWORK_KINDS", "RESOURCE_KINDS", "REWORK_COLUMNS"]

#: The kinds of rework of a step, edeaR's: the activity again right after itself, or again after other activities.
REWORK_KINDS = ("self_loop", "repetition")
#: Who did a step of rework, against whom it repeats (see the module): the same resource, another, or not known.
RESOURCE_KINDS = ("repeat", "redo", "unknown")
#: The counts every level of :func:`rework` gives: of each kind, all of them and by resource kind.
REWORK_COLUMNS = ("rework", *(f"{kind}s" for kind in REWORK_KINDS),
                  *(f"{kind}s_{resource}" for kind in REWORK_KINDS for resource in RESOURCE_KINDS))
_LEVELS = ("case", "activity", "service")
#: The columns that name a row at each level, in the order rows are sorted.
_KEYS = {"case": ("service", "case_id"), "activity": ("service", "activity"), "service": ("service",)}


def rework_steps(store: JourneyTables, where: CaseFilter | None = None) -> Table:
    """Return every step of the cases that pass `where` with its kind of rework and who did it.

    Parameters
    ----------
    store : Store or SparkTables
        Tables whose journeys were built (:func:`najma.journeys.build_journeys`).
    where : CaseFilter, optional
        Which cases; by default all.

    Returns
    -------
    ibis Table
        The steps' ``service``, ``case_id``, ``case_key``, ``event_seq``, ``activity``, ``timestamp`` and
        ``resource``, with ``rework`` (one of :data:`REWORK_KINDS`, or NULL for a step that repeats nothing) and
        ``by`` (one of :data:`RESOURCE_KINDS` for a step of rework, else NULL).
    """
    steps = _with_rework(store, where)
    events = store.backend.table("events").select("event_seq", "resource")
    return steps.join(events, "event_seq").relocate("resource", after="timestamp")


def _with_rework(store: JourneyTables, where: CaseFilter | None) -> Table:
    """The steps of the cases that pass `where` (``service``, ``case_id``, ``case_key``, ``event_seq``, ``activity``,
    ``timestamp``), with their ``rework`` and ``by`` (see :func:`rework_steps`)."""
    require_journeys(store)
    steps = filtered_steps(store, where)
    judged = _judged(steps, store.backend.table("events").select("event_seq", "resource"))
    rows = steps.select("service", "case_id", "case_key", "event_seq", "activity", "timestamp")
    return rows.left_join(judged, "event_seq").select(rows, judged.rework, judged.by)


def _judged(steps: Table, events: Table) -> Table:
    """The steps of rework among `steps` (the steps' own flags: one home of the order, the journey pipeline's), by
    their ``event_seq``, with their ``rework`` kind and ``by`` whom, `events` giving each step's resource.

    A self-loop answers to the step right before it in its case, a repetition to its activity's first step in the
    case. Both are found by the steps' places (``position``, ``occurrence``), so only the steps of rework, a few in
    a hundred, are matched, never every step ordered again.
    """
    reworked = steps.filter(steps.self_loop | steps.repetition)
    before = steps.select("case_key", position=steps.position + 1, against_seq=steps.event_seq)
    firsts = steps.filter(steps.occurrence == 0).select("case_key", "activity", against_seq=steps.event_seq)
    loops = reworked.filter(reworked.self_loop).join(before, ["case_key", "position"]).select(
        "event_seq", "against_seq", rework=ibis.literal("self_loop"))
    repeats = reworked.filter(~reworked.self_loop).join(firsts, ["case_key", "activity"]).select(
        "event_seq", "against_seq", rework=ibis.literal("repetition"))
    pairs = loops.union(repeats)
    own, against = events.rename(own="resource"), events.rename(against_seq="event_seq", against="resource")
    named = pairs.join(own, "event_seq").join(against, "against_seq")
    by = ibis.cases((named.own.isnull() | named.against.isnull(), "unknown"), (named.own == named.against, "repeat"),
                    else_="redo")
    return named.select("event_seq", "rework", by=by)


def rework(store: JourneyTables, where: CaseFilter | None = None,
           by: Literal["case", "activity", "service"] = "service") -> pd.DataFrame:
    """Return the rework of the cases that pass `where`, per case, per activity or per service.

    Parameters
    ----------
    store : Store or SparkTables
        Tables whose journeys were built (:func:`najma.journeys.build_journeys`).
    where : CaseFilter, optional
        Which cases; by default all.
    by : {"case", "activity", "service"}, default "service"
        The level of the counts.

    Returns
    -------
    pandas.DataFrame
        One row per case (``service``, ``case_id``), per activity of a service (``service``, ``activity``) or per
        service, sorted by those, with ``cases`` (with the activity, at the activity level), ``customers`` (of those
        cases), ``events`` (steps), ``cases_with_rework`` and :data:`REWORK_COLUMNS`: ``rework`` (steps of rework),
        ``self_loops`` and ``repetitions``, and each by resource (``self_loops_repeat``, ``repetitions_redo``, ...;
        see the module for the definitions). A case counts 1 case and its own customer.

    Raises
    ------
    InvalidParameterError
        If `by` is not one of the levels.

    Examples
    --------
    >>> import os, pandas as pd
    >>> from najma.journeys import EventLog, build_journeys
    >>> os.environ.setdefault("NAJMA_PSEUDONYM_KEY", "example-key")
    '...'
    >>> log = EventLog.from_frame(pd.DataFrame({
    ...     "case_id": ["a"] * 4, "activity": ["Check", "Check", "Pay", "Check"], "resource": ["ann", "bob", None, "ann"],
    ...     "timestamp": pd.date_range("2025-01-05", periods=4, freq="h", tz="UTC")}), service="permit")
    >>> _ = build_journeys(log.store)
    >>> rework(log.store, by="case")[["self_loops_redo", "repetitions_repeat"]].to_dict("records")
    [{'self_loops_redo': 1, 'repetitions_repeat': 1}]
    """
    if by not in _LEVELS:
        raise InvalidParameterError(f"The 'by' parameter of rework must be one of {', '.join(_LEVELS)}. Got {by!r} instead.",
                                    parameter="by")
    steps = _with_rework(store, where)
    customers = journey_table(store, where).select("case_key", "customer_id")
    steps = steps.join(customers, "case_key")
    per_case = steps.group_by(["service", "case_id", "case_key"]).aggregate(customer_id=steps.customer_id.arbitrary(),
                                                                            events=steps.count(), **_counts(steps))
    if by == "case":
        found = per_case.drop("case_key", "customer_id").mutate(cases=1, customers=1,
                                                                 cases_with_rework=(per_case.rework > 0).cast("int64"))
    elif by == "service":
        found = per_case.group_by("service").aggregate(
            cases=per_case.count(), customers=per_case.customer_id.nunique(), events=per_case.events.sum(),
            cases_with_rework=count_true(per_case.rework > 0),
            **{name: per_case[name].sum() for name in REWORK_COLUMNS})
    else:
        found = steps.group_by(["service", "activity"]).aggregate(
            cases=steps.case_key.nunique(), customers=steps.customer_id.nunique(), events=steps.count(),
            cases_with_rework=steps.case_key.nunique(where=steps.rework.notnull()), **_counts(steps))
    columns = [*_KEYS[by], "cases", "customers", "events", "cases_with_rework", *REWORK_COLUMNS]
    frame = found.select(columns).order_by(list(_KEYS[by])).to_pandas()
    counts = columns[len(_KEYS[by]):]
    return frame.astype(dict.fromkeys(counts, "int64"))


def _counts(steps: Table) -> dict[str, ibis.Expr]:
    """The counts of :data:`REWORK_COLUMNS` over `steps` (as made by :func:`rework_steps`)."""
    found = {"rework": count_true(steps.rework.notnull())}
    for kind in REWORK_KINDS:
        found[f"{kind}s"] = count_true(steps.rework == kind)
        for resource in RESOURCE_KINDS:
            found[f"{kind}s_{resource}"] = count_true((steps.rework == kind) & (steps.by == resource))
    return found


def rework_per_activity(store: JourneyTables, where: CaseFilter | None = None) -> dict[str, int]:
    """Return, per activity, the number of cases in which it occurs more than once (pm4py's
    ``get_rework_cases_per_activity``; the cases with rework of each activity, without asking who did it)."""
    steps = filtered_steps(store, where)
    again = steps.filter(steps.occurrence == 1).group_by("activity").aggregate(n=ibis._.count())
    return {a: int(n) for a, n in again.to_pandas().itertuples(index=False)}
