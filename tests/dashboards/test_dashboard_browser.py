"""The dashboard as an analyst uses it: each page loaded in headless Chromium, worked, and its numbers checked.

The expected numbers come from the library (najma's ratings, variants, life-event journeys and
what-if) on the same built sample, so the pages are checked against what the API says.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from najma.journeys import CaseFilter, RemoveActivity, Store, journey_table, life_event_journeys, variants
from najma.journeys._working_time import registered_calendar
from najma.rating import rate, what_if
from tests.dashboards.conftest import DRAWS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def _grid_column(page: object, grid: str, column: str) -> list[str]:
    cells = page.locator(f"#{grid} .ag-center-cols-container [col-id='{column}']")
    return [text.strip() for text in cells.all_inner_texts()]


def _choose(page: object, select: str, option: str) -> None:
    """Pick `option` in the Mantine select whose input has the id `select`."""
    page.click(f"#{select}")
    page.get_by_role("option", name=option, exact=True).click()


@pytest.fixture(scope="module")
def latest(built_sample: Path) -> tuple[str, dict[str, int]]:
    """The latest quarter and the stars najma rates each service with in it."""
    with Store(built_sample, read_only=True) as store:
        ratings = rate(store, draws=0)
    quarter = max(ratings["quarter"])
    now = ratings[ratings["quarter"] == quarter]
    return quarter, {s: int(n) for s, n in zip(now["service"], now["stars"], strict=True)}


def test_overview_shows_every_service_with_najmas_stars_and_filters(page: object, dashboard_url: str,
                                                                     latest: tuple[str, dict[str, int]]) -> None:
    quarter, stars = latest
    page.goto(dashboard_url + "/")
    page.wait_for_selector("#ov-count:has-text('9 services shown')")
    names = _grid_column(page, "ov-grid", "link")
    assert len(names) == len(stars) == 9
    shown = dict(zip(names, _grid_column(page, "ov-grid", "stars"), strict=True))
    assert shown["Passport for a newborn"] == "★" * stars["passport"]
    assert shown["Trade licence"] == "★" * stars["trade_licence"]
    # Every card names its period and its selection.
    for card in ("ov-scope", "ov-pillars-scope", "ov-kpis-scope"):
        assert page.inner_text(f"#{card}") == f"{quarter} · All agencies · All channels"
    assert page.inner_text("#ov-trend-scope") == "All quarters · All agencies · All channels"

    _choose(page, "ov-agency", "Health Authority")
    page.wait_for_selector("#ov-count:has-text('2 services shown')")
    page.wait_for_selector(f"#ov-kpis-scope:has-text('{quarter} · Health Authority · All channels')")
    assert set(_grid_column(page, "ov-grid", "agency")) == {"Health Authority"}

    page.goto(dashboard_url + "/")
    page.fill("#ov-search", "licence")
    page.wait_for_selector("#ov-count:has-text('2 services shown')")
    assert sorted(_grid_column(page, "ov-grid", "link")) == ["Driving licence renewal", "Trade licence"]
    # The charts follow the table: a trend line per service shown, drawn by plotly.js.
    page.wait_for_function("document.querySelectorAll('#ov-trend .scatterlayer .trace').length === 2")
    assert "Trade licence" in page.inner_text("#ov-pillars")

    page.locator("#ov-pillar").get_by_text("Steps", exact=True).click()
    page.wait_for_selector("#ov-kpis .ag-header-cell-text:has-text('Median customer steps')")

    page.get_by_role("link", name="Trade licence").click()
    page.wait_for_selector("#sv-stars")
    assert "service=trade_licence" in page.url


def test_service_page_follows_the_variants_selected(page: object, dashboard_url: str, built_sample: Path) -> None:
    with Store(built_sample, read_only=True) as store:
        calendar = registered_calendar(store)
        found = variants(store, CaseFilter(service="passport", tz=calendar.time_zone))
        cases = journey_table(store, CaseFilter(service="passport", variants=list(found.variant[:2]))).to_pandas()
    completed = cases.loc[cases["outcome"] == "completed", "customer_steps"]
    median_steps = float(np.quantile(completed, 0.5, method="inverted_cdf"))  # the KPI's quantile (najma.rating._kpis)
    page.goto(dashboard_url + "/service?service=passport")
    page.wait_for_selector("#sv-stars")
    total = int(found["cases"].sum())
    page.wait_for_selector(f"#sv-map-note:has-text('{total:,} cases')")
    page.wait_for_selector("#sv-map canvas")

    # The two most frequent variants, ticked in the variant table: each row shows the library's count.
    for label, variant in (("V1", found.iloc[0]), ("V2", found.iloc[1])):
        row = page.locator("#sv-variant-grid .ag-center-cols-container .ag-row",
                           has=page.locator("[col-id='label']", has_text=re.compile(rf"^{label}$")))
        assert row.locator("[col-id='cases']").inner_text().strip() == f"{variant.cases:,}"
        row.click()
    selected = int(found.iloc[0].cases + found.iloc[1].cases)
    page.wait_for_selector(f"#sv-map-note:has-text('{selected:,} cases')")
    page.wait_for_selector("#sv-map-note:has-text('2 variants selected')")
    steps = page.locator("#sv-kpis .ag-center-cols-container .ag-row", has_text="Median customer steps")
    page.wait_for_selector("#sv-kpi-scope:has-text('2 variants selected')")
    assert steps.locator("[col-id='value']").inner_text().strip() == f"{median_steps:g}"

    page.locator("#sv-variant-measure").get_by_text("Median days", exact=True).click()
    page.wait_for_selector("#sv-variant-chart .ytitle:has-text('Median days')")
    page.locator("#sv-measure").get_by_text("Median time", exact=True).click()
    page.wait_for_selector("#sv-fitness")
    assert re.search(r"Fitness \d+\.\d%", page.inner_text("#sv-fitness"))


def test_customer_journeys_page_counts_the_newborn_journeys(page: object, dashboard_url: str, built_sample: Path) -> None:
    with Store(built_sample, read_only=True) as store:
        journeys = life_event_journeys(store, "newborn").to_pandas()
    page.goto(dashboard_url + "/journeys")
    page.wait_for_selector("#cj-journeys")
    assert page.inner_text("#cj-journeys") == f"{len(journeys):,}"
    assert page.inner_text("#cj-ask-once-share") == f"{(journeys['ask_once_failures'] > 0).mean():.0%}"
    page.wait_for_selector("#cj-sankey .sankey-node")
    assert page.locator("#cj-sankey .sankey-node").count() >= 5
    assert "Passport for a newborn" in _grid_column(page, "cj-ask-once", "name")


def test_redesign_page_projects_the_stars_of_a_plan(page: object, dashboard_url: str, built_sample: Path,
                                                    latest: tuple[str, dict[str, int]]) -> None:
    quarter, _ = latest
    with Store(built_sample, read_only=True) as store:
        expected = what_if(store, "passport", [RemoveActivity("Visit service centre")], quarter=quarter, draws=DRAWS)
    expected = expected.set_index("scenario")["stars"]
    page.goto(dashboard_url + "/redesign?service=passport")
    page.click("#rd-activities")
    page.get_by_role("option", name="Visit service centre", exact=True).click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Add to the plan").click()
    page.wait_for_selector("#rd-plan-list li:has-text('Remove: Visit service centre')")
    page.get_by_role("button", name="Project the stars").click()
    page.wait_for_selector("#rd-stars-redesign", timeout=120_000)
    assert page.inner_text("#rd-stars-today").endswith("★" * int(expected["today"]))
    assert page.inner_text("#rd-stars-redesign").endswith("★" * int(expected["redesign"]))


def test_data_page_lists_the_batch_and_the_coverage(page: object, dashboard_url: str, built_sample: Path) -> None:
    page.goto(dashboard_url + "/data")
    page.wait_for_selector("#dq-batches .ag-center-cols-container .ag-row")
    assert _grid_column(page, "dq-batches", "source")[0].endswith("events.parquet")
    with Store(built_sample, read_only=True) as store:
        repeated = store.batches()[0].rows_repeated
    assert [int(re.sub(r"\D", "", cell)) for cell in _grid_column(page, "dq-batches", "rows_repeated")] == [repeated]
    page.wait_for_selector("#dq-coverage .xtick")
    assert page.locator("#dq-coverage .xtick").count() == 4
    page.locator("#dq-quarters").get_by_text("All quarters", exact=True).click()
    page.wait_for_function("document.querySelectorAll('#dq-coverage .xtick').length == 8")
