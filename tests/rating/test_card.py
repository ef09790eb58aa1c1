"""A rating's card on the sample: pinned for one service, and in agreement with the rows it is read from."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from najma.journeys import Store
from najma.rating import (
    INSUFFICIENT,
    RATED,
    default_config,
    kpi_breakdown,
    next_star_plan,
    quarter_change,
    rate_quarter,
    rating_card,
    rating_cards,
)
from najma.rating._card import MOVES

QUARTER = "2025Q4"


@pytest.fixture(scope="module")
def rated(built_sample) -> tuple[pd.DataFrame, pd.DataFrame]:
    with Store(built_sample, read_only=True) as store:
        return rate_quarter(store, QUARTER, draws=50)


def test_the_card_of_the_passport_holds_its_rating_change_and_plan(sample_journeys: Store) -> None:
    ratings, before = rate_quarter(sample_journeys, QUARTER, draws=50)
    card = {c.service: c for c in rating_cards(ratings, before, default_config())}["passport"]
    assert (card.service, card.quarter, card.status, card.cases, card.stars) == ("passport", QUARTER, RATED, 138, 5)
    assert round(card.score, 1) == 70.7
    assert {p: round(s, 1) for p, s in card.pillars.items()} == {"efficiency": 65.2, "effectiveness": 65.1, "steps": 81.0}
    # The sample has no start times: without the waiting share the KPIs with data carry 94% of the
    # model's weight, and the bootstrap draws the waiting share anywhere on its curve, so a 4 and a 6 are possible too.
    assert round(card.evidence, 3) == 0.936 and not card.provisional and card.shortfalls == []
    assert card.confidence == 0.9 and card.probabilities == {4: 0.02, 5: 0.9, 6: 0.08}
    assert (card.previous_quarter, card.stars_before, card.change) == ("2025Q3", 6, -1)
    assert [(m.kpi, round(m.points, 2)) for m in card.moves] == [
        ("documents_asked_again", -1.05), ("satisfied_share", -1.01), ("first_time_right", -0.97)]
    assert [(a.kpi, round(a.needed, 3), a.stars) for a in card.plan] == [("digital_take_up", 0.574, 6)]
    assert not card.at_highest_star and card.rated


def test_every_card_says_what_its_rows_say(rated: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    ratings, before = rated
    config = default_config()
    cards = rating_cards(ratings, before, config)
    assert [c.service for c in cards] == ratings["service"].to_list()
    for card, (_, row) in zip(cards, ratings.iterrows(), strict=True):
        previous = before[before["service"] == card.service].iloc[0]
        assert card.confidence == row[f"p_{card.stars}"]
        assert sum(card.probabilities.values()) == pytest.approx(1) and min(card.probabilities.values()) > 0
        assert card.change == card.stars - card.stars_before == row["change"]
        expected = quarter_change(row, previous, config).head(MOVES)
        assert [(m.kpi, m.points) for m in card.moves] == list(zip(expected["kpi"], expected["points"], strict=True))
        assert card.plan == next_star_plan(row, config)
        assert card.at_highest_star == (card.stars == config.highest_star)
        pd.testing.assert_frame_equal(card.breakdown, kpi_breakdown(row, config))


def test_a_service_too_small_to_rate_has_a_card_without_a_rating(sample_journeys: Store) -> None:
    config = replace(default_config(), min_cases=10**6)
    ratings, before = rate_quarter(sample_journeys, QUARTER, config, draws=20)
    card = rating_cards(ratings, before, config)[0]
    assert card.status == INSUFFICIENT and not card.rated
    assert (card.stars, card.score, card.confidence, card.stars_before, card.change) == (None, None, None, None, None)
    assert card.pillars == {} and card.probabilities == {} and card.moves == [] and card.plan == []
    assert not card.at_highest_star and len(card.breakdown) == len(config.kpis)


def test_without_a_bootstrap_or_the_quarter_before_the_card_leaves_those_out(sample_journeys: Store) -> None:
    ratings, _ = rate_quarter(sample_journeys, QUARTER, draws=0)
    row = ratings[ratings["service"] == "passport"].iloc[0]
    card = rating_card(row, None, default_config())
    assert card.stars == 5 and card.confidence is None and card.probabilities == {}
    assert card.change == -1 and card.moves == []  # the change is the row's; the moves need the quarter before
