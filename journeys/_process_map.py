"""Process maps: the directly-follows graph of some cases, with frequencies and times per edge.

Computed from the store's ``steps`` table (see :mod:`najma.journeys._build`), so that a map of any
filter is one aggregation, not a pass over raw events in Python. The map of one service or of all
of them, over all their cases or one quarter of them, is read from the maps the build keeps.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass

import ibis
import pandas as pd
from ibis.expr.types import BooleanValue, Table

from najma.errors import InvalidParameterError
from najma.journeys._aggregates import (
    SERVICE_MAP_ACTIVITIES,
    SERVICE_MAP_EDGES,
    activity_statistics,
    count_true,
    edge_statistics,
    edge_times,
    summed,
)
from najma.journeys._filters import CaseFilter
from najma.journeys._pipeline import VARIANT_SEP
from najma.journeys._quarter import quarter_name
from najma.journeys._tables import JourneyTables
from najma.journeys._variants import journey_table

__all__ = ["ProcessMap", "process_map", "filtered_steps"]

#: The order of a map's edges and activities, as (column, ascending) pairs: most frequent first, then by name.
_EDGE_KEYS = (("frequency", False), ("source", True), ("target", True))
_ACTIVITY_KEYS = (("frequency", False), ("activity", True))
#: The same orders, of a table.
_EDGE_ORDER, _ACTIVITY_ORDER = ([column if up else ibis.desc(column) for column, up in keys] for keys in (_EDGE_KEYS, _ACTIVITY_KEYS))
#: The counts of a map's activities (see :func:`~najma.journeys._aggregates.activity_statistics`), each a sum over cases.
_ACTIVITY_COUNTS = ["frequency", "cases", "starts", "ends"]


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
        frequent links among them (edges, and the links from the start and to the end) that
        cover `coverage` of their frequency, as Disco's two sliders do.

        Rows of equal frequency are kept or dropped together, never cut by name. Every activity
        kept keeps its most frequent link in and its most frequent link out, and, when the map
        itself has such a path, every activity shown stays on a path from the start and on a path
        to the end: the most frequent way to it (or from it) is added back, with the activities
        it passes. The start and end counts kept are those of the start and end links kept.

        Parameters
        ----------
        coverage : float
            A share in (0, 1]; 1 keeps every activity and edge.

        Examples
        --------
        >>> import pandas as pd
        >>> graph = ProcessMap(
        ...     pd.DataFrame({"activity": ["A", "B", "C"], "frequency": [10, 10, 1], "cases": [10, 10, 1]}),
        ...     pd.DataFrame({"source": ["A", "A", "C"], "target": ["B", "C", "B"], "frequency": [9, 1, 1],
        ...                   "cases": [9, 1, 1]}),
        ...     {"A": 10}, {"B": 10})
        >>> sorted(graph.abstract(0.5).activities.activity)  # A and B tie: both stay
        ['A', 'B']
        """
        if not 0 < coverage <= 1:
            raise InvalidParameterError(f"The 'coverage' parameter of ProcessMap.abstract must be in (0, 1]. Got {coverage!r} instead.")
        kept = set(_covering(self.activities, coverage).activity)
        links = _links(self)
        among = links[links.source.isin(kept | {_START}) & links.target.isin(kept | {_END})]
        chosen = set(zip(*(_covering(among, coverage)[end] for end in ("source", "target")), strict=True))
        chosen |= _strongest_links(among, kept)
        _connect(links, kept, chosen)
        return ProcessMap(
            self.activities[self.activities.activity.isin(kept)].reset_index(drop=True),
            self.edges[[pair in chosen for pair in zip(self.edges.source, self.edges.target, strict=True)]]
            .reset_index(drop=True),
            {a: n for a, n in self.start_activities.items() if (_START, a) in chosen},
            {a: n for a, n in self.end_activities.items() if (a, _END) in chosen},
        )


#: The start and the end of every case, as the two ends of a map's start and end links (names no activity has).
_START, _END = "\x02start", "\x03end"


