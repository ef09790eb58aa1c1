"""What-if: a service's KPIs and stars today beside those it would have after a redesign.

The redesign transforms of :mod:`najma.journeys._redesign` give the journey table the service would have;
the same KPI definitions and the same model rate both, so the difference is the redesign's alone.
Each transform's docstring states what it assumes about time.

Redesigns that earn the next star
---------------------------------
:func:`redesign_options` tries, for a service and quarter, a handful of redesigns that act on the
KPIs of its next-star plan (see :func:`najma.rating.next_star_plan`) and rates each as :func:`what_if`
does. The redesigns are chosen from the catalogue's roles and the service's most frequent activities,
one of each kind (the most frequent activity that fits it, ties by name), those acting on the
plan's KPIs that add the most points first:

- move a visit (an activity with the role ``visit``) to the service's most used digital channel:
  visits, digital take-up, channel switches;
- remove the rework asked of the customer (every activity with the role ``rework`` that is a customer
  step or a document request, at once): documents asked again, first time right, repeat contacts,
  customer steps and times;
- remove a customer step the designed journey does not have: customer steps and times;
- merge the two customer steps that most often follow each other into one: customer steps;
- automate the staff step with the most waiting before it: times and the waiting share.

No redesign the what-if tool can express acts on completion, abandonment, rejection, satisfaction,
agency hand-offs or proactive starts; a plan of only those KPIs has no redesign options.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import pandas as pd

from najma.journeys import CaseFilter, Store, project_journeys, quarter_name
from najma.journeys._redesign import AutomateActivity, MergeActivities, MoveToChannel, RemoveActivity, Transform
from najma.rating._config import RatingConfig, default_config
from najma.rating._explain import next_star_plan
from najma.rating._kpis import case_features
from najma.rating._ratings import RATED, rate_features

__all__ = ["what_if", "RedesignOption", "redesign_options", "describe_redesign", "OPTIONS"]

#: The redesigns :func:`redesign_options` tries at most.
OPTIONS = 5
_STEPS = ("median_customer_steps", "p90_customer_steps", "steps_above_design", "repeat_contacts")
_TIMES = ("median_time_to_sla", "p90_time_to_sla", "within_sla", "waiting_share")
#: The KPIs each kind of redesign acts on (see the module docstring).
_ACTS_ON: dict[str, tuple[str, ...]] = {
    "move_visit": ("visits", "digital_take_up", "channel_switches"),
    "remove_rework": ("documents_asked_again", "first_time_right", "cost_per_transaction", *_STEPS, *_TIMES),
    "remove_extra": ("visits", "cost_per_transaction", *_STEPS, *_TIMES),
    "merge": ("channel_switches", *_STEPS),
    "automate": _TIMES,
}


def what_if(
    store: Store, service: str, transforms: Sequence[Transform], *, quarter: str | None = None,
    config: RatingConfig | None = None, draws: int = 200, seed: int = 0, observed: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Rate `service` as observed and as projected by `transforms`, quarter by quarter.

    Parameters
    ----------
    store : Store
        A store whose journeys are built.
    service : str
        The service to redesign.
    transforms : sequence of Transform
        Applied in order (see :func:`najma.journeys.project_journeys`).
    quarter : str, optional
        Only this quarter (e.g. ``"2025Q4"``); by default every quarter.
    config : RatingConfig, optional
        The model; the shipped default by default.
    draws, seed : int
        The bootstrap, as in :func:`najma.rating.rate`.
    observed : DataFrame, optional
        The service's case features as :func:`najma.rating.case_features` reads them (in the zone of the
        store's quarters), when the caller holds them already; read from the store by default. They
        give the same ``today`` row as reading them again, without the query.

    Returns
    -------
    DataFrame
        The rows of :func:`najma.rating.rate` for the service, with a first column ``scenario``:
        ``today`` or ``redesign``.

    Examples
    --------
    >>> from najma.journeys import RemoveActivity, Store
    >>> store = Store(sample_path)  # a store holding the sample: Store(path), then najma.sample.load_sample(store)
    >>> table = what_if(store, "trade_licence", [RemoveActivity("Visit service centre")], quarter="2025Q4", draws=0)
    >>> rows = table.set_index("scenario")
    >>> rows["cases"].to_dict(), rows["visits"].round(2).to_dict()  # visits per case, today and redesigned
    ({'today': 278, 'redesign': 278}, {'today': 0.23, 'redesign': 0.1})
    """
    config = config or default_config()
    today = (_rated(observed[observed["service"] == service], quarter, config, draws, seed) if observed is not None
             else _today(store, service, quarter, config, draws, seed))
    frames = [today.assign(scenario="today"),
              _projected(store, service, transforms, quarter, config, draws, seed).assign(scenario="redesign")]
    table = pd.concat(frames, ignore_index=True)
    return table[["scenario", *[c for c in table.columns if c != "scenario"]]]


