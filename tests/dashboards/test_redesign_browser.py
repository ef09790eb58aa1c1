"""The redesign page in Debian's Chromium: a plan of two changes, projected in the background, labelled with its
plan, and gone once another service is chosen; in English and Arabic, with screenshots in test-artifacts/redesign/."""

from __future__ import annotations

from pathlib import Path

import pytest

from najma.dashboards._i18n import display_names, listed, text
from najma.dashboards.pages import redesign
from najma.journeys import MergeActivities, RemoveActivity, Store
from najma.rating import rate, what_if
from tests.dashboards.conftest import DRAWS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "redesign"
VISIT, SUBMIT, UPLOAD = "Visit service centre", "Submit application", "Upload documents"
PLAN = [RemoveActivity(VISIT), MergeActivities([SUBMIT, UPLOAD], "Apply online")]


@pytest.fixture(scope="module")
def expected(built_sample: Path) -> tuple[str, dict[str, dict[str, dict[str, str]]], int]:
    """The latest quarter, the names shown in each language, and the stars najma projects for the plan."""
    with Store(built_sample, read_only=True) as store:
        quarter = max(rate(store, draws=0)["quarter"])
        names = {lang: display_names(store, lang) for lang in ("en", "ar")}
        projected = what_if(store, "passport", PLAN, quarter=quarter, draws=DRAWS).set_index("scenario")
    return quarter, names, int(projected.loc["redesign", "stars"])


def _pick(page: object, select: str, *names: str) -> None:
    """Pick `names` in the Mantine (multi-)select whose input has the id `select`, then close it."""
    page.click(f"#{select}")
    for name in names:
        page.get_by_role("option", name=name, exact=True).click()
    page.keyboard.press("Escape")


def _pills(page: object) -> int:
    """How many activities the picker holds."""
    return page.locator(".mantine-MultiSelect-pill").count()


def _shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_two_change_plan_is_projected_labelled_and_cleared_by_another_service(
        page: object, dashboard_url: str, expected: tuple, lang: str) -> None:
    quarter, names, stars = expected
    activity = {a: names[lang]["activity"].get(a, a) for a in (VISIT, SUBMIT, UPLOAD)}  # a name not given is its key
    page.goto(f"{dashboard_url}/redesign?service=passport&lang={lang}")
    page.wait_for_selector("#rd-plan-note:not(:empty)")

    _pick(page, "rd-activities", activity[VISIT])
    assert _pills(page) == 1
    page.get_by_role("button", name=text("add_change", lang)).click()
    page.wait_for_selector("#rd-plan-list li >> nth=0")
    assert _pills(page) == 0  # the picker is cleared: the next change does not carry this activity

    page.locator("#rd-kind").get_by_text(text("merge", lang), exact=True).click()
    _pick(page, "rd-activities", activity[SUBMIT], activity[UPLOAD])
    page.fill("#rd-into", "Apply online")
    page.get_by_role("button", name=text("add_change", lang)).click()
    page.wait_for_selector("#rd-plan-list li >> nth=1")
    assert _pills(page) == 0 and page.input_value("#rd-into") == ""
    items = page.locator("#rd-plan-list li").all_inner_texts()
    assert len(items) == 2 and items[0].startswith(f"{text('remove', lang)}: {activity[VISIT]}")

    page.get_by_role("button", name=text("apply", lang)).click()
    page.wait_for_selector("#rd-stars-redesign", timeout=120_000)
    caption = page.inner_text("#rd-caption")
    assert caption.startswith(text("projection_of", lang).split("{")[0])
    assert names[lang]["service"]["passport"] in caption
    assert f"1. {text('remove', lang)}: {activity[VISIT]}" in caption
    merged = listed([activity[SUBMIT], activity[UPLOAD]], lang) + redesign._ARROW[lang] + "Apply online"
    assert f"2. {text('merge', lang)}: {merged}" in caption
    assert page.inner_text("#rd-stars-redesign").endswith("★" * stars)
    assert page.locator("#rd-result .ag-center-cols-container .ag-row").count() > 5
    assert page.locator("#rd-result [col-id='difference']").count() > 5
    _shot(page, f"projection_{lang}")

    _pick(page, "rd-service", names[lang]["service"]["trade_licence"])
    page.wait_for_selector("#rd-stars-redesign", state="detached")
    page.wait_for_selector("#rd-caption:empty", state="attached")
    assert page.locator("#rd-plan-list li").count() == 0
    assert page.locator("#rd-result .ag-center-cols-container .ag-row").count() == 0
    assert page.inner_text("#rd-plan-note") == text("empty_plan", lang)
    assert quarter  # the projection above was of this quarter, the page's first
    _shot(page, f"after_switch_{lang}")
