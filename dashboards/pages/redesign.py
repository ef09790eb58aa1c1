"""Redesign: remove, merge or automate a service's steps, or move them to another channel, and see the projected stars.

The page follows the service and quarter chosen: choosing another clears the plan, the activities
picked and the projection. A projection runs as a background job (see :mod:`najma.dashboards._jobs`)
keyed by its service, quarter and plan; the page shows it only while that key is still the page's
own, so an answer that arrives after the analyst moved on is dropped, never shown under the wrong
service. Colours follow better and worse: green where the redesign beats today, red where it falls
behind, by each KPI's direction in the rating model.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import dash_mantine_components as dmc
import pandas as pd
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from najma.dashboards._i18n import kpi_label, listed, quarter_text, star_marks, text
from najma.dashboards.pages.common import (
    POLL_MS,
    Callback,
    choice,
    column_notes,
    current_data,
    current_jobs,
    grid,
    heading,
    job_error_text,
    note,
    options,
    quarter_options,
    reason,
    section,
    too_few,
)
from najma.journeys import AutomateActivity, MergeActivities, MoveToChannel, RemoveActivity
from najma.journeys._redesign import Transform
from najma.rating import KPIS, PILLARS, RATED, format_value

KEY = "redesign"
PATH = "/redesign"
TITLE = "Redesign"
#: The kinds of change, in the order the page offers them.
KINDS = ("remove", "merge", "automate", "move")
#: The colour of a value better and worse than today's (Mantine's green and red, dark enough to read).
COLOURS = {"better": "#2b8a3e", "worse": "#c92a2a"}
#: The colour of what neither gains nor loses (Mantine takes no null colour: the headline would not draw).
NEUTRAL = "inherit"
#: Between the changes of a plan, between the activities of a change, and before what a change makes of them.
_SEPARATOR = {"en": "; ", "ar": "؛ "}
_ARROW = {"en": " → ", "ar": " ← "}


def layout(lang: str = "en", service: str | None = None, **_: Any) -> dmc.Stack:
    """The page in `lang`, for `service` (the first by default)."""
    data = current_data()
    names = {s: data.name("service", s, lang) for s in data.services}
    return dmc.Stack([
        heading(lang, "page_redesign"),
        html.Div(column_notes(data, choice(service, data.services) or data.services[0], lang), id="rd-columns"),
        dcc.Store(id="rd-lang", data=lang),
        dcc.Store(id="rd-plan", data=[]),
        dcc.Store(id="rd-job", data=None),
        dcc.Store(id="rd-owner", data=uuid.uuid4().hex),  # this page view: its replaced projection is cancelled
        dcc.Interval(id="rd-poll", interval=POLL_MS, disabled=True),
        dmc.Group([
            dmc.Select(id="rd-service", label=text("service", lang), data=options(data.services, names), w=320,
                       value=choice(service, data.services) or data.services[0], allowDeselect=False, searchable=True),
            dmc.Select(id="rd-quarter", label=text("quarter", lang), data=quarter_options(data.quarters, lang),
                       value=data.quarters[0], w=180, allowDeselect=False),
        ]),
        section(text("plan", lang),
                dmc.SegmentedControl(id="rd-kind", value=KINDS[0], mb="sm",
                                     data=[{"value": k, "label": text(k, lang)} for k in KINDS]),
                dmc.Group([
                    dmc.MultiSelect(id="rd-activities", label=text("activities", lang), data=[], value=[], w=420,
                                    searchable=True),
                    dmc.TextInput(id="rd-into", label=text("merged_name", lang), w=240, value=""),
                    dmc.Select(id="rd-channel", label=text("channel", lang), w=200, value=data.channels[0]
                               if data.channels else None,
                               data=options(data.channels, {c: data.name("channel", c, lang) for c in data.channels})),
                ], align="end"),
                dmc.Group([dmc.Button(text("add_change", lang), id="rd-add"),
                           dmc.Button(text("clear_plan", lang), id="rd-clear", variant="outline"),
                           dmc.Button(text("apply", lang), id="rd-apply", color="green")], mt="sm"),
                note("rd-plan-note"), html.Ol(id="rd-plan-list")),
        section(text("today", lang) + " / " + text("redesigned", lang),
                dmc.Text(id="rd-caption", fw=600, mb="xs"), reason("", "rd-status"), html.Div(id="rd-stars"),
                grid("rd-result", [
                    {"field": "measure", "headerName": text("kpi", lang), "minWidth": 260},
                    {"field": "today", "headerName": text("today", lang)},
                    {"field": "redesign", "headerName": text("redesigned", lang), "cellStyle": _verdict_style()},
                    {"field": "difference", "headerName": text("difference", lang), "cellStyle": _verdict_style()},
                    {"field": "verdict_text", "headerName": text("verdict", lang), "cellStyle": _verdict_style()},
                ], lang=lang, height=60 + 42 * (1 + len(PILLARS) + len(data.config.kpis)))),
    ])


def _verdict_style() -> dict[str, Any]:
    """A grid cell coloured by its row's verdict (see :func:`verdict`)."""
    return {"styleConditions": [{"condition": f"params.data && params.data.verdict === '{name}'",
                                 "style": {"color": colour, "fontWeight": 600}} for name, colour in COLOURS.items()]}


