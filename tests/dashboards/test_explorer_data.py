"""What the variant explorer's case list and case timeline return: no customer column, and times in the catalogue's
zone, the zone in which the quarters are read (so a case of a quarter never lists as starting before it)."""

from __future__ import annotations

import pandas as pd

from najma.dashboards._data import DashboardData

SERVICE = "passport"
#: The case list's columns, in order; none of them names or abbreviates the customer.
LISTED = ["case_id", "start", "end", "duration_seconds", "outcome", "channel", "events", "customer_steps", "variant"]


def _quarter(times: pd.Series) -> list[str]:
    """The quarter of each timestamp, read on the wall clock of its own zone."""
    return [str(pd.Period(t.tz_localize(None), freq="Q")) for t in times]


def test_the_case_list_names_no_customer_and_keeps_the_small_group_rule(data: DashboardData) -> None:
    listed, total = data.case_list(SERVICE, None, (), None)
    assert list(listed.columns) == LISTED
    customers = {c[:8] for c in data.selection(SERVICE, None)["customer_id"]}  # no cell starts as a customer's id
    texts = listed.select_dtypes(exclude=["number", "datetimetz"])
    assert not any(str(v)[:8] in customers for v in texts.stack())
    assert total == len(data.selection(SERVICE, None)) and len(listed) == min(total, 1000)


def test_case_times_are_in_the_catalogues_zone_and_fall_in_the_quarter_asked(data: DashboardData) -> None:
    journeys = data.store.backend.table("journeys").to_pandas().set_index(["service", "case_id"]).loc[SERVICE]
    crossing = 0
    for quarter in data.quarters:
        found = data.case_list(SERVICE, quarter, (), None)
        if found is None:
            continue
        listed, _ = found
        assert str(listed["start"].dt.tz) == str(listed["end"].dt.tz) == data.tz
        assert set(_quarter(listed["start"])) == {quarter}
        crossing += sum(q != quarter for q in _quarter(listed["start"].dt.tz_convert("UTC")))
        stored = journeys.loc[listed["case_id"], ["start", "end"]].reset_index(drop=True)
        assert listed[["start", "end"]].apply(lambda c: c.dt.tz_convert("UTC")).equals(stored)  # the same instants
    assert crossing > 0  # some case of the sample starts in a quarter in Asia/Dubai but in the one before in UTC


def test_a_case_timeline_is_in_the_catalogues_zone_in_the_steps_order(data: DashboardData) -> None:
    listed, _ = data.case_list(SERVICE, None, (), None)
    case_id = listed["case_id"].iloc[0]
    events = data.case_events(SERVICE, case_id)
    assert list(events.columns) == ["activity", "timestamp", "channel", "resource", "actor"]
    assert str(events["timestamp"].dt.tz) == data.tz
    assert events["timestamp"].iloc[0] == listed["start"].iloc[0] and events["timestamp"].iloc[-1] == listed["end"].iloc[0]
    steps = data.store.backend.table("steps")
    order = steps.filter(steps.service == SERVICE, steps.case_id == case_id).order_by("position").activity.to_pandas()
    assert list(events["activity"]) == list(order)
