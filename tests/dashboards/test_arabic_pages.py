"""Arabic as good as English: every page opened with ``?lang=ar`` in Debian's Chromium reads right to left, in
Arabic down to its menu, and shows no English word, no chart label cut off, no axis title drawn over its tick
labels and no chart title under the chart's mode bar.

The test reads what a person sees once the callbacks have filled the page: the body's rendered
text, the text of the plotly charts (SVG), the labels of the journey map (Cytoscape draws them on a
canvas, so they are read from its graph), and the placeholders and values of inputs. Each page is
also photographed in both languages into test-artifacts/arabic/.
"""

from __future__ import annotations

import re

import pytest

from tests.dashboards.conftest import ARTIFACTS, wait_settled

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

SHOTS = ARTIFACTS.parent / "arabic"

#: Each page, and the sign that its callbacks have filled it: the elements that the last callbacks write.
PAGES = {
    "overview": ("/", ["#ov-count:not(:empty)", "#ov-trend .xtick", "#ov-pillars .ytick",
                       "#ov-kpis .ag-center-cols-container .ag-row"]),
    "service": ("/service?service=passport", ["#sv-stars", "#sv-map-note:not(:empty)", "#sv-kpi-scores .ytick",
                                              "#sv-variant-chart .xtick", "#sv-kpis .ag-center-cols-container .ag-row"]),
    "journeys": ("/journeys", ["#cj-journeys", "#cj-sankey .sankey-node", "#cj-ask-once .ag-center-cols-container .ag-row"]),
    "redesign": ("/redesign?service=passport", ["#rd-plan-note:not(:empty)"]),
    "data": ("/data", ["#dq-batches .ag-center-cols-container .ag-row", "#dq-coverage .xtick"]),
    "discover": ("/discover", ["#dc-bundles .ag-center-cols-container .ag-row", "#dc-lag .xtick"]),
}

#: Latin words an Arabic page may show, each for a reason:
#: - names that have no Arabic form: the file names of the loaded sources (matched whole by _FILE below);
#: - "CSV", "PNG", "SVG": names of file formats (export buttons), written so on Arabic sites too;
#: - "English": the link to the English page names that language in its own words, as language switches do.
ALLOWED = frozenset({"CSV", "PNG", "SVG", "English"})
#: A file name (a source of the data page): its name is the user's, shown as it is on disk.
_FILE = re.compile(r"\S+\.(?:parquet|csv|xes|gz|json|toml)\b", re.IGNORECASE)
#: Identifiers the data gives no Arabic name: a case id as the sample's ("passport-0004798"), a staff member's
#: ("PAS-E9") and a customer's pseudonym (hexadecimal, "475d8bc8").
_ID = re.compile(r"\b[A-Za-z_]+-[A-Z]?\d+\b|\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b")
#: Text the user types verbatim (a command-line option), marked as a left-to-right isolate (U+2066 ... U+2069).
_CODE = re.compile("\u2066[^\u2069]*\u2069")
_WORD = re.compile(r"[A-Za-z]+")

SHOWN_TEXT = """() => {
    const parts = [document.body.innerText];
    for (const node of document.querySelectorAll('svg text')) parts.push(node.textContent);
    for (const input of document.querySelectorAll('input[type=text], input[type=search], input:not([type])')) {
        parts.push(input.placeholder || '', input.value || '');
    }
    for (const node of document.querySelectorAll('div')) {
        if (node._cyreg && node._cyreg.cy) node._cyreg.cy.elements().forEach(e => parts.push(String(e.data('label') || '')));
    }
    return parts.join('\\n');
}"""


#: The labels of plotly charts (ticks, legend, titles) that stand outside their chart's box, by a pixel or more.
_CUT_LABELS = """() => {
    const cut = [];
    for (const chart of document.querySelectorAll('.js-plotly-plot')) {
        const box = chart.getBoundingClientRect();
        for (const label of chart.querySelectorAll('.xtick text, .ytick text, .legendtext, .gtitle, .xtitle, .ytitle')) {
            const r = label.getBoundingClientRect();
            if (r.width && (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)) {
                cut.push((chart.closest('[id]') || chart).id + ': ' + label.textContent);
            }
        }
    }
    return cut;
}"""


#: Whether two boxes (DOMRects) overlap by more than a pixel or two each way, so that boxes meeting at a corner do not.
_CROSSES = """const crosses = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 2
        && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 2;"""