# -- the plan ---------------------------------------------------------------------------------------------


def follow_service(service: str | None, lang: str) -> tuple[list[dict[str, str]], list[dmc.Text]]:
    """The activities of the chosen service to pick from, and the notes on the columns its data lacks."""
    data = current_data()
    service = choice(service, data.services) or data.services[0]
    return ([{"value": a, "label": data.name("activity", a, lang)} for a in data.activities(service)],
            column_notes(data, service, lang))


def edit_plan(_add: int | None, _clear: int | None, _service: str | None, _quarter: str | None,
              _removed: list[int | None], kind: str, activities: list[str] | None, into: str | None,
              channel: str | None, plan: list[dict[str, Any]], lang: str) -> tuple[Any, Any, Any, Any]:
    """Add the change described to the plan (then clear the picker and the merged name), remove one change,
    or clear it all (also when another service or quarter is chosen).

    Returns the plan, the note under it, the activities picked and the merged name.
    """
    trigger = ctx.triggered_id
    if isinstance(trigger, dict):  # a change's remove button (also called when the buttons are redrawn)
        if not ctx.triggered[0]["value"]:
            raise PreventUpdate
        kept = [c for i, c in enumerate(plan) if i != trigger["index"]]
        return kept, "" if kept else text("empty_plan", lang), no_update, no_update
    if trigger != "rd-add":
        return [], text("empty_plan", lang), [], ""
    problem = _problem(kind, activities or [], channel)
    if problem:
        return plan, text(problem, lang), no_update, no_update
    change = {"kind": kind, "activities": list(activities), "into": (into or "").strip() or " + ".join(activities),
              "channel": channel}
    return [*plan, change], "", [], ""


def _problem(kind: str, activities: list[str], channel: str | None) -> str | None:
    """The text key of what a change lacks, or None when it can join the plan."""
    if kind not in KINDS or not activities:
        return "needs_a_change"
    if kind == "merge" and len(activities) < 2:
        return "needs_two"
    if kind == "move" and not channel:
        return "needs_channel"
    return None


def transforms(plan: list[dict[str, Any]]) -> tuple[Transform, ...]:
    """The redesign transforms of a plan, in its order.

    Examples
    --------
    >>> transforms([{"kind": "remove", "activities": ["Visit"]}, {"kind": "merge", "activities": ["A", "B"], "into": "AB"}])
    (RemoveActivity(activity='Visit'), MergeActivities(merged=('A', 'B'), into='AB'))
    """
    found: list[Transform] = []
    for change in plan:
        names = change["activities"]
        if change["kind"] == "remove":
            found.extend(RemoveActivity(a) for a in names)
        elif change["kind"] == "merge":
            found.append(MergeActivities(names, change["into"]))
        elif change["kind"] == "automate":
            found.extend(AutomateActivity(a) for a in names)
        elif change["kind"] == "move":
            found.extend(MoveToChannel(a, change["channel"]) for a in names)
    return tuple(found)


def describe(change: dict[str, Any], lang: str) -> str:
    """One change of a plan in words, e.g. "Merge: Submit application, Upload documents → Apply"."""
    data = current_data()
    said = f"{text(change['kind'], lang)}: " + listed((data.name("activity", a, lang) for a in change["activities"]), lang)
    if change["kind"] == "merge":
        return said + _ARROW[lang] + change["into"]
    if change["kind"] == "move":
        return said + _ARROW[lang] + data.name("channel", change["channel"], lang)
    return said


