"""The dashboard served by `najma dashboard` on the built sample, and Debian's Chromium driven by Playwright.

Every page a test opens is checked for console errors when the test ends, and its screenshot is
kept in test-artifacts/dashboard/ (one per test, named after it).
"""

from __future__ import annotations

import os
import re
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from najma.dashboards._app import create_app
from najma.dashboards._data import DashboardData
from tests.conftest import started

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
CHROMIUM = "/usr/bin/chromium"
#: The bootstrap draws of the served ratings: enough to show the uncertainty, few enough to start fast.
DRAWS = 50
#: The quarter of the report the tests share.
REPORT_QUARTER = "2025Q4"
#: True once the Dash app has no callback requested, waiting, running or about to update the page: what dash.testing's
#: own wait reads from the renderer's store. A page's sections come from chained callbacks, and between two links of a
#: chain neither the network nor a loading flag is busy, so those two signs alone can come too early.
_SETTLED = """() => {
    if (!window.store) { return false; }
    const callbacks = Object.assign({}, window.store.getState().callbacks);
    delete callbacks.stored;
    delete callbacks.completed;
    return Object.values(callbacks).every((waiting) => waiting.length === 0);
}"""


def wait_settled(page: object) -> None:
    """Wait until the Dash page in `page` (a Playwright page) has run every callback its state asks for."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function(_SETTLED)
    page.wait_for_function("!document.querySelector('[data-dash-is-loading=\"true\"]')")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def dashboard_url(built_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of `najma dashboard` serving the built sample."""
    port = _free_port()
    log = tmp_path_factory.mktemp("dashboard") / "server.log"
    env = {**os.environ, "NAJMA_KEY_FILE": str(tmp_path_factory.mktemp("dashboard-key") / "k.key")}
    command = [sys.executable, "-m", "najma", "dashboard", "--store", str(built_sample),
               "--port", str(port), "--draws", str(DRAWS)]
    server = started(command, "najma dashboard on", log, env)
    url = f"http://127.0.0.1:{port}"
    yield url
    server.terminate()
    server.wait(timeout=20)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Chromium from Debian's package."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run bash scripts/system-packages.sh (Debian's chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh browser page; at the end its screenshot is kept and it must have logged no error."""
    context = browser.new_context(viewport={"width": 1400, "height": 3200}, locale="en-GB")
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    errors: list[str] = []
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")  # parameters may hold "/" and "?"
    opened.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()
    assert errors == [], f"the browser logged errors: {errors}"


@pytest.fixture(scope="session")
def drawn_data(built_sample: Path) -> Iterator[DashboardData]:
    """The dashboard's data of the built sample with DRAWS bootstrap draws, as the served dashboard has them."""
    loaded = DashboardData(built_sample, draws=DRAWS)
    yield loaded
    loaded.close()


@pytest.fixture(scope="session")
def app(data: DashboardData) -> Iterator[object]:
    """The dashboard app over `data`, its background jobs closed at the end."""
    made = create_app(data)
    yield made
    made.server.config["NAJMA_JOBS"].close()


@pytest.fixture(scope="session")
def written_report(built_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The folder of the report of REPORT_QUARTER in a language, written (HTML and PDF) by ``najma report`` with DRAWS
    draws once for the session, when first asked for: the tests that only read it share it."""
    from typer.testing import CliRunner

    from najma.dashboards.cli import app as cli

    written: dict[str, Path] = {}

    def folder(lang: str) -> Path:
        if lang not in written:
            out = tmp_path_factory.mktemp(f"report-{lang}")
            result = CliRunner().invoke(cli, ["report", "--quarter", REPORT_QUARTER, "--lang", lang, "--store", str(built_sample),
                                              "--draws", str(DRAWS), "--out", str(out)])
            assert result.exit_code == 0, result.output
            written[lang] = out
        return written[lang]

    return folder
