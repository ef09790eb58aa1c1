"""The quarterly report: written as HTML and PDF in both languages, read back page by page as a reader sees it.

The two reports are built once for the session (``najma report``, as a user runs it) and every test reads them:
stars equal to ``najma rate``, the sections of a published report, a table of contents and page numbers that
match the PDF's pages, one or two full pages per service, and no English word in the Arabic report.
"""

from __future__ import annotations

import html as markup
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from najma.dashboards._i18n import quarter_text
from najma.dashboards._report import ATTENTION_STARS
from najma.dashboards.cli import app, main
from najma.journeys import Store
from najma.rating import default_config
from najma.sample._services import SERVICES
from tests.dashboards.conftest import REPORT_QUARTER

QUARTER = REPORT_QUARTER
#: The fewest words a page of the report holds besides its footer: a page below it is near empty.
MIN_WORDS = 40
#: Latin text the Arabic report may hold, each for a reason: the configuration hash (hex), and the command-line
#: option a note tells the reader to type (``--map start=COLUMN``, code like a file name). Quarters are words.
ALLOWED_LATIN = (r"\b[0-9a-f]{12}\b", r"--map \w+=COLUMN")


class Report(NamedTuple):
    html: str
    pdf: Path
    pages: list[str]  # the text of each page, as pdftotext reads it


@pytest.fixture(scope="module")
def najma_rate(built_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The star table of ``najma rate``, as the CSV it writes."""
    out = tmp_path_factory.mktemp("rate") / "ratings.csv"
    result = CliRunner().invoke(app, ["rate", "--quarter", QUARTER, "--store", str(built_sample), "--no-record",
                                      "--draws", "20", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return pd.read_csv(out).set_index("service")


@pytest.fixture(scope="module", params=["en", "ar"])
def report(request: pytest.FixtureRequest, written_report: Callable[[str], Path]) -> Report:
    """The report of one language, written once for the session by ``najma report``, as a reader reads it."""
    lang = request.param
    out = written_report(lang)
    pdf = out / f"rating-report-{QUARTER}-{lang}.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return Report((out / f"rating-report-{QUARTER}-{lang}.html").read_text(encoding="utf-8"), pdf,
                  text.split("\f")[:-1])


def _lang(report: Report) -> str:
    return re.search(r'<html lang="(\w+)"', report.html)[1]


def _plain(text: str) -> str:
    """`text` without what pdftotext reorders in Arabic: the letters of the lam-alef ligature (given in visual order,
    "لا" as "ال"), the short vowels, and the punctuation beside a word."""
    return re.sub("[\u0627\u0644\u0623\u0625\u0622\u064b-\u0652:،]", "", text)


def _footer(page: str) -> str:
    """The last line of a page's text: the footer with the title, the quarter and the page number."""
    return page.strip().splitlines()[-1]


def _contents(report: Report) -> list[tuple[str, str, int]]:
    """The table of contents: (target id, label, page) of each entry."""
    nav = report.html.split('<nav id="contents">')[1].split("</nav>")[0]
    return [(target, markup.unescape(label), int(page)) for target, label, page in
            re.findall(r'<a href="#([^"]+)">([^<]+)</a><span class="page">(\d*)</span>', nav)]


def test_the_report_holds_every_service_with_the_stars_of_najma_rate(report: Report, najma_rate: pd.DataFrame):
    rows = dict(re.findall(r'data-service="([^"]+)" data-stars="(\d*)"', report.html))
    assert set(rows) == {s.key for s in SERVICES}
    assert {k: int(v) for k, v in rows.items()} == najma_rate["stars"].astype(int).to_dict()
    english = _lang(report) == "en"
    for service in SERVICES:
        assert re.search(rf'<section class="service" id="service-\d+" data-service="{service.key}">', report.html)
        assert (service.name_en if english else service.name_ar) in report.html
    # the star distribution, then the map and the steps of every service, drawn by plotly.js when printed
    assert report.html.count('<script type="application/json" data-plot=') == 1 + 2 * len(SERVICES)


def test_the_report_has_the_sections_of_a_published_report(report: Report):
    for section in ('id="contents"', 'id="summary"', 'id="movers"', 'id="attention"', 'id="changed"',
                    'id="trend-table"', 'id="channel-table"', 'id="agency-table"', 'id="coverage"',
                    'id="methodology"', 'id="bands"', 'id="kpi-table"'):
        assert section in report.html, section
    trend = report.html.split('id="trend-table"')[1].split("</table>")[0]
    assert len(re.findall(r'<th data-quarter="\d{4}Q\d">', trend)) >= 4 and trend.count("<svg") == len(SERVICES)
    channels = report.html.split('id="channel-table"')[1].split("</table>")[0]
    assert "★" in channels
    assert re.search(r'id="kpi-table".*?</table>', report.html, re.S)[0].count("<tr>") > 10


def test_the_trend_ends_with_the_stars_of_the_quarter(report: Report):
    overview = {markup.unescape(name): stars for stars, name in
                re.findall(r'data-stars="(\d*)"><td>([^<]+)</td>', report.html)}
    trend = report.html.split('id="trend-table"')[1].split("</table>")[0]
    assert re.findall(r'<th data-quarter="(\d{4}Q\d)">', trend)[-1] == QUARTER
    last = {markup.unescape(name): cells[-1] for name, cells in
            ((row[0], re.findall(r'<td class="num">([^<]*)</td>', row[1]))
             for row in re.findall(r"<tr><td>([^<]+)</td>(.*?)</tr>", trend, re.S))}
    assert last == overview


def test_every_page_is_numbered_and_the_contents_name_the_right_pages(report: Report):
    total = len(report.pages)
    assert total == int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(report.pdf)], check=True,
                                                                        capture_output=True, text=True).stdout)[1])
    for number, page in enumerate(report.pages, start=1):  # an Arabic footer reads right to left: "23 / 1"
        assert re.search(rf"\b{number}\s*/\s*{total}\b|\b{total}\s*/\s*{number}\b", _footer(page)), (number, page[-200:])
    entries = _contents(report)
    assert len(entries) == 7 + len(SERVICES)
    for target, label, page in entries:
        words = _plain(label).split()[:2]  # pdftotext may break a long heading; its first words are on its page
        assert all(w in _plain(report.pages[page - 1]) for w in words), (target, label, page)
    contents = report.pages[0].splitlines()  # and the printed contents show the same pages
    for target, label, page in entries:
        words = _plain(label).split()[:2]
        assert any(all(w in _plain(line) for w in words) and re.search(rf"(?<!\d){page}(?!\d)", line) for line in contents), \
            (target, label, page)


