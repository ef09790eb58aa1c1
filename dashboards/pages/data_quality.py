"""Data: the import batches, the quarantined rows with their reasons, and cases per service and quarter."""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html

from najma.dashboards._figures import coverage_figure
from najma.dashboards._i18n import text
from najma.dashboards.pages.common import (
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
    return dmc.Stack([
        heading(lang, "page_data"),
        html.Div(column_notes(data, None, lang), id="dq-columns"),
        dcc.Store(id="dq-lang", data=lang),
        section(text("batches", lang), grid("dq-batches", [
            {"field": "batch_id", "headerName": "#", "maxWidth": 70},
            {"field": "source", "headerName": text("source", lang), "minWidth": 240},
            {"field": "service", "headerName": text("service", lang)},
            {"field": "rows_read", "headerName": text("read", lang)},
            {"field": "rows_loaded", "headerName": text("loaded", lang)},
            {"field": "rows_quarantined", "headerName": text("quarantine", lang)},
            {"field": "rows_repeated", "headerName": text("repeats", lang), "headerTooltip": text("repeats_hint", lang)},
            {"field": "loaded_at", "headerName": text("loaded_at", lang)},
        ], rows_of(batches.assign(loaded_at=batches["loaded_at"].astype(str))), lang=lang, height=240)),
        section(text("quarantine", lang),
                reason(text("no_quarantine", lang), "dq-quarantine-note") if quarantine.empty else
                note("dq-quarantine-note", f"{int(quarantine['rows'].sum()):,} {text('rows', lang)}"),
                grid("dq-quarantine", [
                    {"field": "source", "headerName": text("source", lang), "minWidth": 200},
                    {"field": "column", "headerName": text("column", lang)},
                    {"field": "reason", "headerName": text("reason", lang), "minWidth": 260},
                    {"field": "rows", "headerName": text("rows", lang)},
                    {"field": "first_row", "headerName": text("first_row", lang)},
                ], rows_of(quarantine), lang=lang, height=260)),
        section(text("cases_per_quarter", lang),
                dmc.SegmentedControl(id="dq-quarters", value=str(RECENT_QUARTERS), mb="sm", data=[
                    {"value": str(RECENT_QUARTERS), "label": f"{RECENT_QUARTERS}"},
                    {"value": "all", "label": text("all_quarters", lang)}]),
                graph("dq-coverage")),
    ])


def update_coverage(shown: str, lang: str) -> go.Figure:
    """The heat map of cases per service and quarter, of the latest quarters or of all."""
    data = current_data()
    quarters = sorted(data.quarters) if shown == "all" else sorted(data.quarters[:RECENT_QUARTERS])
    counts = data.coverage(quarters)
    return coverage_figure(counts, labels={s: data.name("service", s, lang) for s in counts.index},
                           suppressed=fewer_than(lang, data))


CALLBACKS = [Callback(update_coverage, [
    Output("dq-coverage", "figure"), Input("dq-quarters", "value"), State("dq-lang", "data"),
])]
