"""Overview: every service with its stars, the trend over quarters and the KPIs by pillar.

Filters for quarter, agency, channel and a search; a service's name leads to its page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import dash_mantine_components as dmc
import pandas as pd
from dash import Input, Output, State, dcc, html

from najma.dashboards._figures import pillar_scores_figure, trend_figure
from najma.dashboards._i18n import change_text, kpi_label, period_text, quarter_text, text
from najma.dashboards.pages.common import (
    COUNT,
    NUMBER,
    PERCENT,
    STARS,
    Callback,
    choice,
    column_notes,
    current_data,
    graph,
    grid,
    heading,
    no_data_as_text,
    note,
    options,
    quarter_options,
    reason,
    rows_of,
    scope,
    scope_text,
    section,
    suppressed_as_text,
)
from najma.rating import INSUFFICIENT_EVIDENCE, KPIS, PILLARS

KEY = "overview"
PATH = "/"
TITLE = "Overview"


def layout(lang: str = "en", quarter: str | None = None, **_: Any) -> dmc.Stack:
    """The page in `lang`, showing `quarter` (the latest by default)."""
    data = current_data()
    quarter = choice(quarter, data.quarters) or (data.quarters[0] if data.quarters else None)
    agency_names = {a: data.name("agency", a, lang) for a in data.agencies()}
    channel_names = {c: data.name("channel", c, lang) for c in data.channels}
    return dmc.Stack([
        heading(lang, "page_overview"),
        html.Div(column_notes(data, None, lang), id="ov-columns"),
        dcc.Store(id="ov-lang", data=lang),
        dmc.Group([
            dmc.Select(id="ov-quarter", label=text("quarter", lang), data=quarter_options(data.quarters, lang), value=quarter,
                       w=180,
                       allowDeselect=False),
            dmc.Select(id="ov-agency", label=text("agency", lang), data=options(data.agencies(), agency_names),
                       placeholder=text("all_agencies", lang), clearable=True, w=280),
            dmc.Select(id="ov-channel", label=text("channel", lang), data=options(data.channels, channel_names),
                       placeholder=text("all_channels", lang), clearable=True, w=200, disabled=not data.channels),
            dmc.TextInput(id="ov-search", label=text("search", lang), debounce=300, w=240),
        ]),
        section(text("services_and_stars", lang), scope("ov-scope"), note("ov-count"),
                grid("ov-grid", _columns(lang), lang=lang, height=480)),
        # The charts are drawn once the star table has its rows (see update_charts): plotly.js, the
        # largest script of the app, then loads after the table shows.
        dmc.SimpleGrid([
            section(text("trend", lang), scope("ov-trend-scope"),
                    html.Div(reason(text("waiting_for_table", lang)), id="ov-trend-box")),
            section(text("pillar_scores", lang), scope("ov-pillars-scope"),
                    html.Div(reason(text("waiting_for_table", lang)), id="ov-pillars-box")),
        ], cols={"base": 1, "lg": 2}),
        section(text("kpis_by_pillar", lang), scope("ov-kpis-scope"),
                dmc.SegmentedControl(id="ov-pillar", value=PILLARS[0],
                                     data=[{"value": p, "label": text(p, lang)} for p in PILLARS], mb="sm"),
                grid("ov-kpis", [], lang=lang, height=480)),
    ])


def _columns(lang: str) -> list[dict[str, Any]]:
    data = current_data()
    return [
        {"field": "link", "headerName": text("service", lang), "cellRenderer": "markdown", "minWidth": 220},
        {"field": "agency", "headerName": text("agency", lang), "minWidth": 180},
        {"field": "stars", "headerName": text("stars", lang), "valueFormatter": suppressed_as_text(STARS, lang, data), "sort": "desc",
         "minWidth": 130},
        {"field": "remark", "headerName": text("remark", lang), "minWidth": 120},
        {"field": "change_text", "headerName": text("change", lang)},
        {"field": "score", "headerName": text("score", lang), "valueFormatter": NUMBER},
        *({"field": p, "headerName": text(p, lang), "valueFormatter": suppressed_as_text(no_data_as_text(NUMBER, lang), lang, data)}
          for p in PILLARS),
        {"field": "confidence", "headerName": text("confidence", lang), "valueFormatter": PERCENT},
        {"field": "cases", "headerName": text("cases", lang), "valueFormatter": suppressed_as_text(COUNT, lang, data)},
        {"field": "status", "hide": True},
        {"field": "service", "hide": True},
    ]


def update_overview(quarter: str | None, agency: str | None, channel: str | None, search: str | None, pillar: str,
                    lang: str) -> tuple[Any, ...]:
    """Rows of the star table, the count shown, the KPI grid of one pillar (rows and columns), and the period and
    selection each card shows."""
    data = current_data()
    quarter = choice(quarter, data.quarters) or data.quarters[0]
    agency, channel = choice(agency, data.agencies()), choice(channel, data.channels)
    rows = data.overview(quarter, agency=agency, channel=channel, search=search or "", lang=lang)
    rows["link"] = [f"[{name}](/service?service={quote(s)}&quarter={quarter}&lang={lang})"
                    for name, s in zip(rows["name"], rows["service"], strict=True)]
    rows["change_text"] = [change_text(c, lang) for c in rows["change"]]
    rows["remark"] = [text("provisional", lang) if provisional is True else
                      text(INSUFFICIENT_EVIDENCE, lang) if status == INSUFFICIENT_EVIDENCE else ""
                      for provisional, status in zip(rows["provisional"], rows["status"], strict=True)]
    pillar = pillar if pillar in PILLARS else PILLARS[0]
    kpis = [k for k, curve in data.config.kpis.items() if curve.pillar == pillar]
    kpi_columns = [{"field": "name", "headerName": text("service", lang), "minWidth": 200}] + [
        {"field": k, "headerName": kpi_label(k, lang),
         "valueFormatter": suppressed_as_text(no_data_as_text(PERCENT if KPIS[k].unit == "share" else NUMBER, lang), lang,
                                              data)}
        for k in kpis
    ]
    shown = [c for c in ("service", "name", "link", "agency", "stars", "remark", "change_text", "score", *PILLARS,
                         "confidence", "cases", "status")]
    count = " · ".join([f"{len(rows):,} {text('services_shown', lang)}", *data.source_lines(quarter, lang, channel)])
    selection = _selection(agency, channel, search, lang)
    in_quarter = scope_text(period_text([quarter], False, lang), *selection)
    over_quarters = scope_text(period_text(data.quarters, True, lang), *selection)
    return (rows_of(rows[shown]), count, rows_of(rows[["name", "status", *kpis]]), kpi_columns,
            in_quarter, over_quarters, in_quarter, in_quarter)


def _selection(agency: str | None, channel: str | None, search: str | None, lang: str) -> list[str]:
    """The filters of the overview as words: the agency, the channel, and the search when there is one."""
    data = current_data()
    return [data.name("agency", agency, lang) if agency else text("all_agencies", lang),
            data.name("channel", channel, lang) if channel else text("all_channels", lang),
            text("searched", lang).format(text=search.strip()) if search and search.strip() else ""]


def update_charts(rows: list[dict[str, Any]] | None, channel: str | None, lang: str) -> tuple[Any, Any]:
    """The trend of the services in the star table's `rows` and their pillar scores; with no row, why not."""
    data = current_data()
    if not rows:
        return reason(text("no_service_matches", lang)), reason(text("no_service_matches", lang))
    shown = pd.DataFrame(rows, columns=["service", "name", *PILLARS])
    names = dict(zip(shown["service"], shown["name"], strict=True))
    trend = trend_figure(data.trend(list(shown["service"]), channel=choice(channel, data.channels)), labels=names,
                         y_title=text("stars", lang), lowest=data.config.lowest_star,
                         quarter_names={q: quarter_text(q, lang) for q in data.quarters}, lang=lang)
    pillars = pillar_scores_figure(shown, pillar_names={p: text(p, lang) for p in PILLARS}, lang=lang)
    return graph("ov-trend", trend), graph("ov-pillars", pillars)


CALLBACKS = [
    Callback(update_overview, [
        Output("ov-grid", "rowData"), Output("ov-count", "children"), Output("ov-kpis", "rowData"),
        Output("ov-kpis", "columnDefs"), Output("ov-scope", "children"), Output("ov-trend-scope", "children"),
        Output("ov-pillars-scope", "children"), Output("ov-kpis-scope", "children"),
        Input("ov-quarter", "value"), Input("ov-agency", "value"), Input("ov-channel", "value"),
        Input("ov-search", "value"), Input("ov-pillar", "value"), State("ov-lang", "data"),
    ]),
    Callback(update_charts, [
        Output("ov-trend-box", "children"), Output("ov-pillars-box", "children"),
        Input("ov-grid", "rowData"), State("ov-channel", "value"), State("ov-lang", "data"),
    ]),
]
