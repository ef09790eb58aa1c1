"""The discover page on the built sample: its callbacks show the newborn bundle and the newborn services that follow
one another, in both languages, with the library's numbers; and the page in Debian's Chromium, with screenshots in
test-artifacts/discover/.

The truth is the sample's catalogue: the newborn life event (the bundle the generator plants) and the services it
lets the government start proactively. The numbers are those of :func:`najma.journeys.discover_bundles` and
:func:`najma.journeys.discover_proactive` on the same store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from najma.dashboards._data import DashboardData
from najma.dashboards._i18n import display_names, text
from najma.dashboards.pages import PAGES, discover
from najma.journeys import CaseFilter, Store, discover_bundles, discover_proactive
from tests.dashboards.conftest import wait_settled
from tests.dashboards.test_arabic_pages import _CUT_LABELS, SHOWN_TEXT, english_words

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "discover"
WAIT = 120  # seconds a test waits at most for a discovery's job
LANGS = ["en", "ar"]


@pytest.fixture(scope="module")
def truth(built_sample: Path) -> dict[str, object]:
    """The newborn life event's services, the services that may start proactively, and the names in each language."""
    with Store(built_sample, read_only=True) as store:
        backend = store.backend
        bundle = backend.table("life_event_services").filter(lambda t: t.life_event == "newborn").to_pandas()
        roles = backend.table("activity_roles")
        proactive = set(roles.filter(roles.role == "proactive_start").service.to_pyarrow().to_pylist())
        names = {lang: display_names(store, lang) for lang in LANGS}
    return {"newborn": frozenset(bundle["service"]), "proactive": proactive, "names": names}


@pytest.fixture
def request_context(app: object) -> Iterator[None]:
    with app.server.test_request_context():
        yield


def _bundles(data: DashboardData, lang: str, quarter: str = discover.ALL, window: object = 60,
             support: object = 1) -> tuple:
    """What the bundle card shows once its job is done (the first call starts it; the test waits for its sign)."""
    discover.show_bundles(quarter, window, support, None, "test", lang)
    key = discover.job_key("bundles", discover.bundles_asked(quarter, window, support))
    assert discover.current_jobs().wait(key, timeout=WAIT).done
    return discover.show_bundles(quarter, window, support, None, "test", lang)


def _proactive(data: DashboardData, lang: str, quarter: str = discover.ALL, within: object = 30,
               share: object = 50) -> tuple:
    """What the proactive card shows once its job is done."""
    discover.show_proactive(quarter, within, share, None, "test", lang)
    key = discover.job_key("proactive", discover.proactive_asked(quarter, within, share))
    assert discover.current_jobs().wait(key, timeout=WAIT).done
    return discover.show_proactive(quarter, within, share, None, "test", lang)


def test_the_page_is_in_the_menu_in_both_languages(request_context: None) -> None:
    assert discover in PAGES
    for lang, title in (("en", "Discover"), ("ar", "اكتشاف")):
        page = discover.layout(lang)
        assert page.children[0].children == title == text("page_discover", lang)


@pytest.mark.parametrize("lang", LANGS)
def test_the_newborn_bundle_is_shown_with_its_life_event_and_adopt_command(
        request_context: None, data: DashboardData, built_sample: Path, truth: dict, lang: str) -> None:
    rows, shown_scope, status, stopped = _bundles(data, lang)
    assert stopped and status == ""
    with Store(built_sample, read_only=True) as store:
        found = discover_bundles(store, window_days=60, min_support=0.01)
    newborn = [r for r in rows if frozenset(r["services"]) == truth["newborn"]]
    assert len(newborn) == 1, [r["names"] for r in rows]
    row = newborn[0]
    expected = found.table[found.table["services"].map(frozenset) == truth["newborn"]].iloc[0]
    assert (row["rank"], row["customers"], row["support"], row["lift"], row["steps_saved"]) == (
        expected["rank"], expected["customers"], expected["support"], expected["lift"], expected["steps_saved"])
    names = truth["names"][lang]
    separator = "، " if lang == "ar" else ", "
    assert row["names"] == separator.join(names["service"][s] for s in expected["services"])  # the usual order
    assert row["catalogued"] == names["life_event"]["newborn"]
    assert row["adopt"] == text("dc_adopted", lang)  # a life event already: nothing to adopt
    # The card names its period, its selection, its thresholds and the customers it stands on.
    words = {"en": ("All quarters", "All services", "window 60 days", "support at least 1%",
                    f"{found.customers:,} customers in {found.episodes:,} episodes"),
             "ar": ("كل الأرباع", "كل الخدمات", "نافذة 60 يوماً", "دعم لا يقل عن 1%",
                    f"{found.customers:,} متعامل في {found.episodes:,} فترة")}[lang]
    assert all(w in shown_scope for w in words), shown_scope
    assert [r["rank"] for r in rows] == sorted(r["rank"] for r in rows)  # best first


