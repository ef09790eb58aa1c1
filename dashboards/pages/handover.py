"""Hand-overs: how work passes between agencies, services and resources, as a network, a matrix and a list of pairs.

The cases are chosen as on every view: a service (or all), a quarter (or all), the first channel, and the
service page's criteria carried in the address (activities present or absent, followed, an attribute, a
duration, the outcome; see :func:`najma.dashboards.pages.service.criteria`). What a hand-over is, is
:mod:`najma.journeys._handover`'s. Pairs of fewer than `min_group` customers are not shown, in the
network, the matrix, the list or their CSV (the small-group rule), and the page says how many were left out.
The network is drawn with the journey map's layout and look.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import dash_cytoscape as cyto
import dash_mantine_components as dmc
import pandas as pd
from dash import Input, Output, State, dcc

from najma.dashboards._figures import MAP_STYLESHEET, MEASURES, map_elements
from najma.dashboards._i18n import period_text, text
from najma.dashboards.pages.common import (
    COUNT,
    DURATION_DAYS,
    Callback,
    choice,
    current_data,
    grid,
    heading,
    options,
    quarter_options,
    reason,
    rows_of,
    scope,
    scope_text,
    section,
)
from najma.dashboards.pages.service import ALL, criteria, export_csv, read_filters
from najma.journeys import HANDOVER_EPISODE_DAYS, HANDOVER_LEVELS, HANDOVER_NEEDS, CaseFilter, handover_matrix, handover_network
from najma.rating._suppression import kept_groups

KEY = "handover"
PATH = "/handover"
TITLE = "Hand-overs"
#: The grids whose rows the page exports as CSV.
_GRIDS = ("ho-matrix", "ho-pairs")
#: The most pairs the network draws (the most frequent; pairs as frequent as the last one drawn are drawn too): a
#: network of every pair between resources would be unreadable and slow to lay out (1,945 pairs of the sample's
#: resources: 34 s; 40: 0.05 s).
DRAWN_PAIRS = 24


def layout(lang: str = "en", by: str | None = None, service: str | None = None, quarter: str | None = None,
           channel: str | None = None, measure: str | None = None, **query: Any) -> dmc.Stack:
    """The page in `lang`: hand-overs `by` agency (by default), service or resource, of the cases of `service`,
    `quarter` and `channel` (all by default) that meet the criteria the address holds in `query`."""
    data = current_data()
    names = {s: data.name("service", s, lang) for s in data.services}
    state = {k: v for k, v in read_filters(query).items() if k != "channel"}
    return dmc.Stack([
        heading(lang, "page_handover"),
        reason(text("ho_definition", lang).format(days=HANDOVER_EPISODE_DAYS)),
        dcc.Store(id="ho-lang", data=lang), dcc.Store(id="ho-filters", data=state),
        dmc.Group([
            dmc.Stack([dmc.Text(text("ho_by", lang), size="sm"), dmc.SegmentedControl(
                id="ho-by", value=choice(by, HANDOVER_LEVELS) or "agency",
                data=[{"value": level, "label": text(f"ho_by_{level}", lang)} for level in HANDOVER_LEVELS])], gap=2),
            dmc.Select(id="ho-service", label=text("service", lang), value=choice(service, data.services) or ALL, w=280,
                       allowDeselect=False, searchable=True,
                       data=[{"value": ALL, "label": text("all_services", lang)}, *options(data.services, names)]),
            dmc.Select(id="ho-quarter", label=text("quarter", lang), value=choice(quarter, data.quarters) or ALL, w=180,
                       allowDeselect=False,
                       data=[{"value": ALL, "label": text("all_quarters", lang)}, *quarter_options(data.quarters, lang)]),
            dmc.Select(id="ho-channel", label=text("channel", lang), value=choice(channel, data.channels) or ALL, w=200,
                       allowDeselect=False, data=[{"value": ALL, "label": text("all_channels", lang)},
                                                  *options(data.channels, {c: data.name("channel", c, lang)
                                                                           for c in data.channels})]),
        ], align="end"),
        reason("", "ho-note"),
        section(text("ho_network", lang), scope("ho-network-scope"),
                dmc.SegmentedControl(id="ho-measure", value=choice(measure, MEASURES) or "frequency", mb="sm",
                                     data=[{"value": m, "label": text(m, lang)} for m in MEASURES]),
                cyto.Cytoscape(id="ho-network", elements=[], layout={"name": "preset", "fit": True},
                               stylesheet=MAP_STYLESHEET, style={"height": "620px", "width": "100%"})),
        section(text("ho_matrix", lang), scope("ho-matrix-scope"), _export_button("ho-matrix", lang),
                grid("ho-matrix", [], lang=lang, height=360)),
        section(text("ho_pairs", lang), scope("ho-pairs-scope"), _export_button("ho-pairs", lang),
                grid("ho-pairs", _pair_columns(lang), lang=lang, height=360)),
    ])


def _export_button(grid_id: str, lang: str) -> dmc.Button:
    return dmc.Button(text("ex_export_csv", lang), id=f"{grid_id}-csv", variant="light", size="xs", mb="xs")


def _pair_columns(lang: str) -> list[dict[str, Any]]:
    return [
        {"field": "from", "headerName": text("ho_from", lang), "minWidth": 200},
        {"field": "to", "headerName": text("ho_to", lang), "minWidth": 200},
        {"field": "handovers", "headerName": text("ho_handovers", lang), "valueFormatter": COUNT, "sort": "desc"},
        {"field": "cases", "headerName": text("cases", lang), "valueFormatter": COUNT},
        {"field": "customers", "headerName": text("customers", lang), "valueFormatter": COUNT},
        {"field": "median_seconds", "headerName": text("ho_median_days", lang), "valueFormatter": DURATION_DAYS},
    ]


def _where(service: str | None, quarter: str | None, channel: str | None, filters: dict[str, Any] | None,
           ) -> CaseFilter:
    """The cases asked about: the page's service, quarter and channel (each None for all) and the address's criteria."""
    data = current_data()
    return replace(criteria(filters) or CaseFilter(), service=service, quarter=quarter, channel=channel, tz=data.tz)


def _scope(by: str, service: str | None, quarter: str | None, channel: str | None, filters: dict[str, Any] | None,
           lang: str) -> str:
    """The period and the selection every part of the page shows."""
    data = current_data()
    count = len(read_filters(filters or {}))
    return scope_text(
        text(f"ho_by_{by}", lang),
        data.name("service", service, lang) if service else text("all_services", lang),
        period_text([quarter] if quarter else [], quarter is None, lang),
        data.name("channel", channel, lang) if channel else text("all_channels", lang),
        text("ex_filters_n_one" if count == 1 else "ex_filters_n", lang).format(n=count) if count
        else text("ex_no_filter", lang),
    )


def _names(by: str, keys: list[str], lang: str) -> dict[str, str]:
    """The display names of `keys` (agencies, services or resources: a resource is shown by its own name)."""
    data = current_data()
    return {k: k if by == "resource" else data.name(by, k, lang) for k in keys}


def update_handover(by: str | None, service: str | None, quarter: str | None, channel: str | None,
                    measure: str | None, lang: str, filters: dict[str, Any] | None) -> tuple[Any, ...]:
    """The network, the matrix and the pairs of the selection, the line that says what was left out, and the
    period and selection each part shows."""
    data = current_data()
    by = choice(by, HANDOVER_LEVELS) or "agency"
    service, quarter, channel = (choice(service, data.services), choice(quarter, data.quarters),
                                 choice(channel, data.channels))
    measure = choice(measure, MEASURES) or "frequency"
    pairs = data.handovers(by, _where(service, quarter, channel, filters))
    kept, hidden = kept_groups(pairs, data.min_group)
    shown = _scope(by, service, quarter, channel, filters, lang)
    said = [text("ho_hidden", lang).format(pairs=f"{hidden:,}", n=data.min_group)] if hidden else []
    if kept.empty:
        none = (text("ho_no_column", lang).format(column=text(f"ho_column_{HANDOVER_NEEDS[by]}", lang)) if HANDOVER_NEEDS[by] not in data.held.of(service)
                else text("ho_none", lang))
        return ([], [], [], [], " ".join([none, *said]), shown, shown, shown)
    names = _names(by, sorted({*kept["source"], *kept["target"]}), lang)
    summary = text("ho_summary", lang).format(handovers=f"{kept['handovers'].sum():,}", pairs=f"{len(kept):,}")
    drawn = _drawn(kept)
    elements = map_elements(handover_network(drawn), measure, labels=names, lang=lang)
    if len(drawn) < len(kept):
        said.append(text("ho_drawn", lang).format(shown=f"{len(drawn):,}", pairs=f"{len(kept):,}"))
    columns, rows = _matrix(kept, names, lang)
    listed = kept.assign(**{"from": kept["source"].map(names), "to": kept["target"].map(names)})
    return (elements, columns, rows, rows_of(listed.drop(columns=["source", "target"])), " ".join([summary, *said]),
            shown, shown, shown)


def _drawn(kept: pd.DataFrame) -> pd.DataFrame:
    """The pairs the network draws: the :data:`DRAWN_PAIRS` most frequent (`kept` is most frequent first), with
    every pair as frequent as the last of them, so that pairs of equal hand-overs are drawn or left out together."""
    if len(kept) <= DRAWN_PAIRS:
        return kept
    return kept[kept["handovers"] >= kept["handovers"].iloc[DRAWN_PAIRS - 1]]


def _matrix(kept: pd.DataFrame, names: dict[str, str], lang: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The matrix grid's columns (a column per target, by its name) and rows (a row per source)."""
    matrix = handover_matrix(kept)
    fields = {target: f"t{i}" for i, target in enumerate(matrix.columns)}
    columns = [{"field": "from", "headerName": text("ho_from", lang), "minWidth": 200, "pinned": "left"},
               *({"field": fields[t], "headerName": names[t], "valueFormatter": COUNT, "minWidth": 110}
                 for t in matrix.columns)]
    rows = [{"from": names[source], **{fields[t]: int(n) for t, n in row.items()}} for source, row in matrix.iterrows()]
    return columns, rows


CALLBACKS = [
    Callback(update_handover, [
        Output("ho-network", "elements"), Output("ho-matrix", "columnDefs"), Output("ho-matrix", "rowData"),
        Output("ho-pairs", "rowData"), Output("ho-note", "children"), Output("ho-network-scope", "children"),
        Output("ho-matrix-scope", "children"), Output("ho-pairs-scope", "children"),
        Input("ho-by", "value"), Input("ho-service", "value"), Input("ho-quarter", "value"), Input("ho-channel", "value"),
        Input("ho-measure", "value"), State("ho-lang", "data"), State("ho-filters", "data"),
    ]),
    *[Callback(export_csv, [Output(g, "exportDataAsCsv"), Input(f"{g}-csv", "n_clicks"), True]) for g in _GRIDS],
]

__all__ = ["layout", "update_handover", "CALLBACKS", "KEY", "PATH", "TITLE"]
