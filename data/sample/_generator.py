"""A seeded generator of realistic government-service event logs, with the ground truth per case.

Every case of a service is simulated at once as a row of a (cases x steps) matrix: which steps
happen (optional steps, rework rounds, rejection, abandonment, proactive starts), how long each
takes, and so when. The ground truth (customer steps, visits, rework rounds, documents asked
again, outcome) is counted from the same matrix, independently of any process-mining code.

Some customers live through a life event: the services of a bundle one after the other, for one
customer. The newborn bundle is planted by default; ``life_events`` plants others instead, and
:attr:`Sample.bundles` says which were planted (the ground truth of bundle discovery).

Examples
--------
>>> from najma.sample import generate
>>> sample = generate(n_cases=300, seed=1)
>>> {"customer_steps", "visits", "rework", "outcome"} <= set(sample.truth.columns)
True
>>> int(sample.truth["events"].sum()) == sample.events.num_rows
True
>>> planted = generate(n_cases=300, seed=1, life_events={"move": ("residence_visa_renewal", "driving_licence_renewal")})
>>> planted.bundles, sorted(planted.truth["life_event"].dropna().str.rsplit("-", n=1).str[0].unique())
({'move': ('residence_visa_renewal', 'driving_licence_renewal')}, ['move'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from najma.errors import InvalidParameterError
from najma.sample._services import LIFE_EVENTS, MAX_REWORK, REDESIGN_DATE, SERVICES, Service, Step

__all__ = ["Sample", "generate", "PERIOD_START", "PERIOD_END", "OPEN_DAYS"]

PERIOD_START = pd.Timestamp("2024-01-01", tz="Asia/Dubai")
PERIOD_END = pd.Timestamp("2026-01-01", tz="Asia/Dubai")
#: Share of cases that belong to a planted life event, split equally between the planted bundles.
LIFE_EVENT_SHARE = 0.35
SURVEY_RATE = 0.3
#: Days without an event after which an undecided case is abandoned (the catalogue's open_days).
OPEN_DAYS = 30
_SECONDS = 3600.0
_AT_ONCE = 30.0


@dataclass(frozen=True)
class Sample:
    """A generated log and its ground truth.

    Attributes
    ----------
    events : pyarrow.Table
        The events in the canonical columns (customer ids not yet pseudonymised), in a shuffled
        row order, as exports come.
    truth : pandas.DataFrame
        One row per case: case_id, service, customer_steps, visits, rework, documents_asked_again
        (its supplies of a document it had already supplied, by the service's documents), outcome,
        events, proactive, life_event (the planted instance it belongs to, ``"newborn-12"``, or None).
    bundles : Mapping of str to tuple of str
        The planted life events: name -> its service keys in the order customers take them (empty
        when not given).
    """

    events: pa.Table
    truth: pd.DataFrame
    bundles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class _Plan:
    """The unrolled template of one service: steps with the rework block repeated."""

    steps: list[Step]
    copy: np.ndarray  # rework round of each position (0 outside the block)

    @classmethod
    def of(cls, steps: tuple[Step, ...]) -> _Plan:
        unrolled: list[Step] = []
        copies: list[int] = []
        block = [s for s in steps if s.part == "rework"]
        for step in steps:
            if step.part == "rework":
                if step is block[0]:
                    for k in range(1, MAX_REWORK + 1):
                        unrolled.extend(block)
                        copies.extend([k] * len(block))
                continue
            unrolled.append(step)
            copies.append(0)
        return cls(unrolled, np.array(copies))

    def mask(self, predicate) -> np.ndarray:  # noqa: ANN001 - a small local helper
        return np.array([bool(predicate(s)) for s in self.steps])


def _simulate(
    service: Service, steps: tuple[Step, ...], starts: np.ndarray, proactive: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, _Plan, dict[str, np.ndarray]]:
    """Return (occurs, seconds since start, plan, truth columns) for cases starting at `starts`."""
    plan = _Plan.of(steps)
    n, width = len(starts), len(plan.steps)
    p = np.array([s.p for s in plan.steps])
    occurs = rng.random((n, width)) < p

    rounds = rng.choice(len(service.rework), size=n, p=np.array(service.rework) / sum(service.rework))
    occurs &= (plan.copy[None, :] == 0) | (plan.copy[None, :] <= rounds[:, None])

    application = plan.mask(lambda s: "application" in s.roles)
    proactive_start = plan.mask(lambda s: "proactive_start" in s.roles)
    occurs[:, application] &= ~proactive[:, None]
    occurs[:, proactive_start] = proactive[:, None]

    rejected = rng.random(n) < service.p_reject
    occurs[:, plan.mask(lambda s: s.part == "approved")] &= ~rejected[:, None]
    occurs[:, plan.mask(lambda s: s.part == "rejected")] = rejected[:, None]
    occurs[:, plan.mask(lambda s: s.part == "decision")] = ~rejected[:, None]

    # Abandonment: the customer gives up at one of their own steps after the first one.
    customer = plan.mask(lambda s: s.actor == "customer")
    before_decision = np.cumsum(plan.mask(lambda s: s.part == "decision")) == 0
    candidates = occurs & customer[None, :] & before_decision[None, :]
    candidates[np.arange(n), np.argmax(occurs, axis=1)] = False
    abandoned = (rng.random(n) < service.p_abandon) & candidates.any(axis=1)
    if abandoned.any():
        rows = np.flatnonzero(abandoned)
        options = candidates[rows]
        choice = (rng.random(len(rows))[:, None] * options.sum(axis=1)[:, None]).astype(int)
        cut = np.argmax(np.cumsum(options, axis=1) > choice, axis=1)
        occurs[rows] &= np.arange(width)[None, :] < cut[:, None]

    hours = np.array([s.hours for s in plan.steps])
    spread = rng.lognormal(mean=0.0, sigma=0.7, size=(n, width))
    seconds = np.where(occurs, hours[None, :] * spread * _SECONDS, 0.0).round()
    # A step "at once" follows the one before it by half a minute, as in real logs, so that the
    # order of a case's events is told by their times alone, never by the rows' order.
    seconds = np.where(occurs & (seconds < _AT_ONCE), _AT_ONCE, seconds)
    # Every case starts with its first step at its start time.
    first = np.argmax(occurs, axis=1)
    seconds[np.arange(n), first] = 0.0
    elapsed = np.cumsum(seconds, axis=1)

    ends = starts[:, None] + elapsed.astype("timedelta64[s]")
    still_open = occurs & (ends >= np.datetime64(PERIOD_END.tz_convert("UTC").tz_localize(None), "s"))
    occurs &= ~still_open
    open_case = still_open.any(axis=1)

    rework_heads = plan.copy > 0
    rework_heads[rework_heads] = np.r_[True, np.diff(plan.copy[rework_heads]) != 0]
    outcome = np.where(
        open_case, "open", np.where(abandoned, "abandoned", np.where(rejected, "rejected", "completed"))
    )
    rejection_kept = (occurs & plan.mask(lambda s: "rejection" in s.roles)[None, :]).any(axis=1)
    approval_kept = (occurs & plan.mask(lambda s: "approval" in s.roles)[None, :]).any(axis=1)
    last_position = width - 1 - np.argmax(occurs[:, ::-1], axis=1)
    truth = {
        "_decision": np.where(rejection_kept, "rejected", np.where(approval_kept, "completed", "")),
        "_last": starts + elapsed[np.arange(n), last_position].astype("timedelta64[s]"),
        "customer_steps": (occurs & customer[None, :]).sum(axis=1),
        "visits": (occurs & plan.mask(lambda s: "visit" in s.roles)[None, :]).sum(axis=1),
        "rework": (occurs & rework_heads[None, :]).sum(axis=1),
        "documents_asked_again": _documents_asked_again(service, plan, occurs),
        "outcome": outcome,
        "events": occurs.sum(axis=1),
    }
    return occurs, elapsed, plan, truth


def _documents_asked_again(service: Service, plan: _Plan, occurs: np.ndarray) -> np.ndarray:
    """Per case, its supplies of a document it had already supplied: the supplies of each document beyond its first."""
    supplied = [service.supplies(step) for step in plan.steps]
    documents = sorted({document for names in supplied for document in names})
    incidence = np.array([[document in names for document in documents] for names in supplied], dtype=np.int64)
    counts = occurs.astype(np.int64) @ incidence.reshape(len(supplied), len(documents))
    return np.clip(counts - 1, 0, None).sum(axis=1)


def _starts(n: int, rng: np.random.Generator) -> np.ndarray:
    """Start instants (UTC, seconds) spread over the period, in local working hours mostly."""
    days = (PERIOD_END - PERIOD_START).days - 30
    day = rng.integers(0, days, n)
    local_seconds = rng.normal(11.5, 2.5, n).clip(7, 21) * _SECONDS
    local = PERIOD_START.tz_localize(None).to_datetime64().astype("datetime64[s]")
    utc_offset = np.timedelta64(4 * 3600, "s")
    return local + day.astype("timedelta64[D]") + local_seconds.astype("timedelta64[s]") - utc_offset


def _customers(n: int, rng: np.random.Generator) -> np.ndarray:
    """Emirates-ID-like customer numbers (raw ids; the store pseudonymises them)."""
    year = rng.integers(1950, 2005, n)
    serial = rng.integers(0, 10_000_000, n)
    return np.char.add(np.char.add(np.char.add("784-", year.astype(str)), "-"), np.char.zfill(serial.astype(str), 7))


def generate(n_cases: int = 20_000, seed: int = 7, life_events: Mapping[str, Sequence[str]] | None = None) -> Sample:
    """Generate about `n_cases` cases of the sample services, reproducibly.

    Parameters
    ----------
    n_cases : int, default 20000
        The number of cases (a life event counts one per service). About 11 events per case.
    seed : int, default 7
        The seed; the same seed gives the same log.
    life_events : Mapping of str to sequence of str, optional
        The bundles to plant: name -> the sample's service keys in the order a customer takes them
        (at least two, each service in one bundle at most). Each bundle gets an equal part of
        :data:`LIFE_EVENT_SHARE` of the cases. None plants the newborn bundle (the committed
        sample); an empty mapping plants none.

    Returns
    -------
    Sample

    Raises
    ------
    InvalidParameterError
        `n_cases` below one, or a bundle of `life_events` with an unknown service, fewer than two
        services, or a service that another bundle (or itself) already has.
    """
    if n_cases < 1:
        raise InvalidParameterError(f"The 'n_cases' parameter of generate must be a positive integer. Got {n_cases!r} instead.",
                                    parameter="n_cases")
    bundles = _bundles(life_events)
    rng = np.random.default_rng(seed)
    by_key = {s.key: s for s in SERVICES}
    plans: list[tuple[Service, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    in_life_events = 0
    for name, bundle in bundles.items():
        instances = max(1, int(n_cases * LIFE_EVENT_SHARE / len(bundles)) // len(bundle))
        plans.extend(_life_event(name, [by_key[key] for key in bundle], instances, rng))
        in_life_events += instances * len(bundle)
    single = max(0, n_cases - in_life_events)

    shares = np.array([s.share for s in SERVICES])
    counts = rng.multinomial(single, shares / shares.sum())
    for service, count in zip(SERVICES, counts, strict=True):
        if count:
            plans.append((service, _starts(count, rng), np.zeros(count, bool), _customers(count, rng),
                          np.full(count, None, dtype=object)))

    tables, truths = [], []
    next_case = 0
    redesign = np.datetime64(pd.Timestamp(REDESIGN_DATE, tz="Asia/Dubai").tz_convert("UTC").tz_localize(None), "s")
    for service, starts, proactive, customers, life in plans:
        eras = [(service.steps, starts < redesign if service.redesigned else np.ones(len(starts), bool))]
        if service.redesigned:
            eras.append((service.redesigned, starts >= redesign))
        for steps, chosen in eras:
            if not chosen.any():
                continue
            ids = np.char.add(f"{service.key}-", np.char.zfill(np.arange(next_case, next_case + chosen.sum()).astype(str), 7))
            next_case += int(chosen.sum())
            occurs, elapsed, plan, truth = _simulate(service, steps, starts[chosen], proactive[chosen], rng)
            tables.append(_events(service, plan, occurs, elapsed, starts[chosen], ids, customers[chosen], truth, rng))
            truths.append(pd.DataFrame({"case_id": ids, "service": service.key, **truth,
                                        "proactive": proactive[chosen], "life_event": life[chosen]}))
    events = pa.concat_tables(tables, promote_options="permissive")
    order = rng.permutation(events.num_rows)
    truth_frame = pd.concat(truths, ignore_index=True)
    truth_frame = truth_frame[truth_frame["events"] > 0].reset_index(drop=True)
    return Sample(events.take(order), _with_outcome_as_analysed(truth_frame), bundles)


def _bundles(life_events: Mapping[str, Sequence[str]] | None) -> dict[str, tuple[str, ...]]:
    """The bundles to plant, checked: :data:`LIFE_EVENTS` when `life_events` is None."""
    if life_events is None:
        return dict(LIFE_EVENTS)

    def refuse(problem: str) -> InvalidParameterError:
        return InvalidParameterError(f"The 'life_events' parameter of generate {problem}.", parameter="life_events")

    if not isinstance(life_events, Mapping):
        raise refuse(f"must map a name to service keys. Got {type(life_events).__name__} instead")
    known = [s.key for s in SERVICES]
    owner: dict[str, str] = {}
    for name, services in life_events.items():
        if not isinstance(name, str) or not name:
            raise refuse(f"must name each bundle with a non-empty string. Got {name!r}")
        if isinstance(services, str) or not isinstance(services, Sequence):
            raise refuse(f"must give bundle {name!r} a sequence of service keys. Got {services!r}")
        unknown = [key for key in services if key not in known]
        if unknown:
            raise refuse(f"names unknown services {unknown} in bundle {name!r}; the sample's services are {known}")
        if len(services) < 2:
            raise refuse(f"must give bundle {name!r} at least two services. Got {list(services)}")
        for key in services:
            if key in owner:
                raise refuse(f"puts service {key!r} in bundle {owner[key]!r} and again in bundle {name!r}")
            owner[key] = name
    return {name: tuple(services) for name, services in life_events.items()}


def _life_event(
    name: str, services: list[Service], instances: int, rng: np.random.Generator
) -> list[tuple[Service, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """The plans of `instances` instances of one life event: one customer each, its services one after the other.

    Each service starts a few days (lognormal, median five) after the one before it started; the
    government starts a case itself with its service's ``p_proactive`` (half as likely again from
    the fourth service on), which is zero for a service without a proactive start step.
    """
    customers = _customers(instances, rng)
    first_start = _starts(instances, rng)
    gap = np.zeros(instances, dtype="timedelta64[s]")
    ids = np.char.add(f"{name}-", np.arange(instances).astype(str))
    plans = []
    for position, service in enumerate(services):
        proactive = rng.random(instances) < service.p_proactive * (1.5 if position > 2 else 1.0)
        plans.append((service, first_start + gap, proactive, customers, ids))
        gap = gap + (rng.lognormal(np.log(5 * 24), 0.6, instances) * _SECONDS).astype("timedelta64[s]")
    return plans


def _with_outcome_as_analysed(truth: pd.DataFrame) -> pd.DataFrame:
    """The outcome an analyst reads from the log at its last event (the catalogue's rule).

    Rejected or completed once the decision is in the log; an undecided case is open while its
    last event is less than :data:`OPEN_DAYS` before the log's last event, abandoned after that.
    The simulation's own outcome (which knows of cases cut by the end of the period) is kept
    for the survey answers only.
    """
    as_of = truth["_last"].max()
    idle = (as_of - truth["_last"]) >= pd.Timedelta(days=OPEN_DAYS)
    undecided = np.where(idle, "abandoned", "open")
    outcome = np.where(truth["_decision"] != "", truth["_decision"], undecided)
    return truth.assign(outcome=outcome).drop(columns=["_decision", "_last"])


def _events(
    service: Service, plan: _Plan, occurs: np.ndarray, elapsed: np.ndarray, starts: np.ndarray, ids: np.ndarray,
    customers: np.ndarray, truth: dict[str, np.ndarray], rng: np.random.Generator,
) -> pa.Table:
    """Flatten the occurring cells of the matrix into an events table."""
    case, position = np.nonzero(occurs)
    n = len(case)
    steps = plan.steps
    time = starts[case] + elapsed[case, position].astype("timedelta64[s]")
    channel_names = list(service.channels)
    case_channel = rng.choice(len(channel_names), size=occurs.shape[0], p=list(service.channels.values()))
    forced = np.array([s.channel or "" for s in steps], dtype=object)
    channel = np.where(forced[position] != "", forced[position], np.array(channel_names, dtype=object)[case_channel[case]])
    actor = np.array([s.actor for s in steps], dtype=object)[position]
    agency = np.array([s.agency or service.agency for s in steps], dtype=object)[position]
    staff = rng.integers(1, 25, n).astype(str)
    resource = np.where(actor == "staff", np.char.add(f"{service.key[:3].upper()}-E", staff).astype(object),
                        np.where(actor == "system", "system", "customer"))

    last = np.zeros(occurs.shape, bool)
    last[np.arange(occurs.shape[0]), occurs.shape[1] - 1 - np.argmax(occurs[:, ::-1], axis=1)] = True
    answered = (rng.random(occurs.shape[0]) < SURVEY_RATE) & (truth["outcome"] == "completed")
    base = 5.2 - 0.25 * truth["customer_steps"] - 0.5 * truth["rework"] + rng.normal(0, 0.8, occurs.shape[0])
    score = base.round().clip(1, 5)
    on_last = last[case, position]
    satisfaction = np.where(on_last & answered[case], score[case], np.nan)
    cost = np.array([s.cost for s in steps])[position] * rng.uniform(0.8, 1.2, n).round(2)

    return pa.table({
        "case_id": pa.array(ids[case]),
        "activity": pa.array(np.array([s.activity for s in steps], dtype=object)[position]).dictionary_encode(),
        "timestamp": pa.array(time.astype("datetime64[ms]"), pa.timestamp("ms", tz="UTC")),
        "service": pa.array(np.full(n, service.key, dtype=object)).dictionary_encode(),
        "customer_id": pa.array(customers[case]),
        "channel": pa.array(channel).dictionary_encode(),
        "agency": pa.array(agency).dictionary_encode(),
        "resource": pa.array(resource),
        "actor": pa.array(actor).dictionary_encode(),
        "satisfaction": pa.array(satisfaction, from_pandas=True),
        "cost": pa.array(cost.round(2)),
    })