@pytest.mark.parametrize("lang", LANGS)
def test_the_newborn_services_that_start_proactively_follow_their_trigger(
        request_context: None, data: DashboardData, built_sample: Path, truth: dict, lang: str) -> None:
    rows, shown_scope, status, stopped, selected = _proactive(data, lang)
    assert stopped and status == ""
    with Store(built_sample, read_only=True) as store:
        found = discover_proactive(store, within_days=30, min_share=0.5)
    followers = {r["follower"] for r in rows}
    assert truth["proactive"] & truth["newborn"] <= followers, followers
    names = truth["names"][lang]["service"]
    library = found.table.set_index("follower")
    for row in rows:
        assert row["trigger"] in truth["newborn"]
        assert (row["trigger_name"], row["follower_name"]) == (names[row["trigger"]], names[row["follower"]])
        assert (row["share"], row["followed"]) == (library.at[row["follower"], "share"],
                                                   library.at[row["follower"], "followed"])
    assert "lag_histogram" not in rows[0]  # the days of fewer than min_group customers never reach the browser
    assert selected == {"ids": [rows[0]["key"]]}
    assert ("All quarters" if lang == "en" else "كل الأرباع") in shown_scope

    # The lag of the row selected: merged bars of at least min_group customers each, summing to those followed.
    figure, caption = discover.show_lag(selected, discover.ALL, 30, 50, lang)
    bars = figure.data[0]
    assert sum(bars.y) == rows[0]["followed"]
    assert all(y >= data.min_group for y in bars.y if y)  # a day of fewer customers is never a bar of its own
    title = figure.layout.title.text
    assert names[rows[0]["trigger"]] in title and names[rows[0]["follower"]] in title
    assert caption == shown_scope
    # Another row clicked in the grid (the grid sends its rows) draws that row's lag.
    other, _ = discover.show_lag([rows[1]], discover.ALL, 30, 50, lang)
    assert names[rows[1]["follower"]] in other.layout.title.text


def test_the_lag_bars_of_few_customers_are_merged(request_context: None, data: DashboardData) -> None:
    rows, *_ , selected = _proactive(data, "en")
    for row in rows:
        figure, _ = discover.show_lag([row], discover.ALL, 30, 50, "en")
        assert all(y >= data.min_group for y in figure.data[0].y if y), row["key"]


@pytest.mark.parametrize("lang", LANGS)
def test_a_bundle_not_yet_a_life_event_shows_the_command_that_adopts_it(
        request_context: None, data: DashboardData, lang: str) -> None:
    _bundles(data, lang)
    found = discover.current_jobs().state(discover.job_key("bundles", discover.bundles_asked("all", 60, 1))).value
    unnamed = replace(found, table=found.table.assign(life_event=None))  # as if the catalogue had no newborn
    rows, _ = discover.bundle_rows(unnamed, lang)
    services = found.table.loc[0, "services"]
    command = (f"najma discover adopt --services {','.join(services)} --as {services[0]}_to_{services[-1]} "
               "--catalogue CATALOGUE.toml --window-days 60")
    assert rows[0]["adopt"] == (f"\u2066{command}\u2069" if lang == "ar" else command)
    assert rows[0]["catalogued"] == text("dc_not_yet", lang)


def test_a_quarter_is_a_selection_the_cards_name(request_context: None, data: DashboardData,
                                                   built_sample: Path) -> None:
    quarter = data.quarters[0]
    rows, shown_scope, _, _ = _bundles(data, "en", quarter)
    with Store(built_sample, read_only=True) as store:
        found = discover_bundles(store, window_days=60, min_support=0.01, where=CaseFilter(quarter=quarter, tz=data.tz))
    assert shown_scope.startswith(f"{quarter} · All services")
    assert f"{found.customers:,} customers" in shown_scope
    assert [r["customers"] for r in rows] == [c for c in found.table["customers"] if c >= data.min_group]
    _, proactive_scope, *_ = _proactive(data, "ar", quarter)
    assert proactive_scope.startswith("الربع")


@pytest.mark.parametrize("lang", LANGS)
def test_empty_results_say_so_and_suggest_lowering_the_threshold(request_context: None, data: DashboardData,
                                                                  lang: str) -> None:
    rows, _, status, _ = _bundles(data, lang, support=100)
    assert rows == [] and status == text("dc_no_bundles", lang).format(support="100%", days=60)
    rows, _, status, _, selected = _proactive(data, lang, share=100)
    assert rows == [] and selected == {"ids": []}
    assert status == text("dc_no_proactive", lang).format(share="100%", days=30)
    assert ("lower" in status) if lang == "en" else ("اخفض" in status)


