"""Service: the journey map, the variant explorer, customer steps, rework, the rating and conformance of one service.

Filters (activities present or absent, directly or eventually followed, an attribute's value, a
duration range, the first channel, the outcome) and the variants ticked in the variant table narrow
the map, the KPIs, the customer steps and the case list together; the whole selection lives in the
page's address, so a link shares it and the language switch keeps it. Every card names its period
and its selection. Variants and case lists of fewer than `min_group` customers are not shown (the
small-group rule); the timeline of one case is shown only for a case of a list shown.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlencode

import dash_cytoscape as cyto
import dash_mantine_components as dmc
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import MissingCallbackContextException

from najma.dashboards._data import DashboardData
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
    quarter_text,
    rating_text,
    text,
)
from najma.dashboards.pages.common import (
    COUNT,
    DURATION_DAYS,
    NUMBER,
    PERCENT,
    POLL_MS,
    Callback,
    blank,
    choice,
    column_notes,
    current_data,
    current_jobs,
    fewer_than,
    graph,
    grid,
    heading,
    job_error_text,
    no_data_as_text,
    options,
    quarter_options,
    reason,
    rows_of,
    section,
    too_few,
)
from najma.journeys import CaseFilter, variant_activities
from najma.journeys._schema import ACTORS
from najma.rating import KPIS, RatingCard, format_value
from najma.rating._suppression import SUPPRESSED, kept_groups

KEY = "service"
PATH = "/service"
TITLE = "Service"
#: The value of the quarter select that means every quarter.
ALL = "all"
#: The share of the journey a map shows at first.
DEFAULT_COVERAGE = 0.9
#: The outcomes a case can have (the journey table's ``outcome``).
OUTCOMES = ("completed", "rejected", "abandoned", "open")
#: The filters of the page: the address's parameter of each, and whether it holds a list (of activities) or a pair.
FILTERS = {"present": "list", "absent": "list", "directly": "pair", "eventually": "pair", "attribute": "pair",
           "min_days": "number", "max_days": "number", "channel": "text", "outcome": "text"}


def layout(lang: str = "en", service: str | None = None, quarter: str | None = None, **query: Any) -> dmc.Stack:
    """The page of `service` (the first by default) in `quarter` (every quarter by default), with the selection
    the address holds in `query` (see :func:`selection_query`); a value the page does not know is ignored."""
    data = current_data()
    names = {s: data.name("service", s, lang) for s in data.services}
    warning = [] if service is None or service in data.services else [
        dmc.Alert(text("unknown_service", lang).format(name=service), color="red", id="sv-unknown")]
    service = choice(service, data.services) or data.services[0]
    quarter = choice(quarter, data.quarters) or ALL
    state = _known(read_filters(query), data, service)
    activities = options(data.activities(service), {a: data.name("activity", a, lang) for a in data.activities(service)})
    measure = choice(query.get("measure"), MEASURES) or "frequency"
    variant_measure = choice(query.get("vmeasure"), VARIANT_MEASURES) or "cases"
    coverage = _number(query.get("coverage"))
    coverage = DEFAULT_COVERAGE if coverage is None else min(max(coverage, 0.5), 1.0)
    variants = [k for k in str(query.get("variants") or "").split(",") if k]
    case = query.get("case")

    def activity_pair(key: str) -> dmc.Group:
        first, then = state.get(key) or (None, None)
        return dmc.Group([
            dmc.Select(id=f"sv-f-{key}-a", label=text(f"ex_{key}", lang), data=activities, value=first, clearable=True,
                       searchable=True, w=230),
            dmc.Select(id=f"sv-f-{key}-b", label=text("ex_then", lang), data=activities, value=then, clearable=True,
                       searchable=True, w=230)], gap="xs", align="end")

    attribute, value = state.get("attribute") or (None, None)
    filters = section(text("ex_filters", lang), dmc.SimpleGrid([
        dmc.MultiSelect(id="sv-f-present", label=text("ex_present", lang), data=activities,
                        value=state.get("present") or [], clearable=True, searchable=True),
        dmc.MultiSelect(id="sv-f-absent", label=text("ex_absent", lang), data=activities,
                        value=state.get("absent") or [], clearable=True, searchable=True),
        activity_pair("directly"), activity_pair("eventually"),
        dmc.Group([dmc.Select(id="sv-f-attribute", label=text("ex_attribute", lang), value=attribute, clearable=True,
                              data=data.attribute_names(service), searchable=True, w=200),
                   dmc.TextInput(id="sv-f-value", label=text("ex_value", lang), value=value or "", w=200, debounce=400)],
                  gap="xs", align="end"),
        dmc.Group([dmc.NumberInput(id="sv-f-min-days", label=text("ex_min_days", lang), min=0, value=state.get("min_days"),
                                   w=150, debounce=400),
                   dmc.NumberInput(id="sv-f-max-days", label=text("ex_max_days", lang), min=0, value=state.get("max_days"),
                                   w=150, debounce=400)], gap="xs", align="end"),
        dmc.Select(id="sv-f-channel", label=text("ex_first_channel", lang), value=state.get("channel"), clearable=True,
                   data=options(data.channels, {c: data.name("channel", c, lang) for c in data.channels})),
        dmc.Select(id="sv-f-outcome", label=text("ex_outcome", lang), value=state.get("outcome"), clearable=True,
                   data=[{"value": o, "label": text(f"ex_outcome_{o}", lang)} for o in OUTCOMES]),
    ], cols={"base": 1, "md": 2, "xl": 4}), reason("", "sv-filter-note"))
    return dmc.Stack([
        heading(lang, "page_service"), *warning, html.Div(id="sv-columns"),
        dcc.Store(id="sv-lang", data=lang), dcc.Location(id="sv-url", refresh=False),
        dcc.Store(id="sv-filters", data=state),
        dmc.Group([
            dmc.Select(id="sv-service", label=text("service", lang), data=options(data.services, names), value=service,
                       w=320, allowDeselect=False, searchable=True),
            dmc.Select(id="sv-quarter", label=text("quarter", lang), value=quarter, w=160, allowDeselect=False,
                       data=[{"value": ALL, "label": text("all_quarters", lang)}, *quarter_options(data.quarters, lang)]),
        ]),
        filters,
        dmc.SimpleGrid([
            section(text("rating", lang), html.Div(id="sv-rating"), graph("sv-probabilities"), graph("sv-kpi-scores")),
            section(text("variants", lang), reason("", "sv-variant-scope"),
                    dmc.SegmentedControl(id="sv-variant-measure", value=variant_measure, mb="sm", data=[
                        {"value": m, "label": text(f"variant_{m}", lang)} for m in VARIANT_MEASURES]),
                    graph("sv-variant-chart")),
        ], cols={"base": 1, "lg": 2}),
        section(text("variants", lang), reason("", "sv-variant-note"), reason(text("ex_pick_variants", lang)),
                _export_button("sv-variant-grid", lang), _variant_grid(lang, variants)),
        section(text("journey_map", lang),
                dmc.Group([
                    dmc.SegmentedControl(id="sv-measure", value=measure,
                                         data=[{"value": m, "label": text(m, lang)} for m in MEASURES]),
                    dmc.Stack([dmc.Text(text("abstraction", lang), size="sm"),
                               dmc.Slider(id="sv-coverage", min=0.5, max=1, step=0.05, value=coverage, w=260,
                                          marks=[{"value": v, "label": f"{v:.0%}"} for v in (0.5, 0.75, 1)], mb="lg")],
                              gap=2),
                    dmc.Button(text("ex_export_png", lang), id="sv-map-png", variant="light", size="xs"),
                    dmc.Button(text("ex_export_svg", lang), id="sv-map-svg", variant="light", size="xs"),
                ], mb="sm"),
                reason("", "sv-map-note"),
                cyto.Cytoscape(id="sv-map", elements=[], layout={"name": "preset", "fit": True},
                               stylesheet=MAP_STYLESHEET, style={"height": "880px", "width": "100%"})),
        dmc.SimpleGrid([
            section(text("selection_kpis", lang), html.Div(id="sv-kpi-note"), _export_button("sv-kpis", lang),
                    _grid("sv-kpis", _kpi_columns(lang), lang, 420, every_row=True)),
            section(text("customer_steps", lang), html.Div(id="sv-steps-note"), graph("sv-steps")),
        ], cols={"base": 1, "lg": 2}),
        section(text("rw_title", lang), reason(text("rw_definition", lang), "sv-rework-definition"),
                reason("", "sv-rework-scope"), html.Div(id="sv-rework-summary"), _export_button("sv-rework", lang),
                _grid("sv-rework", _rework_columns(lang), lang, 360, every_row=True)),
        section(text("ex_cases_title", lang), reason("", "sv-cases-note"), _export_button("sv-cases", lang),
                _case_grid(lang, case, data.tz)),
        section(text("ex_timeline", lang), reason(text("ex_pick_case", lang), "sv-timeline-note"),
                _export_button("sv-timeline", lang), _grid("sv-timeline", _timeline_columns(lang, data.tz), lang, 320)),
        section(text("conformance", lang), html.Div(id="sv-conformance"),
                dcc.Interval(id="sv-conformance-poll", interval=POLL_MS, disabled=True),
                _export_button("sv-deviations", lang),
                _grid("sv-deviations", _deviation_columns(lang), lang, 300)),
    ])


def _export_button(grid_id: str, lang: str) -> dmc.Button:
    """The button that downloads the rows of the grid `grid_id` as CSV."""
    return dmc.Button(text("ex_export_csv", lang), id=f"{grid_id}-csv", variant="light", size="xs", mb="xs")


def _grid(id_: str, columns: list[dict[str, Any]], lang: str, height: int, *, every_row: bool = False) -> Any:
    """A grid of the page whose headers wrap over lines rather than being cut ("Cumulative c…")."""
    return grid(id_, [{**c, "wrapHeaderText": True, "autoHeaderHeight": True} for c in columns], lang=lang, height=height,
                every_row=every_row)


def _variant_grid(lang: str, selected: list[str]) -> Any:
    """The variant table, the variants of `selected` keys ticked; each variant's steps drawn as chips, and exported
    to CSV as plain text (the hidden ``steps`` column, "A → B → C")."""
    columns = [
        {"field": "label", "headerName": "", "maxWidth": 120},
        {"field": "path", "headerName": text("ex_path", lang), "cellRenderer": "markdown", "minWidth": 480, "flex": 4,
         "wrapText": True, "autoHeight": True, "cellClass": "najma-path"},
        {"field": "cases", "headerName": text("cases", lang), "maxWidth": 110},
        {"field": "share", "headerName": text("ex_share", lang), "valueFormatter": PERCENT, "maxWidth": 110},
        {"field": "cumulative", "headerName": text("ex_cumulative", lang), "valueFormatter": PERCENT, "maxWidth": 150},
        {"field": "median_duration_seconds", "headerName": text("ex_median_days", lang), "valueFormatter": DURATION_DAYS,
         "maxWidth": 130},
        {"field": "median_customer_steps", "headerName": text("ex_customer_steps", lang),
         "valueFormatter": no_data_as_text(COUNT, lang), "maxWidth": 160},  # missing where steps cannot be counted
        {"field": "steps", "headerName": text("ex_path", lang), "hide": True},
    ]
    found = _grid("sv-variant-grid", columns, lang, 420)
    found.getRowId = "params.data.key"
    found.csvExportParams = {"columnKeys": [c["field"] for c in columns if c["field"] != "path"]}
    found.dashGridOptions = {**found.dashGridOptions, "rowSelection": {"mode": "multiRow", "enableClickSelection": True,
                                                                       "enableSelectionWithoutKeys": True}}
    found.selectedRows = {"ids": selected}
    return found


def _case_grid(lang: str, case: str | None, zone: str) -> Any:
    """The case list, `case` ticked; its times are on the clock of `zone` (the catalogue's), as the headers say."""
    columns = [
        {"field": "case_id", "headerName": text("ex_case", lang), "minWidth": 170},
        {"field": "start", "headerName": text("ex_start", lang).format(zone=zone), "minWidth": 150},
        {"field": "end", "headerName": text("ex_end", lang).format(zone=zone), "minWidth": 150},
        {"field": "duration_seconds", "headerName": text("ex_duration_days", lang), "valueFormatter": DURATION_DAYS},
        {"field": "outcome", "headerName": text("ex_outcome", lang)},
        {"field": "channel", "headerName": text("ex_first_channel", lang)},
        {"field": "customer_steps", "headerName": text("steps", lang), "valueFormatter": no_data_as_text(COUNT, lang)},
        {"field": "events", "headerName": text("ex_events", lang)},
    ]
    found = _grid("sv-cases", columns, lang, 360)
    found.getRowId = "params.data.case_id"
    found.dashGridOptions = {**found.dashGridOptions, "rowSelection": {"mode": "singleRow", "checkboxes": False,
                                                                       "enableClickSelection": True}}
    found.selectedRows = {"ids": [case] if case else []}
    return found


def _timeline_columns(lang: str, zone: str) -> list[dict[str, Any]]:
    return [{"field": "activity", "headerName": text("activity", lang), "minWidth": 220},
            {"field": "time", "headerName": text("ex_time", lang).format(zone=zone), "minWidth": 170},
            {"field": "channel", "headerName": text("channel", lang)},
            {"field": "resource", "headerName": text("ex_resource", lang)},
            {"field": "actor", "headerName": text("ex_actor", lang)}]


def _kpi_columns(lang: str) -> list[dict[str, Any]]:
    wrapped = {"wrapText": True, "autoHeight": True, "flex": 2}
    return [{"field": "pillar", "headerName": text("pillar", lang), "flex": 1},
            {"field": "kpi", "headerName": text("kpi", lang), **wrapped},
            {"field": "value", "headerName": text("value", lang), **wrapped}]


def _rework_columns(lang: str) -> list[dict[str, Any]]:
    """The rework grid's columns: per activity, its cases, those with rework, and each kind of rework by resource."""
    count = {"minWidth": 120}
    found = [{"field": "activity", "headerName": text("activity", lang), "minWidth": 220},
             {"field": "cases", "headerName": text("rw_cases", lang), **count},
             {"field": "cases_with_rework", "headerName": text("rw_cases_with_rework", lang), **count}]
    for kind in ("self_loops", "repetitions"):
        name = text(f"rw_{kind}", lang)
        found.append({"field": kind, "headerName": name, **count})
        found += [{"field": f"{kind}_{who}", "headerName": text(f"rw_{who}", lang).format(kind=name), **count}
                  for who in ("repeat", "redo", "unknown")]
    return found


def _deviation_columns(lang: str) -> list[dict[str, Any]]:
    return [{"field": "kind", "headerName": text("deviation", lang)},
            {"field": "activity", "headerName": text("activity", lang), "minWidth": 220},
            {"field": "cases", "headerName": text("cases", lang)},
            {"field": "mean_seconds", "headerName": f"{text('mean_time', lang)} ({text('hours_unit', lang)})",
             "valueGetter": {"function": "params.data.mean_seconds == null ? null : params.data.mean_seconds / 3600"},
             "valueFormatter": NUMBER}]


def _quarter(value: str | None) -> str | None:
    return None if value in (None, ALL) else value


def _period(quarter: str | None, lang: str) -> str:
    """The period a card shows, as people read it in `lang`: a quarter, or every quarter when None."""
    return quarter_text(quarter, lang) if quarter else text("all_quarters", lang)


def _labelled(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The variant table with each variant's label ("V1") in `lang`."""
    return table.assign(label=[text("variant_n", lang).format(n=label[1:]) for label in table["label"]])


def _number(value: object) -> float | None:
    """`value` as a number of 0 or more, else None (an address's value is never trusted)."""
    try:
        found = float(value)
    except (TypeError, ValueError):
        return None
    return found if found >= 0 and found != float("inf") else None


def read_filters(values: dict[str, Any]) -> dict[str, Any]:
    """The page's filters from the address's values (or the controls'): each known, well-formed one, else left out.

    Examples
    --------
    >>> read_filters({"present": '["Pay"]', "directly": '["Apply", "Pay"]', "min_days": "2", "outcome": 3})
    {'present': ['Pay'], 'directly': ['Apply', 'Pay'], 'min_days': 2.0}
    >>> read_filters({"min_days": "3", "max_days": "1"})
    {'min_days': 3.0}
    """
    found: dict[str, Any] = {}
    for key, kind in FILTERS.items():
        value = values.get(key)
        if isinstance(value, str) and kind in ("list", "pair"):
            try:
                value = json.loads(value)
            except ValueError:
                continue
        if kind == "number":
            value = _number(value) if value not in (None, "") else None
        well_formed = {
            "list": isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value),
            "pair": isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) and v for v in value),
            "number": value is not None,
            "text": isinstance(value, str) and bool(value),
        }[kind]
        if well_formed:
            found[key] = value
    if found.get("max_days", float("inf")) < found.get("min_days", 0.0):
        del found["max_days"]  # a range that holds nothing is a slip of the hand
    return found


