"""The data behind the dashboard: what every page and callback asks, answered from the store's tables.

The ratings of every service and quarter (and per channel) are computed once when the dashboard
starts, from the journey table; a click then filters those frames, or runs a query over the
journey and steps tables (never the raw events) whose answer is kept for the next click.
Every answer about people follows the small-group rule of :mod:`najma.rating._suppression`: a
group of fewer than `min_group` customers shows no count, KPI or star, so no one can be singled
out; filter values are Ibis literals or query parameters, never SQL text.

Examples
--------
>>> import os, tempfile
>>> from najma.journeys import Store
>>> from najma.sample import load_sample
>>> os.environ.setdefault("NAJMA_PSEUDONYM_KEY", "example-key")
'...'
>>> path = os.path.join(tempfile.mkdtemp(), "s.duckdb")
>>> with Store(path) as store:
...     _ = load_sample(store)
>>> data = DashboardData(path, draws=0)
>>> len(data.overview(data.quarters[0], lang="en")) == len(data.services)
True
>>> data.overview(data.quarters[0], search="PASSPORT")["service"].to_list()
['passport']
"""

from __future__ import annotations

import inspect
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import ibis
import numpy as np
import pandas as pd

from najma.dashboards._i18n import column_notes, display_names, source_lines
from najma.journeys import (
    CaseFilter,
    ProcessMap,
    Store,
    SurveySummary,
    conformance,
    designed_journeys,
    evidence,
    handovers,
    has_answers,
    journey_table,
    life_event_journeys,
    linked_cases,
    process_map,
    quarter_zone,
    rework,
    rework_steps,
    survey_summary,
)
from najma.journeys import (
    variants as variants_of,
)
from najma.journeys._redesign import Transform
from najma.rating import (
    Provenance,
    RatingCard,
    RatingConfig,
    case_features,
    default_config,
    quarter_with_change,
    rating_cards,
    what_if,
)
from najma.rating._kpis import group_statistics, point_kpis
from najma.rating._ratings import rate_features
from najma.rating._shown import with_published
from najma.rating._suppression import (
    MIN_GROUP,
    cases_per_quarter,
    check_min_group,
    kept_groups,
    shown_ratings,
    suppress_map,
    suppress_ratings,
    too_few,
)

__all__ = ["DashboardData", "CASES_LISTED"]

Progress = Callable[[str], None]
#: The most cases the case list of a selection shows (the latest first).
CASES_LISTED = 1000


def _no_criteria(criteria: CaseFilter | None) -> bool:
    return criteria is None or criteria.is_empty


class Kept(NamedTuple):
    """How a method's kept answers served: as :func:`functools.lru_cache`'s ``cache_info()``."""

    hits: int
    misses: int
    maxsize: int
    currsize: int


class _Answers:
    """The answers of a slow method, kept per arguments and each worked out once.

    The arguments are normalised first (defaults filled in, keywords made positional), so
    ``f(s, q)`` and ``f(s, q, None)`` share one answer; a call that asks for an answer another
    thread is working out waits for it rather than working it out again (one lock per key).
    At most `maxsize` answers are kept, the least recently used dropped first.
    """

    def __init__(self, function: Callable[..., object], maxsize: int) -> None:
        self._function = function
        self._signature = inspect.signature(function)
        self._maxsize = maxsize
        self._kept: OrderedDict[tuple[Hashable, ...], object] = OrderedDict()
        self._working: dict[tuple[Hashable, ...], threading.Lock] = {}
        self._guard = threading.Lock()
        self._hits = self._misses = 0

    def __call__(self, *args: object, **kwargs: object) -> object:
        """The answer of the method for these arguments, worked out on the first call only."""
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        key = tuple(bound.arguments.values())
        with self._guard:
            if key in self._kept:
                self._hits += 1
                self._kept.move_to_end(key)
                return self._kept[key]
            working = self._working.setdefault(key, threading.Lock())
        with working:
            with self._guard:
                if key in self._kept:  # worked out by the thread this one waited for
                    self._hits += 1
                    return self._kept[key]
                self._misses += 1
            try:
                answer = self._function(*key)
            finally:
                with self._guard:
                    self._working.pop(key, None)
            with self._guard:
                self._kept[key] = answer
                while len(self._kept) > self._maxsize:
                    self._kept.popitem(last=False)
        return answer

    def cache_info(self) -> Kept:
        """Hits, misses, the most answers kept and how many are kept."""
        with self._guard:
            return Kept(self._hits, self._misses, self._maxsize, len(self._kept))


