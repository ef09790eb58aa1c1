"""A rating's card: all that people are shown of one service's rating in one quarter, worked out once.

The command line, the quarterly report and the dashboard's service page each show cards, so they
show the same stars, trust, change and next-star plan; they only choose the words and the language.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from najma.journeys import previous_quarter
from najma.rating._config import PILLARS, RatingConfig
from najma.rating._explain import Advice, kpi_breakdown, next_star_plan, quarter_change
from najma.rating._kpis import applicable_kpis
from najma.rating._ratings import INSUFFICIENT_EVIDENCE, RATED, Shortfall, evidence_shortfalls, star_columns

__all__ = ["KpiMove", "RatingCard", "rating_card", "rating_cards", "MOVES"]

#: The KPIs a card names as having moved the rating since the quarter before, largest move first.
MOVES = 3


@dataclass(frozen=True)
class KpiMove:
    """One KPI's move between two quarters and the points it moved the rating.

    Attributes
    ----------
    kpi : str
        The KPI.
    before, now : float
        Its value in the quarter before and in this one (NaN without data).
    points : float
        Its points now minus its points then.
    """

    kpi: str
    before: float
    now: float
    points: float


@dataclass(frozen=True)
class RatingCard:
    """The rating of one service in one quarter, as people are shown it.

    Attributes
    ----------
    service, quarter : str
        What was rated.
    status : str
        ``"rated"``, ``"insufficient data"``, or a status set by whoever made the row (the
        dashboard's ``"suppressed"``); the values below that need a rating are empty otherwise.
    cases : int
        The cases rated.
    stars : int or None
        The stars.
    score : float or None
        The total score (0 to 100).
    pillars : dict of str to float
        The score of each pillar; empty when not rated.
    confidence : float or None
        The probability of the stars shown, from the bootstrap over cases; None without a bootstrap.
    probabilities : dict of int to float
        The probability of each star the bootstrap gave (stars it never gave are left out).
    previous_quarter : str
        The quarter before.
    stars_before : int or None
        The stars of the quarter before; None when it was not rated.
    change : int or None
        The stars gained since the quarter before; None when either quarter is not rated.
    moves : list of KpiMove
        The :data:`MOVES` KPIs that moved the rating most since the quarter before; empty when
        either quarter is not rated or the quarter before was not given.
    at_highest_star : bool
        Whether the stars are the model's highest, so there is no next star.
    provisional : bool
        Whether the service's catalogue entry is a draft: its stars are shown marked provisional.
    evidence : float or None
        The share of the model's weight (of the KPIs that apply) that has data; None for a row without it.
    shortfalls : list of Shortfall
        For a group with too little evidence to be rated, each pillar short of it and its KPIs
        without data (see :func:`najma.rating.evidence_shortfalls`); else empty.
    breakdown : DataFrame
        Each KPI against its target, with its score and points (see :func:`najma.rating.kpi_breakdown`).
    rating : Series
        The row of ratings the card was made from.
    config : RatingConfig
        The model that rated it.
    """

    service: str
    quarter: str
    status: str
    cases: int
    stars: int | None
    score: float | None
    pillars: dict[str, float]
    confidence: float | None
    probabilities: dict[int, float]
    previous_quarter: str
    stars_before: int | None
    change: int | None
    moves: list[KpiMove]
    at_highest_star: bool
    provisional: bool
    evidence: float | None
    shortfalls: list[Shortfall]
    breakdown: pd.DataFrame = field(compare=False, repr=False)
    rating: pd.Series = field(compare=False, repr=False)
    config: RatingConfig = field(compare=False, repr=False)

    @property
    def rated(self) -> bool:
        """Whether the service was rated (its stars, score and plan are set)."""
        return self.status == RATED

    @cached_property
    def plan(self) -> list[Advice]:
        """The smallest combination of KPI changes that earns the next star, its targets rounded to the
        safe side and checked by re-rating (see :func:`najma.rating.next_star_plan`); changes beyond what
        a service can move in a quarter say so. Empty when not rated, at the highest star, or when no
        change of the KPIs within their curves earns it.

        Worked out when first read (it searches the model's curves, in milliseconds), so a star table
        that shows no plan does not pay for one. The redesigns that would earn the next star are not
        part of the card: they cost a projection each (see :func:`najma.rating.redesign_options`).
        """
        return next_star_plan(self.rating, self.config) if self.rated else []


def rating_card(rating: pd.Series, before: pd.Series | None, config: RatingConfig) -> RatingCard:
    """The card of one rated row.

    Parameters
    ----------
    rating : Series
        A row of :func:`najma.rating.rate_quarter` (with ``stars_before`` and ``change``).
    before : Series, optional
        The row of the same service in the quarter before, when it has one.
    config : RatingConfig
        The model that rated both.

    Returns
    -------
    RatingCard
    """
    rated = rating["status"] == RATED
    stars = int(rating["stars"]) if rated else None
    probabilities = {} if not rated else {
        int(column.removeprefix("p_")): float(rating[column]) for column in star_columns(config)
        if rating[column] > 0  # NaN (no bootstrap) is not
    }
    moves = []
    if rated and before is not None and before["status"] == RATED:
        moves = [KpiMove(m.kpi, m.before, m.now, m.points)
                 for m in quarter_change(rating, before, config).dropna(subset=["before", "now"], how="all")  # no data either time
                 .head(MOVES).itertuples()]
    return RatingCard(
        service=rating["service"], quarter=rating["quarter"], status=rating["status"], cases=int(rating["cases"]),
        stars=stars, score=float(rating["score"]) if rated else None,
        pillars={p: float(rating[p]) for p in PILLARS} if rated else {},
        confidence=None if not rated or math.isnan(rating[f"p_{stars}"]) else float(rating[f"p_{stars}"]),
        probabilities=probabilities, previous_quarter=previous_quarter(rating["quarter"]),
        stars_before=_whole(rating["stars_before"]), change=_whole(rating["change"]) if rated else None,
        moves=moves, at_highest_star=rated and stars >= config.highest_star,
        provisional=_flag(rating.get("provisional")), evidence=_fraction(rating.get("evidence")),
        shortfalls=_shortfalls(rating, config), breakdown=kpi_breakdown(rating, config),
        rating=rating, config=config,
    )


def rating_cards(ratings: pd.DataFrame, before: pd.DataFrame | None, config: RatingConfig) -> list[RatingCard]:
    """The card of every row of a quarter's ratings, in their order.

    Parameters
    ----------
    ratings : DataFrame
        A quarter's ratings, as :func:`najma.rating.rate_quarter` returns them (or :func:`najma.rating.quarter_with_change`).
    before : DataFrame, optional
        The ratings of the quarter before, returned beside them; without them the cards name no KPI moves.
    config : RatingConfig
        The model that rated them.

    Returns
    -------
    list of RatingCard

    Examples
    --------
    >>> from najma.journeys import Store
    >>> from najma.rating import default_config, rate_quarter
    >>> store = Store(sample_path)  # a store holding the sample: Store(path), then najma.sample.load_sample(store)
    >>> ratings, before = rate_quarter(store, "2025Q4", draws=50)
    >>> card = {c.service: c for c in rating_cards(ratings, before, default_config())}["passport"]
    >>> card.stars, card.confidence, card.probabilities, card.change
    (5, 0.9, {4: 0.02, 5: 0.9, 6: 0.08}, -1)
    >>> [m.kpi for m in card.moves]
    ['documents_asked_again', 'satisfied_share', 'first_time_right']
    >>> [(a.kpi, a.stars) for a in card.plan]
    [('digital_take_up', 6)]
    """
    previous: Mapping[str, pd.Series] = {} if before is None else {row["service"]: row for _, row in before.iterrows()}
    return [rating_card(row, previous.get(row["service"]), config) for _, row in ratings.iterrows()]


def _whole(value: object) -> int | None:
    return None if pd.isna(value) else int(value)


def _flag(value: object) -> bool:
    """A boolean column's value; a missing one (a suppressed row) is False."""
    return False if value is None or pd.isna(value) else bool(value)


def _fraction(value: object) -> float | None:
    """A share's value; None for a missing one."""
    return None if value is None or pd.isna(value) else float(value)


def _shortfalls(rating: pd.Series, config: RatingConfig) -> list[Shortfall]:
    """The pillars short of evidence of a row rated "insufficient evidence"; none for any other."""
    if rating["status"] != INSUFFICIENT_EVIDENCE:
        return []
    return evidence_shortfalls(rating[list(config.kpis)], applicable_kpis(rating["not_applicable"]), config)
