"""The dashboard's callbacks called as functions, its suppression of small groups, and who may open it."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from najma.dashboards._access import Access, hash_password
from najma.dashboards._app import create_app, serve
from najma.dashboards._data import DashboardData
from najma.dashboards._i18n import text
from najma.dashboards._map_layout import UNITS
from najma.dashboards.pages import customer_journeys, overview, service
from najma.errors import AccessError
from najma.journeys import CaseFilter, Store, variants
from najma.rating import rate
from najma.rating._suppression import SUPPRESSED


def test_overview_callback_filters_by_agency_and_shows_najmas_stars(app: object, data: DashboardData,
                                                                     built_sample: Path) -> None:
    quarter = data.quarters[0]
    with Store(built_sample, read_only=True) as store:
        expected = rate(store, quarters=[quarter], draws=0).set_index("service")["stars"]
    with app.server.test_request_context():
        rows, count, kpi_rows, kpi_columns, *scopes = overview.update_overview(
            quarter, "Identity and Citizenship Authority", None, "", "steps", "en")
        trend, pillars = overview.update_charts(rows, None, "en")
    # every card names its period and its selection: the table, the trend, the pillars, the KPIs
    agency = f"{data.name('agency', 'Identity and Citizenship Authority', 'en')} · All channels"
    assert scopes == [f"{quarter} · {agency}", f"All quarters · {agency}", f"{quarter} · {agency}", f"{quarter} · {agency}"]
    assert {r["service"] for r in rows} == {"national_id", "passport", "residence_visa_renewal"}
    assert all(r["stars"] == expected[r["service"]] for r in rows)
    assert count.startswith("3 services shown")
    assert "median_customer_steps" in [c["field"] for c in kpi_columns] and len(kpi_rows) == 3
    names = {r["name"] for r in rows}
    assert {t.name for t in trend.figure.data} == names  # a line per service shown
    assert {y.replace("<br>", " ") for y in pillars.figure.data[0].y} == names  # long names break over lines


def test_overview_filters_that_leave_no_service_show_an_empty_table(app: object, data: DashboardData) -> None:
    """No rows left after the agency, then a search (once a KeyError that failed the click); a search
    that matches no service."""
    quarter = data.quarters[0]
    assert data.overview(quarter, agency="No such agency", search="licence").empty
    with app.server.test_request_context():
        rows, count, kpi_rows, _, table_scope, *_ = overview.update_overview(quarter, None, None, "no such service",
                                                                            "steps", "en")
        trend, pillars = overview.update_charts(rows, None, "en")
    assert rows == [] and kpi_rows == [] and count.startswith("0 services shown")
    assert table_scope.endswith("names with \u201cno such service\u201d")
    # the charts say why they are empty
    assert trend.children == pillars.children == text("no_service_matches", "en")


def test_service_selection_narrows_the_map_to_the_variants_chosen(app: object, data: DashboardData,
                                                                  built_sample: Path) -> None:
    with Store(built_sample, read_only=True) as store:
        found = variants(store, CaseFilter(service="passport", tz=data.tz))
    chosen = list(found.variant[:2])
    with app.server.test_request_context():
        rows = [{"key": service.variant_key(v)} for v in chosen]  # the variant table's rows ticked
        elements, note, *_ = service.update_selection("passport", service.ALL, rows, "performance", 1.0, "steps", "en")
    assert note.startswith(f"{int(found.cases[:2].sum()):,} cases")
    activities = {a for v in chosen for a in v.split(" → ")}
    assert {e["data"]["activity"] for e in elements if "activity" in e["data"]} == activities
    # an edge's label ends in its median time's unit (see duration_text); the start's and end's edges have none
    assert all(e["data"]["label"].endswith(tuple(f" {u}" for u in UNITS)) for e in elements
               if "source" in e["data"] and e["data"]["label"])


def test_groups_under_the_minimum_of_customers_are_suppressed(built_sample: Path) -> None:
    strict = DashboardData(built_sample, draws=0, min_group=150)
    try:
        rows = strict.overview(strict.quarters[0])
        small = rows[rows["status"] == SUPPRESSED]
        assert len(small) and small[["stars", "cases", "customers"]].isna().all().all()  # no count of theirs is shown
        assert (rows.loc[rows["status"] != SUPPRESSED, "customers"] >= 150).all()
        table, hidden = strict.variant_table("passport", None)
        assert (table["customers"] >= 150).all() and hidden > 0
        assert strict.journey_map("passport", strict.quarters[0], tuple(table.variant[:1]), 1.0) is None
        graph = strict.journey_map("passport", None, (), 1.0)
        assert (graph.edges["cases"] >= 150).all() and (graph.activities["cases"] >= 150).all()
    finally:
        strict.close()


def test_customer_journeys_callback_summarises_the_newborn_bundle(app: object) -> None:
    with app.server.test_request_context():
        cards, sankey, failures, _, *scopes = customer_journeys.update_journeys("newborn", "ar")
    assert len(cards) == 6 and len(sankey.figure.data[0].node.label) >= 5
    assert len(set(scopes)) == 1 and text("all_quarters", "ar") in scopes[0]
    assert failures and all(0 <= row["share"] <= 1 for row in failures)


def test_a_protected_app_asks_for_a_token_or_a_user(data: DashboardData) -> None:
    guarded = create_app(data, access=Access(token="s3cret-token", users={"amal": hash_password("pa55word")}))
    client = guarded.server.test_client()
    assert client.get("/").status_code == 401
    assert client.get("/", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    basic = base64.b64encode(b"amal:pa55word").decode()
    assert client.get("/", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    wrong = base64.b64encode(b"amal:guess").decode()
    assert client.get("/", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
    assert client.get("/?token=s3cret-token").status_code == 200
    assert client.get("/").status_code == 200  # the token is kept in a cookie


def test_serving_off_loopback_without_credentials_is_refused(app: object, built_sample: Path) -> None:
    with pytest.raises(AccessError, match="open to anyone"):
        serve(app, host="0.0.0.0", port=1)
    done = subprocess.run([sys.executable, "-m", "najma", "dashboard", "--store",
                           str(built_sample), "--host", "0.0.0.0"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "(see --token or --users)" in done.stderr and "Traceback" not in done.stderr


def test_no_filter_value_reaches_sql_as_text(data: DashboardData) -> None:
    hostile = "passport'; DROP TABLE journeys; --"
    assert data.overview(data.quarters[0], search=hostile).empty
    assert data.selection(hostile, None).empty
    assert data.activities(hostile) == []
    assert np.isfinite(data.features["customer_steps"]).any()
