"""KPIs per service and quarter (and per channel or agency), in the three pillars of a rating.

Each KPI is defined once, below, as a statistic of a *case feature* over the cases it covers:
either a ratio of sums (a share, a mean) or a quantile. The case features come from the store's
journey table by one Ibis expression (:func:`case_features`); the statistics are computed in
numpy with a weight per case (:func:`kpi_values`), so that the same code gives the point estimate
(every weight 1) and every bootstrap draw (multinomial weights).

A case belongs to the quarter in which it started, read in the zone of the catalogue's work
calendar (UTC without one). Times and steps count the *completed* cases: the journey from the
application to receiving the service. Rates count the ended cases (completed, rejected or
abandoned). A KPI whose data is missing (no SLA, no cost, no survey answers, no start times, no
designed journey) is NaN: nothing is invented. Quantiles are the lower quantile (numpy's
``inverted_cdf``): the smallest value with at least that share of the cases at or below it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from ibis.expr.types import Table

from najma.errors import InvalidEventLogError, StoreError
from najma.journeys import CaseFilter, HeldColumns, Store, held_columns, journey_table, quarter_name, quarter_of, quarter_zone
from najma.journeys._tables import JourneyTables

__all__ = [
    "Kpi", "KPIS", "GROUPINGS", "case_features", "case_features_expr", "group_keys", "kpi_values", "kpi_table", "GroupStatistics",
    "group_statistics", "point_kpis",
]


@dataclass(frozen=True)
class Kpi:
    """One KPI: a statistic of a case feature over the cases it covers.

    Parameters
    ----------
    name : str
        Its key in configurations and tables.
    label, label_ar : str
        Its name for people, in English and Arabic.
    unit : {"share", "ratio", "steps", "count", "money", "score"}
        How its values read.
    value : str
        The case feature it summarises.
    among : str
        A 0/1 case feature: the cases it covers (those whose `value` is known).
    per : str, optional
        For a ratio of sums, the case feature summed below the line; without it, the mean.
    q : float, optional
        For a quantile KPI, the quantile.
    needs : str
        The data without which it is empty, said to the reader.
    columns : tuple of str
        The optional canonical columns it needs (see :mod:`najma.journeys._columns`): for a service
        whose log lacks one, the KPI is NaN ("no data"), never 0.
    """

    name: str
    label: str
    label_ar: str
    unit: str
    value: str
    among: str
    needs: str
    per: str | None = None
    q: float | None = None
    columns: tuple[str, ...] = ()


_K = Kpi
#: Every KPI najma computes, by name, pillar by pillar (the pillar itself is set by the configuration).
KPIS: dict[str, Kpi] = {k.name: k for k in (
    _K("median_time_to_sla", "Median time / SLA", "الوقت الوسيط / مستوى الخدمة", "ratio", "time_to_sla", "completed",
       "an SLA in the catalogue", q=0.5),
    _K("p90_time_to_sla", "90th percentile time / SLA", "الوقت المئيني 90 / مستوى الخدمة", "ratio", "time_to_sla",
       "completed", "an SLA in the catalogue", q=0.9),
    _K("within_sla", "Share within SLA", "نسبة الإنجاز ضمن مستوى الخدمة", "share", "within_sla", "completed",
       "an SLA in the catalogue"),
    _K("waiting_share", "Waiting share of time", "نسبة وقت الانتظار", "share", "waiting_seconds", "all",
       "start times or lifecycle transitions", per="timed_seconds", columns=("start_timestamp",)),
    _K("cost_per_transaction", "Cost per transaction", "تكلفة المعاملة", "money", "cost", "all", "a cost column",
       columns=("cost",)),
    _K("digital_take_up", "Digital take-up", "نسبة الاستخدام الرقمي", "share", "digital", "completed",
       "channels marked digital in the catalogue", columns=("channel",)),
    _K("completion_rate", "Completion rate", "نسبة الإنجاز", "share", "completed", "ended", "decision roles"),
    _K("first_time_right", "First time right", "الإنجاز من المرة الأولى", "share", "first_time_right", "completed",
       "decision roles"),
    _K("abandonment", "Abandonment", "نسبة الترك", "share", "abandoned", "ended", "decision roles"),
    _K("rejection", "Rejection", "نسبة الرفض", "share", "rejected", "ended", "decision roles"),
    _K("satisfaction_mean", "Mean satisfaction", "متوسط الرضا", "score", "satisfaction", "all", "survey answers",
       columns=("satisfaction",)),
    _K("satisfied_share", "Share satisfied", "نسبة الراضين", "share", "satisfied", "all", "survey answers",
       columns=("satisfaction",)),
    _K("repeat_contacts", "Repeat contacts per case", "التواصل المتكرر لكل طلب", "count", "customer_repeats", "all",
       "customer steps"),
    _K("median_customer_steps", "Median customer steps", "الخطوات الوسيطة للمتعامل", "steps", "customer_steps",
       "completed", "customer steps", q=0.5),
    _K("p90_customer_steps", "90th percentile customer steps", "خطوات المتعامل المئينية 90", "steps",
       "customer_steps", "completed", "customer steps", q=0.9),
    _K("visits", "Visits per case", "الزيارات لكل طلب", "count", "visits", "completed", "customer steps"),
    _K("documents_asked_again", "Documents asked again", "المستندات المطلوبة مجدداً", "count",
       "documents_asked_again", "completed", "customer steps"),
    _K("channel_switches", "Channel switches", "التنقل بين القنوات", "count", "channel_switches", "completed",
       "a channel column", columns=("channel",)),
    _K("agency_handoffs", "Agency hand-offs", "الانتقال بين الجهات", "count", "agency_handoffs", "completed",
       "an agency column", columns=("agency",)),
    _K("steps_above_design", "Steps above the designed journey", "الخطوات الزائدة عن الرحلة المصممة", "steps",
       "above_design", "completed", "a designed journey in the catalogue"),
    _K("proactive_share", "Started proactively", "الخدمات الاستباقية", "share", "proactive", "all",
       "a proactive start role"),
)}

#: A quantile feature with at most this many distinct values is summed per value, not per case.
_FEW_LEVELS = 64
#: The case features that the KPIs read: their values, denominators and the cases they are among.
_FEATURE_COLUMNS: list[str] = sorted(
    {kpi.value for kpi in KPIS.values()} | {kpi.among for kpi in KPIS.values()}
    | {kpi.per for kpi in KPIS.values() if kpi.per is not None}
)
#: What a KPI table can be split by, beside service and quarter, and the journey column it reads.
GROUPINGS: dict[str, str] = {"channel": "first_channel", "agency": "first_agency"}


def _features_expr(store: JourneyTables, journeys: Table, satisfied_at: float) -> Table:
    backend = store.backend
    settings = backend.table("service_settings").select("service", "sla_hours")
    roles = backend.table("activity_roles")
    designed = backend.table("designed_journeys")
    customer = roles.filter(roles.role == "customer_step").select("service", "activity", is_customer=ibis.literal(1))
    marked = designed.left_join(customer, ["service", "activity"]).select(designed.service, customer.is_customer)
    design = marked.group_by("service").aggregate(designed_steps=marked.is_customer.count())
    channels = list(backend.table("channel_settings").select("channel", "digital").to_pandas().itertuples(index=False))
    digital = [name for name, is_digital in channels if is_digital]
    j = (
        journeys.left_join(settings, "service").left_join(design, "service")
        .select(journeys, settings.sla_hours, design.designed_steps)
    )
    outcome, one = j.outcome, ibis.literal(1.0)
    ended = outcome.isin(["completed", "rejected", "abandoned"])
    hours = j.duration_seconds / 3600

    def flag(condition: ibis.expr.types.BooleanValue) -> ibis.expr.types.FloatingValue:
        return condition.cast("float64")

    all_digital = (j.channel_list.length() > 0) & (j.channel_list.filter(lambda c: ~c.isin(digital)).length() == 0)
    features = j.select(
        "service", "case_id", "customer_id", "start", "first_channel", "first_agency",
        all=one,
        completed=flag(outcome == "completed"),
        ended=flag(ended),
        rejected=flag(outcome == "rejected"),
        abandoned=flag(outcome == "abandoned"),
        time_to_sla=hours / j.sla_hours,
        within_sla=flag(hours <= j.sla_hours),
        waiting_seconds=ibis.greatest(j.duration_seconds - j.processing_seconds, 0),
        timed_seconds=ibis.ifelse(j.processing_seconds.notnull(), j.duration_seconds, ibis.null("float64")),
        cost=j.cost,
        digital=flag(all_digital) if channels else ibis.null("float64"),
        first_time_right=flag((j.repetitions == 0) & (j.document_requests == 0)),
        satisfaction=j.satisfaction,
        satisfied=flag(j.satisfaction >= satisfied_at),
        customer_repeats=j.customer_repeats.cast("float64"),
        customer_steps=j.customer_steps.cast("float64"),
        visits=j.visits.cast("float64"),
        documents_asked_again=j.documents_asked_again.cast("float64"),
        channel_switches=j.channel_switches.cast("float64"),
        agency_handoffs=j.agency_handoffs.cast("float64"),
        above_design=ibis.greatest(j.customer_steps - j.designed_steps, 0).cast("float64"),
        proactive=flag(j.proactive),
    )
    return _without_unheld(features, held_columns(store))


def _without_unheld(features: Table, held: HeldColumns) -> Table:
    """Blank the feature of each KPI in the services whose log lacks a column it needs: no data, never 0."""
    blanks = {}
    for kpi in KPIS.values():
        lacking = sorted({service for column in kpi.columns for service in held.lacking(column)})
        if lacking:
            blanks[kpi.value] = ibis.ifelse(features.service.isin(lacking), ibis.null("float64"), features[kpi.value])
    return features.mutate(**blanks) if blanks else features


def case_features_expr(
    store: JourneyTables, *, where: CaseFilter | None = None, satisfied_at: float = 4.0, journeys: Table | None = None,
) -> Table:
    """The case features of :func:`case_features`, without the quarter, as an Ibis expression on the store's engine."""
    if not store.has_table("journeys"):
        raise StoreError(f"{store.path}: the journeys are not built; build them with najma.build_journeys(store)", parameter="store")
    return _features_expr(store, journeys if journeys is not None else journey_table(store, where), satisfied_at)


