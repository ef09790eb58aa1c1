"""Hand-over of work: how often work passes from one agency, service or resource to another, and how long it takes.

Definition
----------
A *trace* is the events of one case (for agencies and resources) or of one customer's linked
cases (for services, below), ordered by ``timestamp`` and then ``event_seq`` (the store's stable
ingest order), never by input row order: the order of the steps table, in which every event is a step.
Two consecutive events of a trace are a **hand-over** from the first event's agency (resource,
service) to the second's when both are known and they differ. Its time is the seconds from the
first event's timestamp to the second's.

- Missing value: a pair in which either event has no agency (resource) is no hand-over; an event
  of unknown agency also breaks the chain, so A, unknown, B counts no hand-over from A to B (we do
  not guess who held the work in between). This is the rule by which the journey table counts a
  case's ``agency_handoffs``, so the agency matrix sums to that column.
- Ties in time are ordered by ``event_seq``; a case of one event has no hand-over.
- Services: a customer's cases (of every service) are linked as :func:`najma.journeys._life_events.linked_within`
  links them (each starting at most `window_days` after the case before it), and the events of a linked run are
  one trace; consecutive events of two services are a hand-over between them. A case without a customer (its
  ``customer_id`` is its own ``service/case_id``) is a run of its own and hands nothing over. Interleaved cases
  hand over each time the customer's next event is of the other service. ``cases`` then counts linked runs.

Per (source, target) pair: ``handovers`` (times), ``cases`` (cases with at least one; runs for services),
``customers`` (distinct customers, which the small-group rule of :mod:`najma.rating._suppression` reads) and
``median_seconds``. Only the cases that pass a :class:`~najma.journeys.CaseFilter` are read (for services, only
those are linked).

Compared with pm4py and bupaR
-----------------------------
- pm4py's ``discover_handover_of_work_network`` (``sna/variants/pandas/handover.py``, ``beta=0``) counts
  every pair of consecutive events of a case, the same resource twice included, and divides each count by
  the number of all such pairs: the off-diagonal counts of the same log are ours times that number. It
  keeps no time; its ``beta > 0`` adds indirect successions (later events, weighted by ``beta`` to the power
  of the distance), which we do not count; it orders a case's events by its sort on the timestamp (ties in
  row order), we by ``event_seq``; a missing resource is, for it, a value of its own.
- bupaR's ``resource_map`` (processmapR, ``R/resource_map.R``) swaps the activity and the resource
  classifiers and draws the process map: its edges are the resources of consecutive *activity instances*
  (a start and a complete event are one instance), self-loops (the same resource again) and the start and
  end nodes included, with absolute counts or the time between; ``resource_matrix`` is the same as a
  table. We work on events (a log with start and complete events has one hand-over per change of hands
  either way, as both events of an instance have one resource), leave out same-resource pairs, and add the
  cases and customers per pair.

Examples
--------
>>> sorted(HANDOVER_LEVELS)
['agency', 'resource', 'service']
"""

from __future__ import annotations

import ibis
import pandas as pd
from ibis.expr.types import Table

from najma.errors import InvalidParameterError
from najma.journeys._filters import CaseFilter
from najma.journeys._life_events import linked_within
from najma.journeys._process_map import ProcessMap
from najma.journeys._store import Store
from najma.journeys._variants import journey_table

__all__ = ["handovers", "handover_matrix", "handover_network", "HANDOVER_LEVELS", "HANDOVER_NEEDS", "HANDOVER_COLUMNS", "HANDOVER_EPISODE_DAYS"]

#: What work can be handed over between: a column of the events.
HANDOVER_LEVELS = ("agency", "service", "resource")
#: The optional column each level needs: without a value in it, hand-overs at that level cannot be counted (no data,
#: not none); between services, cases are linked by their customer.
HANDOVER_NEEDS = {"agency": "agency", "service": "customer_id", "resource": "resource"}
#: The columns of :func:`handovers`, in order.
HANDOVER_COLUMNS = ("source", "target", "handovers", "cases", "customers", "median_seconds")
#: The days within which a customer's next case continues the same run, for hand-overs between services
#: (the window of :func:`najma.discover_bundles`).
HANDOVER_EPISODE_DAYS = 60
#: What a matrix cell can show.
_MEASURES = ("handovers", "cases", "customers", "median_seconds")


