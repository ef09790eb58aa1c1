"""Discovery through the pm4py adapter; conformance equal to pm4py's alignments run case by case, deviations priced."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pm4py
import pytest

from najma.errors import InvalidEventLogError
from najma.journeys import (
    CaseFilter,
    Store,
    build_journeys,
    open_source,
    parse_catalogue,
    process_map,
    register_catalogue,
)
from najma.journeys._conformance_checking import conformance, designed_journeys
from najma.journeys._pm4py_adapter import discover_process_tree, process_tree, to_bpmn, to_petri_net, write_bpmn

CATALOGUE = """
version = 1
[services.permit]
name_en = "Permit"
name_ar = "تصريح"
agency = "Municipality"
sla_hours = 48
designed_journey = ["Apply", "Pay", "Issue"]
[services.permit.activities]
Apply = ["customer_step", "application"]
Pay = ["customer_step", "payment"]
Issue = ["system_step", "approval"]
Call = ["customer_step"]
"""


@pytest.mark.parametrize("service", ["birth_notification", "passport"])
def test_case_fitness_from_variants_equals_pm4py_aligning_every_case(sample_journeys: Store, service: str):
    result = conformance(sample_journeys, CaseFilter(service=service))
    ours = result.cases.to_pandas().set_index("case_id").fitness
    events = sample_journeys.con.execute(
        "SELECT case_id, activity, timestamp FROM events WHERE service = ? ORDER BY event_seq", [service]
    ).df()
    log = pm4py.format_dataframe(events, case_id="case_id", activity_key="activity", timestamp_key="timestamp")
    net, initial, final = to_petri_net(process_tree(designed_journeys(sample_journeys)[service]))
    expected = pm4py.conformance_diagnostics_alignments(
        log, net, initial, final, multi_processing=False, return_diagnostics_dataframe=True
    ).set_index("case_id").fitness
    assert len(ours) == len(expected) == events.case_id.nunique()
    np.testing.assert_allclose(ours[expected.index].to_numpy(), expected.to_numpy(), rtol=1e-12)
    services = result.services.set_index("service")
    assert services.loc[service, "cases"] == len(expected)
    assert services.loc[service, "fitness"] == pytest.approx(expected.mean())
    assert services.loc[service, "fitting_share"] == pytest.approx((expected == 1).mean())


def test_deviations_are_named_counted_and_priced_by_the_wait_before_them(store: Store):
    day = pd.Timestamp("2025-03-02 08:00", tz="UTC")
    cases = {
        "fits": [("Apply", 0), ("Pay", 1), ("Issue", 3)],
        "skips": [("Apply", 0), ("Issue", 2)],
        "inserts": [("Apply", 0), ("Call", 5), ("Pay", 6), ("Issue", 8)],
        "repeats": [("Apply", 0), ("Pay", 2), ("Pay", 9), ("Issue", 10)],
    }
    rows = [{"case_id": case, "activity": activity, "timestamp": day + pd.Timedelta(hours=hours), "service": "permit"}
            for case, steps in cases.items() for activity, hours in reversed(steps)]
    store.ingest_frame(pd.DataFrame(rows))
    register_catalogue(store, parse_catalogue(CATALOGUE))
    build_journeys(store)
    result = conformance(store)
    deviations = result.deviations.set_index(["kind", "activity"])
    assert set(deviations.index) == {("skipped", "Pay"), ("inserted", "Call"), ("repeated", "Pay")}
    assert deviations.loc[("inserted", "Call"), "seconds"] == 5 * 3600
    assert deviations.loc[("repeated", "Pay"), "seconds"] == 7 * 3600
    assert np.isnan(deviations.loc[("skipped", "Pay"), "seconds"])
    assert (deviations.cases == 1).all() and (deviations.occurrences == 1).all()
    fitness = result.cases.to_pandas().set_index("case_id").fitness
    assert fitness["fits"] == 1.0
    assert all(fitness[case] < 1.0 for case in ("skips", "inserts", "repeats"))
    assert result.services.loc[0, "fitting_share"] == 0.25


def test_conformance_without_a_designed_journey_says_what_to_register(store: Store):
    store.ingest_frame(pd.DataFrame({"case_id": ["1"], "activity": ["A"], "timestamp": ["2025-01-01"]}))
    build_journeys(store)
    with pytest.raises(InvalidEventLogError, match="designed_journey"):
        conformance(store)


def test_inductive_miner_on_our_dfg_equals_pm4py_on_its_own(real, store: Store, tmp_path):
    store.ingest(open_source(real / "receipt.xes.gz"))
    build_journeys(store)
    ours = process_map(store)
    tree = discover_process_tree(ours)
    log = pm4py.read_xes(str(real / "receipt.xes.gz"))
    assert str(tree) == str(pm4py.discover_process_tree_inductive(pm4py.discover_dfg_typed(log)))
    net, _, _ = to_petri_net(tree)
    assert {t.label for t in net.transitions if t.label} == set(ours.activities.activity)
    path = write_bpmn(to_bpmn(tree), tmp_path / "receipt.bpmn")
    names = {node.get("name") for node in ET.parse(path).iter() if node.tag.endswith("task")}
    assert names == set(ours.activities.activity)
