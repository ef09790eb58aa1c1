"""The data behind the dashboard: what every page and callback asks, answered from the store's tables.

The ratings of every service and quarter (and per channel) are computed once when the dashboard
starts, from the journey table; a click then filters those frames, or runs a query over the
journey and steps tables (never the raw events) whose answer is kept for the next click.
Every answer about people is suppressed below `min_group` customers, so no one can be singled
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

import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import ibis
import numpy as np
import pandas as pd

from najma.dashboards._i18n import column_notes, display_names
from najma.errors import InvalidParameterError
from najma.journeys import (
    CaseFilter,
    ProcessMap,
    Store,
    held_columns,
    journey_table,
    life_event_journeys,
    linked_cases,
    process_map,
    quarter_zone,
)
from najma.journeys import (
    variants as variants_of,
)
from najma.journeys._redesign import Transform
from najma.rating import (
    KPIS,
    PILLARS,
    RatingCard,
    RatingConfig,
    case_features,
    default_config,
    quarter_with_change,
    rating_cards,
    star_columns,
    what_if,
)
from najma.rating._kpis import group_statistics, point_kpis
from najma.rating._ratings import rate_features

__all__ = ["DashboardData", "SUPPRESSED", "MIN_GROUP", "cases_per_quarter"]

#: The fewest customers a figure may describe (groups below it are suppressed).
MIN_GROUP = 10
#: The status of a group suppressed for having too few customers.
SUPPRESSED = "suppressed"
Progress = Callable[[str], None]


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
        if min_group < 1:
            raise InvalidParameterError(f"The 'min_group' parameter of DashboardData must be a positive integer. Got {min_group!r} instead.")
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
        self.ratings = self._suppress(rate_features(self.features, config=self.config, draws=draws), None)
        self.held = held_columns(self._root)
        say("rating every service, quarter and channel")
        with_channel = self.features[self.features["first_channel"].notna()]  # a log without channels has no such rating
        self.channel_ratings = self._suppress(rate_features(with_channel, by="channel", config=self.config, draws=0),
                                              "channel")
        self.quarters: list[str] = sorted(self.features["quarter"].dropna().unique(), reverse=True)
        self.names = {lang: display_names(self._root, lang) for lang in ("en", "ar")}
        settings = self._root.backend.table("service_settings").select("service", "agency").to_pandas()
        self.agency_of: dict[str, str] = dict(zip(settings.service, settings.agency, strict=True))
        self._of_service = {service: rows for service, rows in self.features.groupby("service", sort=True)}
        self.services: list[str] = list(self._of_service)
        # The KPIs of each service over all its cases, the first thing its page shows.
        self._service_kpis = point_kpis(group_statistics(self.features.assign(quarter="all"), None), None).set_index(
            "service", drop=False)
        self.channels: list[str] = sorted(self.features["first_channel"].dropna().unique())
        bundles = self._root.backend.table("life_event_services")
        self.life_events: list[str] = bundles.select("life_event").distinct().order_by("life_event").life_event \
            .to_pyarrow().to_pylist()
        # The answers of slow questions, kept per instance (the arguments are hashable tuples).
        self._whole_map = lru_cache(maxsize=256)(self._suppressed_map)
        self.activities = lru_cache(maxsize=64)(self._activities)
        self.variant_table = lru_cache(maxsize=256)(self._variant_table)
        self.conformance = lru_cache(maxsize=64)(self._conformance)
        self.redesign = lru_cache(maxsize=64)(self._redesign)
        self.cards = lru_cache(maxsize=64)(self._cards)
        self._life_event_links_kept = lru_cache(maxsize=16)(self._life_event_links)
        self._life_event_lock = threading.Lock()
        self.life_event_summary = lru_cache(maxsize=16)(self._life_event_summary)
        self.life_event_flows = lru_cache(maxsize=16)(self._life_event_flows)
        self.ask_once = lru_cache(maxsize=16)(self._ask_once)
        self._selected_cases = lru_cache(maxsize=256)(self._selected_case_ids)
        self.selection_kpis = lru_cache(maxsize=256)(self._selection_kpis)
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

    def _suppress(self, ratings: pd.DataFrame, by: str | None) -> pd.DataFrame:
        """Count the customers of each rated group; blank the ratings and KPIs of groups below `min_group`."""
        keys = ["service", "quarter"] + (["first_channel"] if by else [])
        customers = self.features.groupby(keys, dropna=False)["customer_id"].nunique().rename("customers").reset_index()
        found = ratings.merge(customers.astype(ratings[keys].dtypes.to_dict()), on=keys, how="left")
        found["customers"] = found["customers"].fillna(0).astype("int64")
        small = found["customers"] < self.min_group
        hidden = ["stars", "score", *PILLARS, *star_columns(self.config), *KPIS]
        found.loc[small, hidden] = np.nan
        found.loc[small, "status"] = SUPPRESSED
        return found

    def notes(self, service: str | None, lang: str) -> list[str]:
        """The lines a page says about the columns the data of `service` (of every service when None) lacks."""
        return column_notes(self.held.of(service), lang)

    def too_few(self, customers: int) -> bool:
        """Whether a group of `customers` customers must be suppressed."""
        return customers < self.min_group

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

        Parameters
        ----------
        quarter : str
            The quarter, e.g. ``"2025Q4"``.
        agency : str, optional
            Only the services of this agency.
        channel : str, optional
            Ratings of the cases that started on this channel.
        search : str
            Only services whose name (in `lang` or English) or key contains this text, ignoring case.
        lang : {"en", "ar"}
            The language of the names.
        """
        cards = self.cards(quarter, channel)
        rows = self._ratings_of(channel)
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
        """The ratings of every service and quarter, of the cases that started on `channel` when given."""
        return self.channel_ratings[self.channel_ratings["first_channel"] == channel] if channel else self.ratings

    def _cards(self, quarter: str, channel: str | None) -> dict[str, RatingCard]:
        """The rating card of every service rated in `quarter` (on the cases of `channel` when given), by service
        (served as ``cards``, cached)."""
        ratings = self._ratings_of(channel)
        if not (ratings["quarter"] == quarter).any():
            return {}
        now, before = quarter_with_change(ratings, quarter, self.quarters)
        return {card.service: card for card in rating_cards(now, before, self.config)}

    def latest_quarter(self, service: str) -> str | None:
        """The latest quarter in which `service` has cases."""
        quarters = self._of_service[service]["quarter"].dropna() if service in self._of_service else []
        return max(quarters) if len(quarters) else None

    def card(self, service: str, quarter: str) -> RatingCard | None:
        """The rating card of `service` in `quarter`, or None when it has no cases then."""
        return self.cards(quarter, None).get(service)

    # -- one service ------------------------------------------------------------------------------------

    def where(self, service: str, quarter: str | None, variants: tuple[str, ...] = ()) -> CaseFilter:
        """The cases of `service` (in `quarter`, of `variants` when given)."""
        return CaseFilter(service=service, quarter=quarter or None, variants=list(variants) or None, tz=self.tz)

    def _variant_table(self, service: str, quarter: str | None) -> tuple[pd.DataFrame, int]:
        """The variants of a service with at least `min_group` customers, and how many variants were suppressed.

        Columns: variant, label (V1, V2, ... by frequency), cases, customers, share, cumulative,
        median_duration_seconds, median_customer_steps, events.
        """
        frame = variants_of(self.store, self.where(service, quarter))
        frame.insert(1, "label", [f"V{i}" for i in range(1, len(frame) + 1)])
        kept = frame[frame["customers"] >= self.min_group].reset_index(drop=True)
        return kept, len(frame) - len(kept)

    def _selected_case_ids(self, service: str, quarter: str | None, variants: tuple[str, ...]) -> frozenset[str]:
        journeys = journey_table(self.store, self.where(service, quarter, variants))
        return frozenset(journeys.select("case_id").to_pandas()["case_id"])

    def selection(self, service: str, quarter: str | None, variants: tuple[str, ...] = ()) -> pd.DataFrame:
        """The case features of a service's cases in `quarter` (all quarters when None), of `variants` if given."""
        rows = self._of_service.get(service, self.features.iloc[:0])
        if quarter:
            rows = rows[rows["quarter"] == quarter]
        if variants:
            rows = rows[rows["case_id"].isin(self._selected_cases(service, quarter, variants))]
        return rows

    def _selection_kpis(self, service: str, quarter: str | None, variants: tuple[str, ...] = ()) -> pd.Series | None:
        """Every KPI of the selected cases (see :meth:`selection`); None when they are too few customers."""
        rows = self.selection(service, quarter, variants)
        if rows.empty or self.too_few(rows["customer_id"].nunique()):
            return None
        if quarter is None and not variants:
            return self._service_kpis.loc[service]
        return point_kpis(group_statistics(rows.assign(quarter="all"), None), None).iloc[0]

    def journey_map(self, service: str, quarter: str | None, variants: tuple[str, ...], coverage: float) -> ProcessMap | None:
        """The process map of the selected cases, abstracted to `coverage`; None when too few customers.

        Activities and edges seen in fewer than `min_group` cases are left out. The map is read
        once per selection; another `coverage` only abstracts it again.
        """
        graph = self._whole_map(service, quarter, variants)
        return graph if graph is None or coverage >= 1 else graph.abstract(coverage)

    def _suppressed_map(self, service: str, quarter: str | None, variants: tuple[str, ...]) -> ProcessMap | None:
        rows = self.selection(service, quarter, variants)
        if rows.empty or self.too_few(rows["customer_id"].nunique()):
            return None
        graph = process_map(self.store, self.where(service, quarter, variants))
        activities = graph.activities[graph.activities["cases"] >= self.min_group]
        kept = set(activities["activity"])
        edges = graph.edges[(graph.edges["cases"] >= self.min_group) & graph.edges["source"].isin(kept)
                            & graph.edges["target"].isin(kept)]
        return ProcessMap(activities.reset_index(drop=True), edges.reset_index(drop=True),
                          {a: n for a, n in graph.start_activities.items() if a in kept and n >= self.min_group},
                          {a: n for a, n in graph.end_activities.items() if a in kept and n >= self.min_group})

    def _conformance(self, service: str, quarter: str | None) -> tuple[pd.Series, pd.DataFrame] | None:
        """Fitness of the service's journeys against its designed journey, and the deviations; None without a design."""
        from najma.journeys._conformance_checking import conformance, designed_journeys  # pm4py loads on first use

        if service not in designed_journeys(self.store):
            return None
        found = conformance(self.store, self.where(service, quarter))
        if found.services.empty:
            return None
        deviations = found.deviations[found.deviations["cases"] >= self.min_group].reset_index(drop=True)
        return found.services.iloc[0], deviations

    # -- customer journeys across services ------------------------------------------------------------

    def life_event_links(self, life_event: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The journeys of a life event (one row each) and their linked cases, worked out once: a
        click that asks while another works them out waits for its answer."""
        with self._life_event_lock:
            return self._life_event_links_kept(life_event)

    def _life_event_links(self, life_event: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The journeys of a life event (one row each) and their linked cases."""
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

    def _redesign(self, service: str, transforms: tuple[Transform, ...], quarter: str) -> pd.DataFrame:
        """The service's KPIs and stars today and after `transforms`, in `quarter` (see :func:`najma.rating.what_if`)."""
        return what_if(self.store, service, list(transforms), quarter=quarter, config=self.config, draws=self.draws)

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
        """Cases per service (rows) and quarter (columns), the quarters in order."""
        return cases_per_quarter(self.features, quarters)


def cases_per_quarter(features: pd.DataFrame, quarters: Sequence[str] | None = None) -> pd.DataFrame:
    """Cases per service (rows) and quarter (columns) of :func:`najma.rating.case_features`; every quarter of `quarters`.

    Examples
    --------
    >>> features = pd.DataFrame({"service": ["a", "a", "b"], "quarter": ["2025Q1", "2025Q2", "2025Q2"]})
    >>> cases_per_quarter(features, ["2025Q1", "2025Q2", "2025Q3"]).loc["b"].to_list()
    [0, 1, 0]
    """
    rows = features if quarters is None else features[features["quarter"].isin(list(quarters))]
    counts = rows.groupby(["service", "quarter"]).size().unstack(fill_value=0)
    return counts.reindex(columns=list(quarters) if quarters is not None else sorted(counts.columns), fill_value=0)
