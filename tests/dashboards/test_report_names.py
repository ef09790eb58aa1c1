"""The report of services whose keys and names hold anything a real log holds: a space, a '+', Arabic letters, and a
display name written to break an HTML page (``</script><!--<script>``).

The store is made as a user makes one: ``najma ingest`` of a small CSV (cases of the sample split into three services),
``najma catalogue draft``, the names corrected, ``najma catalogue use``; then ``najma report`` prints the PDF.
"""

from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest
from typer.testing import CliRunner

from najma.dashboards._printing import LoadedPage
from najma.dashboards._report import _check_contents, _plot
from najma.dashboards.cli import app
from najma.errors import NajmaError

QUARTER = "2025Q4"
SERVICES = ("with space", "a+b", "خدمة عربية")
HOSTILE = "</script><!--<script>"
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "events.parquet"


class _Scripts(HTMLParser):
    """The text of every script element of a page, as a browser splits them."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._open, self.scripts = dict(attrs), [*self.scripts, (dict(attrs), "")]

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open = None


def _run(*args: str) -> None:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def odd_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of three services keyed "with space", "a+b" and an Arabic key; "a+b" is named HOSTILE in English."""
    folder = tmp_path_factory.mktemp("odd")
    events = pd.read_parquet(SAMPLE)
    events = events[events["service"] == "trade_licence"]
    first = pd.to_datetime(events["timestamp"], utc=True).groupby(events["case_id"]).min()
    cases = sorted(first[(first >= "2025-10-01") & (first < "2025-12-01")].index)[:90]
    events = events[events["case_id"].isin(cases)].copy()
    events["service"] = [SERVICES[cases.index(c) % len(SERVICES)] for c in events["case_id"]]
    events.to_csv(folder / "events.csv", index=False)
    store, catalogue = folder / "odd.duckdb", folder / "odd.toml"
    _run("ingest", str(folder / "events.csv"), "--store", str(store))
    _run("catalogue", "draft", "--out", str(catalogue), "--store", str(store))
    drafted = catalogue.read_text(encoding="utf-8").replace('name_en = "A+b"', f'name_en = "{HOSTILE}"')
    assert HOSTILE in drafted
    catalogue.write_text(drafted.replace('name_ar = "TODO"', 'name_ar = "خدمة"'), encoding="utf-8")
    _run("catalogue", "use", str(catalogue), "--store", str(store))
    return store


@pytest.fixture(scope="module", params=["en", "ar"])
def printed(request: pytest.FixtureRequest, odd_store: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp(f"odd-{request.param}")
    _run("report", "--quarter", QUARTER, "--lang", request.param, "--store", str(odd_store), "--draws", "0",
         "--out", str(out))
    return (out / f"rating-report-{QUARTER}-{request.param}.html").read_text(encoding="utf-8")


def test_every_service_page_has_its_page_number_whatever_its_key(printed: str):
    nav = printed.split('<nav id="contents">')[1].split("</nav>")[0]
    entries = re.findall(r'<a href="#([^"]+)">[^<]*</a><span class="page">(\d*)</span>', nav)
    pages = [(target, page) for target, page in entries if target.startswith("service-")]
    assert len(pages) == len(SERVICES) and all(page for _, page in entries), entries
    for key in SERVICES:  # each page has a safe id, and says which service it is
        assert re.search(rf'<section class="service" id="service-\d+" data-service="{re.escape(key)}">', printed), key


def test_a_hostile_name_neither_ends_a_script_nor_opens_a_comment(printed: str):
    parser = _Scripts()
    parser.feed(printed)
    plots = [json.loads(text) for attrs, text in parser.scripts if "data-plot" in attrs]
    assert len(plots) == printed.count('<div class="plot"') >= len(SERVICES)  # a script per plot, a map per service
    assert len(parser.scripts) == len(plots) + 2  # plotly.js and the script that draws the plots: nothing more
    if '<html lang="en"' in printed:
        assert "&lt;/script&gt;&lt;!--&lt;script&gt;" in printed  # shown as text where the name is shown


def test_a_figure_is_embedded_with_every_angle_bracket_and_ampersand_escaped():
    plot = _plot(go.Figure(layout={"title": {"text": f"{HOSTILE} & <b>"}, "width": 300, "height": 200}), 0)
    assert not set("<>&") & set(plot["json"])
    assert json.loads(plot["json"])["layout"]["title"]["text"] == f"{HOSTILE} & <b>"


def test_a_first_print_without_destinations_is_refused_and_a_missing_heading_is_named(tmp_path: Path):
    html = tmp_path / "report.html"
    with pytest.raises(NajmaError, match="no named destinations"):
        _check_contents(html, {"pages": []}, {})
    found = {"summary": 2, "trends": 3, "channels": 3, "agencies": 4, "redesign-section": 5, "coverage-section": 6, "methodology-section": 7}
    with pytest.warns(UserWarning, match="no page for service-1$"):
        _check_contents(html, {"pages": [{"anchor": "service-1"}]}, found)


def test_a_loaded_page_prints_as_a_script_changed_it_and_says_what_failed_in_one_line(tmp_path: Path):
    shown = tmp_path / "page.html"
    shown.write_text('<!DOCTYPE html><html><body><p id="said">first</p></body></html>', encoding="utf-8")
    with LoadedPage(shown) as page:
        before = page.print_pdf(tmp_path / "before.pdf")
        page.call("said => { document.getElementById('said').textContent = said; }", "second & <last>")
        after = page.print_pdf(tmp_path / "after.pdf")
        with pytest.raises(NajmaError, match=r"page\.html: a script failed in the page: Error: no such thing"):
            page.call("() => { throw new Error('no such thing'); }")
    read = [subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout.strip()
            for pdf in (before, after)]
    assert read == ["first", "second & <last>"]
    with pytest.raises(NajmaError, match=r"missing\.html: Chromium could not load the page \(net::ERR_FILE_NOT_FOUND\)"):
        with LoadedPage(tmp_path / "missing.html"):
            pass
