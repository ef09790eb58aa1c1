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
from najma.dashboards._i18n import LANGUAGES, grid_locale, quarter_text, text
from najma.dashboards._jobs import STOPPED, Jobs, JobState
from najma.rating._suppression import SUPPRESSED

__all__ = ["current_data", "current_jobs", "job_error_text", "POLL_MS", "language", "Callback", "grid", "graph", "note", "section", "rows_of", "choice", "options", "quarter_options",
           "too_few", "fewer_than", "scope", "scope_text", "suppressed_as_text", "heading", "reason", "blank", "no_data_as_text", "column_notes", "NUMBER", "PERCENT", "DURATION_DAYS", "STARS",
           "COUNT", "LEFT_TO_RIGHT"]

#: Column formats for grids (AG Grid value formatters, run in the browser on numbers kept as numbers); the same in
#: both languages, Western digits (see :mod:`najma.dashboards._i18n`).
NUMBER = {"function": "params.value == null ? '' : d3.format(',.1f')(params.value)"}
PERCENT = {"function": "params.value == null ? '' : d3.format('.0%')(params.value)"}
DURATION_DAYS = {"function": "params.value == null ? '' : d3.format(',.1f')(params.value / 86400)"}
STARS = {"function": "params.value == null ? '' : '★'.repeat(params.value)"}
COUNT = {"function": "params.value == null ? '' : d3.format(',')(params.value)"}
#: The look of a grid column of text that reads left to right in either language (a file's path).
LEFT_TO_RIGHT = {"direction": "ltr", "textAlign": "left"}
#: How often (ms) a page asks for the state of its running background job.
POLL_MS = 500


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


def job_error_text(state: JobState, lang: str) -> str:
    """What a page says, in `lang`, of a background job that did not answer; empty when it did not fail.

    The job's own error (library English, or a Python error) is for the server's log, where it is
    written; the page says only whether the job failed, was cancelled or the dashboard is stopping.

    Parameters
    ----------
    state : JobState
        The job's state, from :meth:`~najma.dashboards._jobs.Jobs.state` or ``submit``.
    lang : str
        The page's language.

    Returns
    -------
    str
        One translated sentence, or "" when the job has no error.

    Examples
    --------
    >>> job_error_text(JobState(True, None, "ValueError: boom", "failed", 1.0), "en")
    "The calculation failed; the server's log says why."
    """
    if state.error is None:
        return ""
    if state.error == STOPPED:
        return text("job_stopping", lang)
    return text("job_cancelled" if state.progress == "cancelled" else "job_failed", lang)


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
         lang: str = "en", every_row: bool = False) -> dag.AgGrid:
    """A sortable, filterable grid that can export CSV; right to left and in its own words in Arabic.

    Its numbers keep Western digits in both languages (see :mod:`najma.dashboards._i18n`), so the
    formatters below serve both. A grid draws only the rows in view unless `every_row` (for short
    tables, so that every row is in the page for find-in-page, screen readers and tests).
    """
    return dag.AgGrid(
        id=id_, columnDefs=columns, rowData=rows or [], columnSize="responsiveSizeToFit",
        defaultColDef={"sortable": True, "filter": True, "resizable": True},
        dashGridOptions={"enableRtl": lang == "ar", "animateRows": False, "domLayout": "normal",
                         "localeText": grid_locale(lang), "suppressRowVirtualisation": every_row},
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
    """A plotly graph with the mode bar kept small.

    plotly.js lays its text out for a left-to-right page; inherited right to left, it anchors axis labels at their
    wrong end and they are cut off. So the graph is always laid out left to right: a figure drawn for Arabic
    reads from the right by its own layout (see :mod:`najma.dashboards._figures`), and Arabic words still read
    right to left within their labels.
    """
    return dcc.Graph(id=id_, figure=figure or blank(), config={"displaylogo": False}, style={"direction": "ltr"})


def note(id_: str, children: Any = "") -> dmc.Text:
    """A line of small text that callbacks fill (counts, what was suppressed)."""
    return dmc.Text(children, id=id_, size="sm", c="dimmed")


def section(title: str, *children: Any) -> dmc.Paper:
    """A titled block of a page."""
    return dmc.Paper([dmc.Title(title, order=4, mb="sm"), *children], p="md", withBorder=True, radius="md", mb="md")


def options(keys: Sequence[str], names: Mapping[str, str]) -> list[dict[str, str]]:
    """Select options of `keys` shown by their names."""
    return [{"value": key, "label": names.get(key, key)} for key in keys]


def quarter_options(quarters: Sequence[str], lang: str) -> list[dict[str, str]]:
    """Select options of `quarters` named as people read them in `lang` ("الربع الرابع 2025")."""
    return [{"value": q, "label": quarter_text(q, lang)} for q in quarters]


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


def scope_text(*parts: str) -> str:
    """The period and the selection a card shows, as one line: its non-empty `parts` joined by " · "."""
    return " · ".join(p for p in parts if p)


def scope(id_: str, *parts: str) -> dmc.Text:
    """The line under a card's title that names the period and the selection it shows (callbacks may fill it)."""
    return dmc.Text(scope_text(*parts), id=id_, size="sm", fw=500, className="najma-scope", mb="xs")


def heading(lang: str, key: str) -> html.H2:
    """A page's title."""
    return html.H2(text(key, lang), style={"marginTop": 0})