def show_plan(plan: list[dict[str, Any]], lang: str) -> list[html.Li]:
    """The plan as a numbered list in `lang`, each change with a button that removes it."""
    return [html.Li(dmc.Group([
        dmc.Text(describe(change, lang), size="sm"),
        dmc.Button(text("remove_change", lang), id={"type": "rd-remove", "index": i}, n_clicks=0, size="compact-xs",
                   variant="subtle", color="red"),
    ], gap="xs")) for i, change in enumerate(plan)]


# -- the projection, as a background job ------------------------------------------------------------------


def _asked(service: str | None, quarter: str | None, plan: list[dict[str, Any]]) -> dict[str, Any]:
    """The projection the page's current state asks for (service and quarter checked, defaults filled in)."""
    data = current_data()
    return {"service": choice(service, data.services) or data.services[0],
            "quarter": choice(quarter, data.quarters) or data.quarters[0], "plan": plan}


def job_key(asked: dict[str, Any]) -> tuple[Any, ...]:
    """The key of a projection's job: the page, the copy of the store shown (a refreshed store projects anew),
    the service, the quarter and the plan's transforms."""
    return KEY, current_data().path, asked["service"], asked["quarter"], transforms(asked["plan"])


def submit(apply: int | None, service: str | None, quarter: str | None, plan: list[dict[str, Any]],
           owner: str | None = None) -> Any:
    """Start projecting the plan in the background and return at once: the projection asked for (the page
    then polls for its answer). The page view's previous projection, if still queued, is cancelled (`owner`
    names the page view)."""
    if not apply or not plan:
        raise PreventUpdate
    asked = _asked(service, quarter, plan)
    data = current_data()
    current_jobs().submit(job_key(asked), data.redesign, asked["service"], transforms(plan), asked["quarter"],
                          owner=owner)
    return asked


def show_projection(_tick: int | None, job: dict[str, Any] | None, plan: list[dict[str, Any]], service: str | None,
                    quarter: str | None, lang: str) -> tuple[Any, Any, Any, Any, Any]:
    """The projection of the page's service, quarter and plan, once its job is done.

    Returns the headline stars, the grid's rows, whether the poll stops, the status line and the
    caption that names what the projection is of. A job of another service, quarter or plan (the page
    moved on while it ran) is not shown.
    """
    asked = _asked(service, quarter, plan)
    if not plan:
        return [], [], True, text("empty_plan", lang), ""
    state = current_jobs().state(job_key(asked)) if job == asked else None
    if state is None:
        return [], [], True, text("press_apply", lang), ""
    if not state.done:
        return [], [], False, text("working", lang), ""
    if state.error is not None:
        return [], [], True, job_error_text(state, lang), ""
    if state.value is None:
        return [], [], True, too_few(lang, current_data()), ""
    headline, rows = projection(state.value, lang)
    return headline, rows, True, "", caption(asked, lang)


def caption(asked: dict[str, Any], lang: str) -> str:
    """What a projection is of: "Projection of Passport, 2025Q4, plan: 1. Remove: Visit; 2. Merge: A, B → AB"."""
    data = current_data()
    steps = _SEPARATOR[lang].join(f"{i}. {describe(c, lang)}" for i, c in enumerate(asked["plan"], start=1))
    return text("projection_of", lang).format(service=data.name("service", asked["service"], lang),
                                              quarter=quarter_text(asked["quarter"], lang), plan=steps)


def verdict(today: float, redesign: float, direction: str = "higher") -> str:
    """Whether `redesign` is ``better``, ``worse`` or the ``same`` as `today`, where `direction` says which
    values are better (``higher`` or ``lower``); empty when either has no value.

    Examples
    --------
    >>> verdict(5, 6), verdict(0.6, 0.3, "lower"), verdict(0.3, 0.6, "lower"), verdict(1.0, 1.0), verdict(1.0, float("nan"))
    ('better', 'better', 'worse', 'same', '')
    """
    if today is None or redesign is None or math.isnan(today) or math.isnan(redesign):
        return ""
    if math.isclose(today, redesign, rel_tol=1e-9, abs_tol=1e-12):
        return "same"
    return "better" if (redesign > today) == (direction == "higher") else "worse"


