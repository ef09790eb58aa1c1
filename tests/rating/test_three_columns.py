"""A log of case, activity and timestamp only: KPIs it cannot support are "no data", each case is its own customer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from najma.journeys import CaseFilter, EventLog, Store, build_journeys, evidence, held_columns, parse_catalogue, register_catalogue, variants
from najma.rating import KPIS, kpi_table, rate

CATALOGUE = "\n".join(f"""
[services.{service}]
name_en = "{service}"
name_ar = "{service}"
agency = "A"
sla_hours = 48
[services.{service}.activities]
"Apply" = ["customer_step", "application"]
"Decide" = ["staff_step", "approval"]
"Review" = ["staff_step"]""" for service in ("bare", "full"))
#: Cases of 2 to 4 events an hour apart, each approved; the second log of the store has channels and customers.
START = pd.Timestamp("2025-02-03 08:00", tz="UTC")


def _log(service: str, cases: int, **extra: object) -> pd.DataFrame:
    rows = [{"case_id": f"{service}-{case}", "activity": activity, "timestamp": START + pd.Timedelta(hours=hour), **extra}
            for case in range(cases) for hour, activity in enumerate(["Apply", "Review", "Review"][: 1 + case % 3] + ["Decide"])]
    return pd.DataFrame(rows).sample(frac=1.0, random_state=4)  # row order must not matter


@pytest.fixture
def mixed(store: Store) -> Store:
    """Service `bare` has only the three columns; service `full` has a channel, an agency, a cost and a customer."""
    store.ingest_frame(_log("bare", 12), service="bare")
    register_catalogue(store, parse_catalogue(CATALOGUE))  # every case is completed: times and steps are counted
    full = _log("full", 12, channel="web", agency="A", cost=2.0)
    store.ingest_frame(full.assign(customer_id=["x", "y"] * (len(full) // 2)), service="full")
    build_journeys(store)
    return store


def test_the_store_says_which_optional_columns_each_service_holds(mixed: Store) -> None:
    held = held_columns(mixed)
    assert held.of("bare") == frozenset()
    assert {"channel", "agency", "cost", "customer_id"} <= held.of("full")
    assert held.lacking("channel") == ["bare"]


def test_a_kpi_needing_a_missing_column_is_no_data_not_zero(mixed: Store) -> None:
    table = kpi_table(mixed).set_index("service")
    needing = [name for name, kpi in KPIS.items() if {"channel", "agency", "cost"} & set(kpi.columns)]
    assert {"channel_switches", "agency_handoffs", "cost_per_transaction"} <= set(needing)
    assert table.loc["bare", needing].isna().all()
    assert table.loc["full", ["channel_switches", "agency_handoffs"]].tolist() == [0.0, 0.0]  # held, and none: 0
    assert table.loc["full", "cost_per_transaction"] == pytest.approx(2.0 * _log("full", 12).shape[0] / 12)


def test_without_a_customer_column_each_case_is_its_own_customer(mixed: Store) -> None:
    found = variants(mixed, CaseFilter(service="bare"))
    assert (found["customers"] == found["cases"]).all()
    journeys = mixed.backend.table("journeys").to_pandas().set_index("case_id")
    assert journeys.loc["bare-0", "customer_id"] == "bare/bare-0"
    assert journeys.filter(like="bare-", axis=0)["customer_id"].nunique() == 12
    assert journeys.filter(like="full-", axis=0)["customer_id"].nunique() == 2


def _counted_by_role() -> list[str]:
    """The KPIs that only a service whose steps can be counted has (see :attr:`najma.rating.Kpi.evidence`)."""
    return [name for name, kpi in KPIS.items() if "steps" in kpi.evidence]


def test_steps_a_log_cannot_count_are_no_data_not_zero() -> None:
    """A service without catalogue roles or an actor has no customer steps to count: they are "no data", never 0, and
    the rating counts them as missing evidence; a service whose events name the actor has them."""
    cases = pd.concat([_log("plain", 12).assign(service="plain"), _log("acted", 12).assign(service="acted", actor="customer")])
    store = EventLog.from_frame(cases).store
    build_journeys(store)
    assert (evidence(store).supports("steps", "plain"), evidence(store).supports("steps", "acted")) == (False, True)
    assert {"repeat_contacts", "median_customer_steps", "visits", "documents_asked_again"} <= set(_counted_by_role())
    rated = rate(store, draws=0).set_index("service")
    assert rated.loc["plain", _counted_by_role()].isna().all()
    assert rated.loc["plain", "evidence"] == 0.0
    assert "repeat_contacts" in rated.loc["plain", "missing_kpis"].split(", ")
    # Every third case of `acted` (4 of its 12) takes "Review" twice: one repeat of a customer step.
    assert rated.loc["acted", "repeat_contacts"] == pytest.approx(4 / 12)


def test_without_a_designed_journey_steps_above_it_are_no_data(mixed: Store) -> None:
    """`bare` and `full` complete every case and count their steps, but the catalogue designs no journey for them."""
    table = kpi_table(mixed).set_index("service")
    assert table["median_customer_steps"].tolist() == [1.0, 1.0]
    assert table["steps_above_design"].isna().all()


def test_the_receipt_log_rates_no_customer_steps(real: Path) -> None:
    """The real WABO receipt log names no actor and has no catalogue: its repeat contacts are not rated 0."""
    log = EventLog.read(real / "receipt.xes.gz")
    build_journeys(log.store)
    rated = rate(log.store, draws=0)
    assert len(rated) == 6 and rated["cases"].sum() == 1434
    assert rated[_counted_by_role()].isna().all().all()
    assert (rated["evidence"] == 0.0).all()


def test_a_catalogue_without_step_roles_counts_no_steps() -> None:
    """A service the catalogue describes only by its decision (as a drafted catalogue of a real log may, with rework
    roles alone) completes its cases, but nothing says which activities are steps: they are "no data", not 0, even
    though its events name an actor (the catalogue's roles replace the actor for a service it describes)."""
    store = EventLog.from_frame(_log("decided", 12).assign(service="decided", actor="customer")).store
    register_catalogue(store, parse_catalogue("""
[services.decided]
name_en = "decided"
name_ar = "decided"
agency = "A"
sla_hours = 48
[services.decided.activities]
"Decide" = ["approval"]
"Review" = ["rework"]"""))
    build_journeys(store)
    assert not evidence(store).supports("steps", "decided")
    rated = rate(store, draws=0).set_index("service")
    assert rated.loc["decided", "cases"] == 12
    assert rated.loc["decided", _counted_by_role()].isna().all()
    assert rated.loc["decided", "within_sla"] == 1.0  # what the log does support is still rated
