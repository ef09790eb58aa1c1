"""The aggregations of a process map over a steps table, shared by the map of a filter and the maps the build keeps.

Both group the steps (see :mod:`najma.journeys._build`) by `keys` beside the edge or the activity, so the
same expression answers one filter (no keys) or every service and quarter at once
(:func:`service_maps`).
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import pandas as pd
from ibis.expr.types import BooleanValue, IntegerScalar, NumericScalar, Table
from ibis.expr.types.groupby import GroupedTable

from najma.journeys._quarter import quarter_expr

__all__ = [
    "count_true", "edge_statistics", "activity_statistics", "service_maps", "SERVICE_MAP_EDGES", "SERVICE_MAP_ACTIVITIES",
]

#: The store's tables of each service's maps (see :func:`service_maps`): edge and activity statistics.
SERVICE_MAP_EDGES, SERVICE_MAP_ACTIVITIES = "service_map_edges", "service_map_activities"


def count_true(flag: BooleanValue) -> IntegerScalar:
    """How many rows `flag` holds for, as an int64 aggregate (a sum of booleans is a 128-bit
    integer on DuckDB, which Ibis would read as a decimal)."""
    return flag.count(where=flag)


def edge_statistics(steps: Table, keys: Sequence[str] = ()) -> Table:
    """Per `keys` and edge (source, target): how often it was followed, in how many cases, and the
    mean, median, p90, min and max seconds between its two events."""
    follows = steps.filter(steps.next_activity.notnull())
    return _by_edge(follows, keys).aggregate(frequency=follows.count(), cases=follows.case_key.nunique(), **_times(follows))


def _by_edge(follows: Table, keys: Sequence[str]) -> GroupedTable:
    return follows.group_by([*keys, follows.activity.name("source"), follows.next_activity.name("target")])


def _times(follows: Table) -> dict[str, NumericScalar]:
    """The statistics of the seconds between the two events of each edge."""
    seconds = follows.seconds_to_next
    return {
        "mean_seconds": seconds.mean(), "median_seconds": seconds.median(), "p90_seconds": seconds.quantile(0.9),
        "min_seconds": seconds.min(), "max_seconds": seconds.max(),
    }


def activity_statistics(steps: Table, keys: Sequence[str] = ()) -> Table:
    """Per `keys` and activity: its events, the cases with it, and the cases it starts and ends."""
    return steps.group_by([*keys, "activity"]).aggregate(
        frequency=steps.count(),
        cases=count_true(steps.occurrence == 0),
        starts=count_true(steps.position == 0),
        ends=count_true(steps.next_activity.isnull()),
    )


def service_maps(steps: Table, zone: str, first: pd.Timestamp | None, last: pd.Timestamp | None) -> tuple[Table, Table]:
    """The edge and activity statistics of each service per quarter of its cases' starts, read in
    `zone`, and of each service over all its cases (``quarter`` NULL); the same over all services
    (``service`` NULL), per quarter and over the whole log. ``zone`` names the zone.

    A case has one service and one quarter, so the cases with an edge in several quarters or
    services are the sum of theirs: the costly count of distinct cases is made once, per service
    and quarter.

    Parameters
    ----------
    steps : ibis Table
        The steps table.
    zone : str
        The zone in which quarters are read.
    first, last : Timestamp or None
        The first and last case start of the steps (None when there are none).
    """
    quarter = ibis.null("string") if first is None else quarter_expr(steps.case_start, zone, first, last)
    steps = steps.mutate(quarter=quarter)
    finest = ["service", "quarter"]
    by_quarter = edge_statistics(steps, finest)
    edges, activities = by_quarter, activity_statistics(steps, finest)
    follows = steps.filter(steps.next_activity.notnull())
    # (DuckDB sums integers to a 128-bit integer: summing them as decimals makes the cast back explicit.)
    summed = by_quarter.cases.cast("decimal(38, 0)").sum().cast("int64")
    for keys in (["service"], ["quarter"], []):
        blanks = {key: ibis.null(steps[key].type()) for key in finest if key not in keys}
        cases = by_quarter.group_by([*keys, "source", "target"]).aggregate(cases=summed)
        rolled = (
            _by_edge(follows, keys).aggregate(frequency=follows.count(), **_times(follows))
            .join(cases, [*keys, "source", "target"])
            .mutate(**blanks)
        )
        edges = edges.union(rolled.select(*by_quarter.columns))
        activities = activities.union(activity_statistics(steps, keys).mutate(**blanks).select(*activities.columns))
    return edges.mutate(zone=ibis.literal(zone)), activities.mutate(zone=ibis.literal(zone))
