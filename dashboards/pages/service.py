"""Service: the journey map, the variant explorer, customer steps, the rating and conformance of one service.

Selecting variants narrows the map, the KPIs and the customer steps to their cases.
"""

from __future__ import annotations

from typing import Any

import dash_cytoscape as cyto
import dash_mantine_components as dmc
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html

from najma.dashboards._figures import (
    MAP_STYLESHEET,
    MEASURES,
    VARIANT_MEASURES,
    customer_steps_figure,
    kpi_scores_figure,
    map_elements,
    star_probability_figure,
    variant_figure,
)
from najma.dashboards._i18n import (
    card_lines,
    change_text,
    kpi_label,
    move_text,
    needs_text,
    number_text,
    plan_text,
    rating_text,
    text,
)
from najma.dashboards.pages.common import (
    NUMBER,
    Callback,
    blank,
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
from najma.rating import KPIS, RatingCard, format_value
from najma.rating._suppression import SUPPRESSED

KEY = "service"
PATH = "/service"
TITLE = "Service"
#: The value of the quarter select that means every quarter.
ALL = "all"
#: The share of the journey a map shows at first.
DEFAULT_COVERAGE = 0.9


def layout(lang: str = "en", service: str | None = None, quarter: str | None = None, **_: Any) -> dmc.Stack:
    """The page of `service` (the first by default) in `quarter` (every quarter by default)."""
    data = current_data()
    names = {s: data.name("service", s, lang) for s in data.services}
    warning = [] if service is None or service in data.services else [
        dmc.Alert(text("unknown_service", lang).format(name=service), color="red", id="sv-unknown")]
    service = choice(service, data.services) or data.services[0]
    quarter = choice(quarter, data.quarters) or ALL
    return dmc.Stack([
        heading(lang, "page_service"), *warning, html.Div(id="sv-columns"),
        dcc.Store(id="sv-lang", data=lang),
        dmc.Group([
            dmc.Select(id="sv-service", label=text("service", lang), data=options(data.services, names), value=service,
                       w=320, allowDeselect=False, searchable=True),
            dmc.Select(id="sv-quarter", label=text("quarter", lang), value=quarter, w=160, allowDeselect=False,
                       data=[{"value": ALL, "label": text("all_quarters", lang)}, *data.quarters]),
        ]),
        dmc.SimpleGrid([
            section(text("rating", lang), html.Div(id="sv-rating"), graph("sv-probabilities"), graph("sv-kpi-scores")),
            section(text("variants", lang),
                    dmc.SegmentedControl(id="sv-variant-measure", value="cases", mb="sm", data=[
                        {"value": m, "label": text(f"variant_{m}", lang)} for m in VARIANT_MEASURES]),
                    graph("sv-variant-chart"), reason("", "sv-variant-note"),
                    dmc.MultiSelect(id="sv-variants", label=text("select_variants", lang), data=[], value=[],
                                    clearable=True, searchable=True)),
        ], cols={"base": 1, "lg": 2}),
        section(text("journey_map", lang),
                dmc.Group([
                    dmc.SegmentedControl(id="sv-measure", value="frequency",
                                         data=[{"value": m, "label": text(m, lang)} for m in MEASURES]),
                    dmc.Stack([dmc.Text(text("abstraction", lang), size="sm"),
                               dmc.Slider(id="sv-coverage", min=0.5, max=1, step=0.05, value=DEFAULT_COVERAGE, w=260,
                                          marks=[{"value": v, "label": f"{v:.0%}"} for v in (0.5, 0.75, 1)])], gap=2),
                ], mb="sm"),
                reason("", "sv-map-note"),
                cyto.Cytoscape(id="sv-map", elements=[], layout={"name": "preset", "fit": True},
                               stylesheet=MAP_STYLESHEET, style={"height": "880px", "width": "100%"})),
        dmc.SimpleGrid([
            section(text("selection_kpis", lang), html.Div(id="sv-kpi-note"),
                    grid("sv-kpis", _kpi_columns(lang), lang=lang, height=420)),
            section(text("customer_steps", lang), html.Div(id="sv-steps-note"), graph("sv-steps")),
        ], cols={"base": 1, "lg": 2}),
        section(text("conformance", lang), html.Div(id="sv-conformance"),
                grid("sv-deviations", _deviation_columns(lang), lang=lang, height=300)),
    ])


def _kpi_columns(lang: str) -> list[dict[str, Any]]:
    return [{"field": "pillar", "headerName": text("pillar", lang)}, {"field": "kpi", "headerName": text("kpi", lang)},
            {"field": "value", "headerName": text("value", lang)}]


def _deviation_columns(lang: str) -> list[dict[str, Any]]:
    return [{"field": "kind", "headerName": text("deviation", lang)},
            {"field": "activity", "headerName": text("activity", lang), "minWidth": 220},
            {"field": "cases", "headerName": text("cases", lang)},
            {"field": "mean_seconds", "headerName": f"{text('mean_time', lang)} (h)",
             "valueGetter": {"function": "params.data.mean_seconds == null ? null : params.data.mean_seconds / 3600"},
             "valueFormatter": NUMBER}]


def _quarter(value: str | None) -> str | None:
    return None if value in (None, ALL) else value


def update_service(service: str | None, quarter: str | None, lang: str) -> tuple[Any, ...]:
    """The variants to choose from (selection cleared), and the rating card and figures."""
    data = current_data()
    service = choice(service, data.services) or data.services[0]
    period = choice(_quarter(quarter), data.quarters)
    variants, _ = data.variant_table(service, period)
    choices = [{"value": v, "label": f"{label} · {cases:,} {text('cases', lang)}"}
               for v, label, cases in zip(variants["variant"], variants["label"], variants["cases"], strict=True)]
    rated_quarter = period or data.latest_quarter(service)
    shown, probabilities, scores = _rating(data.card(service, rated_quarter), rated_quarter, lang)
    return choices, [], shown, probabilities, scores, column_notes(data, service, lang)


def _rating(card: RatingCard | None, quarter: str, lang: str) -> tuple[Any, go.Figure, go.Figure]:
    data = current_data()
    title = dmc.Text(text("rating_of", lang).format(quarter=quarter), fw=700)
    source = dmc.Text(" ".join(data.source_lines(quarter, lang)), id="sv-source", size="sm", c="dimmed")
    if card is None or not card.rated:
        why = (too_few(lang, data) if card is not None and card.status == SUPPRESSED else
               " ".join(card_lines(card, lang)) if card is not None and card.shortfalls else text("insufficient", lang))
        return [title, source, reason(why, "sv-stars")], blank(), blank()
    moves = [dmc.Text(f"{text('since_last_quarter', lang)}: {change_text(card.change, lang)}", id="sv-change", fw=700,
                      mt="sm"),
             html.Ul([html.Li(move_text(m, lang)) for m in card.moves], id="sv-moves")] if card.moves else []
    shown = [
        title,
        source,
        dmc.Text(rating_text(card, lang), id="sv-stars", size="xl", c="#c9a227", fw=700),
        dmc.Text(f"{text('score', lang)} {number_text(card.score)} · " + " · ".join(
            f"{text(p, lang)} {number_text(s)}" for p, s in card.pillars.items()) + f" · {text('cases', lang)} {card.cases:,}",
            id="sv-score"),
        html.Div([dmc.Text(line, size="sm") for line in card_lines(card, lang)], id="sv-facts"),
        *moves,
        dmc.Text(text("next_star", lang), fw=700, mt="sm"),
        html.Ul([html.Li(line) for line in plan_text(card, data.config, lang)], id="sv-advice"),
    ]
    breakdown = card.breakdown.assign(label=[kpi_label(k, lang) for k in card.breakdown["kpi"]])
    return (shown, star_probability_figure(card.probabilities, title=text("bootstrap", lang), y_title=text("probability", lang)),
            kpi_scores_figure(breakdown, title=text("kpis_against_targets", lang),
                              x_title=f"{text('score', lang)} (100 = {text('target', lang)})"))


def update_conformance(service: str | None, quarter: str | None, lang: str) -> tuple[Any, list[dict[str, Any]]]:
    """Fitness against the designed journey, and the deviations seen in at least `min_group` cases; nothing of
    a service (in a quarter) of fewer than `min_group` customers."""
    data = current_data()
    service = choice(service, data.services) or data.services[0]
    quarter = choice(_quarter(quarter), data.quarters)
    found = data.conformance(service, quarter)
    if found is None:
        return reason(text("no_design", lang)), []
    summary, deviations = found
    if summary is None:
        return reason(too_few(lang, data), "sv-fitness"), []
    none = [] if len(deviations) else [reason(text("no_deviations", lang).format(n=data.min_group))]
    shown = deviations.assign(
        activity=[data.name("activity", a, lang) for a in deviations["activity"]],
        kind=[text(k, lang) for k in deviations["kind"]],
    )
    return ([dmc.Text(f"{text('fitness', lang)} {summary['fitness']:.1%} · {text('fitting_share', lang)} "
                      f"{summary['fitting_share']:.1%} · {text('cases', lang)} {int(summary['cases']):,}", id="sv-fitness"),
             *none],
            rows_of(shown[["kind", "activity", "cases", "mean_seconds"]]))


def update_selection(service: str | None, quarter: str | None, variants: list[str] | None, measure: str,
                     coverage: float, variant_measure: str, lang: str) -> tuple[Any, ...]:
    """The map, the variant histogram, the KPIs and customer steps of the selected variants' cases."""
    data = current_data()
    service = choice(service, data.services) or data.services[0]
    period = choice(_quarter(quarter), data.quarters)
    table, hidden = data.variant_table(service, period)
    chosen = tuple(sorted(v for v in (variants or []) if v in set(table["variant"])))
    measure = measure if measure in MEASURES else "frequency"
    coverage = min(max(float(coverage or DEFAULT_COVERAGE), 0.05), 1.0)
    graph_ = data.journey_map(service, period, chosen, coverage)
    cases = data.selection(service, period, chosen)
    if graph_ is None:
        elements, map_note = [], too_few(lang, data)
    else:
        labels = {a: data.name("activity", a, lang) for a in graph_.activities["activity"]}
        elements = map_elements(graph_, measure, labels=labels)
        map_note = f"{len(cases):,} {text('cases', lang)} · {len(graph_.activities)} {text('activities', lang)}"
    variant_measure = variant_measure if variant_measure in VARIANT_MEASURES else "cases"
    chart = variant_figure(table, variant_measure, selected=chosen, y_title=text(f"variant_{variant_measure}", lang))
    variant_note = text("suppressed_variants", lang).format(n=data.min_group)
    variant_note = f"{len(table)} {text('variants', lang)} · {hidden} {variant_note}"
    kpis = data.selection_kpis(service, period, chosen)
    completed = cases[cases["completed"] == 1]
    steps, steps_note = blank(), reason(text("no_completed", lang))
    if kpis is None:
        kpi_rows, steps_note = [], reason(too_few(lang, data))
        kpi_note: Any = steps_note
    else:
        kpi_rows = [{"pillar": text(data.config.kpis[k].pillar, lang), "kpi": kpi_label(k, lang),
                     "value": format_value(kpis[k], KPIS[k].unit) if pd.notna(kpis[k])
                     else f"{text('no_data', lang)} {needs_text(k, lang)}"}
                    for k in data.config.kpis]
        kpi_note = []
        if len(completed):
            steps, steps_note = customer_steps_figure(
                completed["customer_steps"], completed["customer_id"], min_group=data.min_group,
                x_title=text("steps", lang), y_title=text("cases", lang), merged_note=text("merged_bins", lang)), []
    return elements, map_note, chart, variant_note, kpi_rows, steps, kpi_note, steps_note


CALLBACKS = [
    Callback(update_service, [
        Output("sv-variants", "data"), Output("sv-variants", "value"), Output("sv-rating", "children"),
        Output("sv-probabilities", "figure"), Output("sv-kpi-scores", "figure"),
        Output("sv-columns", "children"),
        Input("sv-service", "value"), Input("sv-quarter", "value"), State("sv-lang", "data"),
    ]),
    Callback(update_conformance, [
        Output("sv-conformance", "children"), Output("sv-deviations", "rowData"),
        Input("sv-service", "value"), Input("sv-quarter", "value"), State("sv-lang", "data"),
    ]),
    Callback(update_selection, [
        Output("sv-map", "elements"), Output("sv-map-note", "children"), Output("sv-variant-chart", "figure"),
        Output("sv-variant-note", "children"), Output("sv-kpis", "rowData"), Output("sv-steps", "figure"),
        Output("sv-kpi-note", "children"), Output("sv-steps-note", "children"),
        Input("sv-service", "value"), Input("sv-quarter", "value"), Input("sv-variants", "value"),
        Input("sv-measure", "value"), Input("sv-coverage", "value"), Input("sv-variant-measure", "value"),
        State("sv-lang", "data"),
    ]),
]

__all__ = ["layout", "update_service", "update_selection", "update_conformance", "CALLBACKS", "KEY", "PATH", "TITLE"]
