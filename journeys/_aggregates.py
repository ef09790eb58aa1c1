"""The aggregations of a process map over a steps table, shared by the map of a filter and the maps the build keeps.

Both group the steps (see :mod:`najma.journeys._build`) by `keys` beside the edge or the activity, so the
same expression answers one filter (no keys) or every service and quarter at once
(:func:`service_maps`), or only the groups a new extract changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import pandas as pd
from ibis.expr.types import BooleanValue, IntegerScalar, Scalar, Table
from ibis.expr.types.groupby import GroupedTable

from najma.journeys._quarter import quarter_expr

__all__ = [
    "count_true", "edge_statistics", "edge_times", "summed", "activity_statistics", "service_maps", "ChangedGroups", "SERVICE_MAP_EDGES",
    "SERVICE_MAP_ACTIVITIES",
]

#: The store's tables of each service's maps (see :func:`service_maps`): edge and activity statistics.
SERVICE_MAP_EDGES, SERVICE_MAP_ACTIVITIES = "service_map_edges", "service_map_activities"
#: The finest groups of the kept maps; the rows of each coarser group (:data:`_ROLLED`) sum some of theirs.
_FINEST = ("service", "quarter")
_ROLLED: tuple[tuple[str, ...], ...] = (("service",), ("quarter",), ())
#: The quantiles of an edge's seconds the maps show, by column.
_QUANTILES = {0.5: "median_seconds", 0.9: "p90_seconds"}


@dataclass(frozen=True)
class ChangedGroups:
    """The finest groups of the kept maps whose cases changed, and the maps as they were kept.

    The rows to work out again are those of each group (service, quarter) in `groups`, of each of
    their services over all quarters, of each of their quarters over all services, and of the whole
    log; the other rows of `edges` and `activities` stay as they are.

    Parameters
    ----------
    groups : ibis Table
        The (service, quarter) pairs, both before and after the change, of the cases that changed.
    edges, activities : ibis Table
        The kept maps (tables :data:`SERVICE_MAP_EDGES` and :data:`SERVICE_MAP_ACTIVITIES`).
    since : Timestamp, optional
        The first instant of the earliest quarter of `groups`: a case that started before it is in none of them,
        which spares working out the quarter of every step to find theirs. None reads every step.
    """

    groups: Table
    edges: Table
    activities: Table
    since: pd.Timestamp | None = None


def count_true(flag: BooleanValue) -> IntegerScalar:
    """How many rows `flag` holds for, as an int64 aggregate (a sum of booleans is a 128-bit
    integer on DuckDB, which Ibis would read as a decimal)."""
    return flag.count(where=flag)


def edge_statistics(steps: Table, keys: Sequence[str] = ()) -> Table:
    """Per `keys` and edge (source, target): how often it was followed, in how many cases, and the
    mean, median, p90, min and max seconds between its two events.

    The median and the p90 are two aggregates here: beside the count of distinct cases DuckDB works out every
    aggregate on its slower path, where one aggregate of both quantiles was slower (the kept maps of 10.4M events:
    6.3 s against 3.8 s).
    """
    follows = steps.filter(steps.next_activity.notnull())
    quantiles = {name: follows.seconds_to_next.quantile(quantile) for quantile, name in _QUANTILES.items()}
    return _by_edge(follows, keys).aggregate(**_edge_aggregates(follows, quantiles, cases=follows.case_key.nunique()))


def _edge_aggregates(follows: Table, quantiles: dict[str, Scalar], **counts: Scalar) -> dict[str, Scalar]:
    """How often an edge of `follows` was followed, the `counts`, and the mean, `quantiles`, min and max seconds
    between its two events: the aggregates of an edge's row, in the order of its columns."""
    seconds = follows.seconds_to_next
    return {"frequency": follows.count(), **counts, "mean_seconds": seconds.mean(), **quantiles,
            "min_seconds": seconds.min(), "max_seconds": seconds.max()}


def _by_edge(follows: Table, keys: Sequence[str]) -> GroupedTable:
    return follows.group_by([*keys, follows.activity.name("source"), follows.next_activity.name("target")])


def edge_times(follows: Table, keys: Sequence[str]) -> Table:
    """Per `keys` and edge of `follows` (steps with a next activity): how often it was followed and the mean,
    median, p90, min and max seconds between its two events: :func:`edge_statistics` without the cases.

    The median and the p90 are one aggregate, both quantiles of one sort of the seconds (at 10.4M events, the
    kept maps of a month's changed groups in 1.3 s against 2.5 s with two).
    """
    quantiles = {"quantiles": follows.seconds_to_next.quantile(list(_QUANTILES))}
    rows = _by_edge(follows, keys).aggregate(**_edge_aggregates(follows, quantiles))
    return rows.select(*keys, "source", "target", "frequency", "mean_seconds",
                       **{name: rows.quantiles[index] for index, name in enumerate(_QUANTILES.values())},
                       min_seconds=rows.min_seconds, max_seconds=rows.max_seconds)


