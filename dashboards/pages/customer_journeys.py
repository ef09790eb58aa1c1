"""Customer journeys: a life event's journeys across agencies, their flows, and the ask-once failures."""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
from dash import Input, Output, State, dcc, html

from najma.dashboards._figures import sankey_figure
from najma.dashboards._i18n import text
from najma.dashboards.pages.common import (
    COUNT,
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
    scope,
    scope_text,
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
        scope("cj-scope"),
        dmc.SimpleGrid(id="cj-summary", cols={"base": 2, "md": 3, "lg": 6}),
        section(text("flows", lang), scope("cj-flows-scope"), html.Div(id="cj-flows-box")),
        section(text("ask_once_failures", lang), scope("cj-ask-once-scope"), html.Div(id="cj-ask-once-note"),
                grid("cj-ask-once", [
            {"field": "name", "headerName": text("service", lang), "minWidth": 240},
            {"field": "cases", "headerName": text("cases", lang), "valueFormatter": COUNT},
            {"field": "failures", "headerName": text("failures", lang), "valueFormatter": COUNT},
            {"field": "share", "headerName": text("share", lang), "valueFormatter": PERCENT},
        ], lang=lang, height=280)),
    ])


def _figure(label: str, value: str, id_: str) -> dmc.Paper:
    return dmc.Paper([dmc.Text(label, size="sm", c="dimmed"), dmc.Text(value, id=id_, size="xl", fw=700)],
                     p="sm", withBorder=True)


def update_journeys(life_event: str | None, lang: str) -> tuple[Any, ...]:
    """The summary figures, the Sankey of flows and the ask-once table of one life event (or why each is empty),
    and the period and selection every card shows."""
    data = current_data()
    life_event = choice(life_event, data.life_events) or data.life_events[0]
    shown = scope_text(data.name("life_event", life_event, lang), text("all_quarters", lang), text("all_agencies", lang))
    summary = data.life_event_summary(life_event)
    if summary is None:
        suppressed = reason(too_few(lang, data))
        return [suppressed], suppressed, [], suppressed, shown, shown, shown
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
    flows_shown = graph("cj-sankey", sankey_figure(flows, labels=labels)) if len(flows) else reason(text("no_flows", lang))
    failures_note = [] if len(failures) else reason(text("no_ask_once", lang))
    return cards, flows_shown, rows_of(failures), failures_note, shown, shown, shown


CALLBACKS = [Callback(update_journeys, [
    Output("cj-summary", "children"), Output("cj-flows-box", "children"), Output("cj-ask-once", "rowData"),
    Output("cj-ask-once-note", "children"), Output("cj-scope", "children"), Output("cj-flows-scope", "children"),
    Output("cj-ask-once-scope", "children"),
    Input("cj-life-event", "value"), State("cj-lang", "data"),
])]
