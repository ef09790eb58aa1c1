"""The redesign page's callbacks called as functions: it follows the service chosen, keeps its plan explicit,
colours better and worse by each KPI's direction, and projects in the background."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterator
from contextvars import copy_context
from typing import Any

import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict
from dash.exceptions import PreventUpdate

from najma.dashboards._data import DashboardData
from najma.dashboards.pages import redesign
from najma.journeys import MoveToChannel

VISIT = {"kind": "remove", "activities": ["Visit service centre"], "into": "Visit service centre", "channel": None}
MERGE = {"kind": "merge", "activities": ["Submit application", "Upload documents"], "into": "Apply online",
         "channel": None}
#: Moving a digital step to the service centre: fewer digital cases and more channel switches, both worse.
TO_CENTRE = {"kind": "move", "activities": ["Upload documents"], "into": "Upload documents", "channel": "service centre"}
WAIT = 120  # seconds a test waits at most for a projection's job


@pytest.fixture
def request_context(app: object) -> Iterator[None]:
    with app.server.test_request_context():
        yield


def _triggered(prop_id: str, value: Any, function: Callable[..., Any], *args: Any) -> Any:
    """Call a callback as Dash would when `prop_id` (``component.property``) changed to `value`."""
    def call() -> Any:
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": value}]))
        return function(*args)
    return copy_context().run(call)


def _component(tree: Any, id_: str) -> Any:
    """The component of `tree` whose id is `id_`."""
    if getattr(tree, "id", None) == id_:
        return tree
    children = getattr(tree, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        found = _component(child, id_)
        if found is not None:
            return found
    return None


def _edit(prop_id: str, value: Any, plan: list[dict], *, kind: str = "remove", activities: list[str] | None = None,
          into: str = "", channel: str | None = None, service: str = "passport") -> tuple:
    return _triggered(prop_id, value, redesign.edit_plan, 1, None, service, "2025Q4", [], kind, activities, into,
                      channel, plan, "en")


def _shown(data: DashboardData, plan: list[dict], job: dict | None, service: str = "passport") -> tuple:
    return redesign.show_projection(None, job, plan, service, data.quarters[0], "en")


def _projected(data: DashboardData, plan: list[dict], service: str = "passport") -> tuple:
    """Submit `plan` as the Apply button does, wait for its job, and return what the page then shows."""
    job = redesign.submit(1, service, data.quarters[0], plan)
    assert job == {"service": service, "quarter": data.quarters[0], "plan": plan}
    state = redesign.current_jobs().wait(redesign.job_key(job), timeout=WAIT)
    assert state.done
    return job, _shown(data, plan, job, service)


def test_the_activities_and_column_notes_follow_the_service(request_context: None, data: DashboardData) -> None:
    for service in ("passport", "trade_licence"):
        activities, notes = redesign.follow_service(service, "en")
        assert [a["value"] for a in activities] == data.activities(service)
        assert [n.children for n in notes] == data.notes(service, "en")


def test_adding_a_change_clears_the_picker_and_the_merged_name(request_context: None) -> None:
    plan, note, picked, into = _edit("rd-add.n_clicks", 1, [], activities=["Visit service centre"])
    assert plan == [VISIT] and note == "" and picked == [] and into == ""
    plan, note, picked, into = _edit("rd-add.n_clicks", 2, plan, kind="merge",
                                     activities=["Submit application", "Upload documents"], into=" Apply online ")
    assert plan == [VISIT, MERGE] and picked == [] and into == ""  # the next change starts from an empty picker


def test_a_change_that_lacks_something_says_what_and_keeps_the_plan(request_context: None) -> None:
    plan, note, picked, _ = _edit("rd-add.n_clicks", 1, [VISIT], kind="merge", activities=["Submit application"])
    assert plan == [VISIT] and note == "A merge needs two activities or more."
    assert picked is redesign.no_update  # what was picked stays, to be completed
    plan, note, *_ = _edit("rd-add.n_clicks", 1, [VISIT], kind="move", activities=["Upload documents"])
    assert plan == [VISIT] and note == "Choose the channel to move to."
    assert _edit("rd-add.n_clicks", 1, [VISIT], activities=[])[:2] == ([VISIT], "Choose activities for this change.")


@pytest.mark.parametrize("prop_id", ["rd-service.value", "rd-quarter.value", "rd-clear.n_clicks"])
def test_another_service_or_quarter_clears_the_plan_and_the_picker(request_context: None, prop_id: str) -> None:
    plan, note, picked, into = _edit(prop_id, "trade_licence", [VISIT, MERGE], activities=["Pay fees"], into="X")
    assert plan == [] and picked == [] and into == "" and note == "No change yet: add one above."


def test_each_change_of_the_plan_is_numbered_and_removed_by_its_button(request_context: None) -> None:
    items = redesign.show_plan([VISIT, MERGE], "en")
    texts = [item.children.children[0].children for item in items]
    assert texts == ["Remove: Visit service centre", "Merge: Submit application, Upload documents → Apply online"]
    assert [item.children.children[1].id for item in items] == [{"type": "rd-remove", "index": i} for i in (0, 1)]
    removed = json.dumps({"index": 0, "type": "rd-remove"}, separators=(",", ":")) + ".n_clicks"
    plan, note, *_ = _edit(removed, 1, [VISIT, MERGE])
    assert plan == [MERGE] and note == ""
    plan, note, *_ = _edit(removed, 1, [MERGE])
    assert plan == [] and note == "No change yet: add one above."
    with pytest.raises(PreventUpdate):  # the buttons were redrawn, none was clicked
        _edit(removed, 0, [VISIT, MERGE])


def test_the_projection_names_its_service_quarter_and_plan(request_context: None, data: DashboardData) -> None:
    _, (stars, rows, stopped, status, caption) = _projected(data, [VISIT, MERGE])
    assert stopped and status == ""
    assert caption == (f"Projection of Passport for a newborn, {data.quarters[0]}, plan: 1. Remove: Visit service "
                       "centre; 2. Merge: Submit application, Upload documents → Apply online")
    expected = data.redesign("passport", redesign.transforms([VISIT, MERGE]), data.quarters[0]).set_index("scenario")
    visits = next(r for r in rows if r["key"] == "visits")
    assert visits["today"] == f"{expected.loc['today', 'visits']:.2f}"
    assert visits["redesign"] == f"{expected.loc['redesign', 'visits']:.2f}"
    assert stars.children[1].id == "rd-stars-redesign"


def test_a_late_answer_of_another_service_is_dropped(request_context: None, data: DashboardData) -> None:
    """The page moved to another service while passport's projection ran: its answer is never shown there."""
    job, (_, rows, *_rest) = _projected(data, [VISIT])
    assert rows, "the projection is shown while the page is still on its service and plan"
    plan_after_switch, *_ = _edit("rd-service.value", "trade_licence", [VISIT], service="trade_licence")
    for plan, service in [(plan_after_switch, "trade_licence"), ([VISIT], "trade_licence"), ([VISIT, MERGE], "passport")]:
        stars, rows, stopped, status, caption = _shown(data, plan, job, service)
        assert (stars, rows, caption) == ([], [], "") and stopped
        assert status in ("No change yet: add one above.", redesign.text("press_apply", "en"))


