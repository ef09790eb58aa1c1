"""Why a service has its stars, what would earn the next one, and what changed since last quarter.

Explanations are data (frames and dataclasses), so the dashboard, the report and the CLI show the
same facts. The points of a KPI are its effective weight (see :mod:`najma.rating._scoring`) times its
score; the points of all KPIs add up to the total score, so every point of a rating is accounted for.

Next-star advice holds every other KPI still and asks, KPI by KPI, what value would lift the
total to the next star's band. A KPI counted in whole steps is rounded to the next whole step that
earns it. The changes are ranked by their size as a share of the KPI's curve (from floor to
target), smallest first: the first is the smallest single KPI change that earns the next star.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from najma.rating._config import RatingConfig
from najma.rating._kpis import KPIS
from najma.rating._scoring import contributions, effective_weights, kpi_scores, total_scores

__all__ = ["Advice", "kpi_breakdown", "next_star_advice", "quarter_change", "describe_advice", "format_value", "next_star_plan"]


@dataclass(frozen=True)
class Advice:
    """One KPI change that would earn the next star.

    Attributes
    ----------
    kpi : str
        The KPI to change.
    current, needed : float
        Its value now, and the value that earns `stars`.
    stars : int
        The stars it would earn.
    effort : float
        The change as a share of the KPI's curve (0 to 1): how far it has to travel.
    """

    kpi: str
    current: float
    needed: float
    stars: int
    effort: float


def _one_row(rating: pd.Series, config: RatingConfig) -> pd.DataFrame:
    """The configuration's KPIs of one rated row, as a one-row KPI table."""
    return rating[list(config.kpis)].astype(float).to_frame().T.reset_index(drop=True)


def _advice(config: RatingConfig, kpi: str, current: float, needed: float, stars: int) -> Advice:
    curve = config.kpis[kpi]
    return Advice(kpi, current, float(needed), stars, abs(needed - current) / abs(curve.target - curve.floor))


def kpi_breakdown(rating: pd.Series, config: RatingConfig) -> pd.DataFrame:
    """Each KPI of one rated row: value, floor, target, score, weight in the total, points.

    Parameters
    ----------
    rating : Series
        A row of :func:`najma.rating.rate` (or any row with the configuration's KPI columns).
    config : RatingConfig
        The model that rated it.
    """
    kpis = _one_row(rating, config)
    scores = kpi_scores(kpis, config)
    weights = effective_weights(scores, config)
    points = contributions(scores, config)
    return pd.DataFrame({
        "kpi": list(config.kpis),
        "label": [KPIS[n].label for n in config.kpis],
        "pillar": [c.pillar for c in config.kpis.values()],
        "value": kpis.iloc[0].to_numpy(),
        "floor": [c.floor for c in config.kpis.values()],
        "target": [c.target for c in config.kpis.values()],
        "score": scores.iloc[0].to_numpy(),
        "weight": weights.iloc[0].to_numpy(),
        "points": points.iloc[0].to_numpy(),
        "missing": [KPIS[n].needs if pd.isna(v) else "" for n, v in kpis.iloc[0].items()],
    })


def next_star_advice(rating: pd.Series, config: RatingConfig) -> list[Advice]:
    """The single-KPI changes that would earn one more star, smallest effort first.

    Empty for a row at the highest star, one not rated, or one no single KPI can lift.
    """
    kpis = _one_row(rating, config)
    total = float(total_scores(kpis, config).iloc[0])
    if math.isnan(total):
        return []
    stars = config.stars_for(total)
    if stars >= config.highest_star:
        return []
    band = config.bands[stars - config.lowest_star]
    all_scores = kpi_scores(kpis, config)
    scores, weights = all_scores.iloc[0], effective_weights(all_scores, config).iloc[0]
    found = []
    for name, curve in config.kpis.items():
        weight, score = weights[name], scores[name]
        if weight <= 0 or math.isnan(score) or score >= 100:
            continue
        wanted = score + (band - total) / weight
        if wanted > 100 + 1e-9:
            continue
        needed = curve.value_for(min(wanted, 100.0))
        if KPIS[name].unit == "steps":
            needed = math.floor(needed + 1e-9) if curve.direction == "lower" else math.ceil(needed - 1e-9)
        trial = kpis.copy()
        trial[name] = needed
        earned = config.stars_for(float(total_scores(trial, config).iloc[0]))
        if earned > stars:
            found.append(_advice(config, name, float(kpis.loc[0, name]), needed, earned))
    return sorted(found, key=lambda a: (a.effort, a.kpi))


