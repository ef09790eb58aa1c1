"""A service whose customer steps cannot be counted (the catalogue gives it no roles and its events name no actor)
shows "no data" for them on its page, never 0; a service that counts them and finds none shows 0."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
import pytest

from najma.dashboards._data import DashboardData
from najma.dashboards._i18n import text
from najma.dashboards.pages import service
from najma.dashboards.pages.common import COUNT, no_data_as_text
from najma.journeys import Store

#: Each service's cases, all of one variant: twelve customers, more than the smallest group shown.
CASES = 12


def _events(name: str, actor: str | None) -> pd.DataFrame:
    """Every case of the service `name`: applied for, then decided, each step by `actor` (None names no actor)."""
    rows = [{"service": name, "case_id": f"{name}-{n}", "customer_id": f"{name}-customer-{n}", "activity": activity,
             "timestamp": pd.Timestamp("2025-10-06 09:00", tz="UTC") + pd.Timedelta(days=n, hours=hour), "actor": actor}
            for n in range(CASES) for hour, activity in enumerate(("Apply", "Decide"))]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardData]:
    """The dashboard's data of two services without a catalogue: "counted" names its (staff) actor on every event,
    so its customer steps are counted (none); "uncounted" names none, so they cannot be."""
    path = tmp_path_factory.mktemp("steps") / "steps.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAJMA_KEY_FILE", str(path.with_suffix(".key")))
        with Store(path) as store:
            store.ingest_frame(_events("counted", "staff"))
            store.ingest_frame(_events("uncounted", None))
    loaded = DashboardData(path, draws=0)
    yield loaded
    loaded.close()


def test_steps_that_cannot_be_counted_are_missing_not_0(data: DashboardData) -> None:
    journeys = data.store.backend.table("journeys").to_pandas()
    assert (journeys["customer_steps"] == 0).all()  # what the journeys hold of both services alike
    counted, _ = data.variant_table("counted", None)
    uncounted, _ = data.variant_table("uncounted", None)
    assert counted["median_customer_steps"].to_list() == [0]
    assert uncounted["median_customer_steps"].isna().all() and uncounted["cases"].to_list() == [CASES]
    assert (data.case_list("counted", None, (), None)[0]["customer_steps"] == 0).all()
    assert data.case_list("uncounted", None, (), None)[0]["customer_steps"].isna().all()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_variant_table_and_case_list_say_no_data_in_the_pages_language(data: DashboardData, lang: str) -> None:
    from najma.dashboards._app import create_app

    app = create_app(data)
    try:
        with app.server.test_request_context():
            shown = {name: service.update_variants(name, service.ALL, lang, None)[0] for name in ("counted", "uncounted")}
            cases = {name: service._case_list(name, None, (), None, lang)[0] for name in ("counted", "uncounted")}
    finally:
        app.server.config["NAJMA_JOBS"].close()
    assert [row["median_customer_steps"] for row in shown["counted"]] == [0]
    assert [row["median_customer_steps"] for row in shown["uncounted"]] == [None]  # JSON null: the formatter's "no data"
    assert {row["customer_steps"] for row in cases["counted"]} == {0}
    assert {row["customer_steps"] for row in cases["uncounted"]} == {None}
    no_data = no_data_as_text(COUNT, lang)
    assert json.dumps(text("no_data_short", lang)) in no_data["function"]  # "no data" in the page's language
    for grid, field in ((service._variant_grid(lang, []), "median_customer_steps"),
                        (service._case_grid(lang, None, data.tz), "customer_steps")):
        [column] = [c for c in grid.columnDefs if c["field"] == field]
        assert column["valueFormatter"] == no_data
