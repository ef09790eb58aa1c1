"""The service page's variant explorer called as callbacks: filters drive the map, KPIs, variants and case list
together; the selection goes into the address and comes back from it; every card names its period and selection."""

from __future__ import annotations

import contextvars
from pathlib import Path
from urllib.parse import parse_qs

import pandas as pd
import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict

from najma.dashboards._data import DashboardData
from najma.dashboards._i18n import quarter_text
from najma.dashboards.pages import service
from najma.journeys import CaseFilter, Store, conformance, journey_table

SERVICE = "passport"
FILTERS = {"present": ["Visit service centre"], "min_days": 1}


def _expected(built_sample: Path, data: DashboardData, where: CaseFilter) -> set[str]:
    with Store(built_sample, read_only=True) as store:
        return set(journey_table(store, where).select("case_id").to_pandas()["case_id"])


def test_filters_drive_the_map_the_kpis_the_variants_and_the_cases_together(app: object, data: DashboardData,
                                                                             built_sample: Path) -> None:
    quarter = None
    expected = _expected(built_sample, data, CaseFilter(service=SERVICE, tz=data.tz,
                                                        present=["Visit service centre"], min_seconds=86400))
    total = len(data.selection(SERVICE, quarter))
    assert 0 < len(expected) < total
    with app.server.test_request_context():
        rows, note, filter_note = service.update_variants(SERVICE, service.ALL, "en", FILTERS)
        chosen = rows[:2]
        elements, map_note, _, scope, kpis, _, kpi_note, _, cases, case_note = service.update_selection(
            SERVICE, service.ALL, chosen, "frequency", 1.0, "cases", "en", FILTERS)
    assert len(rows) >= 2
    assert filter_note == f"All quarters · 2 filters · {len(expected):,} of {total:,} cases"
    listed = sum(r["cases"] for r in rows)
    assert listed <= len(expected) and ("variants holding" in note) == (listed < len(expected))
    # Every variant listed has the activity asked for, drawn as chips.
    assert all("`Visit service centre`" in r["path"] for r in rows)
    selected = sum(r["cases"] for r in chosen)
    starts = sum(e["data"].get("frequency", 0) for e in elements if e["data"].get("id") == "__start__") or None
    assert map_note.startswith(f"{selected:,} cases") and scope.endswith(f"{selected:,} of {total:,} cases")
    assert "2 variants selected" in scope and "2 filters" in scope
    assert kpis and kpi_note[0].children == scope  # the KPI card names the same selection
    assert starts in (None, selected)  # when MAPS draws a start node, it counts the same cases
    assert len(cases) == selected and f"{selected:,} of {total:,} cases" in case_note
    assert {c["case_id"] for c in cases} <= expected


def test_a_case_clicked_opens_its_timeline_in_time_order(app: object, data: DashboardData) -> None:
    with app.server.test_request_context():
        *_, cases, _ = service.update_selection(SERVICE, service.ALL, [], "frequency", 1.0, "cases", "en", FILTERS)
        rows, note = service.update_case(SERVICE, service.ALL, [], [cases[0]], "en", FILTERS)
        outside, refused = service.update_case(SERVICE, service.ALL, [], [{"case_id": "passport-no-such"}], "en", FILTERS)
        none, waiting = service.update_case(SERVICE, service.ALL, [], [], "en", FILTERS)
    assert len(rows) == cases[0]["events"] and note.startswith(f"Case {cases[0]['case_id']}: {len(rows)} events")
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)
    assert {"activity", "time", "channel", "resource", "actor"} <= set(rows[0])
    assert outside == [] and "not in this selection" in refused
    assert none == [] and waiting.startswith("Click a case")


