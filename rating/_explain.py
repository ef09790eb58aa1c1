"""Why a service has its stars, what would earn the next one, and what changed since last quarter.

Explanations are data (frames and dataclasses), so the dashboard, the report and the CLI show the
same facts. The points of a KPI are its effective weight (see :mod:`najma.rating._scoring`) times its
score; the points of all KPIs add up to the total score, so every point of a rating is accounted for.

Next-star plans
---------------
A KPI scores on a line from its floor (0) to its target (100), clipped at both ends, and the total is
the sum of each KPI's effective weight times its score. A KPI's *position* is where its value lies
on that line (0 at the floor, 1 at the target; below 0 or above 1 outside it). Moving a KPI by a
share ``e`` of its curve adds ``weight x 100 x (clip(position + e) - clip(position))`` points, so what
any change earns is known before it is tried; the weights do not move, since a KPI with data keeps it.

:func:`next_star_plan` gives the *smallest* combination of KPI changes that earns the next star,
"smallest" meaning, in this order:

1. **Within reach.** No KPI moves more than its *reach*, the share of its curve a service can move
   in one quarter (:data:`REACH`, half the way from floor to target, by default). A plan that asks
   one KPI to cross its whole curve (digital take-up from 34% to 95%) is not one a service can act on.
2. **The fewest KPIs.** Each KPI changed is a piece of work with its own owner; a plan of two changes
   is easier to own, fund and check than one of five. The fewest is found exactly: the ``k`` KPIs that
   add the most points within reach are the best ``k`` of any.
3. **The least largest move, spread evenly.** Among plans of that size, the one whose largest move,
   as a share of its curve, is least. Shares of the curve compare KPIs of any unit, and asking 20% of
   two curves is easier than 35% of one and 5% of another. Every KPI of the plan moves by one common
   effort ``e`` (or to its target, if that is nearer): the KPIs taken are the ``k`` that add the most
   points at ``e``, and the least ``e`` at which they add the points missing is found by bisection
   (the points of the best ``k`` grow with ``e``).

When no plan within reach earns the next star, the plan is the same search without a reach limit,
and each change beyond reach says so (:attr:`Advice.within_reach` is false, and the sentence says
"beyond a quarter's reach"): the programme office sees what the star would cost rather than nothing.
The plan is empty only at the highest star, for a row not rated, or when even every KPI at its
target would not earn it. If a single KPI's change (:func:`next_star_advice`) moves no more than the
plan's largest move, that change is the plan: it is fewer KPIs for no more effort.

Targets are rounded to the safe side. A needed value is printed by :func:`format_value` (shares to
0.1%, a quantile of steps whole, the rest to two decimals); it is rounded in the direction of improvement to that
precision, so that the value printed, applied exactly as printed, earns the star. Every plan and
every single-KPI change is checked by re-rating the KPI row with the printed values
(:func:`najma.rating._scoring.total_scores`) before it is returned; one that re-rating does not
confirm is moved one printed step further, and left out if that does not confirm it either. Whether
a change is within reach is judged on its exact move, before this rounding (a median of steps moved
half its curve from 8 to 4.5 is printed as 4).

Examples
--------
>>> from najma.rating._config import default_config
>>> config = default_config()

A row with data on three KPIs, one per pillar, scores 7.73 (2 stars); 3 stars need 35. Alone, a KPI
would have to cross most of its curve; the plan moves two KPIs by 0.43 and 0.42 of theirs:

>>> row = pd.Series({name: float("nan") for name in config.kpis})
>>> row[["within_sla", "first_time_right", "median_customer_steps"]] = [0.3, 0.45, 9.0]
>>> describe_advice(next_star_advice(row, config)[0], config)
"cut median customer steps from 9 to 3 (beyond a quarter's reach) for 3 stars"
>>> describe_plan(next_star_plan(row, config), config)
'cut median customer steps from 9 to 6 and raise first time right from 45.0% to 68.1% for 3 stars'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from najma.errors import InvalidParameterError
from najma.rating._config import RatingConfig
from najma.rating._kpis import KPIS
from najma.rating._scoring import contributions, effective_weights, kpi_scores, total_scores

__all__ = [
    "Advice", "REACH", "kpi_breakdown", "next_star_advice", "quarter_change", "describe_advice", "describe_plan",
    "format_value", "next_star_plan", "change_text",
]

#: The share of its curve (from floor to target) a service can move a KPI in one quarter.
REACH = 0.5
#: Bisection steps for the common effort of a plan (2**-60 of a curve).
_BISECTIONS = 60


@dataclass(frozen=True)
class Advice:
    """One KPI change of a next-star plan.

    Attributes
    ----------
    kpi : str
        The KPI to change.
    current, needed : float
        Its value now, and the value that earns `stars` (as printed by :func:`format_value`).
    stars : int
        The stars the plan earns.
    effort : float
        The change as a share of the KPI's curve (0 to 1 inside it): how far it has to travel.
    within_reach : bool, default True
        Whether the change is within what a service can move in a quarter (see :data:`REACH`).
    """

    kpi: str
    current: float
    needed: float
    stars: int
    effort: float
    within_reach: bool = True


@dataclass(frozen=True)
class _Standing:
    """A rated KPI row and what the next star asks of it."""

    kpis: pd.DataFrame  # one row
    stars: int
    gap: float  # the points missing to the next star's band
    names: list[str]  # the KPIs that can add points: data, a weight, below their target
    weights: np.ndarray  # their effective weights
    positions: np.ndarray  # their positions on their curves (0 floor, 1 target)


def _one_row(rating: pd.Series, config: RatingConfig) -> pd.DataFrame:
    """The configuration's KPIs of one rated row, as a one-row KPI table."""
    return rating[list(config.kpis)].astype(float).to_frame().T.reset_index(drop=True)


