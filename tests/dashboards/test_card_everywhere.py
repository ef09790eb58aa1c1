"""One rating card, three places: ``najma rate`` and ``najma explain``, the report, and the service page show
the same stars, score, pillars, confidence, star probabilities, change, KPI moves and next-star plan."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from typer.testing import CliRunner

from najma.dashboards._app import create_app
from najma.dashboards._data import DashboardData
from najma.dashboards._i18n import (
    card_lines,
    change_text,
    move_text,
    number_text,
    percent_text,
    plan_sentence,
    rating_text,
    text,
)
from najma.dashboards.cli import app as cli
from najma.dashboards.cli._options import out
from najma.dashboards.pages import service
from najma.journeys import Store
from najma.rating import RatingCard, default_config, describe_plan, rate_quarter, rating_cards
from tests.dashboards.conftest import DRAWS, REPORT_QUARTER

SERVICE, QUARTER = "passport", REPORT_QUARTER


@pytest.fixture(scope="module")
def card(built_sample: Path) -> RatingCard:
    with Store(built_sample, read_only=True) as store:
        ratings, before = rate_quarter(store, QUARTER, draws=DRAWS)
    found = rating_cards(ratings[ratings["service"] == SERVICE], before, default_config())[0]
    assert found.rated and found.moves and found.plan and found.confidence is not None  # every part is shown
    return found


def _cli(built_sample: Path, *args: str) -> str:
    # Wide enough that no cell or line is wrapped; the console keeps the width COLUMNS had when it was made (a
    # pytest-xdist worker sets it), so its width is set too.
    with patch.object(out, "_width", 250):
        result = CliRunner().invoke(cli, [*args, "--quarter", QUARTER, "--store", str(built_sample), "--draws", str(DRAWS)],
                                    env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    return result.output


def _probabilities(card: RatingCard) -> str:
    return ", ".join(f"{star}★ {percent_text(p)}" for star, p in card.probabilities.items())


def test_najma_rate_shows_the_cards_row(built_sample: Path, card: RatingCard) -> None:
    output = _cli(built_sample, "rate", "--no-record")
    line = next(line for line in output.splitlines() if f" {SERVICE} " in line)
    assert [cell.strip() for cell in line.strip("│").split("│")] == [
        SERVICE, f"{card.cases:,}", rating_text(card, "en"), change_text(card.change, "en"), number_text(card.score),
        *map(number_text, card.pillars.values()), percent_text(card.evidence), percent_text(card.confidence),
    ]


def test_najma_explain_shows_the_card(built_sample: Path, card: RatingCard) -> None:
    output = _cli(built_sample, "explain", "--service", SERVICE)
    pillars = ", ".join(f"{p} {number_text(s)}" for p, s in card.pillars.items())
    assert f"{rating_text(card, 'en')} {card.stars} stars, score {number_text(card.score)} ({pillars})" in output
    assert all(f"{line}\n" in output for line in card_lines(card, "en"))
    assert f"anywhere on their curves): {_probabilities(card)}\n" in output
    moves = "; ".join(move_text(m, "en") for m in card.moves)
    assert f"since {card.previous_quarter} ({change_text(card.change, 'en')} stars): {moves}\n" in output
    assert "next star: " + describe_plan(card.plan, default_config()) in output


def test_the_report_shows_the_card(written_report: Callable[[str], Path], card: RatingCard) -> None:
    written = html.unescape((written_report("en") / f"rating-report-{QUARTER}-en.html").read_text(encoding="utf-8"))
    row = re.search(rf'<tr data-service="{SERVICE}" data-stars="(\d)">(.*?)</tr>', written, re.S)
    assert int(row[1]) == card.stars
    assert re.findall(r"<td[^>]*>(.*?)</td>", row[2], re.S)[1:] == [
        f"{card.cases:,}", rating_text(card, "en"), change_text(card.change, "en"), number_text(card.score),
        *map(number_text, card.pillars.values()), percent_text(card.confidence),
    ]
    section = re.search(rf'<section class="service" id="service-\d+" data-service="{SERVICE}">(.*?)</section>', written,
                        re.S)[1]
    assert f"{text('score', 'en')} {number_text(card.score)}" in section
    assert f"{text('bootstrap', 'en')}: {_probabilities(card)}" in section
    assert f"{text('since_last_quarter', 'en')}: {change_text(card.change, 'en')}" in section
    assert all(f"<li>{move_text(m, 'en')}</li>" in section for m in card.moves)
    assert f"<li>{plan_sentence(card.plan, default_config(), 'en')}</li>" in section
    assert all(f'<p class="meta fact">{line}</p>' in section for line in card_lines(card, "en"))


def _by_id(components: list[Any], id_: str) -> Any:
    """The component of `id_` among `components` and their children."""
    for component in components:
        if getattr(component, "id", None) == id_:
            return component
        children = getattr(component, "children", None)
        found = _by_id(children, id_) if isinstance(children, list) else None
        if found is not None:
            return found
    return None


def test_the_service_page_shows_the_card(drawn_data: DashboardData, card: RatingCard) -> None:
    assert drawn_data.card(SERVICE, QUARTER) == card
    with create_app(drawn_data).server.test_request_context():
        _, _, shown, probabilities, *_ = service.update_service(SERVICE, QUARTER, "en")
    pillars = " · ".join(f"{text(p, 'en')} {number_text(s)}" for p, s in card.pillars.items())
    assert _by_id(shown, "sv-stars").children == rating_text(card, "en")
    assert _by_id(shown, "sv-score").children == (f"{text('score', 'en')} {number_text(card.score)} · {pillars} · "
                                                  f"{text('cases', 'en')} {card.cases:,}")
    assert _by_id(shown, "sv-change").children == f"{text('since_last_quarter', 'en')}: {change_text(card.change, 'en')}"
    assert [li.children for li in _by_id(shown, "sv-moves").children] == [move_text(m, "en") for m in card.moves]
    assert [li.children for li in _by_id(shown, "sv-advice").children] == [plan_sentence(card.plan, default_config(), "en")]
    assert [line.children for line in _by_id(shown, "sv-facts").children] == card_lines(card, "en")
    bars = dict(zip(probabilities.data[0].x, probabilities.data[0].y, strict=True))
    assert bars == {f"{star}★": p for star, p in card.probabilities.items()}
    assert bars[f"{card.stars}★"] == card.confidence


def test_the_overview_shows_the_cards_change_and_confidence(drawn_data: DashboardData, card: RatingCard) -> None:
    row = drawn_data.overview(QUARTER).set_index("service").loc[SERVICE]
    assert (row["stars"], row["change"], row["confidence"]) == (card.stars, card.change, card.confidence)