class DashboardData:
    """Everything the dashboard shows, read from one store.

    Parameters
    ----------
    store : path
        A store whose journeys are built.
    config : RatingConfig, optional
        The rating model; the shipped default by default.
    min_group : int, default 10
        Groups of fewer customers are suppressed.
    draws : int, default 200
        Bootstrap draws for the uncertainty of each service's rating.
    progress : callable, optional
        Called with the name of each stage of the start-up.
    """

    def __init__(self, store: str | Path, *, config: RatingConfig | None = None, min_group: int = MIN_GROUP,
                 draws: int = 200, progress: Progress | None = None) -> None:
        min_group = check_min_group(min_group, "DashboardData")
        say = progress or (lambda _stage: None)
        self.path = Path(store)
        self.min_group = min_group
        self.config = config or default_config()
        self.draws = draws
        self._root = Store(self.path, read_only=True)
        self._local = threading.local()
        self.tz = quarter_zone(self._root)  # the zone of the quarters the build kept maps of
        say("reading the journeys")
        self.features = case_features(self._root, satisfied_at=self.config.satisfied_at, tz=self.tz)
        say("rating every service and quarter")
        rated, self.provenance = with_published(
            self._root, rate_features(self.features, config=self.config, draws=draws), self.config)
        self.ratings = suppress_ratings(rated, self.features, min_group)
        self.evidence = evidence(self._root)  # what the log of each service can support: its columns, its roles
        self.held = self.evidence.held
        say("rating every service, quarter and channel")
        with_channel = self.features[self.features["channel"].notna()]  # a log without channels has no such rating
        self.channel_ratings = suppress_ratings(
            rate_features(with_channel, by="channel", config=self.config, draws=draws), with_channel, min_group)
        self.quarters: list[str] = sorted(self.features["quarter"].dropna().unique(), reverse=True)
        self.names = {lang: display_names(self._root, lang) for lang in ("en", "ar")}
        settings = self._root.backend.table("service_settings").select("service", "agency").to_pandas()
        self.agency_of: dict[str, str] = dict(zip(settings.service, settings.agency, strict=True))
        self._of_service = {service: rows for service, rows in self.features.groupby("service", sort=True)}
        self.services: list[str] = list(self._of_service)
        # The KPIs of each service over all its cases, the first thing its page shows.
        self._service_kpis = point_kpis(
            group_statistics(self.features.assign(quarter="all"), None, self.config.min_answers), None).set_index(
            "service", drop=False)
        self.channels: list[str] = sorted(self.features["channel"].dropna().unique())
        bundles = self._root.backend.table("life_event_services")
        self.life_events: list[str] = bundles.select("life_event").distinct().order_by("life_event").life_event \
            .to_pyarrow().to_pylist()
        # The answers of slow questions, kept per instance (the arguments are hashable tuples), each worked out once.
        self._whole_map = _Answers(self._suppressed_map, 256)
        self.activities = _Answers(self._activities, 64)
        self.variant_table = _Answers(self._variant_table, 256)
        self.conformance = _Answers(self._conformance, 64)
        self.redesign = lru_cache(maxsize=64)(self._redesign)
        self.cards = _Answers(self._cards, 64)
        self.life_event_links = _Answers(self._life_event_links, 16)
        self.life_event_summary = _Answers(self._life_event_summary, 16)
        self.life_event_flows = _Answers(self._life_event_flows, 16)
        self.ask_once = _Answers(self._ask_once, 16)
        self._selected_cases = _Answers(self._selected_case_ids, 256)
        self.selection_kpis = _Answers(self._selection_kpis, 256)
        self.case_list = _Answers(self._case_list, 256)
        self.attribute_names = _Answers(self._attribute_names, 64)
        self.rework = _Answers(self._rework, 256)
        self.handovers = _Answers(self._handovers, 256)
        self.survey_summary = _Answers(self._survey_summary, 256)
        self.rework_names_resources = _Answers(self._rework_names_resources, 256)
        say("ready")

    # -- the store, one handle per thread ------------------------------------------------------------

    @property
    def store(self) -> Store:
        """A handle on the store for the calling thread (DuckDB connections are not shared between threads)."""
        handle = getattr(self._local, "store", None)
        if handle is None:
            handle = self._local.store = self._root.cursor()
        return handle

    def close(self) -> None:
        """Close the store."""
        self._root.close()

    # -- suppression ----------------------------------------------------------------------------------

    def notes(self, service: str | None, lang: str) -> list[str]:
        """The lines a page says about the columns the data of `service` (of every service when None) lacks."""
        return column_notes(self.held.of(service), lang)

    def too_few(self, customers: int) -> bool:
        """Whether a group of `customers` customers must be suppressed."""
        return too_few(customers, self.min_group)

    # -- names ------------------------------------------------------------------------------------------

    def name(self, kind: str, key: str, lang: str) -> str:
        """The display name of a service, activity, agency, channel or life event in `lang`."""
        return self.names[lang][kind].get(key, key)

    def agencies(self) -> list[str]:
        """The agencies that own a rated service."""
        return sorted({self.agency_of.get(s) for s in self.services if self.agency_of.get(s)})

    # -- overview -----------------------------------------------------------------------------------

    def overview(self, quarter: str, *, agency: str | None = None, channel: str | None = None, search: str = "",
                 lang: str = "en") -> pd.DataFrame:
        """One row per service rated in `quarter`: its stars, the change since the quarter before, pillars and KPIs.

        A service of fewer than `min_group` customers has the status ``"suppressed"`` and no cases,
        stars, score or KPIs.

        Parameters
        ----------
        quarter : str
            The quarter, e.g. ``"2025Q4"``.
        agency : str, optional
            Only the services of this agency.
        channel : str, optional
            Ratings of the cases served wholly on this channel (or ``"mixed"``, those served on several).
        search : str
            Only services whose name (in `lang` or English) or key contains this text, ignoring case.
        lang : {"en", "ar"}
            The language of the names.
        """
        cards = self.cards(quarter, channel)
        rows = shown_ratings(self._ratings_of(channel))
        rows = rows[rows["quarter"] == quarter].reset_index(drop=True)
        rows["change"] = [cards[s].change for s in rows["service"]]
        rows["confidence"] = [cards[s].confidence for s in rows["service"]]
        rows.insert(1, "name", [self.name("service", s, lang) for s in rows["service"]])
        rows.insert(2, "agency", [self.name("agency", self.agency_of.get(s, ""), lang) for s in rows["service"]])
        # Masks are arrays: a list of no booleans would pick no columns, not no rows.
        if agency:
            rows = rows[rows["service"].map(self.agency_of).eq(agency).to_numpy(dtype=bool)]
        if search:
            needle = search.casefold()
            rows = rows[np.array([needle in f"{n} {s} {self.name('service', s, 'en')}".casefold()
                                  for n, s in zip(rows["name"], rows["service"], strict=True)], dtype=bool)]
        return rows.sort_values(["stars", "score", "service"], ascending=[False, False, True],
                                na_position="last").reset_index(drop=True)

    def trend(self, services: Sequence[str], *, channel: str | None = None) -> pd.DataFrame:
        """Stars and score of `services` in every quarter: service, quarter, stars, score, status."""
        ratings = self._ratings_of(channel)
        rows = ratings[ratings["service"].isin(list(services))]
        return rows[["service", "quarter", "stars", "score", "status"]].sort_values(["service", "quarter"]).reset_index(
            drop=True)

    def _ratings_of(self, channel: str | None) -> pd.DataFrame:
        """The ratings of every service and quarter, of the cases served wholly on `channel` when given."""
        return self.channel_ratings[self.channel_ratings["channel"] == channel] if channel else self.ratings

    def _cards(self, quarter: str, channel: str | None) -> dict[str, RatingCard]:
        """The rating card of every service rated in `quarter` (on the cases of `channel` when given), by service
        (served as ``cards``, cached)."""
        ratings = self._ratings_of(channel)
        if not (ratings["quarter"] == quarter).any():
            return {}
        now, before = quarter_with_change(ratings, quarter, self.quarters)
        return {card.service: card for card in rating_cards(now, before, self.config)}

    def source_lines(self, quarter: str, lang: str, channel: str | None = None) -> list[str]:
        """Where the ratings of `quarter` come from (published, today's drafts, or both) and what their change compares
        with; per channel, always today's (a publication holds no channel)."""
        found = self.provenance.get(quarter, Provenance(quarter, {}, (), True, False))
        if channel:
            found = Provenance(quarter, found.publication, (), True, False)
        return source_lines(found, lang, self.names[lang]["service"])

    def latest_quarter(self, service: str) -> str | None:
        """The latest quarter in which `service` has cases."""
        quarters = self._of_service[service]["quarter"].dropna() if service in self._of_service else []
        return max(quarters) if len(quarters) else None

    def card(self, service: str, quarter: str) -> RatingCard | None:
        """The rating card of `service` in `quarter`, or None when it has no cases then."""
        return self.cards(quarter, None).get(service)

    # -- one service ------------------------------------------------------------------------------------

    def where(self, service: str, quarter: str | None, variants: tuple[str, ...] = (),
              criteria: CaseFilter | None = None) -> CaseFilter:
        """The cases of `service` (in `quarter`, of `variants` when given) that also meet `criteria` (its activity,
        attribute, duration, channel and outcome criteria; its service, quarter and variants are replaced)."""
        return replace(criteria or CaseFilter(), service=service, quarter=quarter or None, variants=tuple(variants) or None,
                       tz=self.tz)

    def _variant_table(self, service: str, quarter: str | None,
                       criteria: CaseFilter | None = None) -> tuple[pd.DataFrame, int]:
        """The variants of a service's cases (that meet `criteria`) with at least `min_group` customers, and how many
        variants were suppressed.

        Columns: variant, label (V1, V2, ... by frequency), cases, customers, share, cumulative,
        median_duration_seconds, median_customer_steps (missing when the service's customer steps cannot be counted,
        see :meth:`_steps_counted`), events. Shares and coverage are of every case selected, the suppressed variants'
        cases included.
        """
        frame = variants_of(self.store, self.where(service, quarter, (), criteria))
        frame.insert(1, "label", [f"V{i}" for i in range(1, len(frame) + 1)])
        return kept_groups(self._steps_counted(service, frame, "median_customer_steps"), self.min_group)

    def _steps_counted(self, service: str, frame: pd.DataFrame, column: str) -> pd.DataFrame:
        """`frame` with its customer steps `column` missing (NaN: "no data"), not 0, when the log of `service` cannot
        count them: the catalogue gives it no roles and its events name no actor (see :class:`najma.journeys.Evidence`)."""
        return frame if self.evidence.supports("steps", service) else frame.assign(**{column: np.nan})

    def _selected_case_ids(self, service: str, quarter: str | None, variants: tuple[str, ...],
                           criteria: CaseFilter | None) -> frozenset[str]:
        journeys = journey_table(self.store, self.where(service, quarter, variants, criteria))
        return frozenset(journeys.select("case_id").to_pandas()["case_id"])

    def selection(self, service: str, quarter: str | None, variants: tuple[str, ...] = (),
                  criteria: CaseFilter | None = None) -> pd.DataFrame:
        """The case features of a service's cases in `quarter` (all quarters when None), of `variants` if given,
        that meet `criteria` (see :meth:`where`)."""
        rows = self._of_service.get(service, self.features.iloc[:0])
        if quarter:
            rows = rows[rows["quarter"] == quarter]
        if variants or not _no_criteria(criteria):
            rows = rows[rows["case_id"].isin(self._selected_cases(service, quarter, tuple(variants), criteria))]
        return rows

    def _selection_kpis(self, service: str, quarter: str | None, variants: tuple[str, ...] = (),
                        criteria: CaseFilter | None = None) -> pd.Series | None:
        """Every KPI of the selected cases (see :meth:`selection`); None when they are too few customers."""
        rows = self.selection(service, quarter, variants, criteria)
        if rows.empty or self.too_few(rows["customer_id"].nunique()):
            return None
        if quarter is None and not variants and _no_criteria(criteria):
            return self._service_kpis.loc[service]
        return point_kpis(group_statistics(rows.assign(quarter="all"), None, self.config.min_answers), None).iloc[0]

    def journey_map(self, service: str, quarter: str | None, variants: tuple[str, ...], coverage: float,
                    criteria: CaseFilter | None = None) -> ProcessMap | None:
        """The process map of the selected cases, abstracted to `coverage`; None when too few customers.

        Activities, edges, starts and ends of fewer than `min_group` customers are left out. The map is read
        once per selection; another `coverage` only abstracts it again.
        """
        graph = self._whole_map(service, quarter, tuple(variants), criteria)
        return graph if graph is None or coverage >= 1 else graph.abstract(coverage)

    def _suppressed_map(self, service: str, quarter: str | None, variants: tuple[str, ...],
                        criteria: CaseFilter | None = None) -> ProcessMap | None:
        rows = self.selection(service, quarter, variants, criteria)
        if rows.empty or self.too_few(rows["customer_id"].nunique()):
            return None
        where = self.where(service, quarter, variants, criteria)
        return suppress_map(process_map(self.store, where), self.store, where, self.min_group)

    def _case_list(self, service: str, quarter: str | None, variants: tuple[str, ...], criteria: CaseFilter | None,
                   limit: int = CASES_LISTED) -> tuple[pd.DataFrame, int] | None:
        """The selected cases, latest start first (case id breaks ties), at most `limit`, and how many there are;
        None when they have fewer than `min_group` customers (the list is a group, shown only whole).

        Columns: case_id, start and end (timestamps in the catalogue's zone, :attr:`tz`, the zone of the
        quarters), duration_seconds, outcome, channel (of the first event), events, customer_steps (missing when they
        cannot be counted, see :meth:`_steps_counted`), variant.
        No column names the customer, so that no one can follow a customer's cases from one selection to another.
        """
        rows = self.selection(service, quarter, variants, criteria)
        if rows.empty or self.too_few(rows["customer_id"].nunique()):
            return None
        journeys = journey_table(self.store, self.where(service, quarter, variants, criteria))
        listed = journeys.order_by([ibis.desc("start"), "case_id"]).limit(limit).select(
            "case_id", "start", "end", "duration_seconds", "outcome", journeys.first_channel.name("channel"), "events",
            "customer_steps", "variant").to_pandas()
        return self._in_zone(self._steps_counted(service, listed, "customer_steps"), "start", "end"), len(rows)

    def case_events(self, service: str, case_id: str) -> pd.DataFrame:
        """The events of one case in time order (the store's sequence breaks ties, as in the steps): activity,
        timestamp (in the catalogue's zone, :attr:`tz`), channel, resource, actor. Ask it only of a case of a
        selection shown (see :meth:`case_list`)."""
        events = self.store.backend.table("events")
        found = events.filter(events.service == service, events.case_id == case_id)
        return self._in_zone(found.order_by(["timestamp", "event_seq"]).select(
            "activity", "timestamp", "channel", "resource", "actor").to_pandas(), "timestamp")

    def _in_zone(self, frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
        """`frame` with its UTC timestamp `columns` shown in the catalogue's zone (the same instants)."""
        return frame.assign(**{c: pd.to_datetime(frame[c], utc=True).dt.tz_convert(self.tz) for c in columns})

    def _rework(self, where: CaseFilter, by: str) -> pd.DataFrame:
        """The rework of the cases that pass `where`, per `by` (see :func:`najma.journeys.rework`; served as
        ``rework``, cached)."""
        return rework(self.store, where, by=by)

    def _handovers(self, by: str, where: CaseFilter) -> pd.DataFrame:
        """The hand-overs between `by` (agencies, services or resources) in the cases that pass `where` (see
        :func:`najma.journeys.handovers`; served as ``handovers``, cached)."""
        return handovers(self.store, by, where)

    def _survey_summary(self, where: CaseFilter) -> SurveySummary | None:
        """The survey answers of the journeys that pass `where` (see :func:`najma.journeys.survey_summary`), or None
        when the store holds no answers (served as ``survey_summary``, cached)."""
        return survey_summary(self.store, where=where) if has_answers(self.store) else None

    def _rework_names_resources(self, where: CaseFilter) -> bool:
        """Whether a step of the cases that pass `where` names its resource (see :func:`najma.journeys.rework_steps`;
        served as ``rework_names_resources``, cached)."""
        return bool(rework_steps(self.store, where).resource.notnull().any().to_pyarrow().as_py())

    def _attribute_names(self, service: str) -> list[str]:
        """The attributes a case can be filtered on: the canonical text columns the service holds, then the kept
        source attributes of its events, by name (served as ``attribute_names``, cached)."""
        held = self.held.of(service)
        canonical = ["activity", *(c for c in ("channel", "agency", "resource", "actor", "lifecycle") if c in held)]
        events = self.store.backend.table("events").filter(ibis._.service == service, ibis._.attributes.notnull())
        kept = events.select(name=events.attributes.map.keys().unnest()).distinct().order_by("name")
        return canonical + [n for n in kept.name.to_pyarrow().to_pylist() if n not in canonical]

    def group_too_small(self, service: str, quarter: str | None) -> bool:
        """Whether the cases of `service` (in `quarter`, or in all) have fewer than `min_group` customers."""
        rows = self.selection(service, quarter)
        return self.too_few(rows["customer_id"].nunique())

    def _conformance(self, service: str, quarter: str | None) -> tuple[pd.Series | None, pd.DataFrame] | None:
        """Fitness of the service's journeys against its designed journey, and the deviations; None without a design.

        The fitness is None (and there are no deviations) when the cases have fewer than `min_group`
        customers; a deviation is shown when seen in at least `min_group` cases (conformance counts
        cases, and a group of so many cases may still have fewer customers only when customers
        come back: see the report of the small-group rule).
        """
        if service not in designed_journeys(self.store):
            return None
        found = conformance(self.store, self.where(service, quarter))
        if found.services.empty:
            return None
        if self.group_too_small(service, quarter):
            return None, found.deviations.iloc[:0]
        deviations = found.deviations[found.deviations["cases"] >= self.min_group].reset_index(drop=True)
        return found.services.iloc[0], deviations

    # -- customer journeys across services ------------------------------------------------------------

    def _life_event_links(self, life_event: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The journeys of a life event (one row each) and their linked cases (served as ``life_event_links``, cached:
        a click that asks while another works them out waits for its answer)."""
        journeys = life_event_journeys(self.store, life_event).to_pandas()
        cases = linked_cases(self.store, life_event).to_pandas()
        return journeys, cases

    def _life_event_summary(self, life_event: str) -> dict[str, float] | None:
        """Journeys, customers, the mean of agencies touched, customer steps and days, and ask-once failures."""
        journeys, _ = self.life_event_links(life_event)
        if self.too_few(journeys["customer_id"].nunique()):
            return None
        return {
            "journeys": len(journeys), "customers": int(journeys["customer_id"].nunique()),
            "agencies": float(journeys["agencies"].mean()), "customer_steps": float(journeys["customer_steps"].mean()),
            "days": float(journeys["elapsed_seconds"].mean() / 86400),
            "ask_once_share": float((journeys["ask_once_failures"] > 0).mean()),
        }

    def _life_event_flows(self, life_event: str) -> pd.DataFrame:
        """Flows between the services of a life event's journeys: source, target, journeys (from one case to the next).

        The first case of each journey flows from its agency's name (so a Sankey shows agencies and
        services); flows of fewer than `min_group` customers are left out.
        """
        _, cases = self.life_event_links(life_event)
        cases = cases.sort_values(["journey_id", "step_in_journey", "case_id"])
        following = cases.groupby("journey_id")["service"].shift(-1)
        steps = pd.DataFrame({"source": "service:" + cases["service"], "target": "service:" + following,
                              "customer_id": cases["customer_id"]}).dropna()
        firsts = cases[cases["step_in_journey"] == 0]
        entries = pd.DataFrame({"source": "agency:" + firsts["agency"].fillna("?"), "target": "service:" + firsts["service"],
                                "customer_id": firsts["customer_id"]})
        flows = pd.concat([entries, steps]).groupby(["source", "target"]).agg(
            journeys=("customer_id", "size"), customers=("customer_id", "nunique")).reset_index()
        return flows[flows["customers"] >= self.min_group].drop(columns="customers").reset_index(drop=True)

    def _ask_once(self, life_event: str) -> pd.DataFrame:
        """Per service of a life event: cases, cases asking again for data another agency had (ask-once failures), share."""
        _, cases = self.life_event_links(life_event)
        grouped = cases.groupby("service").agg(cases=("case_id", "size"), customers=("customer_id", "nunique"),
                                               failures=("ask_once_failure", "sum")).reset_index()
        grouped["share"] = grouped["failures"] / grouped["cases"]
        grouped = grouped[grouped["customers"] >= self.min_group]
        return grouped.drop(columns="customers").sort_values(["failures", "service"], ascending=[False, True]).reset_index(
            drop=True)

    # -- redesign -----------------------------------------------------------------------------------------

    def _activities(self, service: str) -> list[str]:
        """The activities of a service, most frequent first (served as ``activities``, cached)."""
        steps = self.store.backend.table("steps").filter(ibis._.service == service)
        counted = steps.group_by("activity").aggregate(n=steps.count())
        return counted.order_by([ibis.desc("n"), "activity"]).activity.to_pyarrow().to_pylist()

    def _redesign(self, service: str, transforms: tuple[Transform, ...], quarter: str) -> pd.DataFrame | None:
        """The service's KPIs and stars today and after `transforms`, in `quarter` (see :func:`najma.rating.what_if`);
        None when its cases then have fewer than `min_group` customers."""
        if self.group_too_small(service, quarter):
            return None
        return what_if(self.store, service, list(transforms), quarter=quarter, config=self.config, draws=self.draws,
                       observed=self._of_service[service])

    # -- data quality ---------------------------------------------------------------------------------------

    def batches(self) -> pd.DataFrame:
        """The import batches: batch_id, source, kind, service, rows read, loaded, quarantined, loaded_at, seconds, repeated."""
        return pd.DataFrame(self.store.batches())

    def quarantine(self) -> pd.DataFrame:
        """Quarantined rows per source, column and reason, with the first row or line of each."""
        rows = self.store.quarantined()
        grouped = rows.group_by(["source", "column", "reason"]).aggregate(rows=rows.count(), first_row=rows.row.min())
        return grouped.order_by([ibis.desc("rows"), "source", "reason"]).to_pandas()

    def coverage(self, quarters: Sequence[str] | None = None) -> pd.DataFrame:
        """Cases per service (rows) and quarter (columns), the quarters in order; a cell of fewer than
        `min_group` customers is missing."""
        return cases_per_quarter(self.features, quarters, min_group=self.min_group)
