"""Every real log, and copies of it with columns taken away and rows shuffled, through all a user runs.

Each store holds the four real logs of ``../shared/data/real``, one service each, in one shape:

- ``as_read``: the files as the README loads them (no channel and no customer column in any of them);
- ``customer_no_resource``: CSV copies without the resource column, rows shuffled, the clicks log
  with its visitor (``IPID``) mapped as the customer;
- ``three_columns``: CSV copies with only case, activity and timestamp, rows shuffled.

Each store goes through ``najma ingest``, ``catalogue draft`` and ``catalogue use``, ``journeys``,
``variants``, ``map``, ``rate``, ``explain`` and ``report`` (HTML and PDF, English and Arabic), then
one ``najma dashboard`` serves it and every page is opened in both languages in headless Chromium:
no traceback, no console error, and no empty figure without the line that says why.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html import escape as html_text
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from najma.dashboards._i18n import column_notes, kpi_label, text
from najma.dashboards.cli import app
from najma.journeys import Store
from najma.rating import case_features
from tests.conftest import REAL, started
from tests.dashboards.conftest import ARTIFACTS, CHROMIUM, _free_port, wait_settled

pytestmark = pytest.mark.timeout(900)

#: The real logs: file, service, the --map of the file as read, the columns of its copies beyond case, activity, time.
XES_MAP = "case=case:concept:name,activity=concept:name,timestamp=time:timestamp"
CLICKS_MAP = "case=SessionID,activity=PAGE_NAME,timestamp=TIMESTAMP"


@dataclass(frozen=True)
class RealLog:
    file: str
    service: str
    map_: str | None
    sep: str | None = None


LOGS = (
    RealLog("receipt.xes.gz", "wabo_receipt", None),
    RealLog("roadtraffic100traces.xes", "road_fines", None),
    RealLog("running-example.xes", "running_example", None),
    RealLog("BPI2016_Clicks_NOT_Logged_In_sample1000.csv", "uwv_website", CLICKS_MAP, ";"),
)
#: The shapes of the logs: as read (no channel, no customer), and copies with rows shuffled, with a customer but no
#: resource, or with only case, activity and timestamp. The middle one, whose columns the other two and the sample
#: cover between them, is opt-in (-m heavy) to keep the default suite within its time.
SHAPES = ("as_read", pytest.param("customer_no_resource", marks=pytest.mark.heavy), "three_columns")
#: Bootstrap draws: enough to run the uncertainty's code, few enough to be quick.
DRAWS = 10
#: The text of an unhandled Python error, which must never reach a user.
TRACEBACK = "Traceback (most recent call last)"


def _read(log: RealLog) -> pd.DataFrame:
    """The log's events as a frame with its own column names (pm4py reads the XES files: the oracle's reader)."""
    path = REAL / log.file
    if log.sep is not None:
        return pd.read_csv(path, sep=log.sep, dtype=str)
    import pm4py

    return pm4py.read_xes(str(path))


def _copy(log: RealLog, shape: str, folder: Path) -> tuple[Path, str, str | None]:
    """A CSV copy of `log` in `shape`, rows shuffled: its path, --map and --sep."""
    frame = _read(log)
    if log.sep is None:
        three = {"case": "case:concept:name", "activity": "concept:name", "timestamp": "time:timestamp"}
    else:
        three = {"case": "SessionID", "activity": "PAGE_NAME", "timestamp": "TIMESTAMP"}
    mapped = dict(three)
    if shape == "three_columns":
        frame = frame[list(three.values())]
    else:
        frame = frame.drop(columns=[c for c in ("org:resource",) if c in frame.columns])
        if "lifecycle:transition" in frame.columns:
            mapped["lifecycle"] = "lifecycle:transition"
        if "IPID" in frame.columns:
            mapped["customer"] = "IPID"
    frame = frame.sample(frac=1.0, random_state=20).reset_index(drop=True)
    path = folder / f"{Path(log.file).name.split('.')[0]}-{shape}.csv"
    frame.to_csv(path, index=False, sep=log.sep or ",")
    return path, ",".join(f"{k}={v}" for k, v in mapped.items()), log.sep


def _najma(*args: str) -> str:
    """Run a najma command in this process; it must succeed without a traceback. Returns its output."""
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=True)
    shown = result.output + (f"\n{result.exception!r}" if result.exception and result.exit_code != 0 else "")
    assert result.exit_code == 0 and TRACEBACK not in shown, f"najma {' '.join(map(str, args))} failed:\n{shown}"
    return result.output


@dataclass
class Built:
    shape: str
    store: Path
    folder: Path
    latest: dict[str, str]  # the latest quarter of each service
    cases: dict[str, int]  # the cases of each service


@pytest.fixture(scope="module", params=SHAPES)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """A store holding the four real logs in one shape, loaded, catalogued and built through the CLI."""
    shape = request.param
    folder = tmp_path_factory.mktemp(shape)
    store = folder / "real.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAJMA_KEY_FILE", str(folder / "pseudonym.key"))
        patch.delenv("NAJMA_STORE", raising=False)
        for log in LOGS:
            if shape == "as_read":
                path, mapping, sep = REAL / log.file, log.map_, log.sep
            else:
                path, mapping, sep = _copy(log, shape, folder)
            _najma("ingest", path, "--store", store, "--service", log.service, "--tz", "Europe/Amsterdam",
                   *(["--map", mapping] if mapping else []), *(["--sep", sep] if sep else []))
        _najma("catalogue", "draft", "--out", folder / "draft.toml", "--store", store)
        _najma("catalogue", "use", folder / "draft.toml", "--store", store)
        with Store(store, read_only=True) as opened:
            features = case_features(opened)
        latest = features.groupby("service")["quarter"].max().to_dict()
        cases = features.groupby("service").size().to_dict()
        assert set(latest) == {log.service for log in LOGS}
        yield Built(shape, store, folder, latest, cases)


def test_every_command_runs_on_the_store(built: Built) -> None:
    store = built.store
    _najma("journeys", "--store", store)
    for service, quarter in built.latest.items():
        _najma("variants", "--store", store, "--service", service)
        _najma("map", "--store", store, "--service", service, "--measure", "performance")
        table = built.folder / f"rate-{service}.csv"
        _najma("rate", "--quarter", quarter, "--store", store, "--draws", DRAWS, "--no-record", "--out", table)
        assert service in set(pd.read_csv(table)["service"])
        explained = _najma("explain", "--service", service, "--quarter", quarter, "--store", store, "--draws", DRAWS)
        assert service in explained


def test_the_report_is_written_in_both_languages(built: Built) -> None:
    quarter = built.latest["wabo_receipt"]
    for lang in ("en", "ar"):
        out = built.folder / f"report-{lang}"
        _najma("report", "--quarter", quarter, "--lang", lang, "--store", built.store, "--draws", DRAWS, "--out", out)
        html = (out / f"rating-report-{quarter}-{lang}.html").read_text(encoding="utf-8")
        assert TRACEBACK not in html and "nan" not in html.lower().split()
        for line in column_notes(frozenset({"resource"}), lang):  # the receipt log has no customer, channel, cost, ...
            assert html_text(line) in html
        assert html_text(text("no_completed", lang)) in html  # a draft catalogue names no approval: no chart, its reason
        assert (out / f"rating-report-{quarter}-{lang}.pdf").stat().st_size > 1000


#: In the page: every section with an empty figure (a plotly graph with nothing drawn, a grid
#: without rows, a map without nodes) and the reason lines it shows.
_EMPTY_WITHOUT_REASON = """() => {
  const found = [];
  for (const section of document.querySelectorAll('.mantine-Paper-root')) {
    const title = section.querySelector('h4') ? section.querySelector('h4').innerText : '?';
    const reasons = [...section.querySelectorAll('.najma-reason')].map(e => e.innerText.trim()).filter(t => t);
    const empty = [];
    for (const plot of section.querySelectorAll('.js-plotly-plot')) {
      if (!plot.querySelector('.trace, .hm, .sankey-node, .heatmaplayer image')) empty.push('chart ' + plot.id);
    }
    for (const grid of section.querySelectorAll('.ag-root-wrapper')) {
      if (!grid.querySelector('.ag-center-cols-container .ag-row')) empty.push('table');
    }
    if (empty.length && !reasons.length) found.push(title + ': ' + empty.join(', '));
  }
  return found;
}"""


def _receipt_problems(page: object, address: str, lang: str) -> list[str]:
    """What the receipt log's service page must say: each case is a customer, channel switches have no data."""
    body = page.inner_text("body")
    found = [] if text("cases_as_customers", lang) in body else [f"{address}: does not say cases count as customers"]
    if text("too_few", lang).format(n=10) in body:
        found.append(f"{address}: suppressed although every case is a customer")
    row = page.locator("#sv-kpis .ag-center-cols-container .ag-row", has_text=kpi_label("channel_switches", lang))
    row.first.wait_for()
    if not row.first.locator("[col-id='value']").inner_text().strip().startswith(text("no_data", lang)):
        found.append(f"{address}: channel switches shown without a channel column")
    return found