def _known(state: dict[str, Any], data: DashboardData, service: str) -> dict[str, Any]:
    """The filters of `state` (see :func:`read_filters`) that `service` knows: activities it has, an attribute it
    holds, a channel and an outcome there are; the rest left out (a list keeps its known activities)."""
    activities = set(data.activities(service))
    found: dict[str, Any] = {}
    for key, value in state.items():
        if key in ("present", "absent"):
            value = [a for a in value if a in activities] or None
        elif key in ("directly", "eventually"):
            value = value if set(value) <= activities else None
        elif key == "attribute":
            value = value if value[0] in data.attribute_names(service) else None
        elif key == "channel":
            value = value if value in data.channels else None
        elif key == "outcome":
            value = value if value in OUTCOMES else None
        if value is not None:
            found[key] = value
    return found


def criteria(filters: dict[str, Any] | None) -> CaseFilter | None:
    """The CaseFilter of the page's filters (see :func:`read_filters`), or None when there is none."""
    state = read_filters(filters or {})
    if not state:
        return None
    days = {f"{end}_seconds": state[f"{end}_days"] * 86400.0 for end in ("min", "max") if f"{end}_days" in state}
    return CaseFilter(present=state.get("present"), absent=state.get("absent"),
                      directly_follows=[state["directly"]] if "directly" in state else None,
                      eventually_follows=[state["eventually"]] if "eventually" in state else None,
                      attribute=tuple(state["attribute"]) if "attribute" in state else None,
                      channel=state.get("channel"), outcome=state.get("outcome"), **days)


