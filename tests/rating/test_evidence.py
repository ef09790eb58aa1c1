"""Evidence before confidence: a rating needs data on a share of each pillar's weight, its confidence
counts the KPIs without data, and a draft catalogue entry makes it provisional. Worked out by hand below."""

from __future__ import annotations

import pandas as pd
import pytest

from najma.journeys import CaseFilter, Store, build_journeys, parse_catalogue, register_catalogue
from najma.rating import parse_config, rate, star_columns

CATALOGUE = """
version = 1
[services.permit]
name_en = "Permit"
name_ar = "تصريح"
agency = "A"
sla_hours = 48
{draft}
[services.permit.activities]
"Apply" = ["customer_step", "application"]
"Approve" = ["staff_step", "approval"]
[services.visa]
name_en = "Visa"
name_ar = "تأشيرة"
agency = "A"
sla_hours = 48
[services.visa.activities]
"Apply" = ["customer_step", "application"]
"Approve" = ["staff_step", "approval"]
"""

# Every case of both services: apply, approved 48 hours later (the SLA): time / SLA 1.0 scores
# (1 - 2) / (0.5 - 2) = 66.67; completion 1.0 and one customer step score 100. The log has no cost,
# so cost per transaction has no data. Efficiency's full weights: time 1 and cost `COST` of 1 + `COST`.
CONFIG = """
version = "evidence-1"
min_cases = 3
{min_evidence}
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
[kpis.cost_per_transaction]
pillar = "efficiency"
direction = "lower"
floor = 100
target = 10
weight = {cost}
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


def _config(cost: float, min_evidence: float | None = None) -> object:
    line = "" if min_evidence is None else f"min_evidence = {min_evidence}"
    return parse_config(CONFIG.format(cost=cost, min_evidence=line))


@pytest.fixture
def identical(store: Store) -> Store:
    """Five identical cases per service, so that a bootstrap over cases alone never moves a KPI."""
    start = pd.Timestamp("2025-02-03 08:00", tz="UTC")
    for service in ("permit", "visa"):
        rows = [{"case_id": f"{service}{i}", "activity": activity, "timestamp": start + pd.Timedelta(hours=hours),
                 "customer_id": f"{service}{i}"} for i in range(5) for activity, hours in (("Apply", 0), ("Approve", 48))]
        store.ingest_frame(pd.DataFrame(rows).sample(frac=1.0, random_state=2), service=service)
    register_catalogue(store, parse_catalogue(CATALOGUE.format(draft="draft = true")))
    build_journeys(store)
    return store


def test_a_pillar_short_of_evidence_leaves_the_group_unrated_and_says_what_is_missing(identical: Store):
    # Cost weighs 2 of efficiency's 3: time alone holds a third of the pillar, below the default half.
    row = rate(identical, config=_config(cost=2), draws=50).set_index("service").loc["permit"]
    assert row["status"] == "insufficient evidence"
    assert pd.isna(row["stars"]) and pd.isna(row["score"]) and row[star_columns(_config(2))].isna().all()
    assert row["evidence_gap"] == "efficiency (33% of its weight has data, 50% needed): cost_per_transaction"
    # Full weights: time 0.5 / 3, cost 0.5 * 2 / 3, completion 0.25, steps 0.25; all but cost have data.
    assert row["evidence"] == pytest.approx(2 / 3)
    assert row["missing_kpis"] == "cost_per_transaction"


def test_a_lower_minimum_of_evidence_rates_the_same_group(identical: Store):
    row = rate(identical, config=_config(cost=2, min_evidence=0.3), draws=0).set_index("service").loc["permit"]
    assert row["status"] == "rated" and row["evidence_gap"] == ""
    # Cost hands its weight to time: 0.5 * 66.67 + 0.25 * 100 + 0.25 * 100 = 83.33, six stars.
    assert row["score"] == pytest.approx(250 / 3) and row["stars"] == 6


def test_the_confidence_draws_a_score_for_each_kpi_without_data(identical: Store):
    config = _config(cost=1)  # time and cost weigh alike: efficiency holds half its weight, enough to rate
    row = rate(identical, config=config, draws=4000).set_index("service").loc["permit"]
    assert row["status"] == "rated" and row["stars"] == 6 and row["score"] == pytest.approx(250 / 3)
    # Each draw: 0.25 * 66.67 + 0.25 * U + 0.25 * 100 + 0.25 * 100 with U uniform on 0..100, so the
    # total is 66.67 + U / 4: 5 stars below 80 (U < 53.3), 6 below 90 (U < 93.3), 7 above.
    assert row["p_5"] == pytest.approx(160 / 300, abs=0.03)
    assert row["p_6"] == pytest.approx(120 / 300, abs=0.03)
    assert row["p_7"] == pytest.approx(20 / 300, abs=0.02)
    # The same group with nothing missing is certain: its cases never differ.
    whole = parse_config(CONFIG.format(cost=1, min_evidence="").replace(
        '[kpis.cost_per_transaction]\npillar = "efficiency"\ndirection = "lower"\nfloor = 100\ntarget = 10\nweight = 1\n', ""))
    certain = rate(identical, config=whole, draws=200).set_index("service").loc["permit"]
    assert certain["stars"] == 6 and certain["p_6"] == 1.0  # 0.5 * 66.67 + 0.25 * 100 + 0.25 * 100 = 83.33


def test_the_confidence_does_not_depend_on_other_rows(identical: Store):
    config = _config(cost=1)
    both = rate(identical, config=config, draws=300).set_index("service")[star_columns(config)]
    alone = rate(identical, config=config, draws=300, where=CaseFilter(service="visa")).set_index("service")
    assert alone.loc["visa", star_columns(config)].tolist() == both.loc["visa"].tolist()
    assert both.loc["visa"].tolist() != both.loc["permit"].tolist()  # each group draws from its own seed


def test_a_service_whose_catalogue_entry_is_a_draft_is_provisional(identical: Store):
    rated = rate(identical, config=_config(cost=1), draws=0).set_index("service")
    assert rated.loc["permit", "provisional"] and not rated.loc["visa", "provisional"]
    assert rated["provisional"].dtype == bool