def _links(graph: ProcessMap) -> pd.DataFrame:
    """Every edge of `graph` and its start and end links (from :data:`_START`, to :data:`_END`): source, target,
    frequency."""
    return pd.concat([
        graph.edges[["source", "target", "frequency"]],
        pd.DataFrame({"source": _START, "target": list(graph.start_activities),
                      "frequency": list(graph.start_activities.values())}),
        pd.DataFrame({"source": list(graph.end_activities), "target": _END,
                      "frequency": list(graph.end_activities.values())}),
    ], ignore_index=True).astype({"frequency": "int64"})


def _covering(frame: pd.DataFrame, coverage: float) -> pd.DataFrame:
    """The most frequent rows whose frequencies reach `coverage` of the total, with every row as frequent as the
    last one of them (a tie is never cut)."""
    if frame.empty:
        return frame
    ranked = frame.sort_values("frequency", ascending=False, kind="stable")
    before = ranked.frequency.cumsum() - ranked.frequency
    least = ranked.frequency[before < coverage * ranked.frequency.sum()].min()
    return frame[frame.frequency >= least]


def _strongest_links(edges: pd.DataFrame, kept: set[str]) -> set[tuple[str, str]]:
    """For each activity of `kept`, its most frequent edge in and its most frequent edge out among `edges`
    (self-loops aside; ties go by the names)."""
    between = edges[edges.source != edges.target].sort_values(["frequency", "source", "target"],
                                                              ascending=[False, True, True], kind="stable")
    strongest = set()
    for end in ("source", "target"):
        first = between.drop_duplicates(end)
        strongest |= {(s, t) for s, t, a in zip(first.source, first.target, first[end], strict=True) if a in kept}
    return strongest


def _connect(links: pd.DataFrame, kept: set[str], chosen: set[tuple[str, str]]) -> None:
    """Add to `chosen` (and their activities to `kept`) the most frequent ways along `links` that put every activity
    of `kept` on a path from the start and on a path to the end (the activities such a way passes come back)."""
    forward: dict[str, list[tuple[str, int]]] = {}
    backward: dict[str, list[tuple[str, int]]] = {}
    for s, t, f in zip(links.source, links.target, links.frequency, strict=True):
        if s != t:
            forward.setdefault(s, []).append((t, int(f)))
            backward.setdefault(t, []).append((s, int(f)))
    changed = True
    while changed:
        changed = False
        for root, steps, flip in ((_START, forward, False), (_END, backward, True)):
            added = _widest_ways({root}, kept, chosen, steps, flip)
            kept |= {a for pair in added for a in pair} - {_START, _END}
            chosen |= added
            changed |= bool(added)


def _widest_ways(roots: set[str], kept: set[str], chosen: set[tuple[str, str]],
                 steps: Mapping[str, list[tuple[str, int]]], flip: bool) -> set[tuple[str, str]]:
    """The edges to add so that every activity of `kept` is reached from `roots` (along `chosen` edges, turned
    around when `flip`): for each one not reached, the way from the reached ones whose rarest edge is the most
    frequent (a widest path, by Dijkstra's method), over every edge in `steps`."""
    def reached_from(start: set[str]) -> set[str]:
        seen, todo = set(start), list(start)
        while todo:
            node = todo.pop()
            for after, _ in steps.get(node, ()):
                if after not in seen and ((node, after) if not flip else (after, node)) in chosen:
                    seen.add(after)
                    todo.append(after)
        return seen

    added: set[tuple[str, str]] = set()
    reached = reached_from(roots)
    for lost in sorted(kept - reached):
        if lost in reached:
            continue
        width = {node: math.inf for node in reached}
        came: dict[str, str] = {}
        queue = [(-math.inf, node) for node in sorted(reached)]
        while queue:
            negative, node = heapq.heappop(queue)
            if node == lost or -negative < width.get(node, 0):
                continue
            for after, frequency in steps.get(node, ()):
                through = min(-negative, frequency)
                if after not in reached and through > width.get(after, 0):
                    width[after], came[after] = through, node
                    heapq.heappush(queue, (-through, after))
        if lost not in came:  # the map itself has no way there
            continue
        node = lost
        while node not in reached:
            added.add((came[node], node) if not flip else (node, came[node]))
            node = came[node]
        chosen = chosen | added
        reached = reached_from(roots)
    return added