#: The axis titles of plotly charts drawn over their own tick labels (boxes that cross). plotly.js places a title beyond the labels as it measured them in its
#: hidden SVG; measured right to left on an Arabic page, the labels seemed to run the wrong way and "الطلبات" stood
#: over "150" (see dashboards/assets/charts.css).
_TITLES_OVER_TICKS = """() => {
    const over = [];
    """ + _CROSSES + """
    for (const chart of document.querySelectorAll('.js-plotly-plot')) {
        for (const title of chart.querySelectorAll('.xtitle, .ytitle')) {
            const axis = title.classList.contains('xtitle') ? 'x' : 'y', box = title.getBoundingClientRect();
            for (const tick of chart.querySelectorAll('.' + axis + 'tick text')) {
                if (crosses(box, tick.getBoundingClientRect())) {
                    over.push((chart.closest('[id]') || chart).id + ': ' + title.textContent + ' over ' + tick.textContent);
                }
            }
        }
    }
    return over;
}"""


#: The titles of plotly charts that stand, even in part, under their chart's mode bar (its icons: shown on hover, laid out
#: unseen until then). The right-aligned Arabic "المؤشرات مقابل المستهدفات" reached the bar, and a long English title did
#: too: a title now stands in a row of its own below the bar's (see _frame_layout in dashboards/_figures.py).
_TITLES_UNDER_MODEBAR = """() => {
    const under = [];
    """ + _CROSSES + """
    for (const chart of document.querySelectorAll('.js-plotly-plot')) {
        const bar = chart.querySelector('.modebar'), title = chart.querySelector('.gtitle');
        if (bar && title && crosses(bar.getBoundingClientRect(), title.getBoundingClientRect())) {
            under.push((chart.closest('[id]') || chart).id + ': ' + title.textContent);
        }
    }
    return under;
}"""


def english_words(shown: str) -> list[str]:
    """The Latin-letter words of `shown` that are not allowed on an Arabic page, in order, each once.

    Examples
    --------
    >>> english_words("الطلبات 12 median hours · events.parquet · CSV · \u2066--map channel=x\u2069 hours 2025Q4")
    ['median', 'hours', 'Q']
    >>> english_words("passport-0004798 PAS-E9 475d8bc8 V1 staff")
    ['V', 'staff']
    """
    kept = _ID.sub(" ", _CODE.sub(" ", _FILE.sub(" ", shown)))
    return list(dict.fromkeys(w for w in _WORD.findall(kept) if w not in ALLOWED))


def _open(page: object, url: str, signs: list[str]) -> None:
    page.goto(url)
    page.wait_for_selector("#shell[dir]")
    for sign in signs:
        page.wait_for_selector(sign, state="attached")
    wait_settled(page)  # then no callback may still be running, nor be asked for by the link before it in a chain


@pytest.mark.parametrize("name", list(PAGES))
def test_an_arabic_page_shows_no_english_word(page: object, dashboard_url: str, name: str) -> None:
    path, signs = PAGES[name]
    _open(page, dashboard_url + path + ("&" if "?" in path else "?") + "lang=ar", signs)
    page.wait_for_selector("#shell[dir='rtl']")
    assert page.inner_text("#nav-overview") == "نظرة عامة"
    assert page.inner_text("#language-link") == "English"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-ar.png"), full_page=True)
    found = english_words(page.evaluate(SHOWN_TEXT))
    print(f"{name}: {found}")
    assert found == [], f"English words on the Arabic {name} page: {found}"
    assert page.evaluate(_CUT_LABELS) == [], "labels cut off at the edge of their chart"
    assert page.evaluate(_TITLES_OVER_TICKS) == [], "axis titles drawn over their tick labels"
    assert page.evaluate(_TITLES_UNDER_MODEBAR) == [], "chart titles under their mode bar"


@pytest.mark.heavy  # the browser tests of each page check English; this adds the label checks and screenshots
@pytest.mark.parametrize("name", list(PAGES))
def test_an_english_page_is_photographed_filled(page: object, dashboard_url: str, name: str) -> None:
    path, signs = PAGES[name]
    _open(page, dashboard_url + path, signs)
    assert page.locator("#shell").get_attribute("dir") == "ltr"
    assert page.evaluate(_CUT_LABELS) == [], "labels cut off at the edge of their chart"
    assert page.evaluate(_TITLES_OVER_TICKS) == [], "axis titles drawn over their tick labels"
    assert page.evaluate(_TITLES_UNDER_MODEBAR) == [], "chart titles under their mode bar"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-en.png"), full_page=True)
