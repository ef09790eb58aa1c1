"""The service page's rework section: the selection's counts as the library makes them, its period and selection
named, in English and Arabic, activities of too few customers left out; and the section as Chromium draws it."""

from __future__ import annotations

from pathlib import Path

import pytest

from najma.dashboards._data import DashboardData
from najma.dashboards._i18n import quarter_text, text
from najma.dashboards.pages import service
from najma.journeys import CaseFilter, rework
from tests.dashboards.conftest import CHROMIUM

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "REWORK"


def _ids(component: object) -> set[str]:
    """The ids of `component` and of everything in it."""
    found = {getattr(component, "id", None)}
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str):
            found |= _ids(child)
    return found - {None}


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_page_has_a_rework_section_in_each_language(app: object, lang: str) -> None:
    with app.server.test_request_context():
        page = service.layout(lang, service="passport", quarter="2025Q1")
    assert {"sv-rework", "sv-rework-scope", "sv-rework-summary", "sv-rework-definition", "sv-rework-csv"} <= _ids(page)
    headers = [c["headerName"] for c in service._rework_columns(lang)]
    assert text("rw_self_loops", lang) in headers and text("rw_redo", lang).format(kind=text("rw_repetitions", lang)) in headers


def test_the_rework_of_a_quarter_is_the_librarys_with_its_period_and_selection(app: object, data: DashboardData) -> None:
    with app.server.test_request_context():
        scope, summary, rows = service.update_rework("passport", "2025Q1", None, "en")
    assert scope.startswith(f"{quarter_text('2025Q1', 'en')} · {text('ex_no_filter', 'en')}")
    where = CaseFilter(service="passport", quarter="2025Q1", tz=data.tz)
    total = rework(data.store, where).iloc[0]
    counts = summary[0].children
    assert counts.startswith(f"{total.cases_with_rework:,} of {total.cases:,} cases with rework")
    assert f"repetitions {total.repetitions:,} (repeat {total.repetitions_repeat:,}, redo {total.repetitions_redo:,}" in counts
    assert total.repetitions_repeat > 0 and total.repetitions_redo > 0  # the sample's staff redo each other's work
    activities = rework(data.store, where, by="activity")
    kept = activities[activities.customers >= data.min_group]
    assert sorted(r["activity"] for r in rows) == sorted(data.name("activity", a, "en") for a in kept.activity)
    assert sum(r["repetitions_redo"] for r in rows) == kept.repetitions_redo.sum()
    assert "sv-rework-no-resource" not in {getattr(line, "id", None) for line in summary}  # the sample names staff


def test_a_filter_narrows_the_rework_and_is_named(app: object, data: DashboardData) -> None:
    filters = {"present": ["Resubmit documents"]}
    with app.server.test_request_context():
        scope, summary, _ = service.update_rework("passport", "2025Q1", None, "ar", filters)
    assert scope.startswith(f"{quarter_text('2025Q1', 'ar')} · {text('ex_filters_n_one', 'ar').format(n=1)}")
    where = CaseFilter(service="passport", quarter="2025Q1", present=["Resubmit documents"], tz=data.tz)
    total = rework(data.store, where).iloc[0]
    assert total.cases == total.cases_with_rework  # resubmitting is itself a repetition of a step
    assert summary[0].children.startswith(text("rw_summary", "ar").split("{")[0] + f"{total.cases_with_rework:,}")


def test_a_selection_asked_again_is_answered_from_what_was_kept(app: object, data: DashboardData) -> None:
    filters = {"present": ["Pay fees"]}  # a selection no other test asks for, so its first answer is worked out
    kept = (data.rework, data.rework_names_resources)
    before = [cache.cache_info() for cache in kept]
    with app.server.test_request_context():
        first = service.update_rework("passport", "2025Q2", None, "en", filters)
        asked = [cache.cache_info() for cache in kept]
        again = service.update_rework("passport", "2025Q2", None, "en", filters)
    after = [cache.cache_info() for cache in kept]
    assert repr(again) == repr(first)
    assert [a.misses - b.misses for a, b in zip(asked, before, strict=True)] == [2, 1]  # per service and activity; once
    assert [a.misses for a in after] == [a.misses for a in asked]
    assert [a.hits - b.hits for a, b in zip(after, asked, strict=True)] == [2, 1]

def test_activities_of_too_few_customers_are_left_out_and_a_small_selection_shows_nothing(
        app: object, built_sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    strict = DashboardData(built_sample, draws=0, min_group=150)
    monkeypatch.setattr(service, "current_data", lambda: strict)
    try:
        _, summary, rows = service.update_rework("passport", "2025Q1", None, "en")
        hidden = next(line for line in summary if getattr(line, "id", None) == "sv-rework-hidden")
        every = rework(strict.store, strict.where("passport", "2025Q1"), by="activity")
        assert hidden.children == text("rw_hidden", "en").format(n=len(every) - len(rows), min=150)
        assert len(every) > len(rows) > 0
        assert all(r["cases"] >= 150 for r in rows)
        _, summary, rows = service.update_rework("passport", "2025Q1", None, "en", {"present": ["Resubmit documents"]})
        assert rows == [] and summary.children == text("too_few", "en").format(n=150)
    finally:
        strict.close()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_rework_section_as_chromium_draws_it(dashboard_url: str, page: object, lang: str) -> None:
    page.goto(f"{dashboard_url}/service?service=passport&quarter=2025Q1&lang={lang}")
    counts = page.locator("#sv-rework-counts")
    counts.wait_for()
    page.locator("#sv-rework .ag-row").first.wait_for()
    section = page.locator(".mantine-Paper-root", has=page.locator("#sv-rework"))
    section.scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(SHOTS / f"rework-section-{lang}.png"))
    assert text("rw_title", lang) in section.inner_text()
    assert page.locator("#sv-rework-scope").inner_text().startswith(quarter_text("2025Q1", lang))
    assert page.locator("#sv-rework .ag-row").count() >= 5
    first = page.locator("#sv-rework .ag-row[row-index='0'] [col-id='repetitions']")
    assert int(first.first.inner_text()) > 0  # the most reworked activity first (passport's rework: repetitions)
