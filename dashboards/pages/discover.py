"""Discover: bundles of services the same customers take together, and services that could start proactively.

For the period chosen (every quarter, or the cases started in one) and the thresholds set, the page
runs :func:`najma.journeys.discover_bundles` and :func:`najma.journeys.discover_proactive` as background
jobs (see :mod:`najma.dashboards._jobs`), each keyed by the copy of the store shown, the period and its
thresholds; a card shows the answer of its own key only, so an answer that arrives after the analyst
moved on is never shown under the wrong thresholds. Every card names its period, its selection and
how many customers it stands on, and says its method in a sentence or two.

The dashboard reads a copy of the store, so it never writes the catalogue: each bundle candidate not
yet a life event shows the ``najma discover adopt`` command that writes it into the catalogue file
(as ``najma discover bundles`` prints it, the file named ``CATALOGUE.toml``).
A candidate of fewer than `min_group` customers is not shown, and the lag histogram merges its bars
of fewer than `min_group` customers (the small-group rule).
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Hashable
from typing import Any

import dash_mantine_components as dmc
import numpy as np
import pandas as pd
from dash import Input, Output, State, dcc

from najma.dashboards._adopt import adopt_commands
from najma.dashboards._data import DashboardData
from najma.dashboards._discovered import missing_line
from najma.dashboards._figures import customer_steps_figure
from najma.dashboards._i18n import listed, period_text, text, utc_minute
from najma.dashboards._jobs import JobState
from najma.dashboards.pages.common import (
    COUNT,
    LEFT_TO_RIGHT,
    NUMBER,
    PERCENT,
    POLL_MS,
    Callback,
    blank,
    choice,
    current_data,
    current_jobs,
    graph,
    grid,
    heading,
    job_error_text,
    no_data_as_text,
    quarter_options,
    reason,
    rows_of,
    scope,
    scope_text,
    section,
)
from najma.journeys import (
    NEEDED_BY,
    PROACTIVE_NEEDED_BY,
    BundleCandidates,
    CaseFilter,
    ProactiveCandidates,
    discover_bundles,
    discover_proactive,
)

KEY = "discover"
PATH = "/discover"
TITLE = "Discover"
#: The value of the period select that means every quarter.
ALL = "all"
#: The thresholds the page starts with: the library's defaults, support and share in per cent.
DEFAULTS = {"window": 60, "support": 1.0, "within": 30, "share": 50.0}
#: The widest window, in days, the page asks for (a longer one links every customer's cases into one episode).
MOST_DAYS = 3650
#: A share with one decimal, as the thresholds are set (1.5% of episodes).
SHARE = {"function": "params.value == null ? '' : d3.format('.1%')(params.value)"}
#: The figures a log may not support that the bundles' grid shows, by the key of their header.
_BUNDLE_FIGURES = {"visits": "dc_visits", "customer_steps": "dc_steps", "documents_repeated": "dc_documents",
                   "steps_saved": "dc_steps_saved", "visits_saved": "dc_visits_saved"}
#: The figures a log may not support that the proactive grid shows, by the key of their header.
_PROACTIVE_FIGURES = {"already_proactive": "dc_already", "application_steps": "dc_application_steps",
                      "visits": "dc_visits_saved"}


def layout(lang: str = "en", quarter: str | None = None, **_: Any) -> dmc.Stack:
    """The page in `lang`, of `quarter` (every quarter by default), with the library's default thresholds."""
    data = current_data()
    owner = uuid.uuid4().hex  # this page view: its replaced discoveries, still queued, are cancelled

    def number(id_: str, label: str, value: float, low: float, high: float, step: float) -> dmc.NumberInput:
        return dmc.NumberInput(id=id_, label=text(label, lang), value=value, min=low, max=high, step=step, w=170,
                               debounce=400, allowNegative=False)

    return dmc.Stack([
        heading(lang, "page_discover"),
        dcc.Store(id="dc-lang", data=lang),
        dcc.Store(id="dc-owner", data=owner),
        dcc.Interval(id="dc-bundles-poll", interval=POLL_MS, disabled=True),
        dcc.Interval(id="dc-proactive-poll", interval=POLL_MS, disabled=True),
        dmc.Select(id="dc-quarter", label=text("quarter", lang), w=200, allowDeselect=False,
                   value=choice(quarter, data.quarters) or ALL,
                   data=[{"value": ALL, "label": text("all_quarters", lang)}, *quarter_options(data.quarters, lang)]),
        section(text("dc_bundles", lang),
                dmc.Group([number("dc-window", "dc_window", DEFAULTS["window"], 1, MOST_DAYS, 1),
                           number("dc-support", "dc_support", DEFAULTS["support"], 0.1, 100, 0.5)], mb="xs"),
                scope("dc-bundles-scope"), reason(text("dc_bundles_method", lang)), reason(text("dc_adopt_note", lang)),
                reason("", "dc-bundles-status"),
                _fitted(grid("dc-bundles", _bundle_columns(lang), lang=lang, every_row=True))),
        section(text("dc_proactive", lang),
                dmc.Group([number("dc-within", "dc_within", DEFAULTS["within"], 1, MOST_DAYS, 1),
                           number("dc-share", "dc_share", DEFAULTS["share"], 1, 100, 5)], mb="xs"),
                scope("dc-proactive-scope"), reason(text("dc_proactive_method", lang)),
                reason("", "dc-proactive-status"),
                _proactive_grid(lang),
                reason(text("dc_pick_row", lang)), scope("dc-lag-scope"), graph("dc-lag")),
    ])


