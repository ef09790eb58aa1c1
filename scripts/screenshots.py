"""Take README's screenshots: the dashboard's pages and the first page of the rating report.

Usage: ``python scripts/screenshots.py [--store najma.duckdb] [--quarter 2025Q4] [--out docs/images]``.
The store is filled with the bundled sample when it does not exist. Needs Debian's Chromium
(``bash scripts/system-packages.sh``) and the test extra (Playwright). Takes about a minute.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

from najma.journeys import Store
from najma.sample import load_sample

CHROMIUM = "/usr/bin/chromium"
#: Each shot: file name, page address, a selector that is there once the page has drawn, an action, its height.
SHOTS = [
    ("overview.png", "/", "#ov-grid .ag-row", None, 860),
    ("service.png", "/service?service=trade_licence", "#sv-map canvas", None, 1000),
    ("journey-map.png", "/service?service=trade_licence", "#sv-map canvas", "map", 1000),
    ("customer-journeys.png", "/journeys", "#cj-sankey .main-svg", None, 860),
    ("redesign.png", "/redesign?service=trade_licence", "#rd-activities", "redesign", 860),
    ("data.png", "/data", "#dq-coverage .main-svg", None, 860),
    ("overview-ar.png", "/?lang=ar", "#ov-grid .ag-row", None, 860),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(store: Path, port: int) -> subprocess.Popen:
    """Start `najma dashboard` on `store` and wait until it answers."""
    server = subprocess.Popen([sys.executable, "-m", "najma", "dashboard", "--store", str(store),
                               "--port", str(port), "--draws", "50"])
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
            return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise SystemExit("najma dashboard did not start") from None
            time.sleep(0.5)


def _plan_a_redesign(page: object) -> None:
    """Remove the service-centre visit and project the stars, as an analyst would."""
    page.click("#rd-activities")
    page.get_by_role("option", name="Visit service centre", exact=True).click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Add to the plan").click()
    page.wait_for_selector("#rd-plan-list li:has-text('Remove: Visit service centre')")  # the plan holds it
    page.get_by_role("button", name="Project the stars").click()
    page.wait_for_selector("#rd-stars-redesign", timeout=180_000)


def dashboard_shots(store: Path, out: Path) -> None:
    """Screenshot every page of the dashboard serving `store` into `out`."""
    port = _free_port()
    server = _serve(store, port)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(locale="en-GB")
            for name, path, ready, action, height in SHOTS:
                page.set_viewport_size({"width": 1280, "height": height})
                page.goto(f"http://127.0.0.1:{port}{path}")
                page.wait_for_selector(ready, timeout=180_000)
                if action == "redesign":
                    _plan_a_redesign(page)
                shown = page.locator("#sv-map") if action == "map" else page
                if action == "map":
                    shown.scroll_into_view_if_needed()
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(1500)  # let the charts finish their transitions
                shown.screenshot(path=str(out / name))
                print(f"wrote {out / name}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def report_shot(store: Path, quarter: str, out: Path) -> None:
    """Write the report of `quarter` as PDF and render its first page to PNG with pdftoppm."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([sys.executable, "-m", "najma", "report", "--store", str(store), "--quarter", quarter,
                        "--out", folder, "--draws", "50"], check=True)
        pdf = next(Path(folder).glob("*.pdf"))
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                        str(out / "report")], check=True)
    print(f"wrote {out / 'report.png'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("najma.duckdb"))
    parser.add_argument("--quarter", default="2025Q4")
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    if not args.store.exists():
        with Store(args.store) as store:
            load_sample(store)
    args.out.mkdir(parents=True, exist_ok=True)
    dashboard_shots(args.store, args.out)
    report_shot(args.store, args.quarter, args.out)


if __name__ == "__main__":
    main()
