"""Data: the import batches, the quarantined rows with their reasons, and cases per service and quarter."""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
from dash import Input, Output, State, dcc, html

from najma.dashboards._figures import coverage_figure
from najma.dashboards._i18n import period_text, quarter_text, text, utc_minute
from najma.dashboards.pages.common import (
    COUNT,
    LEFT_TO_RIGHT,
    Callback,
    column_notes,
    current_data,
    fewer_than,
    graph,
    grid,
    heading,
    note,
    reason,
    rows_of,
    scope,
    scope_text,
    section,
)

KEY = "data"
PATH = "/data"
TITLE = "Data"
#: How many of the latest quarters the coverage shows at first.
RECENT_QUARTERS = 4


def layout(lang: str = "en", **_: Any) -> dmc.Stack:
    """The page in `lang`."""
    data = current_data()
    batches = data.batches()
    quarantine = data.quarantine()
    everything = scope_text(text("all_files", lang), text("all_quarters", lang), text("all_services", lang))
    return dmc.Stack([
        heading(lang, "page_data"),
        html.Div(column_notes(data, None, lang), id="dq-columns"),
        dcc.Store(id="dq-lang", data=lang),
        section(text("batches", lang), scope("dq-batches-scope", everything), grid("dq-batches", [
            {"field": "batch_id", "headerName": "#", "width": 70, "filter": False, "suppressSizeToFit": True},
            {"field": "source", "headerName": text("source", lang), "minWidth": 240, "cellStyle": LEFT_TO_RIGHT,
             "tooltipField": "source"},
            {"field": "service", "headerName": text("service", lang)},
            {"field": "rows_read", "headerName": text("read", lang), "valueFormatter": COUNT},
            {"field": "rows_loaded", "headerName": text("loaded", lang), "valueFormatter": COUNT},
            {"field": "rows_quarantined", "headerName": text("quarantine", lang), "valueFormatter": COUNT},
            {"field": "rows_repeated", "headerName": text("repeats", lang), "headerTooltip": text("repeats_hint", lang),
             "valueFormatter": COUNT},
            {"field": "loaded_at", "headerName": text("loaded_at", lang), "minWidth": 270},
        ], rows_of(batches.assign(loaded_at=[utc_minute(t, lang) for t in batches["loaded_at"]])), lang=lang,
            height=240)),
        section(text("quarantine", lang), scope("dq-quarantine-scope", everything),
                reason(text("no_quarantine", lang), "dq-quarantine-note") if quarantine.empty else
                note("dq-quarantine-note", f"{int(quarantine['rows'].sum()):,} {text('rows', lang)}"),
                grid("dq-quarantine", [
                    {"field": "source", "headerName": text("source", lang), "minWidth": 200, "cellStyle": LEFT_TO_RIGHT},
                    {"field": "column", "headerName": text("column", lang)},
                    {"field": "reason", "headerName": text("reason", lang), "minWidth": 260},
                    {"field": "rows", "headerName": text("rows", lang), "valueFormatter": COUNT},
                    {"field": "first_row", "headerName": text("first_row", lang)},
                ], rows_of(quarantine), lang=lang, height=260)),
        section(text("cases_per_quarter", lang), scope("dq-coverage-scope"),
                dmc.SegmentedControl(id="dq-quarters", value=str(RECENT_QUARTERS), mb="sm", data=[
                    {"value": str(RECENT_QUARTERS), "label": text("last_n_quarters", lang).format(n=RECENT_QUARTERS)},
                    {"value": "all", "label": text("all_quarters", lang)}]),
                html.Div(reason(text("no_cases_yet", lang)), id="dq-coverage-box")),
    ])


def update_coverage(shown: str, lang: str) -> tuple[Any, str]:
    """The heat map of cases per service and quarter, of the latest quarters or of all (or why there is none),
    and the period and selection it shows."""
    data = current_data()
    every = shown == "all"
    quarters = sorted(data.quarters) if every else sorted(data.quarters[:RECENT_QUARTERS])
    period = scope_text(period_text(quarters, every, lang), text("all_services", lang))
    if not quarters:
        return reason(text("no_cases_yet", lang)), period
    counts = data.coverage(quarters)
    figure = coverage_figure(counts, labels={s: data.name("service", s, lang) for s in counts.index},
                             suppressed=fewer_than(lang, data), quarter_names={q: quarter_text(q, lang) for q in quarters},
                             lang=lang)
    return graph("dq-coverage", figure), period


CALLBACKS = [Callback(update_coverage, [
    Output("dq-coverage-box", "children"), Output("dq-coverage-scope", "children"), Input("dq-quarters", "value"),
    State("dq-lang", "data"),
])]
