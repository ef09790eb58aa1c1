"""Redesign transforms: projected journeys against a pandas re-enactment of the stated time rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from najma.errors import InvalidEventLogError
from najma.journeys import CaseFilter, Store
from najma.journeys._redesign import AutomateActivity, MergeActivities, MoveToChannel, RemoveActivity, project_journeys

SERVICE = "trade_licence"
FLOATS = ("cost", "satisfaction", "processing_seconds")


def _observed(store: Store) -> pd.DataFrame:
    return store.con.execute("SELECT * FROM journeys WHERE service = ? ORDER BY case_id", [SERVICE]).df()


def _projected(store: Store, *transforms: object, where: CaseFilter | None = None) -> pd.DataFrame:
    frame = project_journeys(store, SERVICE, list(transforms), where).to_pandas()
    return frame.sort_values("case_id").reset_index(drop=True)


def _events(store: Store) -> pd.DataFrame:
    """The service's events in case order, with the wait before each (pandas, independent of the engine)."""
    events = store.con.execute(
        "SELECT case_id, activity, timestamp, event_seq, channel, cost FROM events WHERE service = ?", [SERVICE]
    ).df().sort_values(["case_id", "timestamp", "event_seq"], ignore_index=True)
    events["wait"] = events.groupby("case_id").timestamp.diff().fillna(pd.Timedelta(0))
    return events


def _retimed_duration(events: pd.DataFrame, saved: pd.Series, drop: pd.Series) -> pd.Series:
    """Seconds from first to last kept event once every event moves earlier by the waits saved up to it."""
    shift = events.wait.where(saved, pd.Timedelta(0)).groupby(events.case_id).cumsum()
    moved = (events.timestamp - shift)[~drop]
    spans = moved.groupby(events.case_id[~drop])
    return (spans.max() - spans.min()).dt.total_seconds()


def test_no_transform_gives_the_observed_journeys(sample_journeys: Store):
    observed, projected = _observed(sample_journeys), _projected(sample_journeys)
    assert list(projected.columns) == list(observed.columns)
    for column in observed.columns:
        if column in FLOATS:
            np.testing.assert_allclose(projected[column].astype(float), observed[column].astype(float), rtol=1e-9)
        else:
            pd.testing.assert_series_equal(projected[column], observed[column], check_dtype=False)


def test_removing_a_step_drops_it_and_the_wait_before_it(sample_journeys: Store):
    step = "Visit service centre"
    events, observed = _events(sample_journeys), _observed(sample_journeys).set_index("case_id")
    projected = _projected(sample_journeys, RemoveActivity(step)).set_index("case_id")
    removed = events.activity == step
    occurrences = removed.groupby(events.case_id).sum()
    kept_cases = occurrences.index[occurrences < events.groupby("case_id").size()]
    assert set(projected.index) == set(kept_cases)
    assert (projected.events == observed.events[kept_cases] - occurrences[kept_cases]).all()
    assert (projected.visits == observed.visits[kept_cases] - occurrences[kept_cases]).all()
    assert (projected.customer_steps == observed.customer_steps[kept_cases] - occurrences[kept_cases]).all()
    expected = _retimed_duration(events, removed, removed)
    np.testing.assert_allclose(projected.duration_seconds, expected[projected.index], atol=1e-6)
    assert (projected.duration_seconds < observed.duration_seconds[projected.index]).any()
    assert step not in " ".join(projected.variant)


def test_automating_a_step_keeps_it_but_removes_the_wait_and_the_customer(sample_journeys: Store):
    step = "Visit service centre"
    events, observed = _events(sample_journeys), _observed(sample_journeys).set_index("case_id")
    projected = _projected(sample_journeys, AutomateActivity(step)).set_index("case_id")
    automated = events.activity == step
    occurrences = automated.groupby(events.case_id).sum()[observed.index]
    assert (projected.events == observed.events).all()
    assert (projected.visits == observed.visits - occurrences).all()
    assert (projected.customer_steps == observed.customer_steps - occurrences).all()
    assert (projected.system_steps == observed.system_steps + occurrences).all()
    expected = _retimed_duration(events, automated, pd.Series(False, index=events.index))
    np.testing.assert_allclose(projected.duration_seconds, expected[projected.index], atol=1e-6)