def _fitted(found: Any) -> Any:
    """A grid of the page as tall as its rows (a few candidates leave no empty box below them)."""
    found.dashGridOptions = {**found.dashGridOptions, "domLayout": "autoHeight"}
    found.style = {}
    return found


def _headed(columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Columns whose headers wrap between words, each at least as wide as its longest word and its filter button."""
    def least(header: str) -> int:
        return max(8 * max(len(word) for word in header.split()) + 52, 104)

    return [{"wrapHeaderText": True, "autoHeaderHeight": True, "minWidth": least(c["headerName"]), **c}
            for c in columns]


#: A cell of text wrapped over lines of ordinary height (AG Grid's row height would space them apart).
_WRAPPED = {"wrapText": True, "autoHeight": True,
            "cellStyle": {"whiteSpace": "normal", "lineHeight": "20px", "paddingTop": "10px", "paddingBottom": "10px"}}
#: The rank of a candidate: narrow, without a filter.
_RANK = {"field": "rank", "headerName": "#", "minWidth": 64, "maxWidth": 64, "filter": False}


def _signed(lang: str) -> dict[str, str]:
    """The number formatter of values that may be below zero: in Arabic kept left to right, so "−4.7" never reads
    "4.7−" in a right-to-left cell."""
    if lang != "ar":
        return NUMBER
    return {"function": NUMBER["function"].replace("d3.format(',.1f')(params.value)",
                                                   "'\u2066' + d3.format(',.1f')(params.value) + '\u2069'")}


def _bundle_columns(lang: str) -> list[dict[str, Any]]:
    """The columns of the bundle candidates' grid."""
    def figure(field: str, key: str, formatter: dict[str, str] = NUMBER) -> dict[str, Any]:
        shown = no_data_as_text(formatter, lang) if field in _BUNDLE_FIGURES else formatter  # missing: "no data"
        return {"field": field, "headerName": text(key, lang), "valueFormatter": shown}

    # A command reads left to right in monospace, broken at its spaces (within a word only when it must be); the
    # words said of a bundle that needs none read as the page does.
    command = {"styleConditions": [{"condition": "params.value && params.value.includes('najma discover adopt')",
                                    "style": {**_WRAPPED["cellStyle"], **LEFT_TO_RIGHT, "fontFamily": "monospace",
                                              "fontSize": "12px", "overflowWrap": "anywhere"}}],
               "defaultStyle": _WRAPPED["cellStyle"]}
    return _headed([
        _RANK, {"field": "names", "headerName": text("dc_services", lang), "minWidth": 280, **_WRAPPED},
        {"field": "catalogued", "headerName": text("dc_life_event", lang), "minWidth": 130, **_WRAPPED},
        figure("customers", "customers", COUNT), figure("support", "dc_support_col", SHARE),
        figure("confidence", "confidence", PERCENT), {**figure("lift", "dc_lift"), "minWidth": 120},
        figure("visits", "dc_visits"), figure("customer_steps", "dc_steps"),
        figure("documents_repeated", "dc_documents"), figure("days", "dc_days"),
        figure("steps_saved", "dc_steps_saved"), figure("visits_saved", "dc_visits_saved"),
        {"field": "adopt", "headerName": text("dc_adopt", lang), "minWidth": 380, **_WRAPPED, "cellStyle": command},
    ])


def _proactive_grid(lang: str) -> Any:
    """The proactive candidates' grid: a click on a row (a trigger and its follower) selects it for the lag chart."""
    found = _fitted(grid("dc-proactive", _proactive_columns(lang), lang=lang, every_row=True))
    found.getRowId = "params.data.key"
    found.dashGridOptions = {**found.dashGridOptions, "rowSelection": {"mode": "singleRow", "checkboxes": False,
                                                                       "enableClickSelection": True}}
    return found


def _proactive_columns(lang: str) -> list[dict[str, Any]]:
    """The columns of the proactive candidates' grid."""
    def figure(field: str, key: str, formatter: dict[str, str] = NUMBER) -> dict[str, Any]:
        shown = no_data_as_text(formatter, lang) if field in _PROACTIVE_FIGURES else formatter  # missing: "no data"
        return {"field": field, "headerName": text(key, lang), "valueFormatter": shown}

    return _headed([
        _RANK,
        {"field": "trigger_name", "headerName": text("dc_trigger", lang), "minWidth": 260, **_WRAPPED},
        {"field": "follower_name", "headerName": text("dc_follower", lang), "minWidth": 260, **_WRAPPED},
        figure("share", "share", PERCENT), figure("customers", "dc_trigger_customers", COUNT),
        figure("followed", "dc_followed", COUNT), figure("lag_days_p10", "dc_lag_p10", _signed(lang)),
        figure("lag_days_median", "dc_lag_median", _signed(lang)), figure("lag_days_p90", "dc_lag_p90", _signed(lang)),
        figure("already_proactive", "dc_already", PERCENT), figure("application_steps", "dc_application_steps"),
        figure("visits", "dc_visits_saved"), figure("days_saved", "dc_days_saved"),
    ])


# -- what is asked, and its background job -----------------------------------------------------------------


def _period(quarter: str | None) -> str | None:
    """The quarter chosen, or None for every quarter (a value the page does not know means every quarter)."""
    return choice(quarter, current_data().quarters)


def _whole(value: object, default: int) -> int:
    """`value` as a whole number of days in [1, MOST_DAYS]; `default` when it is not a number (an input being typed)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(number) else int(min(max(round(number), 1), MOST_DAYS))


def _share(value: object, default: float) -> float:
    """A threshold typed in per cent as a share in (0, 1]; `default` (in per cent) when it is not a number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = default
    if math.isnan(number) or number <= 0:
        number = default
    return round(min(number, 100.0), 3) / 100


def bundles_asked(quarter: str | None, window: object, support: object) -> tuple[str | None, int, float]:
    """The period, window (days) and support (a share) that the page's inputs ask for, checked."""
    return _period(quarter), _whole(window, DEFAULTS["window"]), _share(support, DEFAULTS["support"])


def proactive_asked(quarter: str | None, within: object, share: object) -> tuple[str | None, int, float]:
    """The period, days (within) and share that the page's inputs ask for, checked."""
    return _period(quarter), _whole(within, DEFAULTS["within"]), _share(share, DEFAULTS["share"])


def job_key(kind: str, asked: tuple[str | None, int, float]) -> tuple[Hashable, ...]:
    """The key of a discovery's job: the page, `kind` (bundles or proactive), the copy of the store shown (a
    refreshed store is looked at anew), then the period and thresholds asked."""
    return KEY, kind, current_data().path, *asked


def _where(data: DashboardData, quarter: str | None) -> CaseFilter | None:
    """The cases a discovery looks at: those started in `quarter` (in the zone of the quarters), or all."""
    return CaseFilter(quarter=quarter, tz=data.tz) if quarter else None


def find_bundles(data: DashboardData, quarter: str | None, window_days: int, min_support: float) -> BundleCandidates:
    """The bundle candidates of `quarter` (of every quarter when None); run on a job's thread."""
    return discover_bundles(data.store, window_days=window_days, min_support=min_support, where=_where(data, quarter))


def find_proactive(data: DashboardData, quarter: str | None, within_days: int,
                   min_share: float) -> ProactiveCandidates:
    """The proactive candidates of `quarter` (of every quarter when None); run on a job's thread."""
    return discover_proactive(data.store, within_days=within_days, min_share=min_share, where=_where(data, quarter))


def _waiting(state: JobState, lang: str) -> str:
    """What a card says while its job runs: working, and for how long."""
    seconds = time.monotonic() - state.started if state.started else 0.0
    return text("dc_working", lang).format(seconds=f"{seconds:.0f}")


# -- what the cards show ------------------------------------------------------------------------------------


def _names(services: Any, lang: str) -> str:
    """Services by their names in `lang`, in the order given."""
    data = current_data()
    return listed((data.name("service", s, lang) for s in services), lang)


def _ltr(shown: str, lang: str) -> str:
    """`shown` (a command typed as it is, a date) kept left to right in Arabic, as a Unicode isolate."""
    return f"\u2066{shown}\u2069" if lang == "ar" else shown


def _percent(share: float) -> str:
    """A threshold share in per cent as set on the page ("1%", "0.5%")."""
    return f"{share * 100:g}%"


def _dates(period: tuple[pd.Timestamp, pd.Timestamp] | None, lang: str) -> str:
    """The days the cases looked at span, or nothing without cases."""
    if period is None:
        return ""
    first, last = (_ltr(utc_minute(p, lang)[:10], lang) for p in period)  # a date's digits in their order
    return text("dc_dates", lang).format(first=first, last=last)


def _card_scope(asked: tuple[str | None, int, float], thresholds: str, found: Any, counted: str, lang: str) -> str:
    """The period, the `thresholds` said and, once `found`, the days and the customers a card stands on (`counted`, or
    fewer than `min_group` customers)."""
    quarter = asked[0]
    parts = [period_text([quarter] if quarter else [], quarter is None, lang), text("all_services", lang), thresholds]
    if found is not None:
        data = current_data()
        too_few = data.too_few(found.customers)
        parts += [_dates(found.period, lang), text("fewer_than", lang).format(n=data.min_group) if too_few else counted]
    return scope_text(*parts)


def _bundle_scope(asked: tuple[str | None, int, float], found: Any, lang: str) -> str:
    """The period, the thresholds and, once found, the cases and customers a bundle card stands on."""
    _, window, support = asked
    thresholds = text("dc_bundle_thresholds", lang).format(days=window, support=_percent(support))
    counted = "" if found is None else text("dc_episodes", lang).format(customers=f"{found.customers:,}",
                                                                           episodes=f"{found.episodes:,}")
    return _card_scope(asked, thresholds, found, counted, lang)


def _proactive_scope(asked: tuple[str | None, int, float], found: Any, lang: str) -> str:
    """The period, the thresholds and, once found, the cases and customers a proactive card stands on."""
    _, within, share = asked
    thresholds = text("dc_proactive_thresholds", lang).format(days=within, share=_percent(share))
    counted = "" if found is None else text("dc_customers", lang).format(customers=f"{found.customers:,}")
    return _card_scope(asked, thresholds, found, counted, lang)


def _shown(table: pd.DataFrame, column: str, data: DashboardData) -> tuple[pd.DataFrame, int]:
    """The rows of `table` whose `column` counts at least `min_group` customers, and how many were left out."""
    kept = table[table[column] >= data.min_group] if len(table) else table
    return kept, len(table) - len(kept)


def _status(rows: pd.DataFrame, hidden: int, empty: str, lang: str, missing: str = "") -> str:
    """The line under a card's method: why it is empty (no candidate at all), or that the small-group rule left some
    out; and, when candidates are shown, `missing`: what the figures shown as "no data" need."""
    if not len(rows) and not hidden:
        return empty
    left_out = text("dc_hidden", lang).format(n=current_data().min_group) if hidden else ""
    return " ".join(part for part in (left_out, missing) if part)


def _missing(found: Any, needed_by: dict[str, tuple[str, ...]], figures: dict[str, str], shown: set[str],
             lang: str) -> str:
    """What the figures a grid shows as "no data" need, and which of the services `shown` lack it, in `lang`."""
    data = current_data()
    return missing_line(found.lacking, needed_by, {field: text(key, lang) for field, key in figures.items()}, lang,
                        lambda service: data.name("service", service, lang), among=shown)


def bundle_rows(found: Any, lang: str) -> tuple[list[dict[str, Any]], str]:
    """The grid rows of bundle candidates (their services named in `lang`, in their usual order, and the command that
    adopts each, as ``najma discover bundles`` prints it) and the status line."""
    data = current_data()
    table, hidden = _shown(found.table.assign(command=adopt_commands(found)), "customers", data)
    rows = table.assign(
        names=[_names(s, lang) for s in table["services"]],
        services=[list(s) for s in table["services"]],
        catalogued=[data.name("life_event", e, lang) if isinstance(e, str) else text("dc_not_yet", lang)
                    for e in table["life_event"]],
        adopt=[_ltr(c, lang) if isinstance(c, str) else text("dc_adopted", lang) for c in table["command"]],
    )
    empty = text("dc_no_bundles", lang).format(support=_percent(found.min_support), days=found.window_days)
    missing = _missing(found, NEEDED_BY, _BUNDLE_FIGURES, {s for services in table["services"] for s in services}, lang)
    return rows_of(rows.drop(columns=["life_event", "command"])), _status(table, hidden, empty, lang, missing)


def proactive_rows(found: Any, lang: str) -> tuple[list[dict[str, Any]], str]:
    """The grid rows of proactive candidates (services named in `lang`, no lag histogram) and the status line."""
    data = current_data()
    table, hidden = _shown(found.table, "followed", data)
    rows = table.drop(columns="lag_histogram").assign(
        key=[_row_key(t, f) for t, f in zip(table["trigger"], table["follower"], strict=True)],
        trigger_name=[data.name("service", s, lang) for s in table["trigger"]],
        follower_name=[data.name("service", s, lang) for s in table["follower"]],
    )
    empty = text("dc_no_proactive", lang).format(share=_percent(found.min_share), days=found.within_days)
    missing = _missing(found, PROACTIVE_NEEDED_BY, _PROACTIVE_FIGURES, set(table["follower"]), lang)
    return rows_of(rows), _status(table, hidden, empty, lang, missing)


def _card(kind: str, asked: tuple[str | None, int, float], function: Any, owner: str | None,
          lang: str) -> tuple[Any, str, bool]:
    """Ask for a discovery's job (started once per key): its answer (None until done, or when it failed), the line
    to show meanwhile, and whether the page polls on."""
    data = current_data()
    state = current_jobs().submit(job_key(kind, asked), function, data, *asked,
                                  owner=None if owner is None else f"{owner}-{kind}")
    if not state.done:
        return None, _waiting(state, lang), True
    if state.error is not None:
        return None, job_error_text(state, lang), False
    return state.value, "", False


def show_bundles(quarter: str | None, window: object, support: object, _tick: int | None, owner: str | None,
                 lang: str) -> tuple[list[dict[str, Any]], str, str, bool]:
    """The bundle candidates of the period and thresholds chosen, once their job is done.

    Returns the grid's rows, the card's scope (period, selection, thresholds, customers), its status
    line (working, failed, empty or what was left out) and whether the poll stops.
    """
    asked = bundles_asked(quarter, window, support)
    found, said, polling = _card("bundles", asked, find_bundles, owner, lang)
    if found is None:
        return [], _bundle_scope(asked, None, lang), said, not polling
    rows, status = bundle_rows(found, lang)
    return rows, _bundle_scope(asked, found, lang), status, True


def show_proactive(quarter: str | None, within: object, share: object, _tick: int | None, owner: str | None,
                   lang: str) -> tuple[list[dict[str, Any]], str, str, bool, dict[str, list[str]]]:
    """The proactive candidates of the period and thresholds chosen, once their job is done.

    Returns the grid's rows, the card's scope, its status line, whether the poll stops, and the row
    selected at first (the best candidate, whose lag the chart shows).
    """
    asked = proactive_asked(quarter, within, share)
    found, said, polling = _card("proactive", asked, find_proactive, owner, lang)
    if found is None:
        return [], _proactive_scope(asked, None, lang), said, not polling, {"ids": []}
    rows, status = proactive_rows(found, lang)
    return rows, _proactive_scope(asked, found, lang), status, True, {"ids": [r["key"] for r in rows[:1]]}


def _selected_key(selected: Any) -> str | None:
    """The key of the row selected in the proactive grid: its rows, or ``{"ids": [...]}`` as a callback set it."""
    if isinstance(selected, dict):
        ids = selected.get("ids") or []
        return str(ids[0]) if ids else None
    rows = [r for r in selected or [] if isinstance(r, dict) and r.get("key") is not None]
    return str(rows[0]["key"]) if rows else None


def show_lag(selected: Any, quarter: str | None, within: object, share: object, lang: str) -> tuple[Any, str]:
    """The histogram of the days from the trigger's completion to the follower's start of the selected candidate,
    its bars of fewer than `min_group` customers merged; and the line that names what it shows."""
    asked = proactive_asked(quarter, within, share)
    state = current_jobs().state(job_key("proactive", asked))
    key = _selected_key(selected)
    if key is None or state is None or not state.done or state.error is not None:
        return blank(), ""
    data = current_data()
    table = state.value.table
    row = table[[_row_key(t, f) == key for t, f in zip(table["trigger"], table["follower"], strict=True)]]
    if row.empty or data.too_few(int(row.iloc[0]["followed"])):
        return blank(), ""
    found = row.iloc[0]
    trigger, follower = (data.name("service", found[k], lang) for k in ("trigger", "follower"))
    counts = np.asarray(found["lag_histogram"], dtype=int)
    lags = pd.Series(np.repeat(np.arange(len(counts)), counts))
    figure = customer_steps_figure(lags, pd.Series(range(len(lags))), min_group=data.min_group,
                                   title=text("dc_lag_title", lang).format(trigger=trigger, follower=follower),
                                   x_title=text("dc_lag_x", lang), y_title="",
                                   merged_note=text("merged_bins", lang), lang=lang)
    return figure, _proactive_scope(asked, state.value, lang)


def _row_key(trigger: str, follower: str) -> str:
    """The key of a proactive candidate's row: its trigger and follower."""
    return f"{trigger}>{follower}"


CALLBACKS = [
    Callback(show_bundles, [
        Output("dc-bundles", "rowData"), Output("dc-bundles-scope", "children"), Output("dc-bundles-status", "children"),
        Output("dc-bundles-poll", "disabled"),
        Input("dc-quarter", "value"), Input("dc-window", "value"), Input("dc-support", "value"),
        Input("dc-bundles-poll", "n_intervals"), State("dc-owner", "data"), State("dc-lang", "data"),
    ]),
    Callback(show_proactive, [
        Output("dc-proactive", "rowData"), Output("dc-proactive-scope", "children"),
        Output("dc-proactive-status", "children"), Output("dc-proactive-poll", "disabled"),
        Output("dc-proactive", "selectedRows"),
        Input("dc-quarter", "value"), Input("dc-within", "value"), Input("dc-share", "value"),
        Input("dc-proactive-poll", "n_intervals"), State("dc-owner", "data"), State("dc-lang", "data"),
    ]),
    Callback(show_lag, [
        Output("dc-lag", "figure"), Output("dc-lag-scope", "children"),
        Input("dc-proactive", "selectedRows"), State("dc-quarter", "value"), State("dc-within", "value"),
        State("dc-share", "value"), State("dc-lang", "data"),
    ]),
]

__all__ = ["layout", "CALLBACKS", "show_bundles", "show_proactive", "show_lag", "bundle_rows",
           "proactive_rows", "job_key", "bundles_asked", "proactive_asked"]