def test_colours_follow_each_kpis_direction(request_context: None, data: DashboardData) -> None:
    """Removing the visit lowers visits per case (lower is better: green); moving a digital step to the
    service centre lowers digital take-up (higher is better) and adds channel switches (lower is better): red."""
    _, (stars, better, *_) = _projected(data, [VISIT])
    _, (same_stars, worse, *_) = _projected(data, [TO_CENTRE])
    assert data.config.kpis["visits"].direction == "lower" and data.config.kpis["digital_take_up"].direction == "higher"
    row = {r["key"]: r for r in better}
    assert row["visits"]["verdict"] == "better" and row["visits"]["difference"].startswith("−")
    assert stars.children[1].c == redesign.COLOURS["better"]  # 5 stars today, 6 redesigned
    row = {r["key"]: r for r in worse}
    assert row["digital_take_up"]["verdict"] == "worse" and row["digital_take_up"]["difference"].startswith("−")
    assert row["channel_switches"]["verdict"] == "worse" and row["channel_switches"]["difference"].startswith("+")
    assert row["score"]["verdict"] == "worse" and row["completion_rate"]["verdict"] == "same"
    assert same_stars.children[1].c == redesign.NEUTRAL  # 5 stars both: a colour Mantine draws, never null
    found = data.redesign("passport", (MoveToChannel("Upload documents", "service centre"),), data.quarters[0])
    table = found.set_index("scenario")
    for name, curve in data.config.kpis.items():  # every KPI row agrees with its direction and its numbers
        today, after = table.loc["today", name], table.loc["redesign", name]
        # Sums in another order differ in their last bits: those KPIs are the same (as the page says).
        if today == today and after == after and not math.isclose(today, after, rel_tol=1e-9, abs_tol=1e-12):
            assert row[name]["verdict"] == ("better" if (after < today) == (curve.direction == "lower") else "worse")


def test_the_grid_colours_its_cells_by_verdict(request_context: None) -> None:
    columns = {c["field"]: c for c in _component(redesign.layout("en", "passport"), "rd-result").columnDefs}
    assert set(columns) == {"measure", "today", "redesign", "difference", "verdict_text"}
    conditions = columns["redesign"]["cellStyle"]["styleConditions"]
    assert [(c["condition"].split("=== ")[1], c["style"]["color"]) for c in conditions] == [
        ("'better'", redesign.COLOURS["better"]), ("'worse'", redesign.COLOURS["worse"])]


