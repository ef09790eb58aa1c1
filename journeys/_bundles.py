"""Bundle discovery: the services the same customers use together, found in the logs, and what one window would save.

A life event bundle (a newborn: birth certificate, ID, passport, health insurance) is named in the
catalogue once an analyst knows it. :func:`discover_bundles` finds candidates without the catalogue:
it looks for the sets of services that the same customers take together, again and again, within a
time window. The catalogue is read only to name a candidate that is already a life event.

Episodes
--------
A customer's cases (all services; the journey table's rows) are taken in start order and linked
while each starts at most ``window_days`` after the case before it started; a longer gap starts a
new episode (the rule that links a life event's cases, :func:`najma.journeys._life_events.linked_within`).
A case without a customer (its ``customer_id`` is its ``service/case_id``) is left out: it cannot
show what else its customer needed. An episode holds a set of services when it has a case of each.

Measures
--------
With *N* the episodes of real customers and *n(S)* those holding the set *S*:

- support = n(S) / N; a candidate needs support >= ``min_support`` and n(S) >= ``min_episodes``;
- confidence = n(S) / n({first}), where *first* is the first service of the usual order;
- lift = support(S) / the product of each service's support (1 when the services are independent);
- order: a service's place in an episode is that of its first case (by start, then service); the
  usual order is the most common order of the set's services over its episodes, ``order_share`` the
  share of its episodes that take it (ties go to the order first by its text);
- closure: a set is dropped when a larger frequent set that holds it has at least 90% of its
  episodes (``CLOSURE``), so the subsets of a real bundle do not flood the list; a set whose
  episodes often go without the rest of a larger set stays.

Today and as one window
-----------------------
Over the episodes holding a candidate, counting only the candidate's cases in them (means per episode):
``agencies`` (distinct agencies, a case's agency being that of its first event), ``visits`` and
``customer_steps`` (the journeys' counts, summed), ``documents_repeated`` (per case, the distinct
documents it supplies that another agency of the episode had been given before: the "ask once"
rule of :mod:`najma.journeys._life_events`, summed) and ``days`` (the median of the days from the
first case's start to the last case's end).

Projected as one window, with the redesign's vocabulary (:mod:`najma.journeys._redesign`), per episode:

- shared steps merged: each customer-step activity counts as often as the one service that takes
  it most often, so an activity that several services ask for (the same activity name) is taken
  once for all of them, and rework within one service stays; ``customer_steps_bundled`` is the sum
  over activities of that count, ``steps_saved`` = ``customer_steps`` - ``customer_steps_bundled``;
- visits joined: at most one visit, ``visits_bundled`` = min(visits, 1), ``visits_saved`` the rest;
- documents asked once: the window asks for each document once, so none is supplied again across
  agencies: ``documents_repeated_bundled`` is 0, and ``documents_repeated`` is what it saves. The
  steps that handed them in are counted by the merge rule only (a conservative saving).

What a log cannot support is missing (NaN), never 0, per candidate (the needs of
:mod:`najma.journeys._discovery`, of each of the candidate's services, :data:`NEEDED_BY`):
``agencies`` needs an agency column; ``customer_steps``, ``customer_steps_bundled``, ``steps_saved``
and ``score`` need the customer steps (the catalogue's roles, or the actor of a service it does not
describe); ``visits*`` and ``documents_repeated*`` need the service in the catalogue (a visit, a
document handed in are its roles only), and the documents an agency column too (they are counted
across agencies). :attr:`BundleCandidates.lacking` names the services that lack each need.

Candidates are ranked by ``score`` = ``customers`` x ``steps_saved``, a missing score after every
measured one; then by customers, then episodes, then services (their text).

Method
------
The work runs in the store's engine: the episodes are linked by window functions and collapsed to
their distinct service sets with a count each (a few hundred rows even at ten million events);
frequent sets are then enumerated level by level (Apriori) over those weighted baskets as bit
masks, in plain Python. Libraries made for it were weighed and not used: mlxtend's ``apriori``
wants a one-hot frame of every transaction and efficient-apriori a list of every transaction (both
without weights, so millions of episodes would be expanded into Python objects); pyfim takes
weights but is an unmaintained C extension (last release 2020). With weighted baskets the level-wise
search is a few lines. Each candidate's order and figures are then measured by queries over its
episodes.

Examples
--------
>>> from najma.journeys import discover_bundles
>>> discover_bundles.__name__
'discover_bundles'
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import ibis
import pandas as pd
from ibis.expr.types import Table

from najma.journeys._discovery import evidence, is_share, is_whole, real_cases, refuse_first, unsupported, utc_period
from najma.journeys._filters import CaseFilter
from najma.journeys._life_events import asked_across_agencies, linked_within
from najma.journeys._pipeline import VARIANT_SEP, has_role, with_roles
from najma.journeys._store import Store

__all__ = ["BundleCandidates", "discover_bundles", "COLUMNS", "CLOSURE", "NEEDED_BY"]

#: A set is dropped when a larger frequent set holds at least this share of its episodes.
CLOSURE = 0.9
#: The store's temporary tables of one discovery: the episodes' cases, the candidates' services (candidate, service,
#: size), and each candidate's cases in the episodes that hold it.
_CASES, _MEMBERS, _OWN = "_bundle_cases", "_bundle_members", "_bundle_own"
#: The columns of :attr:`BundleCandidates.table`, in order.
COLUMNS = (
    "rank", "services", "order_share", "episodes", "customers", "support", "confidence", "lift", "life_event",
    "agencies", "visits", "customer_steps", "documents_repeated", "days",
    "visits_bundled", "customer_steps_bundled", "documents_repeated_bundled", "steps_saved", "visits_saved", "score",
)
#: What each figure that a log may not support needs of every service of its candidate (some of
#: :data:`najma.journeys._discovery.NEEDS`); it is missing (NaN) where one lacks it.
NEEDED_BY: dict[str, tuple[str, ...]] = {
    "agencies": ("agency",),
    "visits": ("catalogue",), "visits_bundled": ("catalogue",), "visits_saved": ("catalogue",),
    "customer_steps": ("steps",), "customer_steps_bundled": ("steps",), "steps_saved": ("steps",), "score": ("steps",),
    "documents_repeated": ("catalogue", "agency"), "documents_repeated_bundled": ("catalogue", "agency"),
}


@dataclass(frozen=True)
class BundleCandidates:
    """The bundles :func:`discover_bundles` found, best first, with what it looked at.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per candidate (columns :data:`COLUMNS`, defined in the module docstring); empty when none.
    window_days : int
        The linking window used.
    min_support : float
        The support threshold used.
    episodes : int
        Customer episodes considered (a customer's cases linked within the window).
    customers : int
        Distinct customers considered (cases without a customer are left out).
    period : tuple of pandas.Timestamp, or None
        The first start and last end of the cases considered (UTC); None without any.
    where : CaseFilter or None
        The selection (None: all cases).
    lacking : mapping of str to tuple of str
        The candidates' services that lack a need (one of :data:`najma.journeys._discovery.NEEDS`), by need: the
        figures needing it (:data:`NEEDED_BY`) are missing in their candidates. Empty when every figure is measured.
    """

    table: pd.DataFrame
    window_days: int
    min_support: float
    episodes: int
    customers: int
    period: tuple[pd.Timestamp, pd.Timestamp] | None
    where: CaseFilter | None
    lacking: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def discover_bundles(
    store: Store, *, window_days: int = 60, min_support: float = 0.01, min_episodes: int = 20, max_services: int = 6,
    where: CaseFilter | None = None,
) -> BundleCandidates:
    """Find the sets of services the same customers use together within `window_days` (the module docstring's rules).

    Parameters
    ----------
    store : Store
        A store whose journeys were built.
    window_days : int, default 60
        A customer's case is linked to the one before it when it starts at most this many days after it.
    min_support : float, default 0.01
        The least share of episodes a candidate must hold, in (0, 1].
    min_episodes : int, default 20
        The least number of episodes a candidate must hold.
    max_services : int, default 6
        The most services in a candidate (at least 2).
    where : CaseFilter, optional
        Which cases to look at; by default all.

    Returns
    -------
    BundleCandidates

    Raises
    ------
    InvalidParameterError
        When a parameter is out of its range (the error names it).
    StoreError
        When the store's journeys are not built.
    """
    _check(window_days, min_support, min_episodes, max_services, where)
    with _working_table(store, _CASES, _episode_cases(store, where, window_days)) as cases:
        return _discovered(store, cases, window_days=window_days, min_support=min_support, min_episodes=min_episodes,
                           max_services=max_services, where=where)


@contextmanager
def _working_table(store: Store, name: str, rows: Table | pd.DataFrame) -> Iterator[Table]:
    """`rows` computed once into a temporary table of the store named after `name`, for the block's length.

    The name is made unique, so that discoveries running at once on one connection (the dashboard's jobs) keep
    their tables apart.
    """
    name = f"{name}_{uuid.uuid4().hex}"
    store.replace_table(name, rows, temporary=True)
    try:
        yield store.backend.table(name)
    finally:
        store.drop_table(name)


def _discovered(store: Store, cases: Table, *, window_days: int, min_support: float, min_episodes: int,
                max_services: int, where: CaseFilter | None) -> BundleCandidates:
    """The candidates among the episodes' `cases` (see :func:`discover_bundles`)."""
    totals = cases.aggregate(
        episodes=cases.episode_id.nunique(), customers=cases.customer_id.nunique(),
        first=cases.start.min(), last=cases.end.max(),
    ).to_pyarrow().to_pylist()[0]
    found = dict(window_days=window_days, min_support=min_support, episodes=int(totals["episodes"]),
                 customers=int(totals["customers"]), where=where)
    period = utc_period(totals["first"], totals["last"])
    if not totals["episodes"]:
        return BundleCandidates(table=_empty(), period=period, **found)
    services, baskets = _baskets(cases)
    episodes = found["episodes"]
    least = max(min_episodes, math.ceil(min_support * episodes - 1e-9))
    frequent = _frequent_sets(baskets, len(services), least, max_services)
    singles = {1 << i: sum(w for mask, w in baskets if mask >> i & 1) for i in range(len(services))}
    kept = _closed([mask for mask in frequent if mask.bit_count() > 1], frequent)
    if not kept:
        return BundleCandidates(table=_empty(), period=period, **found)
    sets = {index: tuple(services[i] for i in range(len(services)) if mask >> i & 1) for index, mask in enumerate(kept)}
    measured = _measured(store, cases, sets)
    table = _table(measured, sets, kept, frequent, singles, services, episodes, _life_events(store))
    table, lacking = unsupported(table, table.services, NEEDED_BY, evidence(store))
    return BundleCandidates(table=_ranked(table), period=period, lacking=lacking, **found)


def _check(window_days: object, min_support: object, min_episodes: object, max_services: object,
           where: object) -> None:
    """Refuse the first parameter out of its range, naming it."""
    refuse_first("discover_bundles", (
        ("window_days", window_days, is_whole(window_days, least=1), "a whole number of days, at least 1"),
        ("min_support", min_support, is_share(min_support), "a share in (0, 1]"),
        ("min_episodes", min_episodes, is_whole(min_episodes, least=1), "a whole number, at least 1"),
        ("max_services", max_services, is_whole(max_services, least=2), "a whole number, at least 2"),
        ("where", where, where is None or isinstance(where, CaseFilter), "a CaseFilter or None"),
    ))


def _episode_cases(store: Store, where: CaseFilter | None, window_days: int) -> Table:
    """The cases of real customers with their ``episode_id`` (customer and episode number)."""
    real = real_cases(store, where)
    cases = real.select(
        "service", "case_id", "customer_id", "start", "end", "visits", "customer_steps",
        agency=real.first_agency,
    )
    linked = linked_within(cases, ["customer_id"], window_days)
    return linked.mutate(episode_id=linked.customer_id.concat(":", linked.episode.cast("string"))).drop("episode")


def _baskets(cases: Table) -> tuple[list[str], list[tuple[int, int]]]:
    """The services (by name) and the distinct service sets of the episodes, as (bit mask, episodes) pairs."""
    per_episode = cases.group_by("episode_id").aggregate(services=cases.service.collect(distinct=True).sort())
    counted = per_episode.group_by("services").aggregate(episodes=per_episode.count()).to_pyarrow().to_pylist()
    services = sorted({service for row in counted for service in row["services"]})
    bit = {service: 1 << i for i, service in enumerate(services)}
    return services, [(sum(bit[s] for s in row["services"]), int(row["episodes"])) for row in counted]


def _frequent_sets(baskets: list[tuple[int, int]], items: int, least: int, max_size: int) -> dict[int, int]:
    """Every set of at most `max_size` items (a bit mask) held by at least `least` episodes of the weighted
    `baskets`, with its episodes: level by level, a set of size k+1 is counted only when all its subsets of
    size k are frequent (Apriori)."""
    frequent: dict[int, int] = {}
    level = [1 << i for i in range(items)]
    size = 1
    while level and size <= max_size:
        counted = {c: sum(w for mask, w in baskets if mask & c == c) for c in level}
        found = {c: n for c, n in counted.items() if n >= least}
        frequent.update(found)
        level = _next_level(found, items)
        size += 1
    return frequent


def _next_level(found: dict[int, int], items: int) -> list[int]:
    """The sets one item larger than those `found` whose every subset one item smaller was found: each set grown
    by an item above its highest one, so that each is made once."""
    grown = (c | 1 << i for c in found for i in range(c.bit_length(), items))
    return sorted(g for g in grown if all(g & ~(1 << j) in found for j in range(items) if g >> j & 1))


def _closed(sets: list[int], frequent: dict[int, int]) -> list[int]:
    """`sets` but those a larger frequent set holds with at least :data:`CLOSURE` of their episodes."""
    return [s for s in sets
            if not any(t != s and t & s == s and n >= CLOSURE * frequent[s] for t, n in frequent.items())]


def _measured(store: Store, cases: Table, sets: dict[int, tuple[str, ...]]) -> pd.DataFrame:
    """Per candidate (by index): its usual order and share, and its figures today and as one window."""
    members = pd.DataFrame([(index, service, len(services)) for index, services in sets.items() for service in services],
                           columns=["candidate", "service", "size"])
    with _working_table(store, _MEMBERS, members) as listed:
        held = cases.join(listed, "service")
        holding = held.group_by(["candidate", "episode_id", "size"]).aggregate(n=held.service.nunique())
        holding = holding.filter(holding.n == holding["size"]).select("candidate", "episode_id")
        with _working_table(store, _OWN, held.semi_join(holding, ["candidate", "episode_id"]).drop("size")) as own:
            return _orders(own).merge(_today(store, own), on="candidate")


def _orders(own: Table) -> pd.DataFrame:
    """Per candidate: ``order`` (its services in their most common order) and ``order_share``."""
    firsts = own.group_by(["candidate", "episode_id", "service"]).aggregate(first=own.start.min())
    per_episode = firsts.group_by(["candidate", "episode_id"]).aggregate(
        ordered=ibis.struct({"first": firsts.first, "service": firsts.service}).collect())
    order = per_episode.ordered.sort().map(lambda step: step.service).join(VARIANT_SEP)
    counted = per_episode.group_by(["candidate", order.name("order")]).aggregate(n=per_episode.count()).to_pandas()
    counted["share"] = counted.n / counted.groupby("candidate").n.transform("sum")
    best = counted.sort_values(["candidate", "n", "order"], ascending=[True, False, True]).drop_duplicates("candidate")
    return pd.DataFrame({"candidate": best.candidate, "order": best["order"].str.split(VARIANT_SEP).map(tuple),
                         "order_share": best.share})


def _today(store: Store, own: Table) -> pd.DataFrame:
    """Per candidate: its episodes and customers, and the means (median days) of its figures today and as one window."""
    journeys = own.mutate(journey_id=own.candidate.cast("string").concat(":", own.episode_id), group=own.candidate)
    asked = asked_across_agencies(store, journeys, "group")
    own = own.left_join(asked.rename(candidate="group"), ["candidate", "service", "case_id"]).select(
        own, documents=ibis.coalesce(asked.asked, 0))
    bundled = _bundled_steps(store, own)
    episodes = own.group_by(["candidate", "episode_id"]).aggregate(
        customer_id=own.customer_id.arbitrary(),
        agencies=own.agency.nunique(),
        visits=own.visits.sum(),
        customer_steps=own.customer_steps.sum(),
        documents_repeated=own.documents.sum(),
        days=(own.end.max().epoch_seconds() - own.start.min().epoch_seconds()) / 86400,
    )
    episodes = episodes.left_join(bundled, ["candidate", "episode_id"]).select(
        episodes, customer_steps_bundled=ibis.coalesce(bundled.steps, 0))
    per = episodes.group_by("candidate").aggregate(
        episodes=episodes.count(),
        customers=episodes.customer_id.nunique(),
        agencies=episodes.agencies.mean(),
        visits=episodes.visits.mean(),
        customer_steps=episodes.customer_steps.mean(),
        documents_repeated=episodes.documents_repeated.mean(),
        days=episodes.days.median(),
        visits_bundled=ibis.least(episodes.visits, 1).mean(),
        customer_steps_bundled=episodes.customer_steps_bundled.mean(),
    )
    return per.to_pandas()


def _bundled_steps(store: Store, own: Table) -> Table:
    """Per (candidate, episode): its customer steps with shared steps merged (each customer-step activity counted
    as often as the one service that takes it most often)."""
    backend = store.backend
    # The events are matched by their integer case key (see najma.journeys._codes), much faster than by text.
    keyed = own.join(backend.table("case_keys"), ["service", "case_id"]).select("candidate", "episode_id", "service",
                                                                                 "case_key")
    events = backend.table("events").select("case_key", "activity", "actor").join(keyed, "case_key")
    # A service the catalogue does not describe takes its customer steps from the actor (as the journeys do).
    flagged = with_roles(events, backend.table("activity_roles"))
    taken = flagged.filter(has_role(flagged, "customer_step"))
    per_service = taken.group_by(["candidate", "episode_id", "activity", "service"]).aggregate(n=taken.count())
    per_activity = per_service.group_by(["candidate", "episode_id", "activity"]).aggregate(n=per_service.n.max())
    return per_activity.group_by(["candidate", "episode_id"]).aggregate(steps=per_activity.n.sum())


def _life_events(store: Store) -> dict[frozenset[str], str]:
    """The catalogue's life events, by their set of services."""
    rows = store.backend.table("life_event_services").select("life_event", "service").to_pandas()
    return {frozenset(group.service): name for name, group in rows.groupby("life_event")}


def _table(measured: pd.DataFrame, sets: dict[int, tuple[str, ...]], kept: list[int], frequent: dict[int, int],
           singles: dict[int, int], services: list[str], episodes: int,
           life_events: dict[frozenset[str], str]) -> pd.DataFrame:
    """The candidates' table (:data:`COLUMNS` but the rank), every figure measured."""
    bit = {service: 1 << i for i, service in enumerate(services)}
    rows = measured.set_index("candidate")
    frame = pd.DataFrame({
        "services": [rows.at[i, "order"] for i in sets],
        "order_share": [rows.at[i, "order_share"] for i in sets],
        "episodes": [frequent[kept[i]] for i in sets],
        "customers": [int(rows.at[i, "customers"]) for i in sets],
    })
    frame["support"] = frame.episodes / episodes
    frame["confidence"] = [n / singles[bit[order[0]]] for n, order in zip(frame.episodes, frame.services, strict=True)]
    frame["lift"] = [s / math.prod(singles[bit[x]] / episodes for x in order)
                     for s, order in zip(frame.support, frame.services, strict=True)]
    frame["life_event"] = pd.Series([life_events.get(frozenset(order)) for order in frame.services], dtype=object)
    for column in ("agencies", "visits", "customer_steps", "documents_repeated", "days", "visits_bundled",
                   "customer_steps_bundled"):
        frame[column] = [float(rows.at[i, column]) for i in sets]
    frame["documents_repeated_bundled"] = 0.0  # documents asked once: the module docstring's rule
    frame["steps_saved"] = frame.customer_steps - frame.customer_steps_bundled
    frame["visits_saved"] = frame.visits - frame.visits_bundled
    frame["score"] = frame.customers * frame.steps_saved
    return frame


def _ranked(frame: pd.DataFrame) -> pd.DataFrame:
    """The candidates best first, ranked (a missing score after every measured one; the module docstring's rule)."""
    keyed = frame.assign(_key=frame.services.map(VARIANT_SEP.join))
    ordered = keyed.sort_values(["score", "customers", "episodes", "_key"], ascending=[False, False, False, True],
                                na_position="last").drop(columns="_key")
    ordered.insert(0, "rank", range(1, len(ordered) + 1))
    return ordered[list(COLUMNS)].reset_index(drop=True)


def _empty() -> pd.DataFrame:
    """The candidates' table without candidates."""
    return pd.DataFrame({column: pd.Series(dtype="object") for column in COLUMNS})