def test_merging_consecutive_steps_makes_one_step_with_their_cost(sample_journeys: Store):
    merged = ("Submit application", "Upload documents")
    events, observed = _events(sample_journeys), _observed(sample_journeys).set_index("case_id")
    projected = _projected(sample_journeys, MergeActivities(merged, "Apply online")).set_index("case_id")
    inside = events.activity.isin(merged)
    continues = inside & inside.groupby(events.case_id).shift(fill_value=False)
    assert continues.sum() > 100, "the sample should have runs to merge"
    assert (projected.events == observed.events - continues.groupby(events.case_id).sum()).all()
    np.testing.assert_allclose(projected.cost, observed.cost, rtol=1e-9)
    expected = _retimed_duration(events, continues, continues)
    np.testing.assert_allclose(projected.duration_seconds, expected[projected.index], atol=1e-6)
    assert projected.variant.str.contains("Apply online").sum() == (inside.groupby(events.case_id).any()).sum()


def _documents(store: Store) -> dict[str, set[str]]:
    """The documents each submission of the service supplies, the catalogue's default included."""
    submissions = store.con.execute(
        "SELECT DISTINCT activity FROM activity_roles WHERE service = ? AND role = 'document_submission'", [SERVICE]
    ).df().activity
    listed = store.con.execute("SELECT activity, document FROM activity_documents WHERE service = ?", [SERVICE]).df()
    by_activity = listed.groupby("activity").document.agg(set).to_dict()
    return {activity: by_activity.get(activity, {activity}) for activity in submissions}


def test_a_merged_submission_supplies_the_documents_it_merges(sample_journeys: Store):
    merged, into = ("Submit application", "Upload documents"), "Apply with documents"
    events, observed = _events(sample_journeys), _observed(sample_journeys).set_index("case_id")
    projected = _projected(sample_journeys, MergeActivities(merged, into)).set_index("case_id")
    inside = events.activity.isin(merged)
    continues = inside & inside.groupby(events.case_id).shift(fill_value=False)
    # Re-enacted: each merged run is one step that supplies every merged activity's documents.
    documents = _documents(sample_journeys)
    documents[into] = set().union(*(documents.get(activity, set()) for activity in merged))
    steps = events[~continues].assign(activity=events.activity.where(~inside, into))
    supplies = steps.assign(document=steps.activity.map(documents)).dropna(subset="document").explode("document")
    by_case = supplies.groupby("case_id").document
    expected = (by_case.size() - by_case.nunique()).reindex(projected.index, fill_value=0)
    assert (projected.documents_asked_again == expected).all()
    # Where every merged run holds one upload, the merged steps supply what they supplied: the count is today's.
    run = (~continues).groupby(events.case_id).cumsum()
    uploads = (events.activity == "Upload documents")[inside].groupby([events.case_id[inside], run[inside]]).sum()
    same = uploads.eq(1).groupby(level="case_id").all()
    same = same.index[same]
    assert len(same) > 1000 and observed.documents_asked_again[same].sum() > 500
    assert (projected.documents_asked_again[same] == observed.documents_asked_again[same]).all()


def test_moving_a_visit_online_keeps_time_and_recounts_channel_switches(sample_journeys: Store):
    step = "Visit service centre"
    events, observed = _events(sample_journeys), _observed(sample_journeys).set_index("case_id")
    projected = _projected(sample_journeys, MoveToChannel(step, "smart app")).set_index("case_id")
    moved = events.assign(channel=events.channel.where(events.activity != step, "smart app"))
    previous = moved.groupby("case_id").channel.shift()
    switches = (previous.notna() & moved.channel.notna() & (previous != moved.channel)).groupby(moved.case_id).sum()
    assert (projected.channel_switches == switches[projected.index]).all()
    assert (projected.duration_seconds == observed.duration_seconds).all()
    occurrences = (events.activity == step).groupby(events.case_id).sum()[observed.index]
    assert (projected.visits == observed.visits - occurrences).all()
    assert (projected.customer_steps == observed.customer_steps).all()


def test_a_filter_projects_only_its_cases(sample_journeys: Store):
    where = CaseFilter(quarter="2024Q3", tz="Asia/Dubai")
    projected = _projected(sample_journeys, RemoveActivity("Pay fees"), where=where)
    in_quarter = where.apply(project_journeys(sample_journeys, SERVICE, [])).to_pandas()
    assert 0 < len(projected) <= len(in_quarter)
    assert set(projected.case_id) <= set(in_quarter.case_id)


def test_an_unknown_activity_is_named_with_the_ones_there_are(sample_journeys: Store):
    with pytest.raises(InvalidEventLogError, match="'Pay fee'.*does not have; its activities are .*Pay fees"):
        project_journeys(sample_journeys, SERVICE, [RemoveActivity("Pay fee")])
    with pytest.raises(InvalidEventLogError, match="no journeys"):
        project_journeys(sample_journeys, "no_such_service", [])
