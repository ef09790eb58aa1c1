"""Redesign transforms: the journeys a service would have if a step were removed, merged, automated
or moved to another channel.

Each transform rewrites one service's events, the roles of its activities and the documents they
supply; :func:`project_journeys` then runs the journey pipeline on them (:class:`najma.journeys.JourneyPipeline`,
which :func:`najma.journeys.build_journeys` runs too), so a projected journey is measured exactly as an
observed one (steps, visits, rework, outcome, variant, duration).

Documents
---------
Before the first transform, every submission of the service is listed with the documents it
supplies, the catalogue's default included (a submission the ``documents`` table leaves out supplies
one document named after itself; see :func:`najma.journeys._pipeline.document_supplies`). So a
merged step supplies what its merged steps supplied, and a later re-supply of one of those
documents is still asked again. A removed or automated step supplies nothing: automation keeps the
step, but as a system step that hands nothing in.

Time
----
A projection only ever takes waiting away; it never adds any. Where a transform removes the wait
before a step (the time from the case's previous event to it), every later event of the case
moves earlier by that wait, and the time between all other steps stays as observed. Each
transform says which waits it removes. The outcome is judged at the store's last event, as for
the observed journeys.

Examples
--------
>>> steps = (RemoveActivity("Visit service centre"), AutomateActivity("Security check"))
>>> [type(step).__name__ for step in steps]
['RemoveActivity', 'AutomateActivity']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import ibis
import pandas as pd
from ibis.expr.builders import LegacyWindowBuilder
from ibis.expr.types import BooleanValue, NumericValue, Table

from najma.errors import InvalidEventLogError, InvalidParameterError
from najma.journeys._codes import CODED
from najma.journeys._filters import CaseFilter
from najma.journeys._pipeline import JourneyPipeline, document_supplies
from najma.journeys._store import Store
from najma.journeys._variants import journey_table

__all__ = [
    "Transform", "RemoveActivity", "MergeActivities", "AutomateActivity", "MoveToChannel", "project_journeys",
]

#: Roles an automated step no longer has: nobody takes it, nobody comes in, nothing is handed in.
_NOT_AUTOMATED = ("customer_step", "staff_step", "visit", "document_request", "document_submission")
#: The rows a transform rewrites: the roles of the service's activities and the documents they supply.
_ROLE_SCHEMA = {"service": "string", "activity": "string", "role": "string"}
_DOCUMENT_SCHEMA = {"service": "string", "activity": "string", "document": "string"}


class Transform(Protocol):
    """A redesign of one service's journey."""

    def activities(self) -> tuple[str, ...]:
        """The observed activities the transform names."""

    def events(self, events: Table) -> Table:
        """Rewrite the service's events (canonical event columns)."""

    def roles(self, roles: pd.DataFrame) -> pd.DataFrame:
        """Rewrite the service's (service, activity, role) rows."""

    def documents(self, documents: pd.DataFrame) -> pd.DataFrame:
        """Rewrite the service's (service, activity, document) rows, which list every submission."""


def _without(rows: pd.DataFrame, activity: str) -> pd.DataFrame:
    """`rows` (roles or documents) but those of `activity`."""
    return rows[rows.activity != activity]


def _merged_rows(rows: pd.DataFrame, merged: Sequence[str], into: str) -> pd.DataFrame:
    """`rows` (roles or documents) with those of the `merged` activities and of `into` united under `into`."""
    inside = rows.activity.isin(merged) | (rows.activity == into)
    united = rows[inside].assign(activity=into).drop_duplicates()
    return pd.concat([rows[~inside], united], ignore_index=True)


def _case_window(events: Table, *, upto: bool = False) -> LegacyWindowBuilder:
    """Each case's events in order; with `upto`, the frame from the case's first event to this one."""
    order = [events.timestamp, events.event_seq]
    if upto:
        return ibis.window(group_by=[events.service, events.case_id], order_by=order, rows=(None, 0))
    return ibis.window(group_by=[events.service, events.case_id], order_by=order)


def _wait_before(events: Table) -> NumericValue:
    """Microseconds from the case's previous event to each event (0 for the first)."""
    previous = events.timestamp.lag().over(_case_window(events))
    return ibis.coalesce(events.timestamp.delta(previous, unit="microsecond").cast("float64"), 0.0)


