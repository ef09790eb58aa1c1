"""A tiny log whose KPIs, scores, stars and advice are worked out by hand, below."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from najma.journeys import Store, build_journeys, parse_catalogue, register_catalogue
from najma.rating import describe_advice, kpi_breakdown, next_star_advice, parse_config, rate

CATALOGUE = """
version = 1
[services.permit]
name_en = "Permit"
name_ar = "تصريح"
agency = "Municipality"
sla_hours = 48
designed_journey = ["Apply", "Review", "Approve"]
[services.permit.activities]
"Apply" = ["customer_step", "application"]
"Upload" = ["customer_step", "document_submission"]
"Review" = ["staff_step"]
"Ask for documents" = ["staff_step", "document_request"]
"Approve" = ["staff_step", "approval"]
"Reject" = ["staff_step", "rejection"]
"""

# One KPI per pillar, so that the arithmetic below stays short.
CONFIG = """
version = "hand-1"
min_cases = 3
lowest_star = 2
bands = [20, 40, 60, 80, 90]
[pillars]
efficiency = 0.5
effectiveness = 0.25
steps = 0.25
[kpis.median_time_to_sla]
pillar = "efficiency"
direction = "lower"
floor = 2.0
target = 0.5
[kpis.completion_rate]
pillar = "effectiveness"
direction = "higher"
floor = 0.5
target = 1.0
[kpis.median_customer_steps]
pillar = "steps"
direction = "lower"
floor = 5
target = 1
"""

CASES = {
    # c1: apply, review a day later, approve a day after that: 48 h, 1 customer step.
    "c1": [("Apply", 0), ("Review", 24), ("Approve", 48)],
    # c2: asked for a document once: 96 h, 3 customer steps (apply, upload, upload again).
    "c2": [("Apply", 0), ("Upload", 1), ("Review", 24), ("Ask for documents", 30), ("Upload", 60), ("Review", 72),
           ("Approve", 96)],
    # c3: rejected.
    "c3": [("Apply", 0), ("Review", 10), ("Reject", 20)],
}


@pytest.fixture
def tiny(store: Store) -> Store:
    start = pd.Timestamp("2025-02-03 08:00", tz="UTC")
    rows = [
        {"case_id": case, "activity": activity, "timestamp": start + pd.Timedelta(hours=hours), "customer_id": case}
        for case, steps in CASES.items() for activity, hours in steps
    ]
    store.ingest_frame(pd.DataFrame(rows).sample(frac=1, random_state=3), service="permit")
    register_catalogue(store, parse_catalogue(CATALOGUE))
    build_journeys(store)
    return store


def test_kpis_scores_and_stars_of_a_tiny_log_match_the_hand_computation(tiny: Store):
    config = parse_config(CONFIG)
    row = rate(tiny, config=config, draws=0).iloc[0]
    # Completed cases took 48 h and 96 h against an SLA of 48 h: 1.0 and 2.0; the lower median is 1.0.
    assert row.median_time_to_sla == 1.0
    # Two of the three ended cases were completed.
    assert row.completion_rate == pytest.approx(2 / 3)
    # Customer steps of the completed cases are 1 and 3; the lower median is 1.
    assert row.median_customer_steps == 1
    # Scores: (1.0 - 2) / (0.5 - 2) = 2/3, (2/3 - 0.5) / 0.5 = 1/3, (1 - 5) / (1 - 5) = 1; times 100.
    breakdown = kpi_breakdown(row, config).set_index("kpi")
    assert breakdown.loc["median_time_to_sla", "score"] == pytest.approx(200 / 3)
    assert breakdown.loc["completion_rate", "score"] == pytest.approx(100 / 3)
    assert breakdown.loc["median_customer_steps", "score"] == pytest.approx(100)
    # Total: 0.5 * 66.67 + 0.25 * 33.33 + 0.25 * 100 = 66.67, at or above the band 60: 2 + 3 = 5 stars.
    assert row.score == pytest.approx(200 / 3)
    assert (row.efficiency, row.effectiveness, row.steps) == pytest.approx((200 / 3, 100 / 3, 100))
    assert row.stars == 5
    assert breakdown["points"].sum() == pytest.approx(row.score)


def test_next_star_advice_of_the_tiny_log_matches_the_hand_computation(tiny: Store):
    config = parse_config(CONFIG)
    row = rate(tiny, config=config, draws=0).iloc[0]
    advice = next_star_advice(row, config)
    # 6 stars need 80 points, 13.33 more. Time (weight 0.5) must score 93.33: 2 - 0.9333 * 1.5 = 0.6.
    # Completion (weight 0.25) must score 86.67: 0.5 + 0.8667 * 0.5 = 0.9333. Steps are at their target.
    assert [a.kpi for a in advice] == ["median_time_to_sla", "completion_rate"]
    assert advice[0].needed == pytest.approx(0.6)
    assert advice[0].effort == pytest.approx(0.4 / 1.5)
    assert advice[1].needed == pytest.approx(0.934)  # 93.33% rounded up to the 93.4% printed, which earns the star
    assert all(a.stars == 6 for a in advice)
    assert describe_advice(advice[0], config) == "cut median time / SLA from 1.00 to 0.60 for 6 stars"


def test_a_group_below_the_minimum_of_cases_is_not_rated(tiny: Store):
    config = parse_config(CONFIG.replace("min_cases = 3", "min_cases = 4"))
    row = rate(tiny, config=config).iloc[0]
    assert row.status == "insufficient data"
    assert pd.isna(row.stars) and math.isnan(row.score)
    assert row.cases == 3


def test_a_kpi_without_data_stays_empty_and_hands_its_weight_on(tiny: Store):
    with_cost = CONFIG + '[kpis.cost_per_transaction]\npillar = "efficiency"\ndirection = "lower"\nfloor = 100\ntarget = 10\n'
    config = parse_config(with_cost)
    row = rate(tiny, config=config, draws=0).iloc[0]
    assert math.isnan(row.cost_per_transaction)  # the log has no cost column: nothing is invented
    assert "cost_per_transaction" in row.missing_kpis
    assert row.score == pytest.approx(200 / 3)  # the same total as without the KPI
    assert kpi_breakdown(row, config).set_index("kpi").loc["cost_per_transaction", "missing"] == "a cost column"
