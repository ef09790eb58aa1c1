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
designed journey, no customer steps the log can count: see :attr:`Kpi.evidence`) is NaN: nothing is
invented. Quantiles are the lower quantile (numpy's ``inverted_cdf``): the smallest value with at least
that share of the cases at or below it.

Steps above the designed journey count a case's customer steps beyond the fewest customer steps
its service's design allows (:func:`najma.journeys._conformance_checking.designed_steps`): a choice
counts its branch with the fewest customer steps, an optional step none, steps in any order all of
theirs; a strict sequence counts its customer activities, as it always did.

Time against the SLA is working time when the catalogue has a work calendar (the SLA is then read
in working hours), calendar time without one; the median in calendar hours and in working hours
are shown beside it. Satisfaction has data only from ``min_answers`` survey answers in a group.

Satisfaction is read per case: from the case's survey answers when the store holds answers linked to it
(loaded with :func:`najma.journeys.load_survey`, their scores mapped onto the scale of 1 to 5 and averaged),
else from the satisfaction its events carry. A case is "answered" (the response rate's numerator) when it
has either; a service whose events carry no satisfaction has data from its survey answers.

A KPI that does not apply to a group is *not applicable*, which is not the same as no data: it
takes no weight and is not missing evidence. "Started proactively" applies only to services the
catalogue lets start proactively (an activity with the role ``proactive_start``); in a rating per
channel, digital take-up and channel switches do not apply, since a channel group holds them fixed.

Per channel, a case is rated under the one channel it was served on wholly (every event that names
a channel names that one); a case served on more than one channel is rated in the group
:data:`MIXED`. So a channel is neither credited nor blamed for another channel's work.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from ibis.expr.types import Table

from najma.errors import InvalidEventLogError
from najma.journeys import CaseFilter, Evidence, HeldColumns, Store, evidence, journey_table, quarter_name, quarter_of, quarter_zone
from najma.journeys._conformance_checking import designed_steps
from najma.journeys._surveys import case_satisfaction, has_answers
from najma.journeys._tables import JourneyTables, require_journeys

__all__ = [
    "Kpi", "KPIS", "GROUPINGS", "NOT_APPLICABLE_WITHIN", "MIXED", "case_features", "case_features_expr", "group_keys",
    "kpi_values", "kpi_table", "GroupStatistics", "group_statistics", "point_kpis", "not_applicable", "applicable_kpis",
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
    evidence : tuple of str
        What else it needs of a service's log and catalogue, among :data:`najma.journeys._discovery.NEEDS` (as
        :meth:`najma.journeys.Evidence.supports` reads them): for a service without one, the KPI is NaN, never 0.
    applies : str, optional
        A 0/1 case feature: the KPI applies to a group when it is 1 for some case of the group;
        otherwise it is *not applicable* (NaN, and neither weighed nor missing). Always applies without it.
    answers : str, optional
        A 0/1 case feature marking the cases that answered the survey: a group with fewer than
        ``min_answers`` such cases has no data for the KPI.
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
    evidence: tuple[str, ...] = ()
    applies: str | None = None
    answers: str | None = None


_K = Kpi
#: The counts by activity role (customer steps, visits, documents): only a service whose steps can be counted has them.
_STEPS = ("steps",)
#: Every KPI najma computes, by name, pillar by pillar (the pillar itself is set by the configuration).
KPIS: dict[str, Kpi] = {k.name: k for k in (
    _K("median_time_to_sla", "Median time / SLA", "الوقت الوسيط / مستوى الخدمة", "ratio", "time_to_sla", "completed",
       "an SLA in the catalogue", q=0.5),
    _K("p90_time_to_sla", "90th percentile time / SLA", "الوقت المئيني 90 / مستوى الخدمة", "ratio", "time_to_sla",
       "completed", "an SLA in the catalogue", q=0.9),
    _K("within_sla", "Share within SLA", "نسبة الإنجاز ضمن مستوى الخدمة", "share", "within_sla", "completed",
       "an SLA in the catalogue"),
    _K("median_hours", "Median time (hours)", "الوقت الوسيط (ساعات)", "hours", "hours", "completed", "completed cases",
       q=0.5),
    _K("median_working_hours", "Median working time (hours)", "وقت العمل الوسيط (ساعات عمل)", "hours", "working_hours",
       "completed", "a work calendar in the catalogue", q=0.5),
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
    _K("satisfaction_mean", "Mean satisfaction", "متوسط الرضا", "score", "satisfaction", "all",
       "enough survey answers", columns=("satisfaction",), answers="answered"),
    _K("satisfied_share", "Share satisfied", "نسبة الراضين", "share", "satisfied", "all", "enough survey answers",
       columns=("satisfaction",), answers="answered"),
    _K("response_rate", "Survey response rate", "نسبة الاستجابة للاستبيان", "share", "answered", "all",
       "a satisfaction column or survey answers", columns=("satisfaction",)),
    _K("repeat_contacts", "Repeat contacts per case", "التواصل المتكرر لكل طلب", "count", "customer_repeats", "all",
       "customer steps", evidence=_STEPS),
    _K("median_customer_steps", "Median customer steps", "الخطوات الوسيطة للمتعامل", "steps", "customer_steps",
       "completed", "customer steps", q=0.5, evidence=_STEPS),
    _K("p90_customer_steps", "90th percentile customer steps", "خطوات المتعامل المئينية 90", "steps",
       "customer_steps", "completed", "customer steps", q=0.9, evidence=_STEPS),
    _K("visits", "Visits per case", "الزيارات لكل طلب", "count", "visits", "completed", "customer steps", evidence=_STEPS),
    _K("documents_asked_again", "Documents asked again", "المستندات المطلوبة مجدداً", "count",
       "documents_asked_again", "completed", "customer steps", evidence=_STEPS),
    _K("channel_switches", "Channel switches", "التنقل بين القنوات", "count", "channel_switches", "completed",
       "a channel column", columns=("channel",)),
    _K("agency_handoffs", "Agency hand-offs", "الانتقال بين الجهات", "count", "agency_handoffs", "completed",
       "an agency column", columns=("agency",)),
    _K("steps_above_design", "Steps above the designed journey", "الخطوات الزائدة عن الرحلة المصممة", "steps",
       "above_design", "completed", "a designed journey in the catalogue", evidence=_STEPS),
    _K("proactive_share", "Started proactively", "الخدمات الاستباقية", "share", "proactive", "proactive_able",
       "a proactive start role", applies="proactive_able"),
)}

#: A quantile feature with at most this many distinct values is summed per value, not per case.
_FEW_LEVELS = 64
#: The case features that a group's statistics read: the KPIs' values, denominators, the cases they are
#: among, apply to and count as answers; and ``draft``, whether the service's catalogue entry is a draft.
_FEATURE_COLUMNS: list[str] = sorted(
    {kpi.value for kpi in KPIS.values()} | {kpi.among for kpi in KPIS.values()}
    | {name for kpi in KPIS.values() for name in (kpi.per, kpi.applies, kpi.answers) if name is not None} | {"draft"}
)
#: The channel group of the cases served on more than one channel.
MIXED = "mixed"
#: What a KPI table can be split by, beside service and quarter, and the case feature it reads:
#: the channel a case was served on wholly (or :data:`MIXED`), the agency of its first event.
GROUPINGS: dict[str, str] = {"channel": "channel", "agency": "first_agency"}
#: The KPIs that cannot vary within a group of a split, so do not apply to it.
NOT_APPLICABLE_WITHIN: dict[str, tuple[str, ...]] = {"channel": ("digital_take_up", "channel_switches")}


def _features_expr(store: JourneyTables, journeys: Table, satisfied_at: float) -> Table:
    journeys, surveyed = _with_survey_answers(store, journeys)
    backend = store.backend
    settings = backend.table("service_settings").select("service", "sla_hours", "draft")
    roles = backend.table("activity_roles")
    able = roles.filter(roles.role == "proactive_start").select("service").distinct().mutate(able=ibis.literal(True))
    design = ibis.memtable(designed_steps(store))  # the fewest customer steps each design allows
    channels = list(backend.table("channel_settings").select("channel", "digital").to_pandas().itertuples(index=False))
    digital = [name for name, is_digital in channels if is_digital]
    j = (
        journeys.left_join(settings, "service").left_join(design, "service").left_join(able, "service")
        .select(journeys, settings.sla_hours, settings.draft, design.designed_steps, able.able)
    )
    outcome, one = j.outcome, ibis.literal(1.0)
    ended = outcome.isin(["completed", "rejected", "abandoned"])
    hours, working_hours = j.duration_seconds / 3600, j.working_seconds / 3600
    timed = ibis.coalesce(working_hours, hours)  # working time when the catalogue has a calendar
    served_on = j.channel_list.length()
    above = j.customer_steps - j.designed_steps  # null without a design: the engines' greatest() would read it as 0

    def flag(condition: ibis.expr.types.BooleanValue) -> ibis.expr.types.FloatingValue:
        return condition.cast("float64")

    all_digital = (j.channel_list.length() > 0) & (j.channel_list.filter(lambda c: ~c.isin(digital)).length() == 0)
    features = j.select(
        "service", "case_id", "customer_id", "start", "first_channel", "first_agency",
        channel=ibis.cases((served_on == 1, j.channel_list[0]), (served_on > 1, ibis.literal(MIXED)),
                           else_=ibis.null("string")),
        all=one,
        draft=flag(ibis.coalesce(j.draft, False)),
        completed=flag(outcome == "completed"),
        ended=flag(ended),
        rejected=flag(outcome == "rejected"),
        abandoned=flag(outcome == "abandoned"),
        hours=hours,
        working_hours=working_hours,
        time_to_sla=timed / j.sla_hours,
        within_sla=flag(timed <= j.sla_hours),
        waiting_seconds=ibis.greatest(j.duration_seconds - j.processing_seconds, 0),
        timed_seconds=ibis.ifelse(j.processing_seconds.notnull(), j.duration_seconds, ibis.null("float64")),
        cost=j.cost,
        digital=flag(all_digital) if channels else ibis.null("float64"),
        first_time_right=flag((j.repetitions == 0) & (j.document_requests == 0)),
        satisfaction=j.satisfaction,
        satisfied=flag(j.satisfaction >= satisfied_at),
        answered=flag(j.satisfaction.notnull()),
        customer_repeats=j.customer_repeats.cast("float64"),
        customer_steps=j.customer_steps.cast("float64"),
        visits=j.visits.cast("float64"),
        documents_asked_again=j.documents_asked_again.cast("float64"),
        channel_switches=j.channel_switches.cast("float64"),
        agency_handoffs=j.agency_handoffs.cast("float64"),
        above_design=ibis.ifelse(above.notnull(), ibis.greatest(above, 0), ibis.null("int64")).cast("float64"),
        proactive=flag(j.proactive),
        proactive_able=flag(j.able.notnull()),
    )
    found = evidence(store)
    return _without_unheld(features, replace(found, held=_held_with_answers(found.held, surveyed)))


def _without_unheld(features: Table, found: Evidence) -> Table:
    """Blank the feature of each KPI in the services whose log lacks a column it needs, or whose log and catalogue
    lack what else it needs (:attr:`Kpi.evidence`): no data, never 0."""
    services = sorted(found.held.by_service)
    blanks = {}
    for kpi in KPIS.values():
        lacking = sorted({service for column in kpi.columns for service in found.held.lacking(column)}
                         | {service for need in kpi.evidence for service in found.lacking(need, services)})
        if lacking:
            blanks[kpi.value] = ibis.ifelse(features.service.isin(lacking), ibis.null("float64"), features[kpi.value])
    return features.mutate(**blanks) if blanks else features


def _with_survey_answers(store: JourneyTables, journeys: Table) -> tuple[Table, list[str]]:
    """`journeys` with each case's satisfaction read from its linked survey answers when it has any (else from its
    events), and the services some of whose cases have answers (see :mod:`najma.journeys._surveys`)."""
    if not has_answers(store):
        return journeys, []
    answered = case_satisfaction(store)
    read = journeys.left_join(answered, ["service", "case_id"]).select(
        journeys, survey_satisfaction=answered.survey_satisfaction)
    read = read.mutate(satisfaction=ibis.coalesce(read.survey_satisfaction, read.satisfaction)).drop("survey_satisfaction")
    return read, sorted(answered.select("service").distinct().to_pyarrow().column(0).to_pylist())


def _held_with_answers(held: HeldColumns, surveyed: Collection[str]) -> HeldColumns:
    """`held` with the satisfaction column held by the `surveyed` services too: their survey answers are its data."""
    services = set(held.by_service) | set(surveyed)
    return HeldColumns({service: held.of(service) | ({"satisfaction"} if service in surveyed else set()) for service in services})


def case_features_expr(
    store: JourneyTables, *, where: CaseFilter | None = None, satisfied_at: float = 4.0, journeys: Table | None = None,
) -> Table:
    """The case features of :func:`case_features`, without the quarter, as an Ibis expression on the store's engine."""
    require_journeys(store)
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
    min_answers : int, default 30
        The fewest survey answers for the KPIs counting answers to have data (see :attr:`Kpi.answers`).
        It applies to the group's own answers, so every bootstrap draw of a group that has enough
        answers has data, and no draw of a group that has too few.
    not_applicable : sequence of str, default ()
        KPIs that do not apply to the group whatever its cases (see :data:`NOT_APPLICABLE_WITHIN`).

    Attributes
    ----------
    applicable : ndarray of bool
        Whether each KPI, in the order of :data:`KPIS`, applies to the group (see :attr:`Kpi.applies`).
    provisional : bool
        Whether a case of the group belongs to a service whose catalogue entry is a draft.
    """

    def __init__(self, features: pd.DataFrame, min_answers: int = 30, not_applicable: Sequence[str] = ()) -> None:
        self.cases = len(features)
        self.applicable = np.array([
            name not in not_applicable and (kpi.applies is None or bool((features[kpi.applies] == 1).any()))
            for name, kpi in KPIS.items()
        ])
        too_few = np.array([kpi.answers is not None and (features[kpi.answers] == 1).sum() < min_answers
                            for kpi in KPIS.values()])
        self._blank = ~self.applicable | too_few
        self.provisional = bool((features["draft"] == 1).any())
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

    def values(self, weights: np.ndarray | None = None, wanted: Collection[str] | None = None) -> np.ndarray:
        """Every KPI of the group, once per row of `weights`.

        Parameters
        ----------
        weights : ndarray of shape (draws, cases), optional
            A weight per case per draw; by default one draw with every weight 1.
        wanted : collection of str, optional
            The KPIs needed (a model's, in a bootstrap); the quantiles of no other are sought.

        Returns
        -------
        ndarray of shape (draws, len(KPIS))
            The KPIs in the order of :data:`KPIS`; NaN where a KPI covers no case, has too few
            answers or does not apply (or is a quantile not `wanted`).
        """
        weights = np.ones((1, self.cases), dtype=np.float32) if weights is None else np.asarray(weights, dtype=np.float32)
        out = np.full((weights.shape[0], len(KPIS)), np.nan)
        above, below = weights @ self._above, weights @ self._below
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, self._ratio_index] = np.where(below > 0, above / below, np.nan)
        names = list(KPIS)
        for quantiles, levels, counts, order in self._quantiles:
            if wanted is not None:
                quantiles = [(i, q) for i, q in quantiles if names[i] in wanted]
            if not len(levels) or not quantiles:
                continue
            sorted_weights = weights @ counts if order is None else np.take(weights, order, axis=1)
            total, found = _first_reaching(sorted_weights, [q for _, q in quantiles])
            for (i, _), index in zip(quantiles, found, strict=True):
                out[:, i] = np.where(total > 0, levels[np.minimum(index, len(levels) - 1)], np.nan)
        out[:, self._blank] = np.nan
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


def kpi_values(features: pd.DataFrame, weights: np.ndarray | None = None, min_answers: int = 30) -> np.ndarray:
    """Compute every KPI of one group of cases, once per row of `weights` (see :class:`GroupStatistics`).

    Examples
    --------
    >>> cases = pd.DataFrame({"customer_steps": [3.0, 5.0, 9.0], "completed": [1.0, 1.0, 0.0]})
    >>> features = cases.reindex(columns=_FEATURE_COLUMNS).assign(**cases)
    >>> values = dict(zip(KPIS, kpi_values(features)[0]))
    >>> float(values["median_customer_steps"]), float(values["p90_customer_steps"])
    (3.0, 5.0)
    """
    return GroupStatistics(features, min_answers).values(weights)


def _among(features: pd.DataFrame, kpi: Kpi) -> np.ndarray:
    return features[kpi.among].to_numpy(dtype=float) == 1


def kpi_table(
    store: Store, *, quarters: Sequence[str] | None = None, by: str | None = None, where: CaseFilter | None = None,
    satisfied_at: float = 4.0, min_answers: int = 30, features: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the KPIs per service and quarter (and per channel or agency).

    Parameters
    ----------
    store : Store
        A store whose journeys are built.
    quarters : sequence of str, optional
        Keep these quarters (``"2025Q4"``); by default every quarter with cases.
    by : {"channel", "agency"}, optional
        Split each service and quarter further by channel (the one a case was served on wholly, or
        ``"mixed"``) or by the agency of the first event.
    where : CaseFilter, optional
        Which cases to read.
    satisfied_at : float, default 4.0
        See :func:`case_features`.
    min_answers : int, default 30
        The fewest survey answers a group needs for its satisfaction KPIs to have data.
    features : DataFrame, optional
        Case features already read by :func:`case_features`.

    Returns
    -------
    DataFrame
        One row per group: service, quarter, [channel or first_agency], cases, ``not_applicable`` (the
        KPIs that do not apply to it), ``provisional`` (its catalogue entry is a draft), then one
        column per KPI.
    """
    if features is None:
        features = case_features(store, where=where, satisfied_at=satisfied_at)
    if quarters is not None:
        features = features[features["quarter"].isin([quarter_name(q) for q in quarters])]
    return point_kpis(group_statistics(features, by, min_answers), by)


def group_statistics(
    features: pd.DataFrame, by: str | None, min_answers: int = 30,
) -> list[tuple[tuple, GroupStatistics]]:
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

    not_applicable = NOT_APPLICABLE_WITHIN.get(by, ())

    def lay_out(bounds: tuple[int, int]) -> GroupStatistics:
        rows = by_group[bounds[0]:bounds[1]]
        rows = rows[pc.sort_indices(case_ids.take(rows)).to_numpy()]
        return GroupStatistics(pd.DataFrame(values[rows], columns=_FEATURE_COLUMNS), min_answers, not_applicable)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        laid_out = pool.map(lay_out, zip(firsts, [*firsts[1:], len(group)], strict=True))
        return list(zip(names, laid_out, strict=True))


def point_kpis(groups: list[tuple[tuple, GroupStatistics]], by: str | None) -> pd.DataFrame:
    """The KPI table of groups from :func:`group_statistics`: keys, cases, ``not_applicable``,
    ``provisional``, then every KPI."""
    return pd.DataFrame(
        [[*key, group.cases, not_applicable(group.applicable), group.provisional, *group.values()[0]]
         for key, group in groups],
        columns=[*group_keys(by), "cases", "not_applicable", "provisional", *KPIS],
    ).astype({"cases": "int64", "provisional": "bool"})


def not_applicable(applicable: np.ndarray) -> str:
    """The names of the KPIs that do not apply, as a KPI table lists them (comma separated, in :data:`KPIS` order)."""
    return ", ".join(name for name, applies in zip(KPIS, applicable, strict=True) if not applies)


def applicable_kpis(listed: str) -> set[str]:
    """The KPIs that apply to a group whose ``not_applicable`` column reads `listed`."""
    return set(KPIS) - set(listed.split(", "))


def group_keys(by: str | None) -> list[str]:
    """The columns of :func:`case_features` that name a group of a KPI table split `by`."""
    if by is None:
        return ["service", "quarter"]
    if by not in GROUPINGS:
        raise InvalidEventLogError(f"The 'by' parameter must be one of {', '.join(GROUPINGS)} or None. Got {by!r} instead.")
    return ["service", "quarter", GROUPINGS[by]]