def _retime(events: Table, saved: NumericValue, drop: BooleanValue) -> Table:
    """Move each event earlier by the waits `saved` up to and including it; then leave out `drop`."""
    marked = events.mutate(_saved=saved, _drop=drop)
    shift = ibis.coalesce(marked._saved.sum().over(_case_window(marked, upto=True)), 0.0)
    interval = shift.cast("int64").as_interval("us")
    moved = marked.mutate(timestamp=marked.timestamp - interval, start_timestamp=marked.start_timestamp - interval)
    return moved.filter(~moved._drop).drop("_saved", "_drop")


@dataclass(frozen=True)
class RemoveActivity:
    """Remove every occurrence of `activity` (the step is no longer needed).

    Time: the wait before each removed step is saved; the step after it follows the step
    before it after the time the removed step's successor took.
    """

    activity: str

    def activities(self) -> tuple[str, ...]:
        return (self.activity,)

    def events(self, events: Table) -> Table:
        removed = events.activity == self.activity
        return _retime(events, ibis.ifelse(removed, _wait_before(events), 0.0), removed)

    def roles(self, roles: pd.DataFrame) -> pd.DataFrame:
        return _without(roles, self.activity)

    def documents(self, documents: pd.DataFrame) -> pd.DataFrame:
        return _without(documents, self.activity)


@dataclass(frozen=True)
class MergeActivities:
    """Merge `merged` activities into one step called `into` (one form instead of several).

    Consecutive occurrences of the merged activities in a case become one step, at the time of
    the first of them, with the roles of all of them, the documents all of them supply and the sum
    of their costs; its resource, channel and agency are those of the first. Occurrences apart
    from each other stay apart.

    Time: the waits before the second and later steps of each merged run are saved.
    """

    merged: Sequence[str]
    into: str

    def __post_init__(self) -> None:
        if not self.merged or not self.into:
            raise InvalidParameterError(
                "The 'merged' and 'into' parameters of MergeActivities must name activities. "
                f"Got {self.merged!r} and {self.into!r} instead."
            )
        object.__setattr__(self, "merged", tuple(self.merged))

    def activities(self) -> tuple[str, ...]:
        return tuple(self.merged)

    def events(self, events: Table) -> Table:
        merged = events.activity.isin(list(self.merged))
        marked = events.mutate(_merged=merged)
        continues = marked._merged & ibis.coalesce(marked._merged.lag().over(_case_window(marked)), False)
        marked = marked.mutate(_continues=continues)
        runs = marked.mutate(_run=(~marked._continues).cast("int64").sum().over(_case_window(marked, upto=True)))
        run_cost = runs.cost.sum().over(ibis.window(group_by=[runs.service, runs.case_id, runs._run]))
        renamed = runs.mutate(
            activity=ibis.ifelse(runs._merged, self.into, runs.activity),
            cost=ibis.ifelse(runs._merged, run_cost, runs.cost),
        )
        return _retime(renamed, ibis.ifelse(renamed._continues, _wait_before(renamed), 0.0), renamed._continues).drop(
            "_merged", "_continues", "_run"
        )

    def roles(self, roles: pd.DataFrame) -> pd.DataFrame:
        return _merged_rows(roles, self.merged, self.into)

    def documents(self, documents: pd.DataFrame) -> pd.DataFrame:
        return _merged_rows(documents, self.merged, self.into)


@dataclass(frozen=True)
class AutomateActivity:
    """Automate `activity`: a system does it at once, with no one waiting or coming in.

    The step keeps its place in the journey but becomes a system step: it is no longer a
    customer or staff step, a visit, a document request or a submission (so it supplies no
    documents), and its actor is ``system``.

    Time: the wait before each occurrence is saved and its processing time (from a start time)
    becomes zero.
    """

    activity: str

    def activities(self) -> tuple[str, ...]:
        return (self.activity,)

    def events(self, events: Table) -> Table:
        automated = events.activity == self.activity
        retimed = _retime(events, ibis.ifelse(automated, _wait_before(events), 0.0), ibis.literal(False))
        automated = retimed.activity == self.activity
        return retimed.mutate(
            start_timestamp=ibis.ifelse(automated & retimed.start_timestamp.notnull(), retimed.timestamp,
                                        retimed.start_timestamp),
            actor=ibis.ifelse(automated, "system", retimed.actor),
        )

    def roles(self, roles: pd.DataFrame) -> pd.DataFrame:
        if roles.empty:  # an uncatalogued service: its steps come from the actor column
            return roles
        kept = roles[(roles.activity != self.activity) | ~roles.role.isin(_NOT_AUTOMATED)]
        system = pd.DataFrame({"service": [roles.service.iloc[0]], "activity": [self.activity], "role": ["system_step"]})
        return pd.concat([kept, system.astype(roles.dtypes.to_dict())], ignore_index=True).drop_duplicates()

    def documents(self, documents: pd.DataFrame) -> pd.DataFrame:
        return _without(documents, self.activity)