def test_typed_thresholds_are_checked_before_they_are_asked(request_context: None) -> None:
    assert discover.bundles_asked("2099Q1", None, "abc") == (None, 60, 0.01)
    assert discover.bundles_asked(None, 0, -3) == (None, 1, 0.01)
    assert discover.proactive_asked(None, 10**9, 250) == (None, discover.MOST_DAYS, 1.0)


def test_a_candidate_of_fewer_customers_than_the_small_group_rule_is_not_shown(
        request_context: None, data: DashboardData) -> None:
    _bundles(data, "en")
    found = discover.current_jobs().state(discover.job_key("bundles", discover.bundles_asked("all", 60, 1))).value
    few = found.table.copy()
    few.loc[0, "customers"] = data.min_group - 1
    rows, status = discover.bundle_rows(replace(found, table=few), "en")
    assert [r["rank"] for r in rows] == list(few["rank"][1:])
    assert status == text("dc_hidden", "en").format(n=data.min_group)


# -- in Debian's Chromium -----------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.timeout(300)
@pytest.mark.parametrize("lang", LANGS)
def test_the_discover_page_in_chromium(page: object, dashboard_url: str, truth: dict, lang: str) -> None:
    names = truth["names"][lang]["service"]
    page.goto(f"{dashboard_url}/discover?lang={lang}")
    page.wait_for_selector(f"#shell[dir='{'rtl' if lang == 'ar' else 'ltr'}']")
    page.wait_for_selector("#dc-bundles .ag-center-cols-container .ag-row")
    page.wait_for_selector("#dc-proactive .ag-center-cols-container .ag-row")
    page.wait_for_selector("#dc-lag .xtick")
    wait_settled(page)
    services = page.locator("#dc-bundles .ag-center-cols-container [col-id='names']").all_inner_texts()
    newborn = [s for s in services if all(names[k] in s for k in truth["newborn"])]
    assert len(newborn) == 1, services
    catalogued = page.locator("#dc-bundles .ag-center-cols-container [col-id='catalogued']").all_inner_texts()
    assert truth["names"][lang]["life_event"]["newborn"] in catalogued
    followers = set(page.locator("#dc-proactive .ag-center-cols-container [col-id='follower_name']").all_inner_texts())
    assert {names[s] for s in truth["proactive"] & truth["newborn"]} <= followers
    assert page.inner_text("#nav-discover") == text("page_discover", lang)
    assert page.evaluate(_CUT_LABELS) == [], "labels cut off at the edge of their chart"
    if lang == "ar":
        assert english_words(page.evaluate(SHOWN_TEXT)) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"discover-{lang}.png"), full_page=True)

    # A click on another candidate draws its lag.
    second = page.locator("#dc-proactive .ag-center-cols-container .ag-row[row-index='1']")
    follower = second.locator("[col-id='follower_name']").inner_text().strip()
    second.click()
    page.wait_for_selector(f"#dc-lag .gtitle:has-text('{follower}')")
    assert follower in page.text_content("#dc-lag .gtitle")


@pytest.mark.parametrize("lang", LANGS)
def test_figures_a_bare_log_cannot_support_show_no_data_and_what_they_need(
        request_context: None, data: DashboardData, store: Store, lang: str) -> None:
    from najma.journeys import build_journeys
    from tests.dashboards.test_cli_discover import bare_clicks

    store.ingest_frame(bare_clicks(customers=data.min_group + 2))
    build_journeys(store)
    (row,), status = discover.bundle_rows(discover_bundles(store, min_episodes=2), lang)
    assert [row[f] for f in ("visits", "customer_steps", "documents_repeated", "steps_saved", "visits_saved")] == [None] * 5
    assert row["days"] > 0 and row["customers"] == data.min_group + 2
    services = "، ".join(["forms", "portal"]) if lang == "ar" else "forms, portal"
    needs = text("dc_no_data", lang).format(figures=text("dc_steps", lang) + ("، " if lang == "ar" else ", ")
                                            + text("dc_steps_saved", lang), needs=text("dc_need_steps", lang),
                                            services=services)
    assert needs in status and status.count(text("dc_no_data", lang).split("{")[0]) == 3  # agency, steps, catalogue
    columns = {c["field"]: c for c in discover._bundle_columns(lang)}
    no_data = json.dumps(text("no_data_short", lang))  # as the formatter holds it
    assert all(no_data in columns[f]["valueFormatter"]["function"] for f in ("visits", "steps_saved"))
    assert no_data not in columns["days"]["valueFormatter"]["function"]
    (row,), status = discover.proactive_rows(discover_proactive(store, min_customers=2), lang)
    assert [row[f] for f in ("already_proactive", "application_steps", "visits")] == [None] * 3
    assert row["days_saved"] > 0 and text("dc_need_steps", lang) in status and "portal" not in status
    columns = {c["field"]: c for c in discover._proactive_columns(lang)}
    assert all(no_data in columns[f]["valueFormatter"]["function"] for f in ("already_proactive", "application_steps"))