def _standing(rating: pd.Series, config: RatingConfig) -> _Standing | None:
    """Where a row stands against its next star; None when it is not rated or at the highest star."""
    kpis = _one_row(rating, config)
    total = float(total_scores(kpis, config).iloc[0])
    if math.isnan(total) or config.stars_for(total) >= config.highest_star:
        return None
    stars = config.stars_for(total)
    all_scores = kpi_scores(kpis, config)
    scores, weights = all_scores.iloc[0], effective_weights(all_scores, config).iloc[0]
    names = [n for n in config.kpis if weights[n] > 0 and scores[n] < 100]  # NaN scores are not < 100
    values = kpis.loc[0, names].to_numpy(dtype=float)
    floors = np.array([config.kpis[n].floor for n in names])
    targets = np.array([config.kpis[n].target for n in names])
    return _Standing(kpis, stars, config.bands[stars - config.lowest_star] - total, names,
                     weights[names].to_numpy(dtype=float), (values - floors) / (targets - floors))


def _gains(standing: _Standing, effort: float) -> np.ndarray:
    """The points each movable KPI adds when moved by `effort` (a share of its curve)."""
    now = np.clip(standing.positions, 0.0, 1.0)
    return standing.weights * 100 * (np.clip(standing.positions + effort, 0.0, 1.0) - now)


def _best(standing: _Standing, effort: float, size: int) -> np.ndarray:
    """The indices of the `size` KPIs adding the most points at `effort` (ties: the configuration's order)."""
    return np.argsort(-_gains(standing, effort), kind="stable")[:size]


def _least_effort(standing: _Standing, reach: float) -> tuple[list[int], float] | None:
    """The fewest KPIs, and the least common effort up to `reach`, that add the points missing; None if none do."""
    if not standing.names:
        return None
    reach = min(reach, float(np.max(1.0 - standing.positions)))  # no KPI gains beyond its target
    added = np.cumsum(np.sort(_gains(standing, reach))[::-1])
    if added[-1] < standing.gap:
        return None
    size = int(np.argmax(added >= standing.gap)) + 1
    low, high = 0.0, reach
    for _ in range(_BISECTIONS):
        middle = (low + high) / 2
        if _gains(standing, middle)[_best(standing, middle, size)].sum() >= standing.gap:
            high = middle
        else:
            low = middle
    return list(_best(standing, high, size)), high


def _moved(standing: _Standing, config: RatingConfig, chosen: Sequence[int], effort: float) -> dict[str, float]:
    """The values of the `chosen` KPIs moved by `effort` along their curves, stopping at their targets."""
    moved = {}
    for index in chosen:
        curve = config.kpis[standing.names[index]]
        position = min(standing.positions[index] + effort, 1.0)
        moved[standing.names[index]] = curve.value_for(100 * position)
    return moved


def _safe_side(value: float, kpi: str, config: RatingConfig, further: int) -> float:
    """`value` rounded in the direction of improvement to the precision it is printed at, `further` steps more."""
    unit = KPIS[kpi].unit
    scale = 10 ** _decimals(kpi)
    steps = value * scale
    if config.kpis[kpi].direction == "higher":
        whole = math.ceil(steps - 1e-6) + further
    else:
        whole = math.floor(steps + 1e-6) - further
    return _as_printed(whole / scale, unit)


def _decimals(kpi: str) -> int:
    """The decimals of a needed value of `kpi` as :func:`format_value` prints it: shares to 0.1% (3 decimals of the
    share), a quantile of steps whole (steps are counted whole), the rest (means of steps too) to 2 decimals."""
    unit = KPIS[kpi].unit
    if unit == "share":
        return 3
    return 0 if unit == "steps" and KPIS[kpi].q is not None else 2


def _as_printed(value: float, unit: str) -> float:
    """The value a reader takes from :func:`format_value`'s text of `value`."""
    text = format_value(value, unit)
    return float(text.removesuffix("%")) / 100 if unit == "share" else float(text)


def _checked(standing: _Standing, config: RatingConfig, moved: dict[str, float], reach: float) -> list[Advice]:
    """The changes to `moved`, rounded to the safe side and confirmed by re-rating; empty when not confirmed."""
    for further in (0, 1):
        printed = {kpi: _safe_side(value, kpi, config, further) for kpi, value in moved.items()}
        trial = standing.kpis.copy()
        for kpi, value in printed.items():
            trial[kpi] = value
        earned = config.stars_for(float(total_scores(trial, config).iloc[0]))
        if earned > standing.stars:
            return [_advice(config, kpi, float(standing.kpis.loc[0, kpi]), value, earned, moved[kpi], reach)
                    for kpi, value in printed.items()]
    return []