def collect_filters(present: list[str] | None, absent: list[str] | None, directly_a: str | None, directly_b: str | None,
                    eventually_a: str | None, eventually_b: str | None, attribute: str | None, value: str | None,
                    min_days: float | None, max_days: float | None, channel: str | None, outcome: str | None,
                    ) -> dict[str, Any]:
    """The filters the controls hold, as one value (a pair is kept once both its ends are chosen)."""
    return read_filters({"present": present, "absent": absent, "directly": [directly_a, directly_b],
                         "eventually": [eventually_a, eventually_b], "attribute": [attribute, value],
                         "min_days": min_days, "max_days": max_days, "channel": channel, "outcome": outcome})


def variant_key(variant: str) -> str:
    """A short, stable name of a variant for the address (its steps hashed).

    Examples
    --------
    >>> variant_key("Apply → Pay")
    '06313c809e'
    """
    return hashlib.sha256(variant.encode()).hexdigest()[:10]


def _selected(rows: Any, key: str) -> list[str]:
    """The `key` of each selected row of a grid; its first value may be ``{"ids": [...]}`` (as the layout set it)."""
    if isinstance(rows, dict):
        return [str(i) for i in rows.get("ids") or []]
    return [str(r[key]) for r in rows or [] if isinstance(r, dict) and r.get(key) is not None]