def _today(store: Store, service: str, quarter: str | None, config: RatingConfig, draws: int, seed: int) -> pd.DataFrame:
    """The service's ratings as observed (of `quarter` only, when given)."""
    features = case_features(store, where=CaseFilter(service=service), satisfied_at=config.satisfied_at)
    return _rated(features, quarter, config, draws, seed)


def _projected(
    store: Store, service: str, transforms: Sequence[Transform], quarter: str | None, config: RatingConfig, draws: int,
    seed: int,
) -> pd.DataFrame:
    """The service's ratings as projected by `transforms` (of `quarter` only, when given).

    The projected journeys are read once and the features computed over them: inlined in the features'
    query, their plan costs DuckDB and Ibis about twice the time.
    """
    journeys = ibis.memtable(project_journeys(store, service, transforms).to_pyarrow())
    return _rated(case_features(store, satisfied_at=config.satisfied_at, journeys=journeys), quarter, config, draws, seed)


def _rated(features: pd.DataFrame, quarter: str | None, config: RatingConfig, draws: int, seed: int) -> pd.DataFrame:
    """The ratings of `features` (of `quarter` only, when given)."""
    if quarter is not None:
        features = features[features["quarter"] == quarter_name(quarter)]
    return rate_features(features, config=config, draws=draws, seed=seed)


@dataclass(frozen=True)
class RedesignOption:
    """A redesign tried for a service's next star, rated as :func:`what_if` rates it (without a bootstrap).

    Attributes
    ----------
    transforms : tuple of Transform
        The redesign, applied in order.
    acts_on : tuple of str
        The KPIs of the next-star plan it acts on.
    stars_today : int
        The service's stars in the quarter as observed.
    stars : int or None
        Its projected stars; None when the projection is not rated (its status says why).
    score : float or None
        Its projected total score.
    status : str
        The projection's status (``rated``, or why it is not).
    """

    transforms: tuple[Transform, ...]
    acts_on: tuple[str, ...]
    stars_today: int
    stars: int | None
    score: float | None
    status: str

    @property
    def earns_next_star(self) -> bool:
        """Whether the projected stars are more than today's."""
        return self.stars is not None and self.stars > self.stars_today

    def describe(self) -> str:
        """One sentence for people, e.g. "remove Call centre enquiry: 6 stars (5 today)"."""
        projected = f"{self.stars} stars" if self.stars is not None else self.status
        return f"{describe_redesign(self.transforms)}: {projected} ({self.stars_today} today)"


def describe_redesign(transforms: Sequence[Transform]) -> str:
    """A redesign in words, its transforms in order.

    Examples
    --------
    >>> describe_redesign([RemoveActivity("Request additional documents"), MoveToChannel("Eye test", "smart app")])
    'remove Request additional documents and move Eye test to smart app'
    >>> describe_redesign([MergeActivities(["Submit application", "Upload documents"], "Apply"), AutomateActivity("Review")])
    'merge Submit application and Upload documents into one step and automate Review'
    """
    return " and ".join(_TRANSFORM_TEXT[type(t)](t) for t in transforms)


#: Each transform in words.
_TRANSFORM_TEXT = {
    RemoveActivity: lambda t: f"remove {t.activity}",
    MergeActivities: lambda t: f"merge {' and '.join(t.merged)} into one step",
    AutomateActivity: lambda t: f"automate {t.activity}",
    MoveToChannel: lambda t: f"move {t.activity} to {t.channel}" + (" (in person)" if t.in_person else ""),
}


def redesign_options(
    store: Store, service: str, quarter: str, config: RatingConfig | None = None, *, limit: int = OPTIONS,
) -> list[RedesignOption]:
    """The redesigns that act on the KPIs of `service`'s next-star plan in `quarter`, each rated.

    Each option is rated by the same projection and model as :func:`what_if` (with ``draws=0``), at
    about a second each; the choice of redesigns is in the module docstring.

    Parameters
    ----------
    store : Store
        A store whose journeys are built.
    service, quarter : str
        The rating to lift, e.g. ``"trade_licence"`` and ``"2025Q4"``.
    config : RatingConfig, optional
        The model; the shipped default by default.
    limit : int, default :data:`OPTIONS`
        The redesigns tried at most.

    Returns
    -------
    list of RedesignOption
        Those that earn the next star first (most projected stars, then score); empty when the
        service is not rated in `quarter`, is at the highest star, or has no plan that a redesign
        acts on.

    Examples
    --------
    >>> from najma.journeys import Store
    >>> store = Store(sample_path)  # a store holding the sample: Store(path), then najma.sample.load_sample(store)
    >>> options = redesign_options(store, "trade_licence", "2025Q4", limit=2)
    >>> projected = [what_if(store, "trade_licence", o.transforms, quarter="2025Q4", draws=0) for o in options]
    >>> [o.stars for o in options] == [int(p.set_index("scenario").loc["redesign", "stars"]) for p in projected]
    True
    """
    config = config or default_config()
    today = _today(store, service, quarter, config, 0, 0)
    if today.empty or today["status"].iloc[0] != RATED:
        return []
    row = today.iloc[0]
    wanted = [a.kpi for a in next_star_plan(row, config)]
    chosen = [(transforms, tuple(k for k in wanted if k in _ACTS_ON[kind]))
              for kind, transforms in _candidates(store, service)]
    chosen = sorted([(t, acts) for t, acts in chosen if acts], key=lambda c: min(wanted.index(k) for k in c[1]))[:limit]
    options = []
    for transforms, acts_on in chosen:
        projected = _projected(store, service, transforms, quarter, config, 0, 0).iloc[0]
        rated = projected["status"] == RATED
        options.append(RedesignOption(transforms, acts_on, int(row["stars"]), int(projected["stars"]) if rated else None,
                                      float(projected["score"]) if rated else None, projected["status"]))
    return sorted(options, key=lambda o: (not o.earns_next_star, -(o.stars or 0), -(o.score or 0.0)))


