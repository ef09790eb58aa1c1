"""Every KPI's definition, checked on four hand-made journeys whose values are worked out below.

The KPIs whose definitions depend on the catalogue's documents, calendar, survey answers or
proactive starts have their own hand-made tests (tests/journeys/test_documents.py and
tests/rating/test_kpi_definitions.py); these are the others.
"""

from __future__ import annotations

import pandas as pd
import pytest

from najma.journeys import Store, build_journeys, parse_catalogue, register_catalogue
from najma.rating import kpi_table

CATALOGUE = """
version = 1
[services.permit]
name_en = "Permit"
name_ar = "تصريح"
agency = "A"
sla_hours = 48
designed_journey = ["Apply", "Review", "Approve"]
[services.permit.activities]
"Apply" = ["customer_step", "application"]
"Visit centre" = ["customer_step", "visit"]
"Review" = ["staff_step"]
"Approve" = ["staff_step", "approval"]
"Reject" = ["staff_step", "rejection"]
[channels.web]
name_ar = "الموقع"
digital = true
[channels.centre]
name_ar = "المركز"
digital = false
"""

#: Hours after a Monday, activity, channel, agency, cost; a start time (hours) only where given.
CASES = {
    # a: wholly on the web, one agency; Review worked from hour 20 to 24, so 4 of its 30 hours are processing.
    "a": [(0, "Apply", "web", "A", 10.0, None), (24, "Review", "web", "A", 5.0, 20), (30, "Approve", "web", "A", 0.0, None)],
    # b: applies on the web, then visits the centre twice (a repeat contact), handed from agency A to B.
    "b": [(0, "Apply", "web", "A", 10.0, None), (10, "Visit centre", "centre", "A", 10.0, None),
          (20, "Review", "centre", "B", 5.0, None), (30, "Visit centre", "centre", "B", 10.0, None),
          (40, "Approve", "centre", "B", 5.0, None)],
    # c: rejected.
    "c": [(0, "Apply", "web", "A", 5.0, None), (5, "Review", "web", "A", 0.0, None), (10, "Reject", "web", "A", 0.0, None)],
}
#: d applies six weeks before the others and is never heard of again: abandoned (idle past 30 days).
ABANDONED = [(-1000, "Apply", "web", "A", 5.0, None)]
MONDAY = pd.Timestamp("2025-02-17 08:00", tz="UTC")


@pytest.fixture
def kpis(store: Store) -> pd.Series:
    rows = [
        {"case_id": case, "customer_id": f"customer-{case}", "activity": activity, "channel": channel, "agency": agency,
         "cost": cost, "timestamp": MONDAY + pd.Timedelta(hours=hour),
         "start_timestamp": None if start is None else MONDAY + pd.Timedelta(hours=start)}
        for case, steps in {**CASES, "d": ABANDONED}.items() for hour, activity, channel, agency, cost, start in steps
    ]
    frame = pd.DataFrame(rows).sample(frac=1, random_state=7)  # row order must not matter
    frame["start_timestamp"] = pd.to_datetime(frame["start_timestamp"], utc=True)
    store.ingest_frame(frame, service="permit")
    register_catalogue(store, parse_catalogue(CATALOGUE))
    build_journeys(store)
    table = kpi_table(store)
    assert len(table) == 1 and table.loc[0, "quarter"] == "2025Q1" and table.loc[0, "cases"] == 4
    return table.iloc[0]


def test_rates_count_the_ended_cases(kpis: pd.Series) -> None:
    # a and b approved, c rejected, d abandoned: all four ended.
    assert kpis["completion_rate"] == pytest.approx(2 / 4)
    assert kpis["rejection"] == pytest.approx(1 / 4)
    assert kpis["abandonment"] == pytest.approx(1 / 4)


def test_steps_count_the_completed_cases(kpis: pd.Series) -> None:
    # Customer steps: a 1 (Apply), b 3 (Apply, Visit, Visit). Lower median 1, 90th percentile 3.
    assert (kpis["median_customer_steps"], kpis["p90_customer_steps"]) == (1, 3)
    assert kpis["visits"] == pytest.approx((0 + 2) / 2)
    # b goes from the web to the centre once, and from agency A to B once.
    assert kpis["channel_switches"] == pytest.approx((0 + 1) / 2)
    assert kpis["agency_handoffs"] == pytest.approx((0 + 1) / 2)
    # The designed journey holds one customer step (Apply): a 0 above it, b 2.
    assert kpis["steps_above_design"] == pytest.approx((0 + 2) / 2)
    # First time right: no step done again and no document asked; b visits twice.
    assert kpis["first_time_right"] == pytest.approx(1 / 2)
    # Digital take-up: completed wholly on digital channels; b used the centre.
    assert kpis["digital_take_up"] == pytest.approx(1 / 2)


def test_per_case_figures_count_every_case(kpis: pd.Series) -> None:
    # A customer step done again: b's second visit; over all four cases.
    assert kpis["repeat_contacts"] == pytest.approx(1 / 4)
    # Cost per case: a 15, b 40, c 5, d 5.
    assert kpis["cost_per_transaction"] == pytest.approx((15 + 40 + 5 + 5) / 4)
    # Only a has a start time: 30 h long, 4 h in processing, 26 h waiting.
    assert kpis["waiting_share"] == pytest.approx(26 / 30)