def test_the_selection_survives_the_address_and_the_language_switch(app: object, data: DashboardData) -> None:
    quarter = data.quarters[1]
    filters = {**FILTERS, "directly": ["Submit application", "Upload documents"], "outcome": "completed"}
    with app.server.test_request_context():
        rows, *_ = service.update_variants(SERVICE, service.ALL, "en", filters)
        assert rows
        search, other = service.write_address(SERVICE, quarter, filters, rows[:1], "performance", 0.75, "cases",
                                              [{"case_id": "passport-0000001"}], "en")
        query = {k: v[0] for k, v in parse_qs(search[1:]).items()}
        assert query["lang"] == "en" and parse_qs(other.split("?", 1)[1])["lang"] == ["ar"]
        assert {k: v[0] for k, v in parse_qs(other.split("?", 1)[1]).items() if k != "lang"} == {
            k: v for k, v in query.items() if k != "lang"}
        page = service.layout(**{**query, "lang": "ar"})
    found = {c.id: c for c in _walk(page) if getattr(c, "id", None)}
    assert found["sv-service"].value == SERVICE and found["sv-quarter"].value == quarter
    assert found["sv-filters"].data == service.read_filters(filters)
    assert found["sv-f-present"].value == ["Visit service centre"] and found["sv-f-directly-b"].value == "Upload documents"
    assert found["sv-variant-grid"].selectedRows == {"ids": [rows[0]["key"]]}
    assert found["sv-cases"].selectedRows == {"ids": ["passport-0000001"]}
    assert found["sv-measure"].value == "performance" and found["sv-coverage"].value == 0.75
    assert service.criteria(service.read_filters(query)) == service.criteria(filters)


def test_bad_address_values_are_ignored(app: object) -> None:
    assert service.read_filters({"present": "not json", "absent": '"Pay"', "min_days": "-2", "directly": '["a"]',
                                 "channel": ["x"], "max_days": "3"}) == {"max_days": 3.0}
    assert service.read_filters({"min_days": "3", "max_days": "1"}) == {"min_days": 3.0}
    with app.server.test_request_context():
        page = service.layout(lang="en", present="{", coverage="lots", variants="", case="")
    found = {c.id: c for c in _walk(page) if getattr(c, "id", None)}
    assert found["sv-filters"].data == {} and found["sv-coverage"].value == service.DEFAULT_COVERAGE


def test_the_rating_card_names_its_quarter_and_says_when_the_rest_is_all_quarters(app: object,
                                                                                   data: DashboardData) -> None:
    with app.server.test_request_context():
        _, _, of_all, *_ = service.update_service(SERVICE, service.ALL, "en")
        _, _, of_one, *_ = service.update_service(SERVICE, data.quarters[1], "ar")
    latest = data.latest_quarter(SERVICE)
    texts = [c.children for c in _walk(of_all) if isinstance(getattr(c, "children", None), str)]
    assert f"Rating of {latest}" in texts
    assert any(t.startswith(f"This card rates the latest quarter, {latest}") for t in texts)
    arabic = [c.children for c in _walk(of_one) if isinstance(getattr(c, "children", None), str)]
    assert any(quarter_text(data.quarters[1], "ar") in t for t in arabic) and not any("آخر ربع" in t for t in arabic)


def test_an_empty_kpi_card_says_what_it_waits_for(app: object) -> None:
    with app.server.test_request_context():
        *_, kpis, _, kpi_note, _, cases, case_note = service.update_selection(
            SERVICE, service.ALL, [], "frequency", 1.0, "cases", "en", {"present": ["No such activity"]})
    assert kpis == [] and cases == []
    assert kpi_note[0].children.startswith("All quarters · 1 filter · fewer than 10 customers")
    assert kpi_note[1].children.startswith("The KPIs show once the selection has at least 10 customers")
    assert "Fewer than 10 customers" in case_note


def test_conformance_runs_as_a_background_job(app: object) -> None:
    jobs = app.server.config["NAJMA_JOBS"]
    with app.server.test_request_context():
        first = service.update_conformance(SERVICE, service.ALL, None, "en")
        jobs.wait(("conformance", app.server.config["NAJMA_DATA"].path, SERVICE, None), 120)
        children, rows, stop = service.update_conformance(SERVICE, service.ALL, 1, "en")
    if not first[2]:
        assert first[0][1].children.startswith("Working…") and first[1] == []
    assert stop and children[0].children.startswith("All quarters · every case of the service")
    assert children[1].id == "sv-fitness" and children[1].children.startswith("Fitness ")
    data = app.server.config["NAJMA_DATA"]
    extra = conformance(data.store, data.where(SERVICE, None)).services.iloc[0].extra_days
    assert children[1].children.endswith(f" · Days added by deviating (median) {extra:,.1f}")


def _walk(component: object) -> list[object]:
    if isinstance(component, (list, tuple)):
        return [c for child in component for c in _walk(child)]
    found = [component]
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, (str, int, float)):
            found += _walk(child)
    return found


def _few_cases(built_sample: Path, n: int) -> dict[str, float]:
    """A filter that keeps the `n` longest cases of the service (fewer than 10 customers)."""
    with Store(built_sample, read_only=True) as store:
        days = journey_table(store, CaseFilter(service=SERVICE)).duration_seconds.to_pandas() / 86400
    longest = sorted(days, reverse=True)
    return {"min_days": (longest[n - 1] + longest[n]) / 2}