def _advice(config: RatingConfig, kpi: str, current: float, needed: float, stars: int, exact: float,
            reach: float) -> Advice:
    """One change; it is within reach when its exact move (before rounding to print) is."""
    span = abs(config.kpis[kpi].target - config.kpis[kpi].floor)
    within = abs(exact - current) / span <= reach + 1e-9
    return Advice(kpi, current, float(needed), stars, float(abs(needed - current) / span), bool(within))


def _check_reach(reach: float) -> None:
    """Refuse a `reach` that is not a share of a curve."""
    if not 0 < reach <= 1:
        raise InvalidParameterError(
            f"The 'reach' parameter of a next-star plan must be a share of a KPI's curve, above 0 and at most 1. "
            f"Got {reach!r} instead.", parameter="reach",
        )


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


def next_star_advice(rating: pd.Series, config: RatingConfig, reach: float = REACH) -> list[Advice]:
    """The single-KPI changes that would earn one more star, smallest effort first.

    Each holds every other KPI still, is rounded to the safe side and checked by re-rating (see the
    module docstring); a change larger than `reach` is kept, marked as beyond reach. Empty for a row
    at the highest star, one not rated, or one no single KPI can lift.
    """
    _check_reach(reach)
    standing = _standing(rating, config)
    if standing is None:
        return []
    found = []
    for index, weight in enumerate(standing.weights):
        start = max(standing.positions[index], 0.0)  # below the floor, a KPI first has to reach it
        wanted = start + standing.gap / (100 * weight)
        if wanted <= 1 + 1e-9:
            moved = _moved(standing, config, [index], min(wanted, 1.0) - standing.positions[index])
            found.extend(_checked(standing, config, moved, reach))
    return sorted(found, key=lambda a: (a.effort, a.kpi))


def next_star_plan(rating: pd.Series, config: RatingConfig, reach: float = REACH) -> list[Advice]:
    """The smallest combination of KPI changes that earns one more star (defined in the module docstring).

    Parameters
    ----------
    rating : Series
        A row of :func:`najma.rating.rate` (or any row with the configuration's KPI columns).
    config : RatingConfig
        The model that rated it.
    reach : float, default :data:`REACH`
        The share of its curve a service can move a KPI in one quarter.

    Returns
    -------
    list of Advice
        The changes, the KPIs adding the most points first, all earning the same stars; beyond reach
        (flagged) when no plan within it earns the star; empty at the highest star, for a row not
        rated, or when every KPI at its target would not earn it.
    """
    _check_reach(reach)
    standing = _standing(rating, config)
    if standing is None:
        return []
    found = _least_effort(standing, reach) or _least_effort(standing, math.inf)
    plan = _checked(standing, config, _moved(standing, config, *found), reach) if found else []
    single = next_star_advice(rating, config, reach)[:1]
    if single and (not plan or single[0].effort <= max(a.effort for a in plan)):
        return single
    return plan


def describe_advice(advice: Advice, config: RatingConfig) -> str:
    """One sentence for people, e.g. "cut median customer steps from 9 to 6 for 5 stars".

    Examples
    --------
    >>> from najma.rating._config import default_config
    >>> describe_advice(Advice("median_customer_steps", 9, 6, 5, 0.4), default_config())
    'cut median customer steps from 9 to 6 for 5 stars'
    """
    return describe_plan([advice], config)


def describe_plan(plan: Sequence[Advice], config: RatingConfig) -> str:
    """A plan as one sentence for people; empty for an empty plan.

    Examples
    --------
    >>> from najma.rating._config import default_config
    >>> describe_plan([Advice("within_sla", 0.6, 0.774, 3, 0.32), Advice("digital_take_up", 0.2, 0.374, 3, 0.25),
    ...                Advice("visits", 1.0, 0.2, 3, 0.4, within_reach=False)], default_config())
    "raise share within SLA from 60.0% to 77.4%, raise digital take-up from 20.0% to 37.4% and cut visits per case \
from 1.00 to 0.20 (beyond a quarter's reach) for 3 stars"
    """
    if not plan:
        return ""
    changes = [change_text(a, config) for a in plan]
    listed = changes[0] if len(changes) == 1 else ", ".join(changes[:-1]) + " and " + changes[-1]
    return f"{listed} for {plan[0].stars} stars"


def change_text(advice: Advice, config: RatingConfig) -> str:
    """One change of a plan, without the stars, e.g. "cut visits per case from 1.00 to 0.60"."""
    verb = "cut" if config.kpis[advice.kpi].direction == "lower" else "raise"
    unit = KPIS[advice.kpi].unit
    label = KPIS[advice.kpi].label
    text = (f"{verb} {label[0].lower()}{label[1:]} from {format_value(advice.current, unit)} "
            f"to {format_value(advice.needed, unit)}")
    return text if advice.within_reach else f"{text} (beyond a quarter's reach)"


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
