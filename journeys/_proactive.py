"""Proactive candidates: services whose start regularly follows another service's completion for the same customer.

A service the government could start itself is one that customers ask for soon after another
service of theirs has ended: a passport after a birth certificate, for most parents within a few
days. This module finds such pairs in the store's journey table, with DuckDB through Ibis: every
count, quantile and histogram is a query over the cases, and only one row per pair of services
comes back to Python. What is sought is a pair of services with a time window after a completion,
per customer: one join of the journey table with itself on the customer, which DuckDB runs as a
hash join. A sequential-pattern miner would want every customer's cases as Python sequences and
knows neither a case's outcome nor a lag; it would find orders, not triggers.

Method
------
Only the cases of real customers are read (a case without a customer is its own customer,
``service/case_id``, and is left out), and only those that pass ``where``.

*Pairs.* For a trigger service A and a follower service B (A != B), a customer's A case that
*completed* (outcome ``completed``; a rejected or abandoned case is no trigger; a service the catalogue
does not describe has no outcome, and its case is taken as completed at its last event) is *followed* by a
B case of the same customer that started after the A case started and no later than
``within_days`` after it ended. The *lag* is the B case's start less the A case's end, in days. It
is below 0 when B started while A was still running: the lag quantiles keep such a lag as it is,
and the histogram counts it in day 0 (and a lag of exactly ``within_days`` in its last day), so
that the histogram sums to the followed customers.

*One count per customer.* A customer counts once per pair, however many A and B cases they have:
``customers`` are the customers with at least one completed A case, ``followed`` those of them
with at least one followed A case, and ``share = followed / customers``. A followed customer's
lag and follower case are those of their first B case that follows one of their completed A
cases (by start), paired with the latest-starting of those A cases: the trigger just before it.

*Regular pairs and the immediate trigger.* A pair is regular when ``share >= min_share`` and
``customers >= min_customers``. Each follower is one candidate: among its regular pairs whose
share is within 0.05 of its best share, the one whose median lag is the smallest that is not
below 0 (ties: the higher share, then the trigger's key). Several earlier services of a life
event are followed by B about equally often; the smallest lag names the one that B comes right
after (the birth certificate before the passport, not the birth notification weeks earlier). A
pair whose median lag is below 0 is not chosen: customers mostly start B before A ends, so A's
completion cannot be its trigger; a follower whose near-best pairs all lag below 0 has no candidate.

*What a proactive start saves,* per followed case (each followed customer's follower case, as
above): the customer steps of its application and the visits in it, and the days the customer
waited, ``days_saved`` (the median lag, not below 0). A case's *application* is its steps before
its first staff step (all of them without one), in the journey pipeline's case order: the intake
the customer does alone (applying, handing in documents, visiting, paying) before staff act on it.
That is what a government that starts the case with what it already holds can spare the customer
at most; the catalogue's role ``application`` marks only the act of applying, one step, and would
leave out the documents, visits and payments of the intake. Customer, staff and visit steps are
the catalogue's roles (the events' actor for a service the catalogue does not describe), as the
journeys count them. ``already_proactive`` is the share of those follower cases the government
already started itself (the journeys' ``proactive``: a step with the role ``proactive_start``).
``score = followed * application_steps`` ranks the candidates, best first; a missing score after every
measured one, then by followed customers, then by the follower's key.

*What a log cannot support* is missing (NaN), never 0, per candidate (the needs of
:mod:`najma.journeys._discovery`, of its follower, :data:`PROACTIVE_NEEDED_BY`): ``application_steps``
and ``score`` need the follower's staff and customer steps (the catalogue's roles, or the actor of a
service it does not describe), since its first staff step ends the application; ``visits`` and
``already_proactive`` need the follower in the catalogue (a visit and a proactive start are its roles
only). :attr:`ProactiveCandidates.lacking` names the followers that lack each need.

Examples
--------
>>> import najma
>>> callable(najma.journeys.discover_proactive)
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import ibis
import pandas as pd
from ibis.expr.types import Table

from najma.journeys._aggregates import count_true
from najma.journeys._discovery import evidence, is_share, is_whole, real_cases, refuse_first, unsupported, utc_period
from najma.journeys._filters import CaseFilter
from najma.journeys._pipeline import has_role, steps_expr
from najma.journeys._store import Store

__all__ = ["ProactiveCandidates", "discover_proactive", "PROACTIVE_COLUMNS", "PROACTIVE_NEEDED_BY"]

#: The columns of :attr:`ProactiveCandidates.table`, in order.
PROACTIVE_COLUMNS = (
    "rank", "trigger", "follower", "customers", "followed", "share", "lag_days_p10", "lag_days_median", "lag_days_p90",
    "lag_histogram", "already_proactive", "application_steps", "visits", "days_saved", "score",
)
#: What each figure that a log may not support needs of its follower (some of
#: :data:`najma.journeys._discovery.NEEDS`); it is missing (NaN) where the follower lacks it.
PROACTIVE_NEEDED_BY: dict[str, tuple[str, ...]] = {
    "already_proactive": ("catalogue",), "application_steps": ("steps",), "visits": ("catalogue",),
    "score": ("steps",),
}
#: The dtypes of the empty table's columns that are not floats.
_EMPTY_TYPES = {"rank": "int64", "trigger": "object", "follower": "object", "customers": "int64", "followed": "int64",
                "lag_histogram": "object"}
#: A pair's share may fall this far below the best of its follower's and still name the follower's trigger.
_NEAR_BEST = 0.05
_DAY = 86400
_LAGS = {0.1: "lag_days_p10", 0.5: "lag_days_median", 0.9: "lag_days_p90"}


@dataclass(frozen=True)
class ProactiveCandidates:
    """Services a government could start itself, each with the service whose completion triggers it.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per candidate (follower service), best first, with the columns :data:`PROACTIVE_COLUMNS`
        (see the module docstring); an empty frame with those columns when there is none.
    within_days : int
        Days after a trigger's end within which a follower's start counts.
    min_share : float
        The least share of a regular pair.
    customers : int
        Distinct real customers of the cases considered.
    period : (Timestamp, Timestamp) or None
        First start .. last end of the cases considered, UTC; None when there is none.
    where : CaseFilter or None
        The selection of cases (None: all).
    lacking : mapping of str to tuple of str
        The candidates' followers that lack a need (one of :data:`najma.journeys._discovery.NEEDS`), by need: the
        figures needing it (:data:`PROACTIVE_NEEDED_BY`) are missing in their rows. Empty when every figure is measured.
    """

    table: pd.DataFrame
    within_days: int
    min_share: float
    customers: int
    period: tuple[pd.Timestamp, pd.Timestamp] | None
    where: CaseFilter | None
    lacking: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def discover_proactive(store: Store, *, within_days: int = 30, min_share: float = 0.5, min_customers: int = 20,
                       where: CaseFilter | None = None) -> ProactiveCandidates:
    """Find the services whose start regularly follows another service's completion for the same customer.

    Parameters
    ----------
    store : Store
        A store whose journeys were built.
    within_days : int, default 30
        A follower case counts when it starts at most this many days after its trigger case ended.
    min_share : float, default 0.5
        The least share of a trigger's customers that a follower must follow, in (0, 1].
    min_customers : int, default 20
        The least number of customers with a completed trigger case.
    where : CaseFilter, optional
        Which cases to read; by default all.

    Returns
    -------
    ProactiveCandidates
        The candidates and what they were found on; the method is the module docstring's.

    Raises
    ------
    InvalidParameterError
        When a parameter is out of its range; its ``parameter`` names it.
    StoreError
        When the store's journeys are not built.

    Examples
    --------
    >>> from najma.journeys import Store
    >>> with Store(":memory:") as empty:
    ...     discover_proactive(empty, within_days=0)
    Traceback (most recent call last):
    ...
    najma.errors.InvalidParameterError: The 'within_days' parameter of discover_proactive must be a whole number of days, 1 or more. Got 0 instead.
    """
    _check_parameters(within_days, min_share, min_customers, where)
    cases = real_cases(store, where).select("service", "case_key", "customer_id", "start", "end", "outcome", "proactive")
    customers, period = _overview(cases)
    firsts = _first_followers(cases, within_days)
    pairs = _pair_statistics(cases, firsts)
    chosen = _immediate_triggers(pairs, min_share, min_customers)
    table, lacking = _with_savings(store, chosen, firsts, within_days)
    return ProactiveCandidates(table, within_days, float(min_share), customers, period, where, lacking)


def _check_parameters(within_days: object, min_share: object, min_customers: object, where: object) -> None:
    """Raise InvalidParameterError naming the first parameter out of its range."""
    refuse_first("discover_proactive", (
        ("within_days", within_days, is_whole(within_days, least=1), "a whole number of days, 1 or more"),
        ("min_share", min_share, is_share(min_share), "a share in (0, 1]"),
        ("min_customers", min_customers, is_whole(min_customers, least=1), "a whole number, 1 or more"),
        ("where", where, where is None or isinstance(where, CaseFilter), "a CaseFilter or None"),
    ))


def _overview(cases: Table) -> tuple[int, tuple[pd.Timestamp, pd.Timestamp] | None]:
    """The distinct customers of `cases`, and their first start .. last end (None without cases), UTC."""
    row = cases.aggregate(customers=cases.customer_id.nunique(), first=cases.start.min(), last=cases.end.max()).to_pandas()
    return int(row["customers"].iloc[0]), utc_period(row["first"].iloc[0], row["last"].iloc[0])


def _completed(cases: Table) -> Table:
    """The cases of `cases` that can trigger a follower: those whose outcome is ``completed``, and every case of a
    service that has no outcome (see the module docstring)."""
    return cases.filter((cases.outcome == "completed") | cases.outcome.isnull())


def _first_followers(cases: Table, within_days: int) -> Table:
    """Per (trigger, follower, customer) followed: the customer's first follower case that follows a completed trigger
    case, paired with the latest-starting such trigger case; columns trigger, follower, customer_id, case_key (the
    follower case's), proactive and lag_days (see the module docstring)."""
    done = _completed(cases)
    triggers = done.select(trigger=done.service, trigger_customer=done.customer_id, trigger_key=done.case_key,
                           trigger_start=done.start, trigger_end=done.end)
    followers = cases.select("customer_id", "case_key", "proactive", follower=cases.service, follower_start=cases.start)
    lag = (followers.follower_start.epoch_seconds() - triggers.trigger_end.epoch_seconds()) / _DAY
    pairs = triggers.join(followers, [
        triggers.trigger_customer == followers.customer_id, triggers.trigger != followers.follower,
        followers.follower_start > triggers.trigger_start, lag <= within_days,
    ]).select("trigger", "follower", "customer_id", "case_key", "proactive", "follower_start", "trigger_start",
              "trigger_key", lag_days=lag)
    order = [pairs.follower_start, pairs.case_key, pairs.trigger_start.desc(), pairs.trigger_key.desc()]
    first = ibis.window(group_by=[pairs.trigger, pairs.follower, pairs.customer_id], order_by=order)
    ranked = pairs.mutate(_nth=ibis.row_number().over(first))
    return ranked.filter(ranked._nth == 0).select("trigger", "follower", "customer_id", "case_key", "proactive",
                                                  "lag_days")


def _pair_statistics(cases: Table, firsts: Table) -> pd.DataFrame:
    """Per pair with a followed customer: trigger, follower, customers, followed, share and the lag quantiles."""
    done = _completed(cases)
    customers = done.group_by(trigger=done.service).aggregate(customers=done.customer_id.nunique())
    followed = firsts.group_by(["trigger", "follower"]).aggregate(
        followed=firsts.count(), **{name: firsts.lag_days.quantile(q) for q, name in _LAGS.items()})
    pairs = followed.join(customers, "trigger").to_pandas()
    pairs["share"] = pairs.followed / pairs.customers
    return pairs[["trigger", "follower", "customers", "followed", "share", *_LAGS.values()]]


def _immediate_triggers(pairs: pd.DataFrame, min_share: float, min_customers: int) -> pd.DataFrame:
    """One row per follower: its immediate trigger among its regular `pairs` (see the module docstring)."""
    regular = pairs[(pairs.share >= min_share) & (pairs.customers >= min_customers)]
    best = regular.groupby("follower").share.transform("max")
    near = regular[(regular.share >= best - _NEAR_BEST) & (regular.lag_days_median >= 0)]
    ordered = near.sort_values(["follower", "lag_days_median", "share", "trigger"], ascending=[True, True, False, True])
    return ordered.drop_duplicates("follower").reset_index(drop=True)


def _with_savings(store: Store, chosen: pd.DataFrame, firsts: Table,
                  within_days: int) -> tuple[pd.DataFrame, dict[str, tuple[str, ...]]]:
    """The candidates `chosen`, with their histogram and savings, ranked by score: the table of
    :class:`ProactiveCandidates`, and the followers lacking each need of a figure (see the module docstring)."""
    if chosen.empty:
        return pd.DataFrame({name: pd.Series(dtype=_EMPTY_TYPES.get(name, "float64")) for name in PROACTIVE_COLUMNS}), {}
    followed = firsts.semi_join(ibis.memtable(chosen[["trigger", "follower"]]), ["trigger", "follower"])
    table = chosen.merge(_histograms(followed, within_days), on=["trigger", "follower"]).merge(
        _savings(store, followed), on=["trigger", "follower"])
    table["days_saved"] = table.lag_days_median.clip(lower=0)
    table["score"] = table.followed * table.application_steps
    table, lacking = unsupported(table, table.follower.map(lambda follower: (follower,)), PROACTIVE_NEEDED_BY,
                                 evidence(store))
    table = table.sort_values(["score", "followed", "follower"], ascending=[False, False, True],
                              na_position="last").reset_index(drop=True)
    table["rank"] = range(1, len(table) + 1)
    return table[list(PROACTIVE_COLUMNS)].astype({"customers": "int64", "followed": "int64"}), lacking


def _histograms(followed: Table, within_days: int) -> pd.DataFrame:
    """Per pair of `followed`: lag_histogram, the followed customers per whole day of lag, 0 .. within_days - 1
    (a lag below 0 in day 0, a lag of within_days in the last)."""
    day = followed.lag_days.floor().clip(lower=0, upper=within_days - 1).cast("int64")
    counts = followed.group_by(["trigger", "follower", day.name("day")]).aggregate(n=followed.count()).to_pandas()
    days = counts.pivot(index=["trigger", "follower"], columns="day", values="n")
    days = days.reindex(columns=range(within_days)).fillna(0).astype("int64")
    return pd.DataFrame({"lag_histogram": [tuple(int(n) for n in row) for row in days.to_numpy()]},
                        index=days.index).reset_index()


def _savings(store: Store, followed: Table) -> pd.DataFrame:
    """Per pair of `followed`: already_proactive, and the mean application_steps and visits of its follower cases."""
    facts = _application_facts(store, followed.select("case_key").distinct())
    joined = followed.join(facts, "case_key")
    return joined.group_by(["trigger", "follower"]).aggregate(
        already_proactive=joined.proactive.cast("float64").mean(),
        application_steps=joined.application_steps.mean(),
        visits=joined.visits.mean(),
    ).to_pandas()


def _application_facts(store: Store, keys: Table) -> Table:
    """Per case of `keys` (its case_key): application_steps and visits, the customer steps and the visits among its
    steps before its first staff step (all of them without one), in the journey pipeline's order and roles."""
    events = store.backend.table("events")
    steps = steps_expr(events.semi_join(keys, "case_key"), store.backend.table("activity_roles"))
    first_staff = steps.position.min(where=has_role(steps, "staff_step")).over(group_by="case_key")
    steps = steps.mutate(_first_staff=first_staff)
    intake = steps.position < ibis.coalesce(steps._first_staff, steps.position + 1)
    return steps.group_by("case_key").aggregate(
        application_steps=count_true(intake & has_role(steps, "customer_step")),
        visits=count_true(intake & has_role(steps, "visit")),
    )
