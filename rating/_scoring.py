"""From KPI values to scores, pillars, a total and stars: the arithmetic of the rating model.

A KPI scores 0 to 100 on its curve. Within a pillar, the KPIs that have data share the pillar's
weight in proportion to their own weights; the pillars that have data share the total in
proportion to theirs. So a missing KPI neither helps nor hurts: its weight goes to its siblings.
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

from najma.rating._config import PILLARS, RatingConfig

__all__ = ["kpi_scores", "effective_weights", "pillar_scores", "total_scores", "contributions"]


def kpi_scores(kpis: pd.DataFrame, config: RatingConfig) -> pd.DataFrame:
    """The score (0 to 100) of each KPI of the configuration; NaN where the KPI has no data."""
    return pd.DataFrame(
        {name: curve.score(kpis[name].to_numpy(dtype=float)) for name, curve in config.kpis.items()}, index=kpis.index
    )


def effective_weights(scores: pd.DataFrame, config: RatingConfig) -> pd.DataFrame:
    """Each KPI's share of the total score of each row, after missing KPIs hand on their weight.

    The shares of a row sum to 1 (or to 0 when no KPI of the row has data).
    """
    present = scores.notna().to_numpy()
    kpi_weight = np.array([curve.weight for curve in config.kpis.values()])
    weights = np.zeros(scores.shape)
    pillar_total = np.zeros(len(scores))
    for pillar in PILLARS:
        columns = [i for i, curve in enumerate(config.kpis.values()) if curve.pillar == pillar]
        within = present[:, columns] * kpi_weight[columns]
        sums = within.sum(axis=1, keepdims=True)
        has = sums[:, 0] > 0
        weights[:, columns] = np.divide(within, sums, out=np.zeros_like(within), where=sums > 0) * config.pillars[pillar]
        pillar_total += has * config.pillars[pillar]
    weights = np.divide(weights, pillar_total[:, None], out=np.zeros_like(weights), where=pillar_total[:, None] > 0)
    return pd.DataFrame(weights, index=scores.index, columns=scores.columns)


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