def handovers(store: Store, by: str = "agency", where: CaseFilter | None = None, *,
              window_days: int = HANDOVER_EPISODE_DAYS) -> pd.DataFrame:
    """Hand-overs of work between the agencies, services or resources of the cases that pass `where`.

    Parameters
    ----------
    store : Store
        A store whose journeys were built.
    by : {"agency", "service", "resource"}
        Between what work is handed over (see the module docstring for each).
    where : CaseFilter, optional
        Which cases; by default all.
    window_days : int, default :data:`HANDOVER_EPISODE_DAYS`
        For services: a customer's case continues the run of the case before it when it starts at most
        this many days after that case started.

    Returns
    -------
    pandas.DataFrame
        :data:`HANDOVER_COLUMNS`, one row per (source, target) pair with a hand-over; most hand-overs first,
        then by source and target.

    Raises
    ------
    InvalidParameterError
        When `by` is not one of :data:`HANDOVER_LEVELS`, or `window_days` is not a whole number of days, at least 1.
    """
    if by not in HANDOVER_LEVELS:
        raise InvalidParameterError(f"The 'by' parameter of handovers must be one of {', '.join(HANDOVER_LEVELS)}. "
                                    f"Got {by!r} instead.", parameter="by")
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1:
        raise InvalidParameterError("The 'window_days' parameter of handovers must be a whole number of days, at least 1. "
                                    f"Got {window_days!r} instead.", parameter="window_days")
    cases = journey_table(store, where).select("service", "case_id", "case_key", "customer_id", "start")
    if by == "service":
        cases = linked_within(cases, ["customer_id"], window_days)
        cases = cases.mutate(trace=cases.customer_id.concat(":", cases.episode.cast("string")))
    else:
        cases = cases.mutate(trace=cases.case_key.cast("string"))
    events = store.backend.table("events")
    rows = events.select("case_key", "event_seq", "timestamp", value=events[by]).join(
        cases.select("case_key", "trace", "customer_id"), "case_key")
    return _pairs(rows).to_pandas().pipe(_tidy)


def _pairs(rows: Table) -> Table:
    """The hand-overs of `rows` (trace, customer_id, event_seq, timestamp, value) per (source, target) pair."""
    in_order = ibis.window(group_by="trace", order_by=["timestamp", "event_seq"])
    rows = rows.mutate(target=rows.value.lead().over(in_order), then=rows.timestamp.lead().over(in_order))
    handed = rows.filter(rows.value.notnull(), rows.target.notnull(), rows.value != rows.target)
    seconds = handed.then.epoch_seconds() - handed.timestamp.epoch_seconds()
    return handed.group_by(source=handed.value, target=handed.target).aggregate(
        handovers=handed.count(), cases=handed.trace.nunique(), customers=handed.customer_id.nunique(),
        median_seconds=seconds.cast("float64").median())


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` in :data:`HANDOVER_COLUMNS` order with their types, most hand-overs first, then by names."""
    frame = frame.astype({"source": "string", "target": "string", "handovers": "int64", "cases": "int64",
                          "customers": "int64", "median_seconds": "float64"})
    ordered = frame.sort_values(["handovers", "source", "target"], ascending=[False, True, True], kind="stable")
    return ordered[list(HANDOVER_COLUMNS)].reset_index(drop=True)


def handover_matrix(pairs: pd.DataFrame, measure: str = "handovers") -> pd.DataFrame:
    """The hand-overs of :func:`handovers` as a matrix: a row per source, a column per target, `measure` in each cell.

    Every name that is a source or a target is both a row and a column (sorted); a pair without a hand-over is
    0 for a count and missing (NaN) for ``median_seconds``.

    Examples
    --------
    >>> pairs = pd.DataFrame({"source": ["A", "B"], "target": ["B", "C"], "handovers": [3, 1]})
    >>> handover_matrix(pairs).to_dict("index")
    {'A': {'A': 0, 'B': 3, 'C': 0}, 'B': {'A': 0, 'B': 0, 'C': 1}, 'C': {'A': 0, 'B': 0, 'C': 0}}
    """
    if measure not in _MEASURES:
        raise InvalidParameterError(f"The 'measure' parameter of handover_matrix must be one of {', '.join(_MEASURES)}. "
                                    f"Got {measure!r} instead.", parameter="measure")
    names = sorted({*pairs["source"], *pairs["target"]})
    matrix = pairs.pivot(index="source", columns="target", values=measure).reindex(index=names, columns=names)
    matrix = matrix if measure == "median_seconds" else matrix.fillna(0).astype("int64")
    return matrix.rename_axis(index="source", columns="target")


def handover_network(pairs: pd.DataFrame) -> ProcessMap:
    """The hand-overs of :func:`handovers` as a graph to draw with the process map's layout.

    Each name is a node whose ``frequency`` (and ``cases``) is the hand-overs it gives or takes among `pairs`;
    each pair is an edge with its hand-overs as ``frequency``, its ``cases`` and ``median_seconds``. There is no
    start or end: work is handed over between the nodes only.

    Examples
    --------
    >>> pairs = pd.DataFrame({"source": ["A"], "target": ["B"], "handovers": [3], "cases": [2], "median_seconds": [60.0]})
    >>> handover_network(pairs).activities.to_dict("list")
    {'activity': ['A', 'B'], 'frequency': [3, 3], 'cases': [3, 3]}
    """
    given = pairs.groupby("source")["handovers"].sum()
    taken = pairs.groupby("target")["handovers"].sum()
    touched = given.add(taken, fill_value=0).astype("int64")
    nodes = pd.DataFrame({"activity": touched.index.astype(str), "frequency": touched.to_numpy()})
    nodes = nodes.assign(cases=nodes["frequency"]).sort_values(["frequency", "activity"], ascending=[False, True])
    edges = pairs.rename(columns={"handovers": "frequency"})[["source", "target", "frequency", "cases", "median_seconds"]]
    return ProcessMap(nodes.reset_index(drop=True), edges.astype({"source": str, "target": str}).reset_index(drop=True),
                      {}, {})
