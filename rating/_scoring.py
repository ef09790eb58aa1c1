"""From KPI values to scores, pillars, a total and stars: the arithmetic of the rating model.

A KPI scores 0 to 100 on its curve. Within a pillar, the KPIs that have data share the pillar's
weight in proportion to their own weights; the pillars that have data share the total in
proportion to theirs. So a missing KPI neither helps nor hurts the score: its weight goes to its
siblings. It does count against the *evidence* of a rating: the share of the weight of the KPIs that
apply to a group (their *full weights*, shared out the same way among applicable KPIs) that has data.
Every function takes a KPI table (one row per rated group, one column per KPI of the
configuration) and returns a frame of the same rows.

Examples
--------
>>> import pandas as pd
>>> from najma.rating._config import default_config
>>> config = default_config()
>>> kpis = pd.DataFrame({name: [float("nan")] for name in config.kpis})
>>> kpis.loc[0, "median_customer_steps"] = 6.5
>>> float(total_scores(kpis, config).iloc[0])  # the only KPI with data decides everything
50.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from najma.rating._config import PILLARS, RatingConfig, curve_scores

__all__ = ["kpi_scores", "score_array", "effective_weights", "full_weights", "evidence", "pillar_scores", "total_scores", "contributions"]


def kpi_scores(kpis: pd.DataFrame, config: RatingConfig) -> pd.DataFrame:
    """The score (0 to 100) of each KPI of the configuration; NaN where the KPI has no data."""
    return pd.DataFrame(score_array(kpis[list(config.kpis)].to_numpy(dtype=float), config), index=kpis.index,
                        columns=list(config.kpis))


def score_array(values: np.ndarray, config: RatingConfig) -> np.ndarray:
    """:func:`kpi_scores` of an array whose columns are the configuration's KPIs, in its order (see :meth:`Curve.score`)."""
    floor = np.array([curve.floor for curve in config.kpis.values()])
    target = np.array([curve.target for curve in config.kpis.values()])
    return curve_scores(values, floor, target)


def effective_weights(scores: pd.DataFrame, config: RatingConfig) -> pd.DataFrame:
    """Each KPI's share of the total score of each row, after missing KPIs hand on their weight.

    The shares of a row sum to 1 (or to 0 when no KPI of the row has data).
    """
    return pd.DataFrame(full_weights(scores.notna().to_numpy(), config), index=scores.index, columns=scores.columns)


def full_weights(present: np.ndarray, config: RatingConfig) -> np.ndarray:
    """Each KPI's share of the total when the KPIs marked in `present` (rows by the configuration's KPIs)
    are those weighed: within a pillar they share its weight by their own, and the pillars holding
    any share the total by theirs. Marking the KPIs that apply gives their full weights.
    """
    present = np.atleast_2d(present)
    kpi_weight = np.array([curve.weight for curve in config.kpis.values()])
    weights = np.zeros(present.shape)
    pillar_total = np.zeros(len(present))
    for pillar in PILLARS:
        columns = [i for i, curve in enumerate(config.kpis.values()) if curve.pillar == pillar]
        within = present[:, columns] * kpi_weight[columns]
        sums = within.sum(axis=1, keepdims=True)
        has = sums[:, 0] > 0
        weights[:, columns] = np.divide(within, sums, out=np.zeros_like(within), where=sums > 0) * config.pillars[pillar]
        pillar_total += has * config.pillars[pillar]
    return np.divide(weights, pillar_total[:, None], out=np.zeros_like(weights), where=pillar_total[:, None] > 0)


def evidence(present: np.ndarray, applicable: np.ndarray, config: RatingConfig) -> tuple[np.ndarray, np.ndarray]:
    """How much of what applies to each row has data: overall, and pillar by pillar.

    Parameters
    ----------
    present, applicable : ndarray of bool
        Rows by the configuration's KPIs: whether each KPI has data, and whether it applies.

    Returns
    -------
    (ndarray, ndarray)
        Per row, the share of its full weight (see :func:`full_weights`) held by KPIs with data (NaN
        when nothing applies); and per row and pillar (in :data:`PILLARS` order), the share of the
        weight of the pillar's applicable KPIs held by those with data (NaN for a pillar without
        weight or without applicable KPIs).

    Examples
    --------
    >>> from najma.rating._config import default_config
    >>> config = default_config()
    >>> present = np.array([[name not in ("median_time_to_sla", "p90_time_to_sla", "within_sla") for name in config.kpis]])
    >>> overall, pillars = evidence(present, np.ones_like(present), config)
    >>> pillars.round(3).tolist()  # 2.5 of the 5.5 efficiency weights have data
    [[0.455, 1.0, 1.0]]
    """
    present, applicable = np.atleast_2d(present) & np.atleast_2d(applicable), np.atleast_2d(applicable)
    full = full_weights(applicable, config)
    overall = np.where(full.sum(axis=1) > 0, (full * present).sum(axis=1), np.nan)
    kpi_weight = np.array([curve.weight for curve in config.kpis.values()])
    pillars = np.full((len(present), len(PILLARS)), np.nan)
    for index, pillar in enumerate(PILLARS):
        columns = [i for i, curve in enumerate(config.kpis.values()) if curve.pillar == pillar]
        due = (applicable[:, columns] * kpi_weight[columns]).sum(axis=1) * config.pillars[pillar]
        held = (present[:, columns] * kpi_weight[columns]).sum(axis=1) * config.pillars[pillar]
        np.divide(held, due, out=pillars[:, index], where=due > 0)
    return overall, pillars


def contributions(scores: pd.DataFrame, config: RatingConfig) -> pd.DataFrame:
    """The points each KPI adds to the total score (its effective weight times its score)."""
    return effective_weights(scores, config) * scores.fillna(0.0)


def pillar_scores(scores: pd.DataFrame, config: RatingConfig) -> pd.DataFrame:
    """The score (0 to 100) of each pillar: the weighted mean of its KPIs with data; NaN without any."""
    points = contributions(scores, config)
    weights = effective_weights(scores, config)
    out = {}
    for pillar in PILLARS:
        names = config.kpis_of(pillar)
        share = weights[names].sum(axis=1)
        out[pillar] = (points[names].sum(axis=1) / share).where(share > 0)
    return pd.DataFrame(out, index=scores.index)


def total_scores(kpis: pd.DataFrame, config: RatingConfig) -> pd.Series:
    """The total score (0 to 100) of each row of a KPI table; NaN when no KPI has data."""
    scores = kpi_scores(kpis, config)
    total = contributions(scores, config).sum(axis=1)
    return total.where(scores.notna().any(axis=1)).rename("score")