def filtered_steps(store: JourneyTables, where: CaseFilter | None = None) -> Table:
    """The steps of the cases that pass `where`, as an Ibis table.

    Each step carries its case's start, so a filter on services, start times and activities is read off the steps
    alone (:meth:`CaseFilter.steps_of`); other criteria join the steps with the journeys that pass them on the integer
    ``case_key``.
    """
    steps = store.backend.table("steps")
    if where is None or where.is_empty:
        return steps
    where = where.in_zone_of(store)
    if where.on_steps_alone:
        return where.steps_of(steps)
    spans = where.span_predicates(steps, steps.case_start)
    steps = steps.filter(*spans) if spans else steps
    # An inner join, as each case is one journey: DuckDB joins it faster than the same semi join (channel of 10.4M events:
    # 103 against 122 ms).
    return steps.join(journey_table(store, where).select("case_key"), "case_key")


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
    edges, activities = kept if kept is not None else _worked_out(store, where)
    graph = ProcessMap(
        activities[["activity", "frequency", "cases"]],
        edges,
        {a: int(n) for a, n in zip(activities.activity, activities.starts, strict=True) if n},
        {a: int(n) for a, n in zip(activities.activity, activities.ends, strict=True) if n},
    )
    return graph if coverage >= 1 else graph.abstract(coverage)


def _kept_map(store: JourneyTables, where: CaseFilter | None) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The edges and activities of a map from the maps the build kept (see
    :func:`najma.journeys._aggregates.service_maps`), when `where` asks for all the cases of some services (or of
    every service), or for those that started in one quarter read in the build's zone; else None.

    One service (or every one, or a list of one) is read back as kept. A list of services is summed from their kept
    rows, as the build sums its coarser maps: a case has one service, so every count, and the cases with an edge,
    are the sums of theirs; an edge's times (means and quantiles are not sums) are worked out from the services'
    steps, which spares the costly count of distinct cases per edge.
    """
    where = (where or CaseFilter()).in_zone_of(store)
    if not (where.spans_only and where.start is None and where.end is None and store.has_table(SERVICE_MAP_EDGES)):
        return None
    quarter = None if where.quarter is None else quarter_name(where.quarter)
    service = where.service[0] if isinstance(where.service, tuple) and len(where.service) == 1 else where.service
    tables = [store.backend.table(name) for name in (SERVICE_MAP_EDGES, SERVICE_MAP_ACTIVITIES)]
    edges, activities = (table.filter(_kept_rows(table, service), table.quarter.isnull() if quarter is None
                                      else (table.quarter == quarter) & (table.zone == where.tz)) for table in tables)
    if not isinstance(service, tuple):
        found = [rows.drop("service", "quarter", "zone").order_by(order).to_pandas()
                 for rows, order in ((edges, _EDGE_ORDER), (activities, _ACTIVITY_ORDER))]
    else:
        steps = filtered_steps(store, where)
        times = edge_times(steps.filter(steps.next_activity.notnull()), ())
        found = [times.join(summed(edges, ["source", "target"], ["cases"]), ["source", "target"])
                 .select(*edge_statistics(steps).columns).order_by(_EDGE_ORDER).to_pandas(),
                 summed(activities, ["activity"], _ACTIVITY_COUNTS).order_by(_ACTIVITY_ORDER).to_pandas()]
    edges, activities = found
    return None if activities.empty else (edges, activities)  # a quarter of another zone is worked out


def _worked_out(store: JourneyTables, where: CaseFilter | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The edges and activities of the map of the cases that pass `where`, worked out from their steps.

    The cases of one variant (and length) have the same activities in the same order: the cases with an edge and
    every count of an activity are read off the variants' text, each weighted by its cases
    (:func:`_variant_pairs`), which spares counting the distinct cases of each edge over every step (at 10.4M
    events, one channel's map in 171 ms against 502 ms). Only an edge's times are worked out from every step, in
    the same query. A variant's text names its activities when none of them holds the arrow of
    :data:`~najma.journeys.VARIANT_SEP` (every arrow in it is then a separator's); when one does, the map is counted
    step by step.
    """
    steps = filtered_steps(store, where)
    pairs = _variant_pairs(store, where)
    times = edge_times(steps.filter(steps.next_activity.notnull()), ())
    joined = pairs.left_join(times, [pairs.activity == times.source, pairs.next_activity == times.target])
    frame = joined.select(pairs, *(times[column] for column in times.columns if column not in pairs.columns
                                   and column not in ("source", "target"))).to_pandas()
    if frame.unclear.any():
        return (edge_statistics(steps).order_by(_EDGE_ORDER).to_pandas(),
                activity_statistics(steps).order_by(_ACTIVITY_ORDER).to_pandas())
    follows = frame[frame.next_activity.notna()].rename(columns={"activity": "source", "next_activity": "target"})
    edges = _sorted(follows[list(edge_statistics(steps).columns)], _EDGE_KEYS)
    frame["ends"] = frame.frequency.where(frame.next_activity.isna(), 0)
    counts = frame.groupby("activity", as_index=False)[["frequency", "firsts", "starts", "ends"]].sum()
    return edges, _sorted(counts.rename(columns={"firsts": "cases"}), _ACTIVITY_KEYS)