def _counted(key: str, n: int, lang: str) -> str:
    """The words of `key` for `n` things ("1 filter", "2 filters"): the key ending ``_one`` for one thing."""
    return text(f"{key}_one" if n == 1 else key, lang).format(n=f"{n:,}")


def _scope(quarter: str | None, filters: dict[str, Any] | None, variants: int, cases: pd.DataFrame, total: int,
           lang: str) -> str:
    """What a card shows: its period, its selection and how many of the period's `total` cases it holds; a selection
    of fewer than `min_group` customers shows no count but "fewer than N customers" (the small-group rule; the
    period's total then stays unsaid too, as it may be as small)."""
    data = current_data()
    count = len(read_filters(filters or {}))
    parts = [_period(quarter, lang), _counted("ex_filters_n", count, lang) if count else text("ex_no_filter", lang)]
    if variants:
        parts.append(_counted("ex_variants_n", variants, lang))
    parts.append(fewer_than(lang, data) if data.too_few(cases["customer_id"].nunique()) else
                 text("ex_of_cases", lang).format(shown=f"{len(cases):,}", total=f"{total:,}"))
    return " · ".join(parts)


def _triggered() -> Any:
    """The id of the control whose change runs the callback; None on the page's first call or outside a callback."""
    try:
        return ctx.triggered_id
    except MissingCallbackContextException:  # called as a function
        return None


def _switched() -> bool:
    """Whether the callback runs because another service or quarter was chosen: the variants and the case then
    ticked are of the one before (and :func:`clear_selection` is clearing them)."""
    return _triggered() in ("sv-service", "sv-quarter")


class _Asked(NamedTuple):
    """What a click of the explorer asks about (see :func:`_asked`)."""

    data: DashboardData
    service: str
    period: str | None
    where: CaseFilter | None
    table: pd.DataFrame
    hidden: int
    chosen: tuple[str, ...]


def _asked(service: str | None, quarter: str | None, variants: Any, filters: dict[str, Any] | None) -> _Asked:
    """The service and period chosen (the first service and every quarter when unknown), the filters' criteria, the
    variant table of the filtered cases with how many variants it hides, and the variants of it ticked (none when
    another service or quarter was just chosen)."""
    data = current_data()
    service = choice(service, data.services) or data.services[0]
    period = choice(_quarter(quarter), data.quarters)
    where = criteria(filters)
    table, hidden = data.variant_table(service, period, where)
    keys = set() if _switched() else set(_selected(variants, "key"))
    return _Asked(data, service, period, where, table, hidden,
                  tuple(sorted(v for v in table["variant"] if variant_key(v) in keys)))