def test_no_page_is_near_empty_and_each_service_has_one_or_two_pages(report: Report):
    for number, page in enumerate(report.pages, start=1):
        assert len(page.replace(_footer(page), "").split()) >= MIN_WORDS, (number, page)
    starts = [page for target, _, page in _contents(report) if target.startswith("service-")]
    ends = [*starts[1:], next(page for target, _, page in _contents(report) if target == "coverage-section")]
    assert all(1 <= end - start <= 2 for start, end in zip(starts, ends, strict=True)), (starts, ends)


def test_the_pages_are_drawn(report: Report, tmp_path: Path):
    subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "5", str(report.pdf), str(tmp_path / "page")],
                   check=True)
    for page in sorted(tmp_path.glob("page-*.png")):
        assert np.asarray(Image.open(page).convert("L")).std() > 10  # drawn, not blank


@pytest.mark.parametrize("report", ["ar"], indirect=True)
def test_the_arabic_report_has_no_english_word(report: Report):
    assert '<html lang="ar" dir="rtl">' in report.html and "النجمة التالية" in report.html
    fonts = subprocess.run(["pdffonts", str(report.pdf)], check=True, capture_output=True, text=True).stdout
    assert "NotoSansArabic" in fonts or "NotoNaskhArabic" in fonts
    allowed = re.compile("|".join(ALLOWED_LATIN))
    found = {(number, word) for number, page in enumerate(report.pages, start=1)
             for word in re.findall(r"[A-Za-z]+", allowed.sub(" ", page))}
    assert not found, sorted(found)


@pytest.mark.parametrize("report", ["en"], indirect=True)  # the words are checked in English
def test_the_report_shows_quarantined_rows_and_the_model(report: Report, built_sample: Path):
    with Store(built_sample, read_only=True) as store:
        quarantined = store.con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0]
    assert "Quarantined rows" in report.html and "Rating model" in report.html
    assert ("No row was quarantined." in report.html) == (quarantined == 0)
    assert re.search(r"configuration hash <code>[0-9a-f]{12}</code>", report.html)


def test_rate_and_explain_speak_for_every_service(built_sample, najma_rate):
    assert len(najma_rate) == len(SERVICES) and najma_rate["stars"].between(2, 7).all()
    result = CliRunner().invoke(app, ["explain", "--service", "trade_licence", "--quarter", "2025Q1",
                                      "--store", str(built_sample), "--draws", "20"])
    assert result.exit_code == 0, result.output
    assert "since 2024Q4 (+" in result.output and "next star:" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["rate", "--quarter", "2030Q1", "--no-record"], "no cases started in 2030Q1; the store's quarters are 2024Q1 to 2025Q4"),
    (["explain", "--service", "nope", "--quarter", QUARTER], "no service 'nope' rated in 2025Q4"),
    (["report", "--quarter", QUARTER, "--lang", "fr"], "Invalid value for '--lang': Value error, 'fr' is not one of 'en', 'ar'"),
])
def test_an_unknown_quarter_or_service_is_one_clear_line(args, message, built_sample, tmp_path, monkeypatch, capsys):
    """The command line's own entry point (``najma``'s main, in this process: it starts in seconds otherwise)."""
    monkeypatch.setattr(sys, "argv", ["najma", *args, "--store", str(built_sample)])
    monkeypatch.chdir(tmp_path)  # a report that were written would land here
    with pytest.raises(SystemExit) as ended:
        main()
    said = capsys.readouterr().err
    assert ended.value.code == 2, said
    assert said.startswith("najma: error: ") and said.count("\n") == 1 and message in said


@pytest.mark.parametrize("report", ["en"], indirect=True)  # the words are checked in English
def test_attention_names_the_services_in_the_lowest_stars_or_none(report: Report):
    below = default_config().lowest_star + ATTENTION_STARS
    low = [markup.unescape(name) for stars, name in re.findall(r'data-stars="(\d*)"><td>([^<]+)</td>', report.html)
           if stars and int(stars) < below]
    attention = report.html.split('id="attention"')[1].split("</div>")[0]
    first = markup.unescape(re.search(r"<li>([^<]*)</li>", attention)[1])
    assert first == f"Fewer than {below} stars: {', '.join(low) or 'none'}"


def test_every_section_names_its_quarter(report: Report):
    named = re.escape(quarter_text(QUARTER, _lang(report)))
    for section in ("summary", "channels", "agencies"):
        assert re.search(rf'id="{section}">[^<]*<h2>[^<]*{named}|<h2 id="{section}">[^<]*{named}', report.html), section
    assert re.search(rf"<h3>[^<]*{named}[^<]*</h3>\s*<div class=\"plot\"", report.html)  # the star distribution
