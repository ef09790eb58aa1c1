"""The variant explorer in Debian's Chromium: two filters, a variant ticked, a case's timeline opened, the language
switched with the selection kept (and no English word left on the Arabic page, case list and timeline included),
and a table downloaded as CSV; screenshots in test-artifacts/service/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboards.conftest import wait_settled
from tests.dashboards.test_arabic_pages import SHOWN_TEXT, english_words

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "service"
ROWS = ".ag-center-cols-container .ag-row"


def test_filters_variant_case_language_and_csv(page: object, dashboard_url: str, tmp_path: Path) -> None:
    page.goto(dashboard_url + "/service?service=passport&lang=en")
    page.wait_for_selector(f"#sv-variant-grid {ROWS}")
    page.locator("#sv-f-min-days").fill("1")
    page.wait_for_selector("#sv-filter-note:has-text('1 filter ')")
    page.locator("#sv-f-outcome").click()
    page.get_by_role("option", name="completed", exact=True).click()
    page.wait_for_selector("#sv-filter-note:has-text('2 filters')")
    first = page.locator(f"#sv-variant-grid {ROWS}").first
    cases = first.locator("[col-id='cases']").inner_text().strip()
    first.click()
    page.wait_for_selector(f"#sv-map-note:has-text('{cases} cases')")
    page.wait_for_selector("#sv-map-note:has-text('1 variant selected')")
    page.wait_for_selector(f"#sv-kpi-scope:has-text('{cases} of')")
    page.locator(f"#sv-cases {ROWS}").first.click()
    page.wait_for_selector(f"#sv-timeline {ROWS}")
    assert "min_days=1" in page.url and "outcome=completed" in page.url and "variants=" in page.url and "case=" in page.url
    with page.expect_download() as download:
        page.click("#sv-cases-csv")
    saved = tmp_path / "cases.csv"
    download.value.save_as(saved)
    assert len(saved.read_text(encoding="utf-8").splitlines()) == int(cases.replace(",", "")) + 1  # a header, a row a case
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "service-filtered-case-en.png"), full_page=True)

    page.click("#language-link")
    page.wait_for_selector(f"#sv-timeline {ROWS}")
    page.wait_for_selector(f"#sv-map-note:has-text('الطلبات: {cases}')")
    wait_settled(page)
    assert "lang=ar" in page.url and "outcome=completed" in page.url
    assert "المسارات المختارة: 1" in page.inner_text("#sv-map-note")
    assert page.locator(f"#sv-variant-grid {ROWS}.ag-row-selected").count() == 1
    page.screenshot(path=str(ARTIFACTS / "service-filtered-case-ar.png"), full_page=True)
    assert english_words(page.evaluate(SHOWN_TEXT)) == []