def _pages(built: Built) -> list[str]:
    services = sorted(built.latest)
    return ["/", *(f"/service?service={s}" for s in services), "/journeys", f"/redesign?service={services[0]}", "/data"]


@pytest.fixture(scope="module")
def served(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`najma dashboard` serving the store."""
    port = _free_port()
    log = built.folder / "dashboard.log"
    env = {**os.environ, "NAJMA_KEY_FILE": str(built.folder / "pseudonym.key")}
    server = started([sys.executable, "-m", "najma", "dashboard", "--store", str(built.store), "--port", str(port),
                      "--draws", str(DRAWS)], "najma dashboard on", log, env)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=20)
    assert TRACEBACK not in log.read_text(), log.read_text()


def _page_problems(page: object, address: str, shape: str, lang: str, path: str) -> list[str]:
    """Open `address` and list what is wrong on it; its screenshot is kept in test-artifacts/dashboard/."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(address)
    page.wait_for_selector("#shell[dir='rtl']" if lang == "ar" else "#shell[dir='ltr']")
    wait_settled(page)
    body = page.inner_text("body")
    name = f"{shape}-{lang}-{path.strip('/').replace('?', '-').replace('=', '-') or 'overview'}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"real-{name}.png"), full_page=True)
    problems = [f"{address}: console: {e}" for e in errors]
    if TRACEBACK in body or "Callback error" in body:
        problems.append(f"{address}: an error is shown")
    problems += [f"{address}: empty without a reason: {e}" for e in page.evaluate(_EMPTY_WITHOUT_REASON)]
    if "service=wabo_receipt" in path:  # 1,434 cases, no customer and no channel column
        problems += _receipt_problems(page, address, lang)
    return problems


def _visit(built: Built, served: str) -> list[str]:
    """Every page of the dashboard in both languages, in a Chromium of its own: what is wrong on each."""
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        for lang in ("en", "ar"):
            context = browser.new_context(viewport={"width": 1400, "height": 3200})
            context.set_default_timeout(60_000)
            for path in _pages(built):
                page = context.new_page()
                address = served + path + ("&" if "?" in path else "?") + f"lang={lang}"
                problems += _page_problems(page, address, built.shape, lang, path)
                page.close()
            context.close()
        browser.close()
    return problems


@pytest.mark.parametrize("built", ["as_read"], indirect=True)
def test_every_dashboard_page_shows_its_figures_or_says_why(built: Built, served: str) -> None:
    _no_page_problems(built, served)


@pytest.mark.heavy  # the same pages of logs cut to three columns: 50 s more, so opt-in
@pytest.mark.parametrize("built", ["three_columns"], indirect=True)
def test_every_dashboard_page_of_three_columns_shows_its_figures_or_says_why(built: Built, served: str) -> None:
    _no_page_problems(built, served)


def _no_page_problems(built: Built, served: str) -> None:
    # Playwright's sync API runs an event loop in its thread, and the dashboard tests' session-wide
    # browser may hold this one: the pages are visited from a thread of their own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        problems = pool.submit(_visit, built, served).result()
    assert problems == [], "\n".join(problems)
