"""Rate every service and quarter: KPIs, pillars, stars, trust in each rating.

A group (a service in a quarter, optionally per channel or agency) with fewer cases than the
model's ``min_cases`` is not rated: its status is ``insufficient data`` and its stars are empty.

Evidence before confidence: a group is rated only when, in each pillar, its KPIs with data carry at
least the model's ``min_evidence`` share of the weight of the pillar's KPIs that apply to it (KPIs
that are *not applicable* count neither way). Otherwise its status is ``insufficient evidence``, its
stars are empty and ``evidence_gap`` says which pillar falls short and which KPIs lack data. The
``evidence`` column is the share of the group's full weight (every applicable KPI weighed) with data.

The uncertainty of a rating comes from a bootstrap over its cases: the cases are drawn again with
replacement (multinomial weights, seeded by the group's name, so a rating never depends on the
order of rows or groups), the KPIs and stars are worked out for each draw, and the share of draws
giving each star is its probability. A KPI that applies but has no data in a draw is not left out of
that draw: it takes a score drawn uniformly from 0 to 100, and the draw's total weighs every
applicable KPI by its full weight. So the stars' probabilities cover what the missing KPIs could
be, and a rating standing on little evidence has a low confidence.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from najma.errors import InvalidEventLogError
from najma.journeys import CaseFilter, Store, previous_quarter, quarter_name
from najma.rating._config import PILLARS, RatingConfig, default_config
from najma.rating._kpis import KPIS, GroupStatistics, applicable_kpis, case_features, group_statistics, not_applicable, point_kpis
from najma.rating._model import StarRater
from najma.rating._scoring import evidence, full_weights, score_array

__all__ = [
    "rate", "rate_quarter", "rate_features", "quarter_with_change", "with_change", "star_probabilities", "finish_ratings", "INSUFFICIENT",
    "INSUFFICIENT_EVIDENCE", "RATED", "star_columns", "Shortfall", "evidence_shortfalls",
]

RATED = "rated"
INSUFFICIENT = "insufficient data"
INSUFFICIENT_EVIDENCE = "insufficient evidence"
Progress = Callable[[int, int], None]


def star_columns(config: RatingConfig) -> list[str]:
    """The names of the columns holding the probability of each star (``p_2`` ... ``p_7``)."""
    return [f"p_{star}" for star in range(config.lowest_star, config.highest_star + 1)]


def rate(
    store: Store, *, quarters: Sequence[str] | None = None, by: str | None = None, where: CaseFilter | None = None,
    config: RatingConfig | None = None, draws: int = 200, seed: int = 0, progress: Progress | None = None,
) -> pd.DataFrame:
    """Rate every service and quarter of the store.

    Parameters
    ----------
    store : Store
        A store whose journeys are built.
    quarters : sequence of str, optional
        Rate only these quarters, e.g. ``["2025Q4"]``.
    by : {"channel", "agency"}, optional
        Rate each service and quarter per channel (the channel a case was served on wholly, or
        ``"mixed"``; digital take-up and channel switches do not apply there) or per agency of the
        case's first event.
    where : CaseFilter, optional
        Rate only the cases that pass it.
    config : RatingConfig, optional
        The model; the shipped default by default.
    draws : int, default 200
        Bootstrap draws per group; 0 skips the uncertainty.
    seed : int, default 0
        Seeds the bootstrap.
    progress : callable, optional
        Called with (groups done, groups) as the groups are rated.

    Returns
    -------
    DataFrame
        One row per group: its keys, cases, status (``rated``, ``insufficient data`` or
        ``insufficient evidence``), stars (empty when not rated), score, the pillar scores, the
        probability of each star, ``evidence`` (the share of its applicable weight with data),
        ``evidence_gap`` (the pillars short of evidence and their KPIs without data),
        ``missing_kpis`` (the model's KPIs that apply but have no data), ``not_applicable`` (the
        KPIs that do not apply), ``provisional`` (the service's catalogue entry is a draft), the
        model's version and config hash, then every KPI.

    Examples
    --------
    >>> from najma.journeys import Store
    >>> store = Store(sample_path)  # a store holding the sample: Store(path), then najma.sample.load_sample(store)
    >>> ratings = rate(store, quarters=["2025Q4"], draws=50).set_index("service")
    >>> row = ratings.loc["birth_notification"]
    >>> int(row["cases"]), row["status"], int(row["stars"])
    (102, 'rated', 7)
    >>> bool((ratings[star_columns(default_config())].sum(axis=1).round(9) == 1).all())  # each star's probability
    True
    """
    config = config or default_config()
    features = case_features(store, where=where, satisfied_at=config.satisfied_at)
    if quarters is not None:
        features = features[features["quarter"].isin([quarter_name(q) for q in quarters])]
    return rate_features(features, by=by, config=config, draws=draws, seed=seed, progress=progress)


def rate_quarter(
    store: Store, quarter: str, config: RatingConfig | None = None, draws: int = 200, *,
    features: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rate `quarter` and the quarter before it, in one pass.

    `features` are the store's case features when already read (see :func:`najma.rating.case_features`).

    Returns
    -------
    (DataFrame, DataFrame)
        The rows of `quarter`, with ``stars_before`` and ``change`` beside ``stars``; and the rows
        of the quarter before (empty when it has no cases), to explain the change.

    Raises
    ------
    InvalidEventLogError
        When no case started in `quarter`, naming the quarters the store has.
    """
    config = config or default_config()
    quarter = quarter_name(quarter)
    before = previous_quarter(quarter)
    if features is None:
        features = case_features(store, satisfied_at=config.satisfied_at)
    rated = rate_features(features[features["quarter"].isin([before, quarter])], config=config, draws=draws)
    return quarter_with_change(rated, quarter, features["quarter"].unique())


def quarter_with_change(rated: pd.DataFrame, quarter: str, found: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the ratings of `quarter` and the quarter before it as :func:`rate_quarter` returns them.

    `found` are the quarters that have cases, named in the error when `quarter` has none.
    """
    before = rated[rated["quarter"] == previous_quarter(quarter)].reset_index(drop=True)
    return with_change(rated, before, quarter, found), before


def with_change(rated: pd.DataFrame, before: pd.DataFrame, quarter: str, found: Sequence[str]) -> pd.DataFrame:
    """The rows of `quarter` in `rated`, with ``stars_before`` (from the rows `before`) and ``change`` beside ``stars``.

    Raises
    ------
    InvalidEventLogError
        When `rated` has no row of `quarter`, naming the quarters `found` (those that have cases).
    """
    now = rated[rated["quarter"] == quarter].reset_index(drop=True)
    if now.empty:
        found = sorted(found)
        span = f"{found[0]} to {found[-1]}" if found else "none"
        raise InvalidEventLogError(f"no cases started in {quarter}; the store's quarters are {span}")
    earlier = before.set_index("service")["stars"] if len(before) else pd.Series(dtype="Int64")
    now.insert(now.columns.get_loc("stars") + 1, "stars_before", now["service"].map(earlier).astype("Int64"))
    now.insert(now.columns.get_loc("stars_before") + 1, "change", now["stars"] - now["stars_before"])
    return now


def rate_features(
    features: pd.DataFrame, *, by: str | None = None, config: RatingConfig | None = None, draws: int = 200,
    seed: int = 0, progress: Progress | None = None,
) -> pd.DataFrame:
    """Rate groups of case features as read by :func:`najma.rating.case_features` (see :func:`rate`)."""
    config = config or default_config()
    kpi_columns = list(KPIS)
    groups = group_statistics(features, by, config.min_answers)
    table = point_kpis(groups, by)
    if table.empty:
        return _finish(table.assign(**{c: pd.Series(dtype=float) for c in star_columns(config)}), None, config)
    rater = StarRater(config).fit(table[kpi_columns])
    probabilities = np.full((len(groups), len(star_columns(config))), np.nan)

    def uncertainty(index: int) -> None:
        key, group = groups[index]
        probabilities[index] = star_probabilities(group, key, rater, draws, seed)

    # numpy releases the GIL in its loops and products: groups are drawn side by side, each with its own
    # seed, and each product on one BLAS thread (BLAS's own threads would contend with the pool's).
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for done, _ in enumerate(pool.map(uncertainty, range(len(groups))), start=1):
            if progress:
                progress(done, len(groups))
    table[star_columns(config)] = probabilities
    return _finish(table, rater, config)


def star_probabilities(group: GroupStatistics, key: tuple, rater: StarRater, draws: int, seed: int) -> np.ndarray:
    """The probability of each star of one group, by a bootstrap seeded by the group's key (see the
    module docstring for how missing KPIs take part); NaN when `draws` is 0 or the group has too few
    cases or too little evidence to be rated."""
    config = rater.config_
    columns = _model_columns(config)
    present = ~np.isnan(group.values(wanted=config.kpis)[:, columns])
    if not draws or group.cases < config.min_cases or not _enough_evidence(present, group.applicable[columns], config)[0]:
        return np.full(len(rater.classes_), np.nan)
    return _bootstrap(group, rater, draws, _group_seed(seed, key))


def finish_ratings(table: pd.DataFrame, config: RatingConfig) -> pd.DataFrame:
    """Score and star a table of groups (keys, cases, every KPI, then the probability of each star).

    Its ``not_applicable`` and ``provisional`` columns (see :func:`najma.rating.kpi_table`) say which
    KPIs do not apply and which services are drafts; a table without them (from an engine that
    does not say) has every KPI apply and no draft.
    """
    return _finish(table, StarRater(config).fit(table[list(KPIS)]) if len(table) else None, config)


def _model_columns(config: RatingConfig) -> list[int]:
    """The positions in :data:`KPIS` of the configuration's KPIs, in its order."""
    return [list(KPIS).index(name) for name in config.kpis]


def _enough_evidence(present: np.ndarray, applicable: np.ndarray, config: RatingConfig) -> np.ndarray:
    """Whether each row (of the configuration's KPIs) has data on ``min_evidence`` of each pillar's applicable
    weight, and on some KPI."""
    _, pillars = evidence(present, applicable, config)
    return ~(pillars < config.min_evidence - 1e-12).any(axis=1) & np.atleast_2d(present).any(axis=1)


@dataclass(frozen=True)
class Shortfall:
    """A pillar short of evidence: the share of its applicable weight with data, the share needed, and its KPIs
    without data."""

    pillar: str
    share: float
    needed: float
    lacking: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.pillar} ({self.share:.0%} of its weight has data, {self.needed:.0%} needed): " + ", ".join(self.lacking)


