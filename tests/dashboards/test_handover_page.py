"""The hand-over page: the library's pairs of the selection, small pairs suppressed; and, as a person sees it in
headless Chromium in English and Arabic, the network drawn with the map's layout (no two boxes overlap), the matrix
and the pairs filled, a CSV download of the pairs, every part naming its period and selection.

Pictures are kept in test-artifacts/HANDOVER/.
"""

from __future__ import annotations

import csv
import json

import pytest

from najma.dashboards._data import DashboardData
from najma.dashboards.pages.handover import DRAWN_PAIRS, update_handover
from najma.journeys import CaseFilter, handovers
from najma.rating._suppression import kept_groups
from tests.dashboards.conftest import ARTIFACTS
from tests.dashboards.test_arabic_pages import SHOWN_TEXT, english_words
from tests.dashboards.test_map_browser import _check_boxes

SHOTS = ARTIFACTS.parent / "HANDOVER"


def _pairs(rows: list[dict]) -> dict[tuple[str, str], int]:
    return {(row["from"], row["to"]): row["handovers"] for row in rows}


def test_the_page_shows_the_librarys_pairs_without_the_small_ones(app: object, data: DashboardData):
    with app.server.test_request_context():
        elements, columns, matrix, rows, note, *scopes = update_handover(
            "resource", None, None, None, "frequency", "en", {})
    whole = handovers(data.store, "resource")
    kept, hidden = kept_groups(whole, data.min_group)
    assert hidden > 0 and f"{hidden:,} pairs of fewer than {data.min_group} customers" in note
    assert _pairs(rows) == dict(zip(zip(kept["source"], kept["target"], strict=True), kept["handovers"], strict=True))
    assert min(row["customers"] for row in rows) >= data.min_group
    assert {row["from"] for row in matrix} | {c["headerName"] for c in columns[1:]} == {*kept["source"], *kept["target"]}
    # the network draws the most frequent pairs only, ties together, and says so
    edges = {(e["data"]["source"], e["data"]["target"]): e["data"]["frequency"] for e in elements if "source" in e["data"]}
    assert DRAWN_PAIRS <= len(edges) < len(kept) and f"the {len(edges)} most frequent of the {len(kept):,} pairs" in note
    assert min(edges.values()) == kept["handovers"].iloc[len(edges) - 1] > kept["handovers"].iloc[len(edges)]
    nodes = {e["data"]["activity"] for e in elements if "activity" in e["data"]}
    assert nodes == {*kept["source"][:len(edges)], *kept["target"][:len(edges)]}
    assert all(scope == scopes[0] and "All quarters" in scope and "All services" in scope for scope in scopes)


def test_the_page_filters_like_every_view(app: object, data: DashboardData):
    quarter, channel = data.quarters[1], data.channels[0]
    filters = {"present": ["Pay fees"]}
    with app.server.test_request_context():
        _, _, _, rows, _, scope, *_ = update_handover("agency", None, quarter, channel, "performance", "en", filters)
    where = CaseFilter(quarter=quarter, channel=channel, present=["Pay fees"], tz=data.tz)
    kept, _ = kept_groups(handovers(data.store, "agency", where), data.min_group)
    names = {a: data.name("agency", a, "en") for a in {*kept["source"], *kept["target"]}}
    assert rows and _pairs(rows) == {(names[s], names[t]): n for s, t, n in
                                      zip(kept["source"], kept["target"], kept["handovers"], strict=True)}
    assert "1 filter" in scope and quarter in scope


def _answers(response: object) -> bool:
    return "_dash-update-component" in response.url and "ho-network.elements" in (response.request.post_data or "")


_SHOWN = """(expected) => {
  const cy = window.cy;
  if (!cy || cy.nodes().length !== Object.keys(expected).length) return false;
  return cy.nodes().every(n => {
    const want = expected[n.id()], at = n.position();
    return want !== undefined && Math.abs(at.x - want.x) < 0.01 && Math.abs(at.y - want.y) < 0.01;
  });
}"""

_BOXES = """() => window.cy.nodes().map(n => {
  const b = n.renderedBoundingBox({includeLabels: true, includeOverlays: false});
  return {id: n.id(), kind: n.classes()[0], x1: b.x1, x2: b.x2, y1: b.y1, y2: b.y2};
})"""


@pytest.mark.browser
@pytest.mark.timeout(240)
@pytest.mark.parametrize(("by", "lang"), [("agency", "en"), ("agency", "ar"), ("service", "en"), ("service", "ar"),
                                          ("resource", "en")])
def test_the_page_as_chromium_draws_it(page: object, dashboard_url: str, tmp_path, by: str, lang: str):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with page.expect_response(_answers) as answer:
        page.goto(f"{dashboard_url}/handover?lang={lang}&by={by}")
    sent = json.loads(answer.value.text())["response"]
    elements, listed = sent["ho-network"]["elements"], sent["ho-pairs"]["rowData"]
    expected = {e["data"]["id"]: e["position"] for e in elements if "position" in e}
    assert len([e for e in elements if e.get("classes") == "activity"]) >= 4
    page.wait_for_function(_SHOWN, arg=expected)  # the sign that the network the server sent is drawn
    page.wait_for_selector("#ho-pairs .ag-center-cols-container .ag-row")
    page.wait_for_selector("#ho-matrix .ag-center-cols-container .ag-row")
    _check_boxes(page.evaluate(_BOXES), f"{by} in {lang}")
    period = "All quarters" if lang == "en" else "كل الأرباع"
    for part in ("network", "matrix", "pairs"):
        assert period in page.inner_text(f"#ho-{part}-scope")
    assert page.locator("#shell").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    if lang == "ar":
        assert english_words(page.evaluate(SHOWN_TEXT)) == []
    page.screenshot(path=str(SHOTS / f"handover-{by}-{lang}.png"), full_page=True)
    page.locator("#ho-network").screenshot(path=str(SHOTS / f"network-{by}-{lang}.png"))
    with page.expect_download() as download:
        page.click("#ho-pairs-csv")
    saved = tmp_path / "pairs.csv"
    download.value.save_as(saved)
    with saved.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert [row[:2] for row in rows[1:]] == [[row["from"], row["to"]] for row in listed]  # every pair shown, no other
    drawn = len([e for e in elements if e.get("classes") == "segments"])
    assert drawn == len(listed) if len(listed) <= DRAWN_PAIRS else DRAWN_PAIRS <= drawn < len(listed)