def case_features(
    store: Store, *, where: CaseFilter | None = None, satisfied_at: float = 4.0, tz: str | None = None,
    journeys: Table | None = None,
) -> pd.DataFrame:
    """Return one row per case with its quarter and the features the KPIs summarise.

    Parameters
    ----------
    store : Store
        A store whose journeys are built.
    where : CaseFilter, optional
        Which cases to read.
    satisfied_at : float, default 4.0
        The satisfaction answer at or above which a case counts as satisfied.
    tz : str, optional
        The zone in which quarters are read; by default the catalogue calendar's, else UTC.
    journeys : ibis Table, optional
        A journey table to read instead of the store's (a projected one, see
        :func:`najma.journeys.project_journeys`).
    """
    expression = case_features_expr(store, where=where, satisfied_at=satisfied_at, journeys=journeys)
    frame = expression.to_pyarrow().to_pandas()  # through Arrow: a fraction of Ibis's own conversion at 1M cases
    frame.insert(2, "quarter", quarter_of(frame["start"], tz or quarter_zone(store)))
    return frame


class GroupStatistics:
    """The case features of one group, laid out once so that each weighting costs two matrix products.

    Parameters
    ----------
    features : DataFrame
        The group's rows of :func:`case_features`.
    """

    def __init__(self, features: pd.DataFrame) -> None:
        self.cases = len(features)
        self._ratio_index = [i for i, kpi in enumerate(KPIS.values()) if kpi.q is None]
        ratios = [kpi for kpi in KPIS.values() if kpi.q is None]
        self._above = np.empty((self.cases, len(ratios)))
        self._below = np.empty((self.cases, len(ratios)))
        for column, kpi in enumerate(ratios):
            value = features[kpi.value].to_numpy(dtype=float)
            per = np.ones(self.cases) if kpi.per is None else features[kpi.per].to_numpy(dtype=float)
            covered = _among(features, kpi) & ~np.isnan(value) & ~np.isnan(per)
            self._above[:, column] = np.where(covered, value, 0.0)
            self._below[:, column] = np.where(covered, per, 0.0)
        # Quantile KPIs of one feature share one cumulative sum; a feature with few distinct values
        # (whole steps) is summed per value by a matrix product instead of per case.
        targets: dict[tuple[str, str], list[tuple[int, float]]] = {}
        for i, kpi in enumerate(KPIS.values()):
            if kpi.q is not None:
                targets.setdefault((kpi.value, kpi.among), []).append((i, kpi.q))
        self._quantiles = []
        for (name, among), wanted in targets.items():
            value = features[name].to_numpy(dtype=float)
            covered = np.flatnonzero((features[among].to_numpy(dtype=float) == 1) & ~np.isnan(value))
            levels, codes = np.unique(value[covered], return_inverse=True)
            if len(levels) <= _FEW_LEVELS:
                counts = np.zeros((self.cases, len(levels)), dtype=np.float32)
                counts[covered, codes] = 1.0
                self._quantiles.append((wanted, levels, counts, None))
            else:
                order = covered[np.argsort(value[covered], kind="stable")]
                self._quantiles.append((wanted, value[order], None, order))

    def values(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Every KPI of the group, once per row of `weights`.

        Parameters
        ----------
        weights : ndarray of shape (draws, cases), optional
            A weight per case per draw; by default one draw with every weight 1.

        Returns
        -------
        ndarray of shape (draws, len(KPIS))
            The KPIs in the order of :data:`KPIS`; NaN where a KPI covers no case.
        """
        weights = np.ones((1, self.cases), dtype=np.float32) if weights is None else np.asarray(weights, dtype=np.float32)
        out = np.full((weights.shape[0], len(KPIS)), np.nan)
        above, below = weights @ self._above, weights @ self._below
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, self._ratio_index] = np.where(below > 0, above / below, np.nan)
        for wanted, levels, counts, order in self._quantiles:
            if not len(levels):
                continue
            sorted_weights = weights @ counts if order is None else np.take(weights, order, axis=1)
            total, found = _first_reaching(sorted_weights, [q for _, q in wanted])
            for (i, _), index in zip(wanted, found, strict=True):
                out[:, i] = np.where(total > 0, levels[np.minimum(index, len(levels) - 1)], np.nan)
        return out


#: Columns summed together when :func:`_first_reaching` looks for a quantile.
_BLOCK = 256


def _first_reaching(weights: np.ndarray, fractions: Sequence[float]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Per row of `weights` (values in ascending order), the first column at which the running
    weight reaches each fraction of the row's total (less a 1e-6 share, for rounding): the
    inverted CDF. Columns are summed in blocks; only the block that holds the answer is run through.

    Returns
    -------
    (ndarray, list of ndarray)
        The total of each row; per fraction, the column of each row.
    """
    draws, n = weights.shape
    blocks = -(-n // _BLOCK)
    padded = np.zeros((draws, blocks * _BLOCK), dtype=weights.dtype)
    padded[:, :n] = weights
    shaped = padded.reshape(draws, blocks, _BLOCK)
    sums = shaped.sum(axis=2)
    ends = np.cumsum(sums, axis=1)
    total = ends[:, -1:]
    rows = np.arange(draws)
    found = []
    for q in fractions:
        threshold = q * total - 1e-6 * total
        block = np.minimum((ends < threshold).sum(axis=1), blocks - 1)
        running = np.cumsum(shaped[rows, block], axis=1) + (ends[rows, block] - sums[rows, block])[:, None]
        found.append(block * _BLOCK + (running < threshold).sum(axis=1))
    return total[:, 0], found


def kpi_values(features: pd.DataFrame, weights: np.ndarray | None = None) -> np.ndarray:
    """Compute every KPI of one group of cases, once per row of `weights` (see :class:`GroupStatistics`).

    Examples
    --------
    >>> cases = pd.DataFrame({"customer_steps": [3.0, 5.0, 9.0], "completed": [1.0, 1.0, 0.0]})
    >>> features = cases.reindex(columns=sorted({k.value for k in KPIS.values()} | {k.among for k in KPIS.values()}
    ...                                         | {"timed_seconds"})).assign(**cases)
    >>> values = dict(zip(KPIS, kpi_values(features)[0]))
    >>> float(values["median_customer_steps"]), float(values["p90_customer_steps"])
    (3.0, 5.0)
    """
    return GroupStatistics(features).values(weights)


def _among(features: pd.DataFrame, kpi: Kpi) -> np.ndarray:
    return features[kpi.among].to_numpy(dtype=float) == 1


def kpi_table(
    store: Store, *, quarters: Sequence[str] | None = None, by: str | None = None, where: CaseFilter | None = None,
    satisfied_at: float = 4.0, features: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the KPIs per service and quarter (and per channel or agency).

    Parameters
    ----------
    store : Store
        A store whose journeys are built.
    quarters : sequence of str, optional
        Keep these quarters (``"2025Q4"``); by default every quarter with cases.
    by : {"channel", "agency"}, optional
        Split each service and quarter further by the channel or agency of the first event.
    where : CaseFilter, optional
        Which cases to read.
    satisfied_at : float, default 4.0
        See :func:`case_features`.
    features : DataFrame, optional
        Case features already read by :func:`case_features`.

    Returns
    -------
    DataFrame
        One row per group: service, quarter, [channel or agency], cases, then one column per KPI.
    """
    if features is None:
        features = case_features(store, where=where, satisfied_at=satisfied_at)
    if quarters is not None:
        features = features[features["quarter"].isin([quarter_name(q) for q in quarters])]
    return point_kpis(group_statistics(features, by), by)


def group_statistics(features: pd.DataFrame, by: str | None) -> list[tuple[tuple, GroupStatistics]]:
    """The groups of case features split as :func:`group_keys` says, each laid out once.

    A group's cases are taken in case order, so that nothing depends on the order of the rows.
    Groups are laid out side by side: Arrow's sort and numpy's gathers run without the GIL.
    """
    keys = group_keys(by)
    if features.empty:
        return []
    group = features.groupby(keys, sort=True, dropna=False).ngroup().to_numpy()
    by_group = np.argsort(group, kind="stable")
    firsts = np.flatnonzero(np.diff(group[by_group], prepend=-1))
    case_ids = pa.array(features["case_id"])
    values = features[_FEATURE_COLUMNS].to_numpy(dtype=float)
    names = features[keys].iloc[by_group[firsts]].itertuples(index=False, name=None)

    def lay_out(bounds: tuple[int, int]) -> GroupStatistics:
        rows = by_group[bounds[0]:bounds[1]]
        rows = rows[pc.sort_indices(case_ids.take(rows)).to_numpy()]
        return GroupStatistics(pd.DataFrame(values[rows], columns=_FEATURE_COLUMNS))

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        laid_out = pool.map(lay_out, zip(firsts, [*firsts[1:], len(group)], strict=True))
        return list(zip(names, laid_out, strict=True))


def point_kpis(groups: list[tuple[tuple, GroupStatistics]], by: str | None) -> pd.DataFrame:
    """The KPI table of groups from :func:`group_statistics`: keys, cases, then every KPI."""
    return pd.DataFrame(
        [[*key, group.cases, *group.values()[0]] for key, group in groups],
        columns=[*group_keys(by), "cases", *KPIS],
    ).astype({"cases": "int64"})


def group_keys(by: str | None) -> list[str]:
    """The columns of :func:`case_features` that name a group of a KPI table split `by`."""
    if by is None:
        return ["service", "quarter"]
    if by not in GROUPINGS:
        raise InvalidEventLogError(f"The 'by' parameter must be one of {', '.join(GROUPINGS)} or None. Got {by!r} instead.")
    return ["service", "quarter", GROUPINGS[by]]