def update_service(service: str | None, quarter: str | None, lang: str, *controls: Any) -> tuple[Any, ...]:
    """The activities and attributes to filter on, the rating card and figures (of the quarter chosen, or of the
    service's latest when every quarter is, which the card then says), and, when another service was chosen, the
    activity and attribute filters' `controls` (the values of :data:`_SERVICE_CONTROLS`) kept only where the new
    service has them, so that no filter stays applied unseen."""
    data = current_data()
    service = choice(service, data.services) or data.services[0]
    period = choice(_quarter(quarter), data.quarters)
    activities = options(data.activities(service), {a: data.name("activity", a, lang) for a in data.activities(service)})
    rated_quarter = period or data.latest_quarter(service)
    shown, probabilities, scores = _rating(data.card(service, rated_quarter), rated_quarter, lang, period is None)
    return (activities, data.attribute_names(service), shown, probabilities, scores, column_notes(data, service, lang),
            *[activities] * 5, *_kept_controls(controls, data, service))


def _kept_controls(controls: tuple[Any, ...], data: DashboardData, service: str) -> list[Any]:
    """The values of the activity and attribute filters (see :data:`_SERVICE_CONTROLS`) that `service` knows, each
    left as it is unless another service was just chosen."""
    if _triggered() != "sv-service":
        return [no_update] * len(_SERVICE_CONTROLS)
    present, absent, directly_a, directly_b, eventually_a, eventually_b, attribute, value = controls
    state = _known(read_filters({"present": present, "absent": absent, "directly": [directly_a, directly_b],
                                 "eventually": [eventually_a, eventually_b], "attribute": [attribute, value]}),
                   data, service)
    return [state.get("present", []), state.get("absent", []), *state.get("directly", [None, None]),
            *state.get("eventually", [None, None]), *state.get("attribute", [None, ""])]


def _rating(card: RatingCard | None, quarter: str, lang: str, of_all: bool) -> tuple[Any, go.Figure, go.Figure]:
    data = current_data()
    title = dmc.Text(text("rating_of", lang).format(quarter=quarter_text(quarter, lang)), fw=700, id="sv-rated-quarter")
    source = dmc.Text(" ".join(data.source_lines(quarter, lang)), id="sv-source", size="sm", c="dimmed")
    if of_all:
        source = html.Div([source, reason(text("ex_latest_rated", lang).format(quarter=quarter_text(quarter, lang)), "sv-rating-scope")])
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
    return (shown, star_probability_figure(card.probabilities, title=text("bootstrap", lang), y_title=text("probability", lang),
                                           lang=lang),
            kpi_scores_figure(breakdown, title=text("kpis_against_targets", lang),
                              x_title=f"{text('score', lang)} (100 = {text('target', lang)})", lang=lang))


def update_conformance(service: str | None, quarter: str | None, _ticks: int | None,
                       lang: str) -> tuple[Any, list[dict[str, Any]], bool]:
    """Fitness against the designed journey, and the deviations seen in at least `min_group` cases; nothing of
    a service (in a quarter) of fewer than `min_group` customers. The check runs as a background job: until it
    is done the card says it is working and the page polls (the third value: whether polling stops)."""
    data = current_data()
    service = choice(service, data.services) or data.services[0]
    quarter = choice(_quarter(quarter), data.quarters)
    scope = reason(text("ex_conformance_scope", lang).format(period=_period(quarter, lang)),
                   "sv-conformance-scope")
    state = current_jobs().submit(("conformance", data.path, service, quarter), data.conformance, service, quarter)
    if not state.done:
        return [scope, reason(text("ex_working", lang), "sv-conformance-working")], [], False
    if state.error is not None:
        return [scope, reason(job_error_text(state, lang))], [], True
    if state.value is None:
        return [scope, reason(text("no_design", lang))], [], True
    summary, deviations = state.value
    if summary is None:
        return [scope, reason(too_few(lang, data), "sv-fitness")], [], True
    none = [] if len(deviations) else [reason(text("no_deviations", lang).format(n=data.min_group))]
    shown = deviations.assign(
        activity=[data.name("activity", a, lang) for a in deviations["activity"]],
        kind=[text(k, lang) for k in deviations["kind"]],
    )
    extra = text("no_data", lang) if pd.isna(summary["extra_days"]) else f"{summary['extra_days']:,.1f}"
    return ([scope, dmc.Text(f"{text('fitness', lang)} {summary['fitness']:.1%} · {text('fitting_share', lang)} "
                             f"{summary['fitting_share']:.1%} · {text('cases', lang)} {int(summary['cases']):,} · "
                             f"{text('extra_days', lang)} {extra}",
                             id="sv-fitness"), *none],
            rows_of(shown[["kind", "activity", "cases", "mean_seconds"]]), True)


def _path(variant: str, lang: str) -> str:
    """A variant's steps as a row of chips (markdown code spans) joined by arrows, in the reading direction."""
    data = current_data()
    return (" ← " if lang == "ar" else " → ").join(_chip(data.name("activity", a, lang)) for a in variant_activities(variant))