@dataclass(frozen=True)
class MoveToChannel:
    """Move `activity` to `channel` (for example from the service centre to the smart app).

    Unless `in_person` is true, the step is no longer a visit. Channel switches are counted
    afresh from the new channels.

    Time: unchanged; the step is assumed to take as long on the new channel.
    """

    activity: str
    channel: str
    in_person: bool = False

    def activities(self) -> tuple[str, ...]:
        return (self.activity,)

    def events(self, events: Table) -> Table:
        return events.mutate(channel=ibis.ifelse(events.activity == self.activity, self.channel, events.channel))

    def roles(self, roles: pd.DataFrame) -> pd.DataFrame:
        if self.in_person:
            return roles
        return roles[(roles.activity != self.activity) | (roles.role != "visit")]

    def documents(self, documents: pd.DataFrame) -> pd.DataFrame:
        return documents


def project_journeys(
    store: Store, service: str, transforms: Sequence[Transform], where: CaseFilter | None = None
) -> Table:
    """Return the journey table `service` would have after `transforms`, applied in order.

    Parameters
    ----------
    store : Store
        A store whose journeys were built.
    service : str
        The service to redesign.
    transforms : sequence of Transform
        :class:`RemoveActivity`, :class:`MergeActivities`, :class:`AutomateActivity`,
        :class:`MoveToChannel`; none gives the observed journeys.
    where : CaseFilter, optional
        Project only the cases that pass it (for example one quarter).

    Returns
    -------
    ibis Table
        The columns of the store's journey table, one row per projected case.

    Raises
    ------
    InvalidEventLogError
        When the service has no journeys, or a transform names an activity it does not have.
    """
    backend = store.backend
    steps = backend.table("steps")
    observed = set(steps.filter(steps.service == service).select("activity").distinct().activity.to_pyarrow().to_pylist())
    if not observed:
        raise InvalidEventLogError(f"The service {service!r} has no journeys in the store {store.path}.")
    for transform in transforms:
        unknown = [a for a in transform.activities() if a not in observed]
        if unknown:
            raise InvalidEventLogError(
                f"{type(transform).__name__} names {', '.join(map(repr, unknown))}, which the service {service!r} "
                f"does not have; its activities are {', '.join(sorted(observed))}."
            )
    # The transforms change activities, so the store's codes of them are left behind (see steps_expr); each
    # case keeps its key.
    events = backend.table("events").filter(ibis._.service == service).drop(*CODED.values())
    if where is not None and not where.is_empty:
        cases = journey_table(store, where).filter(ibis._.service == service).select("service", "case_id")
        events = events.semi_join(cases, ["service", "case_id"])
    roles = backend.table("activity_roles")
    roles = roles.filter(roles.service == service).select("service", "activity", "role").to_pandas().astype("string")
    documents = _supplied_documents(store, roles)
    for transform in transforms:
        events = transform.events(events)
        roles = transform.roles(roles)
        documents = transform.documents(documents)
    as_of = backend.table("events").timestamp.max().to_pyarrow().as_py()
    journeys = backend.table("journeys").filter(ibis._.service == service)
    span = journeys.aggregate(first=journeys.start.min(), last=journeys.end.max()).to_pyarrow().to_pylist()[0]
    first, last = span["first"], span["last"]
    pipeline = JourneyPipeline.of(store, roles=ibis.memtable(roles, schema=_ROLE_SCHEMA),
                                  documents=ibis.memtable(documents, schema=_DOCUMENT_SCHEMA))
    return pipeline.run(events, as_of, first, last)


def _supplied_documents(store: Store, roles: pd.DataFrame) -> pd.DataFrame:
    """The (service, activity, document) rows of each submission among `roles`, the catalogue's default included."""
    submitting = roles.loc[roles.role == "document_submission", ["service", "activity"]].drop_duplicates()
    schema = {"service": "string", "activity": "string", "document_submission": "boolean"}
    submissions = ibis.memtable(submitting.assign(document_submission=True), schema=schema)
    supplied = document_supplies(submissions, store.backend.table("activity_documents"))
    return supplied.select("service", "activity", "document").distinct().to_pandas().astype("string")
