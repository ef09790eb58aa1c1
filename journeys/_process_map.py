"""Process maps: the directly-follows graph of some cases, with frequencies and times per edge.

Computed from the store's ``steps`` table (see :mod:`najma.journeys._build`), so that a map of any
filter is one aggregation, not a pass over raw events in Python. The map of one service or of all
of them, over all their cases or one quarter of them, is read from the maps the build keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import pandas as pd
from ibis.expr.types import Table

from najma.errors import InvalidParameterError
from najma.journeys._aggregates import SERVICE_MAP_ACTIVITIES, SERVICE_MAP_EDGES, activity_statistics, edge_statistics
from najma.journeys._filters import CaseFilter
from najma.journeys._quarter import quarter_name
from najma.journeys._tables import JourneyTables
from najma.journeys._variants import journey_table

__all__ = ["ProcessMap", "process_map", "filtered_steps", "rework_per_activity"]

#: The order of a map's edges and activities: most frequent first, then by name.
_EDGE_ORDER = [ibis.desc("frequency"), "source", "target"]
_ACTIVITY_ORDER = [ibis.desc("frequency"), "activity"]


@dataclass(frozen=True)
class ProcessMap:
    """A directly-follows graph.

    Attributes
    ----------
    activities : pandas.DataFrame
        activity, frequency (events), cases; most frequent first.
    edges : pandas.DataFrame
        source, target, frequency (times it was followed), cases (cases with it), and the seconds
        between the two events: mean_seconds, median_seconds, p90_seconds, min_seconds,
        max_seconds; most frequent first.
    start_activities, end_activities : dict of str to int
        How many cases start (end) with each activity.
    """

    activities: pd.DataFrame
    edges: pd.DataFrame
    start_activities: dict[str, int]
    end_activities: dict[str, int]

    @property
    def dfg(self) -> dict[tuple[str, str], int]:
        """The edge frequencies as pm4py writes a DFG: ``{(source, target): count}``."""
        return {(s, t): int(f) for s, t, f in zip(self.edges.source, self.edges.target, self.edges.frequency, strict=True)}

    def abstract(self, coverage: float) -> ProcessMap:
        """Keep the most frequent activities that cover `coverage` of the events, then the most
        frequent edges among them that cover `coverage` of their frequency.

        Parameters
        ----------
        coverage : float
            A share in (0, 1]; 1 keeps everything.
        """
        if not 0 < coverage <= 1:
            raise InvalidParameterError(f"The 'coverage' parameter of ProcessMap.abstract must be in (0, 1]. Got {coverage!r} instead.")
        activities = _covering(self.activities, coverage)
        kept = set(activities.activity)
        edges = self.edges[self.edges.source.isin(kept) & self.edges.target.isin(kept)]
        edges = _covering(edges, coverage)
        return ProcessMap(
            activities,
            edges,
            {a: n for a, n in self.start_activities.items() if a in kept},
            {a: n for a, n in self.end_activities.items() if a in kept},
        )


def _covering(frame: pd.DataFrame, coverage: float) -> pd.DataFrame:
    """The first rows (by frequency) whose frequencies reach `coverage` of the total."""
    if frame.empty:
        return frame
    total = frame.frequency.sum()
    before = frame.frequency.cumsum() - frame.frequency
    return frame[before < coverage * total].reset_index(drop=True)


def filtered_steps(store: JourneyTables, where: CaseFilter | None = None) -> Table:
    """The steps of the cases that pass `where`, as an Ibis table.

    Each step carries its case's start, so a filter on services and start times is read off the
    steps alone; other criteria join the steps with the journeys that pass them on the integer
    ``case_key``.
    """
    steps = store.backend.table("steps")
    if where is None or where.is_empty:
        return steps
    where = where.in_zone_of(store)
    spans = where.span_predicates(steps, steps.case_start)
    steps = steps.filter(*spans) if spans else steps
    if where.spans_only:
        return steps
    return steps.semi_join(journey_table(store, where).select("case_key"), "case_key")


def process_map(store: JourneyTables, where: CaseFilter | None = None, *, coverage: float = 1.0) -> ProcessMap:
    """Return the directly-follows graph of the cases that pass `where`.

    Parameters
    ----------
    store : Store or SparkTables
        A store whose journeys were built (:func:`najma.journeys.build_journeys`), or the tables of a
        Spark build (:func:`najma.spark.build_on_spark`).
    where : CaseFilter, optional
        Which cases; by default all.
    coverage : float, default 1.0
        Abstraction: see :meth:`ProcessMap.abstract`.

    Examples
    --------
    >>> import os, pandas as pd
    >>> from najma.journeys import Store, build_journeys
    >>> os.environ.setdefault("NAJMA_PSEUDONYM_KEY", "example-key")
    '...'
    >>> frame = pd.DataFrame({"case_id": ["a", "a", "a", "b", "b"],
    ...                       "activity": ["Apply", "Pay", "Collect", "Apply", "Collect"],
    ...                       "timestamp": ["2025-01-05 09:00", "2025-01-05 10:00", "2025-01-07 09:00",
    ...                                     "2025-01-06 09:00", "2025-01-06 11:00"]})
    >>> store = Store(":memory:")
    >>> _ = store.ingest_frame(frame, service="permit"); _ = build_journeys(store)
    >>> graph = process_map(store)
    >>> sorted(graph.dfg.items())
    [(('Apply', 'Collect'), 1), (('Apply', 'Pay'), 1), (('Pay', 'Collect'), 1)]
    >>> graph.edges.set_index(["source", "target"])["median_seconds"].sort_index().to_dict()
    {('Apply', 'Collect'): 7200.0, ('Apply', 'Pay'): 3600.0, ('Pay', 'Collect'): 169200.0}
    >>> graph.start_activities, graph.end_activities
    ({'Apply': 2}, {'Collect': 2})
    """
    kept = _kept_map(store, where)
    if kept is not None:
        edges, activities = kept
    else:
        steps = filtered_steps(store, where)
        edges = edge_statistics(steps).order_by(_EDGE_ORDER).to_pandas()
        activities = activity_statistics(steps).order_by(_ACTIVITY_ORDER).to_pandas()
    graph = ProcessMap(
        activities[["activity", "frequency", "cases"]],
        edges,
        {a: int(n) for a, n in zip(activities.activity, activities.starts, strict=True) if n},
        {a: int(n) for a, n in zip(activities.activity, activities.ends, strict=True) if n},
    )
    return graph if coverage >= 1 else graph.abstract(coverage)


def _kept_map(store: JourneyTables, where: CaseFilter | None) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The edges and activities of a map as the build kept them (see
    :func:`najma.journeys._aggregates.service_maps`), when `where` asks for all the cases of one service
    or of every service, or for those that started in one quarter read in the build's zone; else None."""
    where = (where or CaseFilter()).in_zone_of(store)
    if not ((where.service is None or isinstance(where.service, str)) and where.spans_only
            and where.start is None and where.end is None and store.has_table(SERVICE_MAP_EDGES)):
        return None
    quarter = None if where.quarter is None else quarter_name(where.quarter)
    found = []
    for name, order in ((SERVICE_MAP_EDGES, _EDGE_ORDER), (SERVICE_MAP_ACTIVITIES, _ACTIVITY_ORDER)):
        table = store.backend.table(name)
        service = table.service.isnull() if where.service is None else table.service == where.service
        period = table.quarter.isnull() if quarter is None else (table.quarter == quarter) & (table.zone == where.tz)
        found.append(table.filter(service, period).drop("service", "quarter", "zone").order_by(order).to_pandas())
    edges, activities = found
    return None if activities.empty else (edges, activities)  # a quarter of another zone is worked out


def rework_per_activity(store: JourneyTables, where: CaseFilter | None = None) -> dict[str, int]:
    """Return, per activity, the number of cases in which it occurs more than once."""
    steps = filtered_steps(store, where)
    again = steps.filter(steps.occurrence == 1).group_by("activity").aggregate(n=ibis._.count())
    return {a: int(n) for a, n in again.to_pandas().itertuples(index=False)}