def _candidates(store: Store, service: str) -> list[tuple[str, tuple[Transform, ...]]]:
    """One redesign of each kind of :data:`_ACTS_ON` that the service's activities and roles allow."""
    backend = store.backend
    roles = backend.table("activity_roles").filter(ibis._.service == service).to_pandas()
    designed = set(backend.table("designed_journeys").filter(ibis._.service == service).activity.to_pandas())
    steps = backend.table("steps").filter(ibis._.service == service)
    frequency = steps.group_by("activity").aggregate(n=steps.count()).to_pandas().set_index("activity")["n"]
    with_role = {role: set(group["activity"]) for role, group in roles.groupby("role")}

    def most_frequent(activities: set[str]) -> str | None:
        """The most frequent of `activities` in the service's cases; None when none occurs."""
        ranked = frequency[frequency.index.isin(activities)].sort_values(ascending=False, kind="stable")
        return min(ranked.index[ranked == ranked.iloc[0]]) if len(ranked) else None  # ties: by name

    customer = with_role.get("customer_step", set())
    found: dict[str, tuple[Transform, ...]] = {}
    visit, channel = most_frequent(with_role.get("visit", set())), _digital_channel(store, service)
    if visit and channel:
        found["move_visit"] = (MoveToChannel(visit, channel),)
    if rework := with_role.get("rework", set()) & (customer | with_role.get("document_request", set())):
        found["remove_rework"] = tuple(RemoveActivity(a) for a in sorted(rework))
    undesigned = customer - designed - with_role.get("application", set()) - with_role.get("rework", set())
    if extra := most_frequent(undesigned):
        found["remove_extra"] = (RemoveActivity(extra),)
    if pair := _frequent_pair(steps, customer):
        found["merge"] = (MergeActivities(pair, into=" + ".join(pair)),)
    staff = with_role.get("staff_step", set()) - with_role.get("approval", set()) - with_role.get("rejection", set())
    if waited := _most_waited(steps, staff):
        found["automate"] = (AutomateActivity(waited),)
    return list(found.items())


def _digital_channel(store: Store, service: str) -> str | None:
    """The digital channel (as the catalogue marks them) the service's events use most; None without one."""
    backend = store.backend
    digital = backend.table("channel_settings").filter(ibis._.digital).select("channel")
    events = backend.table("events").filter(ibis._.service == service).semi_join(digital, "channel")
    used = events.group_by("channel").aggregate(n=events.count()).order_by([ibis.desc("n"), "channel"]).limit(1)
    names = used.channel.to_pandas()
    return str(names.iloc[0]) if len(names) else None


def _frequent_pair(steps: ibis.Table, customer: set[str]) -> tuple[str, str] | None:
    """The two different customer steps that most often follow one another."""
    pairs = steps.filter(steps.activity.isin(list(customer)) & steps.next_activity.isin(list(customer))
                         & (steps.activity != steps.next_activity))
    top = pairs.group_by(["activity", "next_activity"]).aggregate(n=pairs.count())
    top = top.order_by([ibis.desc("n"), "activity", "next_activity"]).limit(1).to_pandas()
    return (str(top["activity"].iloc[0]), str(top["next_activity"].iloc[0])) if len(top) else None


def _most_waited(steps: ibis.Table, staff: set[str]) -> str | None:
    """The staff step with the most time waited before it (from the step before), over all cases."""
    waits = steps.filter(steps.next_activity.isin(list(staff)) & steps.seconds_to_next.notnull())
    top = waits.group_by("next_activity").aggregate(wait=waits.seconds_to_next.sum())
    top = top.order_by([ibis.desc("wait"), "next_activity"]).limit(1).to_pandas()
    return str(top["next_activity"].iloc[0]) if len(top) else None