def _variant_pairs(store: JourneyTables, where: CaseFilter | None) -> Table:
    """Per activity and the one after it (``next_activity``, NULL after a case's last), over the cases that pass
    `where`, as read off their variants' text: how often it was followed (``frequency``), in how many cases
    (``cases``), and in how many cases it was the first step of its activity (``firsts``) and the first step of the
    case (``starts``); ``unclear`` counts the steps of a variant whose text does not name its activities (see
    :func:`_worked_out`)."""
    journeys = journey_table(store, where)
    counted = journeys.group_by(["variant", "events"]).aggregate(weight=journeys.count())
    names = counted.variant.split(VARIANT_SEP)
    rows = counted.mutate(names=names, activity=names).unnest("activity", offset="position")
    unclear = rows.activity.contains(VARIANT_SEP.strip()) | (rows.names.length() != rows.events)
    after = rows.position + 1  # looked up only within the list: Spark refuses an index past its end
    rows = rows.mutate(next_activity=ibis.ifelse(after < rows.names.length(), rows.names[after], ibis.null("string")),
                       first=rows.names.index(rows.activity) == rows.position, unclear=unclear)
    per_variant = rows.group_by(["variant", "events", "weight", "activity", "next_activity"]).aggregate(
        frequency=rows.count(), firsts=count_true(rows.first), starts=count_true(rows.position == 0),
        unclear=count_true(rows.unclear))
    weighted = per_variant.mutate(
        cases=per_variant.weight, **{count: per_variant[count] * per_variant.weight for count in ("frequency", "firsts", "starts")})
    return summed(weighted, ["activity", "next_activity"], ["frequency", "cases", "firsts", "starts", "unclear"])


def _sorted(frame: pd.DataFrame, keys: tuple[tuple[str, bool], ...]) -> pd.DataFrame:
    """`frame` in the order of `keys` ((column, ascending) pairs), as :data:`_EDGE_ORDER` and :data:`_ACTIVITY_ORDER` order a table."""
    return frame.sort_values([column for column, _ in keys], ascending=[up for _, up in keys], ignore_index=True)


def _kept_rows(table: Table, service: str | tuple[str, ...] | None) -> BooleanValue:
    """The rows of a kept map's `table` of `service`: one, any of a tuple, or (None) the rows of every service."""
    if service is None:
        return table.service.isnull()
    return table.service == service if isinstance(service, str) else table.service.isin(list(service))