def _chip(name: str) -> str:
    """`name` as one markdown code span, whatever it holds: on one line, fenced by one backtick more than its longest
    run of them, so nothing in it is read as markdown.

    Examples
    --------
    >>> _chip("Pay")
    '`Pay`'
    >>> _chip("a``b\\n*c*")
    '```a``b *c*```'
    >>> _chip("`x")
    '`` `x ``'
    """
    flat = " ".join(name.splitlines())
    fence = "`" * (max((len(run) for run in re.findall("`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def update_variants(service: str | None, quarter: str | None, lang: str,
                    filters: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """The variant table of the filtered cases (variants of fewer than `min_group` customers left out, and said
    how many, with their cases) and the line that names the filters."""
    data, service, period, where, table, hidden, _ = _asked(service, quarter, None, filters)
    total = len(data.selection(service, period))
    selected = data.selection(service, period, (), where)
    rows = _labelled(table, lang).assign(key=[variant_key(v) for v in table["variant"]],
                                         path=[_path(v, lang) for v in table["variant"]],
                                         steps=[" → ".join(data.name("activity", a, lang) for a in variant_activities(v))
                                                for v in table["variant"]])
    scope = _scope(period, filters, 0, selected, total, lang)
    note = f"{scope}. {_hidden_note(data, service, period, where, table, hidden, selected, lang)}" if hidden else scope
    columns = ["key", "label", "path", "steps", "cases", "share", "cumulative", "median_duration_seconds",
               "median_customer_steps"]
    return rows_of(rows[columns]), note, scope


def _hidden_note(data: DashboardData, service: str, period: str | None, where: CaseFilter | None, table: pd.DataFrame,
                 hidden: int, selected: pd.DataFrame, lang: str) -> str:
    """What the variant table leaves out: `hidden` variants of fewer than `min_group` customers each, with their cases
    and share of the `selected` cases only when those cases hold at least `min_group` customers."""
    kept = data.selection(service, period, tuple(table["variant"]), where) if len(table) else selected.iloc[:0]
    unlisted = selected[~selected["case_id"].isin(kept["case_id"])]
    if data.too_few(unlisted["customer_id"].nunique()):
        return text("ex_hidden_few", lang).format(n=data.min_group)
    return text("ex_hidden", lang).format(variants=f"{hidden:,}", cases=f"{len(unlisted):,}",
                                          share=f"{len(unlisted) / len(selected):.0%}", n=data.min_group)


def update_selection(service: str | None, quarter: str | None, variants: Any, measure: str, coverage: float,
                     variant_measure: str, lang: str, filters: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """The map, the variant histogram, the KPIs, customer steps and the case list of the selected cases: those
    that pass the filters and, when variants are ticked, of those variants."""
    data, service, period, where, table, _, chosen = _asked(service, quarter, variants, filters)
    measure = measure if measure in MEASURES else "frequency"
    coverage = min(max(float(coverage or DEFAULT_COVERAGE), 0.05), 1.0)
    graph_ = data.journey_map(service, period, chosen, coverage, where)
    cases = data.selection(service, period, chosen, where)
    scope = _scope(period, filters, len(chosen), cases, len(data.selection(service, period)), lang)
    if graph_ is None:
        elements, map_note = [], f"{scope}. {too_few(lang, data)}"
    else:
        labels = {a: data.name("activity", a, lang) for a in graph_.activities["activity"]}
        elements = map_elements(graph_, measure, labels=labels, lang=lang)
        map_note = " · ".join([_counted("ex_n_cases", len(cases), lang),
                               _counted("ex_n_activities", len(graph_.activities), lang), scope])
    variant_measure = variant_measure if variant_measure in VARIANT_MEASURES else "cases"
    # The chart's bars are named by their number alone under an axis titled "Variants": a name per bar ("المسار 38")
    # would stand taller than the chart's foot.
    chart = variant_figure(table.assign(label=[label[1:] for label in table["label"]]), variant_measure, selected=chosen,
                           y_title=text(f"variant_{variant_measure}", lang), lang=lang)
    chart.update_xaxes(title=text("variants", lang))
    kpis = data.selection_kpis(service, period, chosen, where)
    completed = cases[cases["completed"] == 1]
    steps, steps_note = blank(), [reason(scope), reason(text("no_completed", lang))]
    if kpis is None:
        kpi_rows = []
        kpi_note: Any = [reason(scope, "sv-kpi-scope"), reason(text("ex_kpis_wait", lang).format(n=data.min_group))]
        steps_note = [reason(scope), reason(too_few(lang, data))]
    else:
        kpi_rows = [{"pillar": text(data.config.kpis[k].pillar, lang), "kpi": kpi_label(k, lang),
                     "value": format_value(kpis[k], KPIS[k].unit) if pd.notna(kpis[k])
                     else f"{text('no_data', lang)} {needs_text(k, lang)}"}
                    for k in data.config.kpis]
        kpi_note = [reason(scope, "sv-kpi-scope"), *_survey_note(data, data.where(service, period, chosen, where), lang)]
        if len(completed):
            steps, steps_note = customer_steps_figure(
                completed["customer_steps"], completed["customer_id"], min_group=data.min_group,
                x_title=text("steps", lang), y_title=text("cases", lang),
                merged_note=text("merged_bins", lang), lang=lang), [reason(scope)]
    case_rows, case_note = _case_list(service, period, chosen, where, lang)
    return (elements, map_note, chart, scope, kpi_rows, steps, kpi_note, steps_note, case_rows,
            f"{scope}. {case_note}")


def _survey_note(data: DashboardData, selected: CaseFilter, lang: str) -> list[Any]:
    """The response and link rates of the survey answers of the selected journeys (none without answers; nothing
    of a selection of fewer than `min_group` customers)."""
    summary = data.survey_summary(selected)
    if summary is None:
        return []
    if data.too_few(summary.customers):
        return [reason(too_few(lang, data), "sv-survey-rates")]
    return [reason(text("survey_rates", lang).format(
        answered=f"{summary.answered:,}", journeys=f"{summary.journeys:,}", response=f"{summary.response_rate:.1%}",
        linked=f"{summary.linked:,}", answers=f"{summary.answers:,}",
        link=f"{summary.link_rate:.1%}" if summary.answers else "–"), "sv-survey-rates")]


def update_rework(service: str | None, quarter: str | None, variants: Any, lang: str,
                  filters: dict[str, Any] | None = None) -> tuple[str, Any, list[dict[str, Any]]]:
    """The rework of the selected cases (see :mod:`najma.journeys._rework`): the line naming the period and the
    selection, the service's counts, and the rows per activity of at least `min_group` customers; nothing of a
    selection of fewer than `min_group` customers."""
    data, service, period, where, _, _, chosen = _asked(service, quarter, variants, filters)
    cases = data.selection(service, period, chosen, where)
    scope = _scope(period, filters, len(chosen), cases, len(data.selection(service, period)), lang)
    if data.too_few(cases["customer_id"].nunique()):
        return scope, reason(too_few(lang, data), "sv-rework-few"), []
    selected = data.where(service, period, chosen, where)
    total = data.rework(selected, "service").iloc[0]
    counts = {name: f"{int(total[column]):,}" for name, column in (
        ("cases", "cases_with_rework"), ("total", "cases"), ("loops", "self_loops"), ("repetitions", "repetitions"),
        *((f"{short}_{who}", f"{kind}_{who}") for short, kind in (("loops", "self_loops"), ("repetitions", "repetitions"))
          for who in ("repeat", "redo", "unknown")))}
    summary = [dmc.Text(text("rw_summary", lang).format(**counts), id="sv-rework-counts")]
    if not data.rework_names_resources(selected):
        summary.append(reason(text("rw_no_resource", lang), "sv-rework-no-resource"))
    activities, hidden = kept_groups(data.rework(selected, "activity"), data.min_group)
    if hidden:
        summary.append(reason(text("rw_hidden", lang).format(n=f"{hidden:,}", min=data.min_group), "sv-rework-hidden"))
    # The most reworked first; ties by the activity's key, so the order is the same in both languages.
    activities = activities.sort_values(["rework", "activity"], ascending=[False, True], kind="stable")
    shown = activities.assign(activity=[data.name("activity", a, lang) for a in activities["activity"]])
    return scope, summary, rows_of(shown[[c["field"] for c in _rework_columns(lang)]])


def _case_list(service: str, period: str | None, chosen: tuple[str, ...], where: CaseFilter | None,
               lang: str) -> tuple[list[dict[str, Any]], str]:
    """The rows of the case list of the selection (times on the catalogue's clock, as the headers say) and the line
    that says how many are listed; none of a selection of fewer than `min_group` customers."""
    data = current_data()
    found = data.case_list(service, period, chosen, where)
    if found is None:
        return [], too_few(lang, data)
    listed, total = found
    shown = listed.assign(start=listed["start"].dt.strftime("%Y-%m-%d %H:%M"),
                          end=listed["end"].dt.strftime("%Y-%m-%d %H:%M"),
                          channel=[data.name("channel", c, lang) if c else c for c in listed["channel"]],
                          outcome=[text(f"ex_outcome_{o}", lang) if o in OUTCOMES else o for o in listed["outcome"]])
    return rows_of(shown.drop(columns="variant")), text("ex_cases_listed", lang).format(shown=f"{len(listed):,}",
                                                                                       total=f"{total:,}")


def update_case(service: str | None, quarter: str | None, variants: Any, cases: Any, lang: str,
                filters: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], str]:
    """The timeline of the case clicked in the case list: its events in time order. Only a case of the list shown
    (a selection of at least `min_group` customers) is opened."""
    picked = [] if _switched() else _selected(cases, "case_id")
    if not picked:
        return [], text("ex_pick_case", lang)
    data, service, period, where, _, _, chosen = _asked(service, quarter, variants, filters)
    found = data.case_list(service, period, chosen, where)
    if found is None or picked[0] not in set(found[0]["case_id"]):
        return [], text("ex_case_outside", lang).format(case=picked[0])
    events = data.case_events(service, picked[0])
    shown = events.assign(activity=[data.name("activity", a, lang) for a in events["activity"]],
                          time=events["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S"),
                          channel=[data.name("channel", c, lang) if c else c for c in events["channel"]],
                          resource=[_actor(r, lang) for r in events["resource"]],
                          actor=[_actor(a, lang) for a in events["actor"]])
    return (rows_of(shown[["activity", "time", "channel", "resource", "actor"]]),
            text("ex_case_events", lang).format(case=picked[0], n=len(events)))


def _actor(value: str | None, lang: str) -> str | None:
    """`value` in `lang` when it names a kind of actor ("customer", "staff", "system": the actor column's values, which
    also name the resource of the customer's and the system's own events), else as the data has it (a staff id)."""
    return text(f"ex_actor_{value}", lang) if value in ACTORS else value


def selection_query(service: str | None, quarter: str | None, filters: dict[str, Any] | None, variants: Any,
                    measure: str | None, coverage: float | None, variant_measure: str | None, case: Any,
                    lang: str) -> str:
    """The address's query string of the whole selection (lists and pairs as JSON), language last."""
    query: dict[str, Any] = {"service": service, "quarter": quarter}
    for key, value in read_filters(filters or {}).items():
        query[key] = json.dumps(value, ensure_ascii=False) if isinstance(value, list) else value
    query.update(variants=",".join(_selected(variants, "key")), measure=measure, vmeasure=variant_measure,
                 coverage=coverage, case=next(iter(_selected(case, "case_id")), None), lang=lang)
    return "?" + urlencode({k: v for k, v in query.items() if v not in (None, "")})


def write_address(service: str | None, quarter: str | None, filters: dict[str, Any] | None, variants: Any,
                  measure: str | None, coverage: float | None, variant_measure: str | None, case: Any, lang: str,
                  ) -> tuple[str, str]:
    """The page's address for the selection, and the header's language link that keeps it."""
    search = selection_query(service, quarter, filters, variants, measure, coverage, variant_measure, case, lang)
    other = {k: v[0] for k, v in parse_qs(search[1:]).items()} | {"lang": "en" if lang == "ar" else "ar"}
    return search, f"{PATH}?{urlencode(other)}"


def clear_selection(_service: str | None, _quarter: str | None) -> tuple[list[Any], list[Any]]:
    """Another service or quarter: no variant and no case stays ticked."""
    return [], []


def export_csv(_clicks: int | None) -> bool:
    """Ask the grid beside the button to download its rows as CSV."""
    return True


def export_map(_png: int | None, _svg: int | None, service: str | None) -> dict[str, str]:
    """Ask the map to download itself as the image asked for (PNG or SVG)."""
    kind = "svg" if ctx.triggered_id == "sv-map-svg" else "png"
    return {"type": kind, "action": "download", "filename": f"journey-map-{service or 'service'}"}


#: The filters whose values are of one service (its activities and attributes), in :func:`update_service`'s order.
_SERVICE_CONTROLS = ["sv-f-present", "sv-f-absent", "sv-f-directly-a", "sv-f-directly-b", "sv-f-eventually-a",
                     "sv-f-eventually-b", "sv-f-attribute", "sv-f-value"]

_FILTER_INPUTS = [Input("sv-f-present", "value"), Input("sv-f-absent", "value"), Input("sv-f-directly-a", "value"),
                  Input("sv-f-directly-b", "value"), Input("sv-f-eventually-a", "value"),
                  Input("sv-f-eventually-b", "value"), Input("sv-f-attribute", "value"), Input("sv-f-value", "value"),
                  Input("sv-f-min-days", "value"), Input("sv-f-max-days", "value"), Input("sv-f-channel", "value"),
                  Input("sv-f-outcome", "value")]

CALLBACKS = [
    Callback(update_service, [
        Output("sv-f-present", "data"), Output("sv-f-attribute", "data"), Output("sv-rating", "children"),
        Output("sv-probabilities", "figure"), Output("sv-kpi-scores", "figure"), Output("sv-columns", "children"),
        Output("sv-f-absent", "data"), Output("sv-f-directly-a", "data"), Output("sv-f-directly-b", "data"),
        Output("sv-f-eventually-a", "data"), Output("sv-f-eventually-b", "data"),
        *[Output(c, "value") for c in _SERVICE_CONTROLS],
        Input("sv-service", "value"), Input("sv-quarter", "value"), State("sv-lang", "data"),
        *[State(c, "value") for c in _SERVICE_CONTROLS],
    ]),
    Callback(update_conformance, [
        Output("sv-conformance", "children"), Output("sv-deviations", "rowData"),
        Output("sv-conformance-poll", "disabled"),
        Input("sv-service", "value"), Input("sv-quarter", "value"), Input("sv-conformance-poll", "n_intervals"),
        State("sv-lang", "data"),
    ]),
    Callback(update_selection, [
        Output("sv-map", "elements"), Output("sv-map-note", "children"), Output("sv-variant-chart", "figure"),
        Output("sv-variant-scope", "children"), Output("sv-kpis", "rowData"), Output("sv-steps", "figure"),
        Output("sv-kpi-note", "children"), Output("sv-steps-note", "children"), Output("sv-cases", "rowData"),
        Output("sv-cases-note", "children"),
        Input("sv-service", "value"), Input("sv-quarter", "value"), Input("sv-variant-grid", "selectedRows"),
        Input("sv-measure", "value"), Input("sv-coverage", "value"), Input("sv-variant-measure", "value"),
        Input("sv-lang", "data"), Input("sv-filters", "data"),
    ]),
    Callback(update_variants, [
        Output("sv-variant-grid", "rowData"), Output("sv-variant-note", "children"), Output("sv-filter-note", "children"),
        Input("sv-service", "value"), Input("sv-quarter", "value"), Input("sv-lang", "data"), Input("sv-filters", "data"),
    ]),
    Callback(update_case, [
        Output("sv-timeline", "rowData"), Output("sv-timeline-note", "children"),
        Input("sv-service", "value"), Input("sv-quarter", "value"), Input("sv-variant-grid", "selectedRows"),
        Input("sv-cases", "selectedRows"), Input("sv-lang", "data"), Input("sv-filters", "data"),
    ]),
    Callback(update_rework, [
        Output("sv-rework-scope", "children"), Output("sv-rework-summary", "children"), Output("sv-rework", "rowData"),
        Input("sv-service", "value"), Input("sv-quarter", "value"), Input("sv-variant-grid", "selectedRows"),
        Input("sv-lang", "data"), Input("sv-filters", "data"),
    ]),
    Callback(collect_filters, [Output("sv-filters", "data"), *_FILTER_INPUTS, True]),
    Callback(write_address, [
        Output("sv-url", "search"), Output("language-link", "href", allow_duplicate=True),
        Input("sv-service", "value"), Input("sv-quarter", "value"), Input("sv-filters", "data"),
        Input("sv-variant-grid", "selectedRows"), Input("sv-measure", "value"), Input("sv-coverage", "value"),
        Input("sv-variant-measure", "value"), Input("sv-cases", "selectedRows"), State("sv-lang", "data"), True,
    ]),
    Callback(clear_selection, [
        Output("sv-variant-grid", "selectedRows"), Output("sv-cases", "selectedRows"),
        Input("sv-service", "value"), Input("sv-quarter", "value"), True,
    ]),
    *[Callback(export_csv, [Output(g, "exportDataAsCsv"), Input(f"{g}-csv", "n_clicks"), True])
      for g in ("sv-variant-grid", "sv-kpis", "sv-rework", "sv-cases", "sv-timeline", "sv-deviations")],
    Callback(export_map, [Output("sv-map", "generateImage"), Input("sv-map-png", "n_clicks"),
                          Input("sv-map-svg", "n_clicks"), State("sv-service", "value"), True]),
]

__all__ = ["layout", "update_service", "update_selection", "update_variants", "update_case", "update_conformance", "update_rework",
           "collect_filters", "read_filters", "criteria", "selection_query", "write_address", "variant_key", "CALLBACKS",
           "KEY", "PATH", "TITLE"]
