"""What the pages share: the data of the running app, the language, and a few components made the same way.

Examples
--------
>>> language("?lang=ar&service=passport")
'ar'
>>> language("")
'en'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import dash_ag_grid as dag
import dash_mantine_components as dmc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html
from flask import current_app

from najma.dashboards._data import DashboardData
from najma.dashboards._i18n import LANGUAGES, text
from najma.dashboards._jobs import Jobs
from najma.rating._suppression import SUPPRESSED

__all__ = ["current_data", "current_jobs", "language", "Callback", "grid", "graph", "note", "section", "rows_of", "choice", "options",
           "too_few", "fewer_than", "suppressed_as_text", "heading", "reason", "blank", "no_data_as_text", "column_notes", "NUMBER", "PERCENT", "DURATION_DAYS", "STARS"]

#: Column formats for grids (AG Grid value formatters, run in the browser on numbers kept as numbers).
NUMBER = {"function": "params.value == null ? '' : d3.format(',.1f')(params.value)"}
PERCENT = {"function": "params.value == null ? '' : d3.format('.0%')(params.value)"}
DURATION_DAYS = {"function": "params.value == null ? '' : d3.format(',.1f')(params.value / 86400)"}
STARS = {"function": "params.value == null ? '' : '★'.repeat(params.value)"}


@dataclass(frozen=True)
class Callback:
    """A page's callback: the function and its outputs, inputs and states, registered on each app made."""

    function: Callable[..., Any]
    dependencies: Sequence[Any]


def current_data() -> DashboardData:
    """The data of the app serving this request."""
    return current_app.config["NAJMA_DATA"]


def current_jobs() -> Jobs:
    """The background jobs of the app serving this request (long work runs there, not on the threads serving clicks)."""
    return current_app.config["NAJMA_JOBS"]


def language(search: str | None) -> str:
    """The language a page's query string asks for ("en" unless ``lang=ar``)."""
    asked = parse_qs((search or "").lstrip("?")).get("lang", ["en"])[0]
    return asked if asked in LANGUAGES else "en"


def choice(value: str | None, known: Sequence[str]) -> str | None:
    """`value` if it is one of `known`, else None (a query parameter is never trusted)."""
    return value if value in known else None


def rows_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Grid rows from a frame: missing values become None (JSON null)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def grid(id_: str, columns: list[dict[str, Any]], rows: list[dict[str, Any]] | None = None, *, height: int = 360,
         lang: str = "en") -> dag.AgGrid:
    """A sortable, filterable grid that can export CSV; right to left in Arabic."""
    return dag.AgGrid(
        id=id_, columnDefs=columns, rowData=rows or [], columnSize="responsiveSizeToFit",
        defaultColDef={"sortable": True, "filter": True, "resizable": True},
        dashGridOptions={"enableRtl": lang == "ar", "animateRows": False, "domLayout": "normal"},
        csvExportParams={"fileName": f"{id_}.csv"}, style={"height": f"{height}px"}, className="ag-theme-alpine",
    )


def no_data_as_text(formatter: dict[str, str], lang: str) -> dict[str, str]:
    """A grid value formatter of this module that shows a missing value as "no data" in `lang`, not as a blank."""
    return {"function": formatter["function"].replace("? ''", f"? {json.dumps(text('no_data_short', lang))}", 1)}


def blank() -> go.Figure:
    """A figure with nothing to draw, kept out of sight: the reason beside it says why."""
    return go.Figure(layout={"xaxis": {"visible": False}, "yaxis": {"visible": False}, "height": 40,
                             "margin": {"t": 0, "b": 0, "l": 0, "r": 0}, "plot_bgcolor": "rgba(0,0,0,0)",
                             "paper_bgcolor": "rgba(0,0,0,0)"})


def graph(id_: str, figure: go.Figure | None = None) -> dcc.Graph:
    """A plotly graph with the mode bar kept small."""
    return dcc.Graph(id=id_, figure=figure or blank(), config={"displaylogo": False})


def note(id_: str, children: Any = "") -> dmc.Text:
    """A line of small text that callbacks fill (counts, what was suppressed)."""
    return dmc.Text(children, id=id_, size="sm", c="dimmed")


def section(title: str, *children: Any) -> dmc.Paper:
    """A titled block of a page."""
    return dmc.Paper([dmc.Title(title, order=4, mb="sm"), *children], p="md", withBorder=True, radius="md", mb="md")


def options(keys: Sequence[str], names: Mapping[str, str]) -> list[dict[str, str]]:
    """Select options of `keys` shown by their names."""
    return [{"value": key, "label": names.get(key, key)} for key in keys]


def reason(children: Any, id_: str | None = None) -> dmc.Text:
    """One line that says why a figure beside it is empty or what it lacks (the class ``najma-reason`` marks it)."""
    return dmc.Text(children, size="sm", c="dimmed", className="najma-reason", **({"id": id_} if id_ else {}))


def column_notes(data: DashboardData, service: str | None, lang: str) -> list[dmc.Text]:
    """The lines on how customers are counted and which columns the data of `service` (of all when None) lacks."""
    return [reason(line) for line in data.notes(service, lang)]


def too_few(lang: str, data: DashboardData) -> str:
    """The sentence that says a group was suppressed."""
    return text("too_few", lang).format(n=data.min_group)


def fewer_than(lang: str, data: DashboardData) -> str:
    """What a suppressed group shows instead of its count: "fewer than N customers"."""
    return text("fewer_than", lang).format(n=data.min_group)


def suppressed_as_text(formatter: dict[str, str], lang: str, data: DashboardData) -> dict[str, str]:
    """A grid value formatter that shows "fewer than N customers" in the cells of a suppressed row (its
    ``status`` column), else formats as `formatter` does."""
    said = json.dumps(fewer_than(lang, data))
    return {"function": f"params.data && params.data.status === {json.dumps(SUPPRESSED)} ? {said} : "
                        f"({formatter['function']})"}


def heading(lang: str, key: str) -> html.H2:
    """A page's title."""
    return html.H2(text(key, lang), style={"marginTop": 0})

