"""The sample generator: realistic, reproducible, and its ground truth agrees with its log."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from najma.journeys import Store, open_source
from najma.sample import SAMPLE_CATALOGUE, SAMPLE_EVENTS, SAMPLE_TRUTH, generate
from najma.sample._services import REDESIGN_DATE


@pytest.fixture(scope="module")
def sample():
    return generate(6000, seed=11)


def test_same_seed_gives_the_same_log_and_another_seed_another(sample):
    assert generate(6000, seed=11).events.equals(sample.events)
    assert not generate(6000, seed=12).events.equals(sample.events)


def test_the_log_covers_the_services_agencies_and_channels_asked_for(sample):
    events = sample.events.to_pandas()
    assert events["service"].nunique() >= 6
    assert events["agency"].nunique() >= 4
    assert set(events["channel"]) == {"service centre", "website", "smart app", "call centre"}
    assert set(events["actor"]) == {"customer", "staff", "system"}
    assert {"Pay fees", "Request additional documents", "Visit service centre", "Reject application",
            "Proactive case opened"} <= set(events["activity"])
    assert set(sample.truth["outcome"]) >= {"completed", "rejected", "abandoned"}
    answered = events["satisfaction"].notna().groupby(events["case_id"]).any()
    assert 0.1 < answered.mean() < 0.5
    quarters = events["timestamp"].dt.tz_convert("Asia/Dubai").dt.to_period("Q").astype(str)
    assert sorted(quarters.unique()) == [f"{y}Q{q}" for y in (2024, 2025) for q in (1, 2, 3, 4)]


def test_documents_are_asked_more_than_once_in_some_cases(sample):
    events = sample.events.to_pandas()
    asked = events[events["activity"] == "Request additional documents"].groupby("case_id").size()
    assert (asked > 1).sum() > 50


def test_the_redesigned_trade_licence_takes_fewer_customer_steps(sample):
    truth = sample.truth[sample.truth["service"] == "trade_licence"]
    starts = sample.events.to_pandas().groupby("case_id")["timestamp"].min()
    after = starts.reindex(truth["case_id"]).to_numpy() >= pd.Timestamp(REDESIGN_DATE, tz="Asia/Dubai")
    before_steps = truth.loc[~after, "customer_steps"].median()
    after_steps = truth.loc[after, "customer_steps"].median()
    assert after_steps <= before_steps - 2


def test_life_event_customers_pass_through_several_services_some_started_proactively(sample):
    newborn = sample.truth[sample.truth["life_event"].notna()]
    per_event = newborn.groupby("life_event")["service"].nunique()
    assert (per_event == 5).mean() > 0.95
    events = sample.events.to_pandas()
    customers = events[events["case_id"].isin(newborn["case_id"])].groupby("case_id")["customer_id"].first()
    assert customers.groupby(newborn.set_index("case_id")["life_event"].reindex(customers.index)).nunique().max() == 1
    proactive = newborn[newborn["proactive"]]
    assert len(proactive) > 100
    started = events[events["case_id"].isin(proactive["case_id"])].sort_values("timestamp", kind="stable")
    first = started.groupby("case_id")["activity"].first()
    assert (first == "Proactive case opened").mean() > 0.95
    assert "Submit application" not in set(started["activity"])


def test_ground_truth_equals_what_the_loaded_log_shows(sample, store: Store):
    store.ingest_frame(sample.events.to_pandas(), name="generated", tz="Asia/Dubai")
    counted = store.con.execute(
        """SELECT case_id, count(*) AS events, count(*) FILTER (actor = 'customer') AS customer_steps,
                  count(*) FILTER (activity IN ('Visit service centre', 'Biometrics at service centre', 'Eye test',
                                                'Medical fitness test', 'Collect document at centre')) AS visits,
                  count(*) FILTER (activity = 'Request additional documents') AS rework
           FROM events GROUP BY case_id"""
    ).df().set_index("case_id").sort_index()
    truth = sample.truth.set_index("case_id").sort_index()
    assert counted.index.equals(truth.index)
    for column in ("events", "customer_steps", "visits", "rework"):
        assert (counted[column].to_numpy() == truth[column].to_numpy()).all(), column


def test_the_committed_sample_loads_whole_and_matches_its_truth(store: Store):
    result = store.ingest(open_source(SAMPLE_EVENTS))
    truth = pq.read_table(SAMPLE_TRUTH).to_pandas()
    assert result.quarantined == 0
    assert result.loaded == int(truth["events"].sum())
    assert store.con.execute("SELECT count(DISTINCT case_id) FROM events").fetchall()[0][0] == len(truth)
    assert SAMPLE_CATALOGUE.exists()


def test_generate_refuses_a_bad_case_count():
    with pytest.raises(ValueError, match="'n_cases' parameter of generate must be a positive integer"):
        generate(0)
