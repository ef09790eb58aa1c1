"""The report's redesign opportunities: the sample's newborn bundle and its proactive followers, in both languages, on the
page the table of contents names; and a plain sentence where nothing is found, or nothing can be.

The reports are those of ``najma report`` that tests/dashboards/test_report.py reads too (written once per session).
"""

from __future__ import annotations

import html as markup
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from najma.dashboards._i18n import quarter_text, text
from najma.dashboards._report import REDESIGN_QUARTERS, write_report
from najma.journeys import Store, load_catalogue, open_source, previous_quarter
from najma.sample import SAMPLE_CATALOGUE
from najma.sample._services import LIFE_EVENTS, SERVICES
from tests.dashboards.conftest import REPORT_QUARTER
from tests.dashboards.test_report import Report, _contents, _plain

NEWBORN = LIFE_EVENTS["newborn"]
#: Each later service of the newborn bundle follows the completion of the one before it (the generator's plan).
FOLLOWS = dict(zip(NEWBORN[1:], NEWBORN, strict=False))


def _names(lang: str) -> dict[str, str]:
    return {s.key: s.name_ar if lang == "ar" else s.name_en for s in SERVICES}


def _section(html: str) -> str:
    return html.split('<section class="redesign" id="redesign-section">')[1].split("</section>")[0]


def _cells(row: str) -> list[str]:
    return [markup.unescape(cell) for cell in re.findall(r"<td[^>]*>([^<]*)</td>", row)]


@pytest.fixture(scope="module", params=["en", "ar"])
def written(request: pytest.FixtureRequest, written_report: Callable[[str], Path]) -> tuple[str, Report]:
    """The language and the session's report in it, as a reader reads it."""
    lang = request.param
    out = written_report(lang)
    pdf = out / f"rating-report-{REPORT_QUARTER}-{lang}.pdf"
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return lang, Report((out / f"rating-report-{REPORT_QUARTER}-{lang}.html").read_text(encoding="utf-8"), pdf,
                        pages.split("\f")[:-1])


def test_the_redesign_page_names_the_newborn_bundle_by_its_services_in_order(written):
    lang, report = written
    section = _section(report.html)
    rows = dict(re.findall(r'<tr data-services="([^"]+)">(.*?)</tr>', section, re.S))
    assert " ".join(NEWBORN) in rows, sorted(rows)
    services, customers, support, steps_saved, visits_saved, days, life_event = _cells(rows[" ".join(NEWBORN)])
    names = _names(lang)
    assert services == text("rp_then", lang).join(names[key] for key in NEWBORN)
    newborn = load_catalogue(SAMPLE_CATALOGUE).life_events["newborn"]
    assert life_event == (newborn.name_ar if lang == "ar" else newborn.name_en)  # already a life event
    assert int(customers.replace(",", "")) >= 10 and float(support.rstrip("%")) > 1.0
    assert float(steps_saved) > 0 and float(visits_saved) > 0 and float(days) > 0


def test_the_redesign_page_lists_each_newborn_follower_after_the_service_before_it(written):
    lang, report = written
    section = _section(report.html)
    rows = dict(re.findall(r'<tr data-follower="([^"]+)">(.*?)</tr>', section, re.S))
    assert set(rows) == set(FOLLOWS)
    names, then = _names(lang), text("rp_then", lang)
    for follower, row in rows.items():
        pair, customers, followed, share, lag, steps, visits, days = _cells(row)
        assert pair == then.join((names[FOLLOWS[follower]], names[follower]))
        assert int(followed.replace(",", "")) <= int(customers.replace(",", ""))
        assert float(share.rstrip("%")) >= 50 and float(lag) >= 0 and float(steps) > 0 and float(days) >= 0