def evidence_shortfalls(kpis: pd.Series, applicable: Collection[str], config: RatingConfig) -> list[Shortfall]:
    """The pillars of one row short of ``min_evidence``: each with its share and its applicable KPIs without data.

    Parameters
    ----------
    kpis : Series
        The row's value of each of the configuration's KPIs (NaN without data).
    applicable : collection of str
        The KPIs that apply to it.
    config : RatingConfig
        The model.
    """
    names = list(config.kpis)
    present = np.array([[not pd.isna(kpis[n]) for n in names]])
    applies = np.array([[n in applicable for n in names]])
    _, pillars = evidence(present, applies, config)
    return [Shortfall(pillar, float(share), config.min_evidence, tuple(n for n in config.kpis_of(pillar) if n in applicable and pd.isna(kpis[n])))
            for pillar, share in zip(PILLARS, pillars[0], strict=True) if share < config.min_evidence - 1e-12]


def _evidence_gaps(kpis: pd.DataFrame, applicable: pd.DataFrame, config: RatingConfig) -> list[str]:
    """What each row lacks, in words (see :func:`evidence_shortfalls`)."""
    return ["; ".join(map(str, evidence_shortfalls(row, set(applicable.columns[applicable.loc[index]]), config)))
            for index, row in kpis.iterrows()]


