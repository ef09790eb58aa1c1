"""Redesign: remove, merge or automate a service's steps, or move them to another channel, and see the projected stars."""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
from dash import Input, Output, State, ctx, dcc, html

from najma.dashboards._i18n import kpi_label, star_marks, text
from najma.dashboards.pages.common import (
    Callback,
    choice,
    column_notes,
    current_data,
    grid,
    heading,
    note,
    options,
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


def layout(lang: str = "en", service: str | None = None, **_: Any) -> dmc.Stack:
    """The page in `lang`, for `service` (the first by default)."""
    data = current_data()
    names = {s: data.name("service", s, lang) for s in data.services}
    return dmc.Stack([
        heading(lang, "page_redesign"),
        html.Div(column_notes(data, choice(service, data.services) or data.services[0], lang), id="rd-columns"),
        dcc.Store(id="rd-lang", data=lang),
        dcc.Store(id="rd-plan", data=[]),
        dmc.Group([
            dmc.Select(id="rd-service", label=text("service", lang), data=options(data.services, names), w=320,
                       value=choice(service, data.services) or data.services[0], allowDeselect=False, searchable=True),
            dmc.Select(id="rd-quarter", label=text("quarter", lang), data=data.quarters, value=data.quarters[0], w=140,
                       allowDeselect=False),
        ]),
        section(text("plan", lang),
                dmc.SegmentedControl(id="rd-kind", value=KINDS[0], mb="sm",
                                     data=[{"value": k, "label": text(k, lang)} for k in KINDS]),
                dmc.Group([
                    dmc.MultiSelect(id="rd-activities", label=text("activities", lang), data=[], value=[], w=420,
                                    searchable=True),
                    dmc.TextInput(id="rd-into", label=text("merged_name", lang), w=240),
                    dmc.Select(id="rd-channel", label=text("channel", lang), w=200, value=data.channels[0]
                               if data.channels else None,
                               data=options(data.channels, {c: data.name("channel", c, lang) for c in data.channels})),
                ], align="end"),
                dmc.Group([dmc.Button(text("add_change", lang), id="rd-add"),
                           dmc.Button(text("clear_plan", lang), id="rd-clear", variant="outline"),
                           dmc.Button(text("apply", lang), id="rd-apply", color="green")], mt="sm"),
                note("rd-plan-note"), html.Ol(id="rd-plan-list")),
        section(text("today", lang) + " / " + text("redesigned", lang),
                dcc.Loading(html.Div([html.Div(id="rd-stars"), grid("rd-result", [
                    {"field": "measure", "headerName": text("kpi", lang), "minWidth": 260},
                    {"field": "today", "headerName": text("today", lang)},
                    {"field": "redesign", "headerName": text("redesigned", lang)},
                ], lang=lang, height=560)]))),
    ])


def service_activities(service: str | None, lang: str) -> list[dict[str, str]]:
    """The activities of the chosen service to pick from."""
    data = current_data()
    service = choice(service, data.services) or data.services[0]
    return [{"value": a, "label": data.name("activity", a, lang)} for a in data.activities(service)]


def edit_plan(_add: int | None, _clear: int | None, _service: str | None, kind: str, activities: list[str] | None,
              into: str | None, channel: str | None, plan: list[dict[str, Any]], lang: str) -> tuple[list[dict], str]:
    """Add the change described to the plan, or clear it (also when another service is chosen)."""
    if ctx.triggered_id != "rd-add":
        return [], text("empty_plan", lang)
    if kind not in KINDS or not activities:
        return plan, text("needs_a_change", lang)
    change = {"kind": kind, "activities": list(activities), "into": (into or "").strip() or " + ".join(activities),
              "channel": channel}
    return [*plan, change], ""


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


def show_plan(plan: list[dict[str, Any]], lang: str) -> list[html.Li]:
    """The plan as a numbered list in `lang`."""
    data = current_data()
    return [html.Li(f"{text(c['kind'], lang)}: " + ", ".join(data.name("activity", a, lang) for a in c["activities"])
                    + (f" → {c['into']}" if c["kind"] == "merge" else "")
                    + (f" → {data.name('channel', c['channel'], lang)}" if c["kind"] == "move" else ""))
            for c in plan]


def project(_apply: int | None, service: str | None, quarter: str | None, plan: list[dict[str, Any]],
            lang: str) -> tuple[Any, list[dict[str, Any]]]:
    """The stars, pillars and KPIs of the service today and after the plan."""
    data = current_data()
    service = choice(service, data.services) or data.services[0]
    quarter = choice(quarter, data.quarters) or data.quarters[0]
    if not plan:
        return reason(text("empty_plan", lang)), []
    found = data.redesign(service, transforms(plan), quarter)
    if found is None:
        return reason(too_few(lang, data)), []
    rows = found.set_index("scenario")
    if "today" not in rows.index or "redesign" not in rows.index:
        return reason(text("insufficient", lang)), []
    today, redesign = rows.loc["today"], rows.loc["redesign"]

    def stars(row: Any) -> str:
        return star_marks(row["stars"]) if row["status"] == RATED else text("insufficient", lang)

    headline = dmc.Group([
        dmc.Text(f"{text('today', lang)}: {stars(today)}", id="rd-stars-today", size="lg", fw=700),
        dmc.Text(f"{text('redesigned', lang)}: {stars(redesign)}", id="rd-stars-redesign", size="lg", fw=700,
                 c="green"),
    ])
    table = [{"measure": text("score", lang), "today": f"{today['score']:.1f}", "redesign": f"{redesign['score']:.1f}"}]
    table += [{"measure": text(p, lang), "today": f"{today[p]:.1f}", "redesign": f"{redesign[p]:.1f}"} for p in PILLARS]
    table += [{"measure": kpi_label(k, lang), "today": format_value(today[k], KPIS[k].unit),
               "redesign": format_value(redesign[k], KPIS[k].unit)} for k in data.config.kpis]
    return headline, table


CALLBACKS = [
    Callback(service_activities, [Output("rd-activities", "data"), Input("rd-service", "value"), State("rd-lang", "data")]),
    Callback(edit_plan, [
        Output("rd-plan", "data"), Output("rd-plan-note", "children"),
        Input("rd-add", "n_clicks"), Input("rd-clear", "n_clicks"), Input("rd-service", "value"),
        State("rd-kind", "value"), State("rd-activities", "value"), State("rd-into", "value"),
        State("rd-channel", "value"), State("rd-plan", "data"), State("rd-lang", "data"),
    ]),
    Callback(show_plan, [Output("rd-plan-list", "children"), Input("rd-plan", "data"), State("rd-lang", "data")]),
    Callback(project, [
        Output("rd-stars", "children"), Output("rd-result", "rowData"),
        Input("rd-apply", "n_clicks"), State("rd-service", "value"), State("rd-quarter", "value"),
        State("rd-plan", "data"), State("rd-lang", "data"),
    ]),
]