def test_apply_returns_at_once_and_the_poll_runs_only_while_the_job_does(request_context: None,
                                                                         data: DashboardData) -> None:
    """A job still running shows "Working…" with the poll on; its answer turns the poll off."""
    plan = [{**VISIT, "activities": ["Collect document at centre"], "into": "Collect document at centre"}]
    job = {"service": "passport", "quarter": data.quarters[0], "plan": plan}
    release = threading.Event()

    def held(*args: object) -> object:
        if not release.wait(WAIT):
            raise TimeoutError("the test never released the job")
        return data.redesign(*args)

    key = redesign.job_key(job)
    redesign.current_jobs().submit(key, held, "passport", redesign.transforms(plan), data.quarters[0])
    assert redesign.submit(1, "passport", data.quarters[0], plan) == job  # the same key: no second job, no wait
    stars, rows, stopped, status, caption = _shown(data, plan, job)
    assert (stars, rows, stopped, status, caption) == ([], [], False, "Working…", "")
    release.set()
    assert redesign.current_jobs().wait(key, timeout=WAIT).error is None
    _, rows, stopped, status, caption = _shown(data, plan, job)
    assert rows and stopped and status == "" and caption.startswith("Projection of Passport for a newborn")


def test_a_failed_projection_is_one_line(request_context: None, data: DashboardData) -> None:
    plan = [{**VISIT, "activities": ["No such step"], "into": "No such step"}]
    job, (stars, rows, stopped, status, caption) = _projected(data, plan)
    assert (stars, rows, caption) == ([], [], "") and stopped
    assert status == "The calculation failed; the server's log says why."  # the library's English stays in the log
    assert redesign.current_jobs().state(redesign.job_key(job)) is None  # shown once: Apply again tries again


def test_a_failed_projection_says_so_in_arabic(request_context: None, data: DashboardData) -> None:
    plan = [{**VISIT, "activities": ["No such step either"], "into": "No such step either"}]
    job = redesign.submit(1, "passport", data.quarters[0], plan)
    assert redesign.current_jobs().wait(redesign.job_key(job), timeout=WAIT).done
    status = redesign.show_projection(None, job, plan, "passport", data.quarters[0], "ar")[3]
    assert status == redesign.text("job_failed", "ar") and not any("a" <= c.lower() <= "z" for c in status)


def test_a_projection_is_keyed_by_the_copy_of_the_store_shown(request_context: None, data: DashboardData) -> None:
    job = {"service": "passport", "quarter": data.quarters[0], "plan": [VISIT]}
    assert redesign.job_key(job)[1] == data.path  # a refreshed store (another copy) projects anew


def test_a_replaced_queued_projection_is_cancelled(request_context: None, data: DashboardData) -> None:
    started, release = threading.Event(), threading.Event()
    jobs = redesign.current_jobs()
    jobs.submit(("blocker", 1), lambda: (started.set(), release.wait(WAIT)))
    jobs.submit(("blocker", 2), lambda: (started.set(), release.wait(WAIT)))  # both job threads are busy
    try:
        assert started.wait(WAIT)
        first = [{**VISIT, "activities": ["Pay fee"], "into": "Pay fee"}]
        asked = redesign.submit(1, "passport", data.quarters[0], first, "page-view-1")
        assert jobs.state(redesign.job_key(asked)).progress == "queued"
        redesign.submit(1, "passport", data.quarters[0], [VISIT], "page-view-1")  # the analyst changed the plan
        assert jobs.state(redesign.job_key(asked)) is None  # the replaced projection never runs
    finally:
        release.set()


def test_nothing_is_projected_before_apply(request_context: None, data: DashboardData) -> None:
    with pytest.raises(PreventUpdate):
        redesign.submit(None, "passport", data.quarters[0], [VISIT])
    with pytest.raises(PreventUpdate):
        redesign.submit(1, "passport", data.quarters[0], [])
    assert _shown(data, [VISIT], None)[1:] == ([], True, redesign.text("press_apply", "en"), "")


def test_a_verdict_is_by_direction() -> None:
    assert redesign.verdict(0.63, 0.26, "lower") == "better"
    assert redesign.verdict(0.28, 0.05, "higher") == "worse"
    assert redesign.verdict(5, 5) == "same"
    assert redesign.verdict(float("nan"), 1.0, "lower") == ""


def test_arabic_caption_and_verdicts(request_context: None, data: DashboardData) -> None:
    job, _ = _projected(data, [VISIT])
    _, rows, _, _, caption = redesign.show_projection(None, job, [VISIT], "passport", data.quarters[0], "ar")
    assert caption.startswith("توقّع ") and "الربع الرابع 2025" in caption and "1. إزالة: " in caption
    assert {r["verdict_text"] for r in rows} <= {"أفضل", "أسوأ", "دون تغيير", ""}