def test_the_redesign_page_states_its_period_and_thresholds_and_is_in_the_contents(written):
    lang, report = written
    section = _section(report.html)
    first = REPORT_QUARTER
    for _ in range(REDESIGN_QUARTERS - 1):
        first = previous_quarter(first)
    heading = re.search(r"<h2>([^<]*)</h2>", section)[1]
    assert quarter_text(first, lang) in markup.unescape(heading) and quarter_text(REPORT_QUARTER, lang) in heading
    method = markup.unescape(re.search(r'<p class="meta">([^<]*)</p>', section)[1])
    for value in ("60", "1.0%", "50%", "30", "10"):  # the window, support, share, days and the small-group rule
        assert re.search(rf"(?<![\d.]){re.escape(value)}(?![\d.])", method), (value, method)
    [(label, page)] = [(label, page) for target, label, page in _contents(report) if target == "redesign-section"]
    assert label == text("rp_redesign", lang)
    assert all(word in _plain(report.pages[page - 1]) for word in _plain(label).split())  # printed on the page it says
    if lang == "en":  # pdftotext gives Arabic words in its own order; the English page is read as printed
        printed = " ".join(report.pages[page - 1].split())
        assert all(name in printed for name in ("Birth notification", "Birth certificate", "A newborn"))


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_nothing_found_is_said_plainly(built_sample: Path, tmp_path: Path, lang: str):
    """With a small-group rule larger than every group, no candidate may be shown, and the page says so."""
    with Store(built_sample, read_only=True) as store:
        files = write_report(store, REPORT_QUARTER, tmp_path, lang=lang, draws=0, pdf=False, min_group=100_000)
    section = _section(files.html.read_text(encoding="utf-8"))
    assert "<table" not in section
    said = [markup.unescape(line) for line in re.findall(r'<p class="meta reason" id="[a-z-]+">([^<]*)</p>', section)]
    assert said == [text("rp_no_bundles", lang).format(support="1.0%", n=100_000),
                    text("rp_no_proactive", lang).format(within=30, share="50%", n=100_000)]


def test_a_log_without_customers_says_why_nothing_is_found(real: Path, tmp_path: Path):
    """The BPI receipt log names no customer: no customer's services can be linked, and the page says so, not that
    nothing reached the thresholds."""
    with Store(tmp_path / "receipt.duckdb") as store:
        store.ingest(open_source(real / "receipt.xes.gz"))
        files = write_report(store, "2011Q4", tmp_path, draws=0, pdf=False)
    section = _section(files.html.read_text(encoding="utf-8"))
    said = [markup.unescape(line) for line in re.findall(r'<p class="meta reason" id="[a-z-]+">([^<]*)</p>', section)]
    assert said == [text("rp_no_customers", "en")] * 2


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_figures_a_bare_log_cannot_support_say_no_data_and_what_they_need(tmp_path: Path, lang: str):
    """Clicks without agency, actor or catalogue: the savings are "no data", not 0, and the page says once what they
    need."""
    from najma.journeys import build_journeys
    from tests.dashboards.test_cli_discover import bare_clicks

    with Store(tmp_path / "bare.duckdb") as store:
        store.ingest_frame(bare_clicks())
        build_journeys(store)
        files = write_report(store, "2025Q1", tmp_path, lang=lang, draws=0, pdf=False)
    section = _section(files.html.read_text(encoding="utf-8"))
    no_data = text("no_data_short", lang)
    (bundle,) = re.findall(r'<tr data-services="portal forms">(.*?)</tr>', section, re.S)
    _, _, _, steps_saved, visits_saved, days, _ = _cells(bundle)
    assert (steps_saved, visits_saved) == (no_data, no_data) and float(days) > 0
    (follower,) = re.findall(r'<tr data-follower="forms">(.*?)</tr>', section, re.S)
    *_, steps, visits, days = _cells(follower)
    assert (steps, visits) == (no_data, no_data) and float(days) >= 0
    said = " ".join(markup.unescape(line) for line in re.findall(r'<p class="meta">([^<]*)</p>', section))
    assert said.count(text("dc_need_steps", lang)) == 2  # once for the bundles, once for the proactive services
    assert text("dc_no_data", lang).format(figures=text("dc_visits_saved", lang), needs=text("dc_need_catalogue", lang),
                                           services="forms, portal" if lang == "en" else "forms، portal") in said