def projection(found: pd.DataFrame, lang: str) -> tuple[Any, list[dict[str, Any]]]:
    """The headline stars and the rows (today, redesigned, difference, verdict) of a what-if table."""
    rows = found.set_index("scenario")
    if "today" not in rows.index or "redesign" not in rows.index:
        return reason(text("insufficient", lang)), []
    today, redesign = rows.loc["today"], rows.loc["redesign"]
    rated = today["status"] == RATED and redesign["status"] == RATED
    stars_verdict = verdict(float(today["stars"]), float(redesign["stars"])) if rated else ""

    def stars(row: pd.Series) -> str:
        return star_marks(row["stars"]) if row["status"] == RATED else text("insufficient", lang)

    headline = dmc.Group([
        dmc.Text(f"{text('today', lang)}: {stars(today)}", id="rd-stars-today", size="lg", fw=700),
        dmc.Text(f"{text('redesigned', lang)}: {stars(redesign)}", id="rd-stars-redesign", size="lg", fw=700,
                 c=COLOURS.get(stars_verdict, NEUTRAL), className=f"rd-{stars_verdict or 'unrated'}"),
    ])
    measures = [("score", text("score", lang), "score", "higher")]
    measures += [(p, text(p, lang), "score", "higher") for p in PILLARS]
    config = current_data().config
    measures += [(k, kpi_label(k, lang), KPIS[k].unit, curve.direction) for k, curve in config.kpis.items()]
    return headline, [_row(name, label, unit, direction, today[name], redesign[name], lang)
                      for name, label, unit, direction in measures]


def _row(name: str, label: str, unit: str, direction: str, today: float, redesign: float, lang: str) -> dict[str, Any]:
    """One grid row: a measure today, redesigned, their difference and the verdict."""
    found = verdict(today, redesign, direction)
    return {"key": name, "measure": label, "today": _value(today, unit, lang), "redesign": _value(redesign, unit, lang),
            "difference": _difference(today, redesign, unit) if found else "", "verdict": found,
            "verdict_text": text(found, lang) if found else ""}


def _value(value: float, unit: str, lang: str) -> str:
    """A measure's value: a score with one decimal, a KPI as :func:`najma.rating.format_value` writes it."""
    if value is None or math.isnan(value):
        return text("no_data_short", lang)
    return f"{value:.1f}" if unit == "score" else format_value(value, unit)


def _difference(today: float, redesign: float, unit: str) -> str:
    """The redesign's value less today's, with its sign (shares in percentage points)."""
    change = redesign - today
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    return sign + (f"{abs(change):.1f}" if unit == "score" else format_value(abs(change), unit))


CALLBACKS = [
    Callback(follow_service, [Output("rd-activities", "data"), Output("rd-columns", "children"),
                              Input("rd-service", "value"), State("rd-lang", "data")]),
    Callback(edit_plan, [
        Output("rd-plan", "data"), Output("rd-plan-note", "children"), Output("rd-activities", "value"),
        Output("rd-into", "value"),
        Input("rd-add", "n_clicks"), Input("rd-clear", "n_clicks"), Input("rd-service", "value"),
        Input("rd-quarter", "value"), Input({"type": "rd-remove", "index": ALL}, "n_clicks"),
        State("rd-kind", "value"), State("rd-activities", "value"), State("rd-into", "value"),
        State("rd-channel", "value"), State("rd-plan", "data"), State("rd-lang", "data"),
    ]),
    Callback(show_plan, [Output("rd-plan-list", "children"), Input("rd-plan", "data"), State("rd-lang", "data")]),
    Callback(submit, [
        Output("rd-job", "data"),
        Input("rd-apply", "n_clicks"), State("rd-service", "value"), State("rd-quarter", "value"), State("rd-plan", "data"),
        State("rd-owner", "data"),
    ]),
    Callback(show_projection, [
        Output("rd-stars", "children"), Output("rd-result", "rowData"), Output("rd-poll", "disabled"),
        Output("rd-status", "children"), Output("rd-caption", "children"),
        Input("rd-poll", "n_intervals"), Input("rd-job", "data"), Input("rd-plan", "data"),
        Input("rd-service", "value"), Input("rd-quarter", "value"), State("rd-lang", "data"),
    ]),
]