def activity_statistics(steps: Table, keys: Sequence[str] = ()) -> Table:
    """Per `keys` and activity: its events, the cases with it, and the cases it starts and ends."""
    return steps.group_by([*keys, "activity"]).aggregate(
        frequency=steps.count(),
        cases=count_true(steps.occurrence == 0),
        starts=count_true(steps.position == 0),
        ends=count_true(steps.next_activity.isnull()),
    )


def service_maps(
    steps: Table, zone: str, first: pd.Timestamp | None, last: pd.Timestamp | None, changed: ChangedGroups | None = None,
) -> tuple[Table, Table]:
    """The edge and activity statistics of each service per quarter of its cases' starts, read in
    `zone`, and of each service over all its cases (``quarter`` NULL); the same over all services
    (``service`` NULL), per quarter and over the whole log. ``zone`` names the zone.

    A case has one service and one quarter, so the cases with an edge in several quarters or
    services are the sum of theirs: the costly count of distinct cases is made once, per service
    and quarter, and every activity statistic, a count, is summed from theirs. The times of an edge
    are not (medians and p90s are not additive): they are worked out from all the group's steps.

    Parameters
    ----------
    steps : ibis Table
        The steps table.
    zone : str
        The zone in which quarters are read.
    first, last : Timestamp or None
        The first and last case start of the steps (None when there are none).
    changed : ChangedGroups, optional
        The groups whose cases changed since the maps were kept: then only the rows of the groups
        that hold one are worked out again (see :class:`ChangedGroups`), the others are the kept
        ones. By default every row is worked out.
    """
    quarter = ibis.null("string") if first is None else quarter_expr(steps.case_start, zone, first, last)
    steps = steps.mutate(quarter=quarter)
    recent = steps
    if changed is not None and changed.since is not None:
        recent = steps.filter(steps.case_start >= ibis.literal(changed.since.to_pydatetime()).cast(steps.case_start.type()))
    finest = _within(recent, _FINEST, changed)
    by_quarter, per_activity = edge_statistics(finest, _FINEST), activity_statistics(finest, _FINEST)
    edges, activities = [by_quarter], [per_activity]
    # The statistics that are sums (all of an activity's, an edge's cases) are summed from the finest groups.
    edge_sums, activity_sums = by_quarter.select(*_FINEST, "source", "target", "cases"), per_activity
    if changed is not None:
        edge_sums = edge_sums.union(_outside(changed.edges, _FINEST, changed).select(*edge_sums.columns))
        activity_sums = activity_sums.union(_outside(changed.activities, _FINEST, changed).select(*per_activity.columns))
    for keys in _ROLLED:
        blanks = {key: ibis.null(steps[key].type()) for key in _FINEST if key not in keys}
        scoped = _within(recent if "quarter" in keys else steps, keys, changed)
        follows = scoped.filter(scoped.next_activity.notnull())
        rolled = (
            edge_times(follows, keys)
            .join(summed(_within(edge_sums, keys, changed), [*keys, "source", "target"], ["cases"]),
                  [*keys, "source", "target"])
            .mutate(**blanks)
        )
        edges.append(rolled.select(*by_quarter.columns))
        counts = summed(_within(activity_sums, keys, changed), [*keys, "activity"], ["frequency", "cases", "starts", "ends"])
        activities.append(counts.mutate(**blanks).select(*per_activity.columns))
    if changed is not None:
        for keys in (_FINEST, *_ROLLED[:-1]):  # the whole log's rows are always worked out again
            edges.append(_outside(changed.edges, keys, changed).select(*by_quarter.columns))
            activities.append(_outside(changed.activities, keys, changed).select(*per_activity.columns))
    return tuple(ibis.union(*parts).mutate(zone=ibis.literal(zone)) for parts in (edges, activities))


def summed(rows: Table, keys: Sequence[str], columns: Sequence[str]) -> Table:
    """The sums of the integer `columns` of `rows` per `keys`, as int64 (DuckDB sums integers to a 128-bit integer:
    summing them as decimals makes the cast back explicit)."""
    return rows.group_by(list(keys)).aggregate(
        **{column: rows[column].cast("decimal(38, 0)").sum().cast("int64") for column in columns})


def _within(rows: Table, keys: Sequence[str], changed: ChangedGroups | None) -> Table:
    """The rows of `rows` in a group by `keys` that holds a changed group (all of them without `changed`)."""
    if changed is None or not keys:
        return rows
    return rows.semi_join(changed.groups.select(*keys).distinct(), list(keys))


def _outside(kept: Table, keys: Sequence[str], changed: ChangedGroups) -> Table:
    """The kept map rows of the groups by `keys` (not empty) that hold no changed group."""
    level = kept.filter(*(kept[key].notnull() if key in keys else kept[key].isnull() for key in _FINEST))
    return level.anti_join(changed.groups.select(*keys).distinct(), list(keys))
