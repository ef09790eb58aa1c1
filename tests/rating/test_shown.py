"""What people are shown of a quarter: its published rows where published, today's drafts elsewhere, each labelled."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from najma.dashboards._data import DashboardData
from najma.dashboards._i18n import card_lines, needs_text, quarter_text, source_lines, utc_minute
from najma.journeys import Store
from najma.rating import (
    INSUFFICIENT_EVIDENCE,
    KPIS,
    PILLARS,
    default_config,
    finish_ratings,
    publish,
    published_ratings,
    quarter_ratings,
    rate,
    rating_cards,
)

QUARTER = "2025Q3"


@pytest.fixture(scope="module")
def early(built_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample with 2025Q3 published at a cut-off its first hours: only some services had cases then."""
    path = tmp_path_factory.mktemp("shown") / "store.duckdb"
    path.write_bytes(built_sample.read_bytes())
    with Store(path) as store:
        publish(store, QUARTER, cutoff="2025-07-01 06:00", draws=0, by="tester")
    return path


def test_a_published_quarter_shows_its_published_rows_and_todays_drafts_for_the_services_it_lacks(early: Path) -> None:
    with Store(early, read_only=True) as store:
        shown = quarter_ratings(store, QUARTER, draws=0)
        held = published_ratings(store, QUARTER)
        today = rate(store, quarters=[QUARTER], draws=0)
    provenance = shown.provenance
    assert 0 < len(held) < len(today)  # the cut-off held some services, not all
    assert sorted(shown.ratings["service"]) == sorted(today["service"])  # no service disappears
    assert provenance.rerated == tuple(sorted(set(today["service"]) - set(held["service"])))
    assert provenance.draft and not provenance.everything_rerated
    rows = shown.ratings.set_index("service")
    for service, published in held.set_index("service").iterrows():  # the published rows, not today's
        assert rows.loc[service, "score"] == pytest.approx(published["score"], nan_ok=True)
    for service, now in today.set_index("service").loc[list(provenance.rerated)].iterrows():
        assert rows.loc[service, "score"] == pytest.approx(now["score"], nan_ok=True)
    english = source_lines(provenance, "en")
    assert english[0].startswith(f"Published: {QUARTER} revision 1, data cut-off 2025-07-01 06:00 UTC, by tester")
    assert all(service in english[1] for service in provenance.rerated)


def test_najma_rate_sets_the_publication_aside_and_says_so(early: Path) -> None:
    with Store(early, read_only=True) as store:
        provenance = quarter_ratings(store, QUARTER, draws=0, published=False).provenance
    assert provenance.everything_rerated and provenance.rerated == () and provenance.publication["revision"] == 1
    for lang in ("en", "ar"):
        line = source_lines(provenance, lang)[0]
        assert utc_minute("2025-07-01 06:00", lang) in line and quarter_text(QUARTER, lang) in line
    assert "re-rated" in source_lines(provenance, "en")[0]


def test_the_dashboard_shows_the_published_rows_and_per_channel_views_are_todays(early: Path) -> None:
    data = DashboardData(early, draws=0)
    try:
        with Store(early, read_only=True) as store:
            held = published_ratings(store, QUARTER).set_index("service")
        shown = data.ratings[data.ratings["quarter"] == QUARTER].set_index("service")
        assert set(shown.index) >= set(held.index)
        for service in held.index:
            assert shown.loc[service, "score"] == pytest.approx(held.loc[service, "score"], nan_ok=True)
        assert data.source_lines(QUARTER, "en")[0].startswith(f"Published: {QUARTER} revision 1")
        channel = data.channels[0]
        assert "re-rated" in data.source_lines(QUARTER, "en", channel)[0]
        assert data.source_lines("2025Q4", "en")[0].startswith("Draft: 2025Q4 is not published")
    finally:
        data.close()


def test_a_rating_short_of_evidence_says_what_is_missing_in_each_language(built_sample: Path) -> None:
    config = default_config()
    with Store(built_sample, read_only=True) as store:
        ratings = rate(store, quarters=[QUARTER], draws=0)
    # Blank every efficiency KPI but one of weight 1 in 6: the pillar stands on too little.
    efficiency = config.kpis_of("efficiency")
    blanked = ratings.assign(**{k: float("nan") for k in efficiency[1:]})
    table = blanked[["service", "quarter", "cases", "not_applicable", "provisional", *KPIS]]
    table = table.assign(**{f"p_{s}": float("nan") for s in range(config.lowest_star, config.highest_star + 1)})
    finished = finish_ratings(table, config).assign(stars_before=pd.NA, change=pd.NA)
    card = rating_cards(finished.head(1), None, config)[0]
    assert card.status == INSUFFICIENT_EVIDENCE and [s.pillar for s in card.shortfalls] == ["efficiency"]
    english, arabic = " ".join(card_lines(card, "en")), " ".join(card_lines(card, "ar"))
    assert "Efficiency" in english and "Cost per transaction" in english
    assert not re.search(r"[a-z]+_[a-z_]+", arabic)  # no KPI key in the Arabic text
    assert all(pillar not in arabic for pillar in PILLARS)


def test_what_a_kpi_without_data_needs_reads_in_arabic() -> None:
    for kpi in KPIS:
        arabic = needs_text(kpi, "ar")
        assert arabic and not re.search(r"[A-Za-z]", arabic), kpi