@pytest.mark.parametrize("n", [1, 3, 9])
def test_a_selection_of_fewer_than_10_customers_shows_no_count(app: object, built_sample: Path, n: int) -> None:
    few = _few_cases(built_sample, n)
    with app.server.test_request_context():
        _, variant_note, filter_note = service.update_variants(SERVICE, service.ALL, "en", few)
        _, map_note, _, scope, _, _, kpi_note, steps_note, _, case_note = service.update_selection(
            SERVICE, service.ALL, [], "frequency", 1.0, "cases", "en", few)
    notes = [variant_note, filter_note, map_note, scope, kpi_note[0].children, steps_note[0].children, case_note]
    assert all("fewer than 10 customers" in note.lower() for note in notes)
    assert not any(f"{n} of" in note or "cases (" in note for note in notes)  # no count of the selection, nor of its variants
    assert "Variants of fewer than 10 customers each are not listed" in variant_note


def test_another_service_keeps_only_the_filters_it_knows(app: object, data: DashboardData) -> None:
    other = next(s for s in data.services if s != SERVICE and "Visit service centre" not in data.activities(s))
    kept = data.activities(other)[0]
    controls = [["Visit service centre", kept], [], "Visit service centre", kept, None, None, "activity", "x"]
    with app.server.test_request_context():
        values = _called("sv-service", service.update_service, other, service.ALL, "en", *controls)[-8:]
        unchanged = _called("sv-quarter", service.update_service, other, service.ALL, "en", *controls)[-8:]
        page = service.layout(lang="en", service=other, present='["Visit service centre"]', channel="fax",
                              directly=f'["{kept}", "Visit service centre"]', attribute='["activity", "x"]')
    assert list(values) == [[kept], [], None, None, None, None, "activity", "x"]
    assert all(v is service.no_update for v in unchanged)
    found = {c.id: c for c in _walk(page) if getattr(c, "id", None)}
    assert found["sv-filters"].data == {"attribute": ["activity", "x"]} and found["sv-f-present"].value == []


def test_variants_ticked_before_another_service_are_ignored(app: object, data: DashboardData) -> None:
    table, _ = data.variant_table(SERVICE, None)
    ticked = [{"key": service.variant_key(v), "case_id": "x"} for v in table["variant"][:1]]
    with app.server.test_request_context():
        for control in ("sv-service", "sv-quarter"):
            *_, scope, _, _, _, _, _, _ = _called(control, service.update_selection, SERVICE, service.ALL, ticked,
                                                   "frequency", 1.0, "cases", "en", None)
            assert "variant selected" not in scope
            assert _called(control, service.update_case, SERVICE, service.ALL, ticked, ticked, "en", None)[0] == []
        *_, scope, _, _, _, _, _, _ = _called("sv-variant-grid", service.update_selection, SERVICE, service.ALL, ticked,
                                               "frequency", 1.0, "cases", "en", None)
    assert "1 variant selected" in scope


def test_variant_chips_hold_any_name_and_export_as_plain_steps(app: object, data: DashboardData) -> None:
    assert service._chip("a`b\nc") == "``a`b c``" and service._chip("`") == "`` ` ``"
    with app.server.test_request_context():
        rows, *_ = service.update_variants(SERVICE, service.ALL, "en", None)
        grid = service._variant_grid("en", [])
    assert rows[0]["steps"] == " → ".join(data.name("activity", a, "en") for a in rows[0]["path"].strip("`").split("` → `"))
    assert "steps" in grid.csvExportParams["columnKeys"] and "path" not in grid.csvExportParams["columnKeys"]


def test_case_times_are_shown_on_the_catalogues_clock(app: object, data: DashboardData) -> None:
    with app.server.test_request_context():
        headers = [c["headerName"] for c in service._case_grid("en", None, data.tz).columnDefs]
        for quarter in data.quarters:
            rows, _ = service._case_list(SERVICE, quarter, (), None, "en")
            assert {str(pd.Period(r["start"], freq="Q")) for r in rows} <= {quarter}
    assert f"Start ({data.tz})" in headers and data.tz != "UTC"


def _called(control: str, callback: object, *args: object) -> object:
    """`callback(*args)` run as Dash runs it when `control` changed."""
    def run() -> object:
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": f"{control}.value", "value": None}]))
        return callback(*args)
    return contextvars.copy_context().run(run)