def _applicability(table: pd.DataFrame) -> pd.DataFrame:
    """Whether each KPI applies to each group of `table`, read from its ``not_applicable`` column."""
    listed = table["not_applicable"] if "not_applicable" in table else pd.Series("", index=table.index)
    return pd.DataFrame([[name in applicable_kpis(row) for name in KPIS] for row in listed],
                        index=table.index, columns=list(KPIS), dtype=bool)


def _finish(table: pd.DataFrame, rater: StarRater | None, config: RatingConfig) -> pd.DataFrame:
    kpi_columns = list(KPIS)
    kpis = table[kpi_columns]
    applicable = _applicability(table)
    if rater is None:
        score, stars = pd.Series(np.nan, index=table.index), pd.Series(pd.NA, index=table.index, dtype="Int64")
        pillars = pd.DataFrame(np.nan, index=table.index, columns=list(PILLARS))
    else:
        score = pd.Series(rater.score_samples(kpis), index=table.index)
        stars = pd.Series(rater.predict(kpis), index=table.index, dtype="Int64")
        pillars = rater.pillar_scores(kpis).set_index(table.index)
    names = list(config.kpis)
    present, applies = kpis[names].notna().to_numpy(), applicable[names].to_numpy()
    enough = pd.Series(_enough_evidence(present, applies, config), index=table.index)
    counted = table["cases"] >= config.min_cases
    rated = counted & enough
    out = table.drop(columns=[*kpi_columns, "not_applicable", "provisional"], errors="ignore")
    out.insert(out.columns.get_loc("cases") + 1, "status",
               np.select([~counted, ~enough], [INSUFFICIENT, INSUFFICIENT_EVIDENCE], RATED))
    out.insert(out.columns.get_loc("status") + 1, "stars", stars.where(rated))
    out.insert(out.columns.get_loc("stars") + 1, "score", score.where(rated))
    for offset, pillar in enumerate(PILLARS, start=1):
        out.insert(out.columns.get_loc("score") + offset, pillar, pillars[pillar].where(rated))
    out["evidence"] = evidence(present, applies, config)[0]
    out["evidence_gap"] = pd.Series(_evidence_gaps(kpis[names], applicable[names], config), index=table.index).where(counted, "")
    out["missing_kpis"] = [", ".join(n for n in config.kpis if applies[n] and pd.isna(row[n]))
                           for (_, row), (_, applies) in zip(kpis.iterrows(), applicable.iterrows(), strict=True)]
    out["not_applicable"] = [not_applicable(applies.to_numpy()) for _, applies in applicable.iterrows()]
    out["provisional"] = table["provisional"].astype(bool) if "provisional" in table else False
    out["model_version"] = config.version
    out["config_hash"] = config.config_hash
    return pd.concat([out, kpis], axis=1)