def next_star_plan(rating: pd.Series, config: RatingConfig) -> list[Advice]:
    """The changes that earn one more star: the smallest single one, else a few KPIs together.

    When no single KPI can earn the next star, KPIs are taken in order of the points they can
    still add (the most first), each moved all the way to its target, the last only as far as
    needed, until the total reaches the next band. Empty at the highest star or when even every
    KPI at its target would not do.
    """
    singles = next_star_advice(rating, config)
    if singles:
        return singles[:1]
    kpis = _one_row(rating, config)
    total = float(total_scores(kpis, config).iloc[0])
    if math.isnan(total) or config.stars_for(total) >= config.highest_star:
        return []
    scores = kpi_scores(kpis, config)
    room = (effective_weights(scores, config).iloc[0] * (100 - scores.iloc[0])).dropna()
    trial, plan = kpis.copy(), []
    for name in room[room > 0].sort_values(ascending=False, kind="stable").index:
        partial = next_star_advice(trial.iloc[0], config)
        chosen = next((a for a in partial if a.kpi == name), None)
        needed = chosen.needed if chosen else config.kpis[name].target
        plan.append((name, float(kpis.loc[0, name]), needed))
        trial[name] = needed
        earned = config.stars_for(float(total_scores(trial, config).iloc[0]))
        if earned > config.stars_for(total):
            return [_advice(config, n, c, v, earned) for n, c, v in plan]
    return []


def describe_advice(advice: Advice, config: RatingConfig) -> str:
    """One sentence for people, e.g. "cut median customer steps from 9 to 6 for 5 stars".

    Examples
    --------
    >>> from najma.rating._config import default_config
    >>> describe_advice(Advice("median_customer_steps", 9, 6, 5, 0.4), default_config())
    'cut median customer steps from 9 to 6 for 5 stars'
    """
    verb = "cut" if config.kpis[advice.kpi].direction == "lower" else "raise"
    unit = KPIS[advice.kpi].unit
    label = KPIS[advice.kpi].label
    return (f"{verb} {label[0].lower()}{label[1:]} from {format_value(advice.current, unit)} "
            f"to {format_value(advice.needed, unit)} for {advice.stars} stars")


def format_value(value: float, unit: str) -> str:
    """A KPI value as people read it: shares in per cent, steps whole, the rest with two decimals.

    Examples
    --------
    >>> format_value(0.256, "share"), format_value(6.0, "steps"), format_value(1.234, "ratio")
    ('25.6%', '6', '1.23')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    if unit == "share":
        return f"{value * 100:.1f}%"
    if unit == "steps" and float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.2f}"


def quarter_change(now: pd.Series, before: pd.Series, config: RatingConfig) -> pd.DataFrame:
    """What moved a rating between two quarters, KPI by KPI, largest change in points first.

    Parameters
    ----------
    now, before : Series
        Rows of :func:`najma.rating.rate` for the same service in two quarters, rated by `config`.

    Returns
    -------
    DataFrame
        kpi, label, before, now, points_before, points_now, points (the change); the changes in
        points add up to the change in total score.
    """
    a, b = kpi_breakdown(before, config), kpi_breakdown(now, config)
    table = pd.DataFrame({
        "kpi": a["kpi"], "label": a["label"], "before": a["value"], "now": b["value"],
        "points_before": a["points"], "points_now": b["points"],
    })
    table["points"] = table["points_now"] - table["points_before"]
    return table.reindex(table["points"].abs().sort_values(ascending=False, kind="stable").index).reset_index(drop=True)
