"""Customer journeys: a life event's journeys across agencies, their flows, and the ask-once failures."""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html

from najma.dashboards._figures import sankey_figure
from najma.dashboards._i18n import text
from najma.dashboards.pages.common import (
    PERCENT,
    Callback,
    choice,
    column_notes,
    current_data,
    graph,
    grid,
    heading,
    options,
    reason,
    rows_of,
    section,
    too_few,
)

KEY = "journeys"
PATH = "/journeys"
TITLE = "Customer journeys"


def layout(lang: str = "en", life_event: str | None = None, **_: Any) -> dmc.Stack:
    """The page in `lang`, of `life_event` (the first by default)."""
    data = current_data()
    if not data.life_events:
        return dmc.Stack([heading(lang, "page_journeys"), dmc.Alert(text("no_life_events", lang), id="cj-none")])
    names = {e: data.name("life_event", e, lang) for e in data.life_events}
    return dmc.Stack([
        heading(lang, "page_journeys"),
        html.Div(column_notes(data, None, lang), id="cj-columns"),
        dcc.Store(id="cj-lang", data=lang),
        dmc.Select(id="cj-life-event", label=text("life_event", lang), data=options(data.life_events, names),
                   value=choice(life_event, data.life_events) or data.life_events[0], w=280, allowDeselect=False),
        dmc.SimpleGrid(id="cj-summary", cols={"base": 2, "md": 3, "lg": 6}),
        section(text("flows", lang), graph("cj-sankey")),
        section(text("ask_once_failures", lang), grid("cj-ask-once", [
            {"field": "name", "headerName": text("service", lang), "minWidth": 240},
            {"field": "cases", "headerName": text("cases", lang)},
            {"field": "failures", "headerName": text("failures", lang)},
            {"field": "share", "headerName": text("share", lang), "valueFormatter": PERCENT},
        ], lang=lang, height=280)),
    ])


def _figure(label: str, value: str, id_: str) -> dmc.Paper:
    return dmc.Paper([dmc.Text(label, size="sm", c="dimmed"), dmc.Text(value, id=id_, size="xl", fw=700)],
                     p="sm", withBorder=True)


def update_journeys(life_event: str | None, lang: str) -> tuple[Any, go.Figure, list[dict[str, Any]]]:
    """The summary figures, the Sankey of flows and the ask-once table of one life event."""
    data = current_data()
    life_event = choice(life_event, data.life_events) or data.life_events[0]
    summary = data.life_event_summary(life_event)
    if summary is None:
        return [reason(too_few(lang, data))], go.Figure(), []
    cards = [
        _figure(text("journeys", lang), f"{summary['journeys']:,}", "cj-journeys"),
        _figure(text("customers", lang), f"{summary['customers']:,}", "cj-customers"),
        _figure(text("agencies_touched", lang), f"{summary['agencies']:.1f}", "cj-agencies"),
        _figure(text("customer_steps_mean", lang), f"{summary['customer_steps']:.1f}", "cj-steps"),
        _figure(text("days_mean", lang), f"{summary['days']:.1f}", "cj-days"),
        _figure(text("ask_once_share", lang), f"{summary['ask_once_share']:.0%}", "cj-ask-once-share"),
    ]
    flows = data.life_event_flows(life_event)
    nodes = {*flows["source"], *flows["target"]}
    labels = {n: data.name(n.split(":", 1)[0], n.split(":", 1)[1], lang) for n in nodes}
    failures = data.ask_once(life_event).copy()  # the data's answer is shared between requests
    failures.insert(0, "name", [data.name("service", s, lang) for s in failures["service"]])
    return cards, sankey_figure(flows, labels=labels), rows_of(failures)


CALLBACKS = [Callback(update_journeys, [
    Output("cj-summary", "children"), Output("cj-sankey", "figure"), Output("cj-ask-once", "rowData"),
    Input("cj-life-event", "value"), State("cj-lang", "data"),
])]