def _group_seed(seed: int, key: tuple) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32("\x1f".join(map(str, key)).encode())])


#: Bootstrap draws whose weights are held in memory at once.
_CHUNK = 50


def _bootstrap(group: GroupStatistics, rater: StarRater, draws: int, rng: np.random.Generator) -> np.ndarray:
    """The probability of each star over `draws` resamples of the group's cases, each applicable KPI
    without data in a draw scored uniformly from 0 to 100 and every applicable KPI at its full weight."""
    config = rater.config_
    n = group.cases
    columns = _model_columns(config)
    applicable = group.applicable[columns]
    weights_in_total = full_weights(applicable, config)[0]
    counts = np.zeros(len(rater.classes_))
    for start in range(0, draws, _CHUNK):
        size = min(_CHUNK, draws - start)
        picks = rng.integers(0, n, size=(size, n), dtype=np.int64) + (np.arange(size, dtype=np.int64) * n)[:, None]
        weights = np.bincount(picks.ravel(), minlength=size * n).reshape(size, n).astype(np.float32)
        scores = score_array(group.values(weights, wanted=config.kpis)[:, columns], config)
        guessed = rng.uniform(0.0, 100.0, size=scores.shape)
        filled = np.where(np.isnan(scores), np.where(applicable, guessed, 0.0), scores)
        stars = config.stars_for(filled @ weights_in_total)
        counts += np.bincount(stars - rater.classes_[0], minlength=len(rater.classes_))
    return counts / draws
