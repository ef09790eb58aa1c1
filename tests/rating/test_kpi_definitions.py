"""Each KPI definition of issue 21 on hand-made journeys whose KPIs are worked out by hand, below.

Service `permit` may start proactively (an activity holds the role ``proactive_start``); service
`licence` may not. The work calendar opens 09:00 to 17:00 UTC, Monday to Friday.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from najma.errors import RatingConfigError
from najma.journeys import Store, build_journeys, parse_catalogue, register_catalogue
from najma.rating import default_config, kpi_table, parse_config, rate, star_columns
from najma.rating._scoring import total_scores

SERVICES = """
version = 1
[channels.web]
name_ar = "الموقع"
digital = true
[channels.centre]
name_ar = "المركز"
digital = false
[services.permit]
name_en = "Permit"
name_ar = "تصريح"
agency = "A"
sla_hours = 10
[services.permit.activities]
"Apply" = ["customer_step", "application"]
"Open" = ["system_step", "proactive_start"]
"Approve" = ["staff_step", "approval"]
[services.licence]
name_en = "Licence"
name_ar = "رخصة"
agency = "A"
sla_hours = 10
[services.licence.activities]
"Apply" = ["customer_step", "application"]
"Approve" = ["staff_step", "approval"]
"""
CALENDAR = """
[calendar]
time_zone = "UTC"
work_days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
hours = ["09:00", "17:00"]
holidays = []
"""
MONDAY = pd.Timestamp("2025-02-03", tz="UTC")
#: Per case of `permit`: its first activity, start, end, channel of each of its two events, satisfaction.
#: Calendar and working hours: c0 Sat 10:00 -> Mon 11:00 is 49 h, 2 working; c1 Mon 08:00 -> Tue 12:00 is
#: 28 h, 8 + 3 = 11 working; c2 Mon 10:00 -> 15:00 is 5 h, 5 working; c3 Mon 16:00 -> Wed 10:00 is 42 h,
#: 1 + 8 + 1 = 10 working.
PERMIT = {
    "c0": ("Open", MONDAY - pd.Timedelta(hours=38), MONDAY + pd.Timedelta(hours=11), (None, "web"), 5.0),
    "c1": ("Open", MONDAY + pd.Timedelta(hours=8), MONDAY + pd.Timedelta(hours=36), ("web", "web"), 4.0),
    "c2": ("Apply", MONDAY + pd.Timedelta(hours=10), MONDAY + pd.Timedelta(hours=15), ("web", "centre"), 2.0),
    "c3": ("Apply", MONDAY + pd.Timedelta(hours=16), MONDAY + pd.Timedelta(hours=58), ("centre", "centre"), None),
}
#: Only the fewest answers: permit has three.
FEW = replace(default_config(), min_cases=1, min_answers=3)


def _rows() -> pd.DataFrame:
    rows = []
    for case, (first, start, end, channels, answer) in PERMIT.items():
        rows.append({"case_id": case, "activity": first, "timestamp": start, "channel": channels[0], "satisfaction": None})
        rows.append({"case_id": case, "activity": "Approve", "timestamp": end, "channel": channels[1],
                     "satisfaction": answer})
    return pd.DataFrame(rows).assign(customer_id=lambda f: f["case_id"], service="permit")


def _licence() -> pd.DataFrame:
    return pd.DataFrame([
        {"case_id": f"l{i}", "activity": activity, "timestamp": MONDAY + pd.Timedelta(hours=10 + hour), "channel": "web",
         "satisfaction": None, "customer_id": f"l{i}", "service": "licence"}
        for i in range(2) for activity, hour in (("Apply", 0), ("Approve", 2))
    ])


def _built(store: Store, catalogue: str) -> Store:
    events = pd.concat([_rows(), _licence()]).sample(frac=1.0, random_state=5)  # row order must not matter
    for service, frame in events.groupby("service"):
        store.ingest_frame(frame.drop(columns="service"), service=service)
    register_catalogue(store, parse_catalogue(catalogue))
    build_journeys(store)
    return store


@pytest.fixture
def with_calendar(store: Store) -> Store:
    return _built(store, SERVICES + CALENDAR)


@pytest.fixture
def without_calendar(store: Store) -> Store:
    return _built(store, SERVICES)


def test_started_proactively_is_measured_only_where_the_catalogue_allows_it(with_calendar: Store):
    rated = rate(with_calendar, config=FEW, draws=0).set_index("service")
    assert rated.loc["permit", "proactive_share"] == 0.5  # c0 and c1 of four
    assert pd.isna(rated.loc["licence", "proactive_share"])  # not 0: licence cannot start proactively
    assert "proactive_share" in rated.loc["licence", "not_applicable"].split(", ")
    assert "proactive_share" not in rated.loc["licence", "missing_kpis"]  # not missing evidence either
    assert rated.loc["permit", "not_applicable"] == ""


def test_time_against_the_sla_is_working_time_with_a_calendar_and_both_medians_are_shown(with_calendar: Store):
    permit = rate(with_calendar, config=FEW, draws=0).set_index("service").loc["permit"]
    # Working hours 2, 5, 10, 11 against an SLA of 10 working hours: lower median 5, three of four within.
    assert permit["median_working_hours"] == 5.0
    assert permit["median_time_to_sla"] == 0.5
    assert permit["within_sla"] == 0.75
    # Calendar hours 5, 28, 42, 49: lower median 28, shown beside.
    assert permit["median_hours"] == 28.0


def test_without_a_calendar_time_is_calendar_time_and_working_time_has_no_data(without_calendar: Store):
    permit = rate(without_calendar, config=FEW, draws=0).set_index("service").loc["permit"]
    assert permit["median_time_to_sla"] == 2.8 and permit["within_sla"] == 0.25
    assert permit["median_hours"] == 28.0 and pd.isna(permit["median_working_hours"])
    # Shown, not scored: a KPI the model does not list is neither weighed nor missing evidence.
    assert "median_working_hours" not in FEW.kpis and "median_working_hours" not in permit["missing_kpis"]


def test_kpis_the_model_does_not_list_do_not_move_the_score(with_calendar: Store):
    rated = rate(with_calendar, config=FEW, draws=0)
    assert {"median_hours", "median_working_hours", "response_rate"}.isdisjoint(FEW.kpis)
    moved = rated.assign(median_hours=0.0, median_working_hours=1e6, response_rate=0.0)  # no curve reads them
    assert total_scores(moved, FEW).tolist() == total_scores(rated, FEW).tolist() == rated["score"].tolist()


def test_satisfaction_needs_the_minimum_of_answers_and_the_response_rate_is_shown(with_calendar: Store):
    enough = rate(with_calendar, config=FEW, draws=0).set_index("service").loc["permit"]
    assert enough["satisfaction_mean"] == pytest.approx(11 / 3)  # 5, 4 and 2
    assert enough["satisfied_share"] == pytest.approx(2 / 3)  # at or above 4
    assert enough["response_rate"] == 0.75  # three answers among four cases
    too_few = rate(with_calendar, config=replace(FEW, min_answers=4), draws=0).set_index("service").loc["permit"]
    assert pd.isna(too_few["satisfaction_mean"]) and pd.isna(too_few["satisfied_share"])
    assert {"satisfaction_mean", "satisfied_share"} <= set(too_few["missing_kpis"].split(", "))
    assert too_few["response_rate"] == 0.75
    table = kpi_table(with_calendar, min_answers=4).set_index("service")
    assert pd.isna(table.loc["permit", "satisfaction_mean"])


def test_the_minimum_of_answers_holds_for_the_group_not_each_bootstrap_draw(with_calendar: Store):
    rated = rate(with_calendar, config=replace(FEW, min_evidence=0.0), draws=50).set_index("service")
    assert rated.loc["permit", star_columns(FEW)].sum() == pytest.approx(1)


def test_a_case_is_rated_under_the_channel_it_was_served_on_wholly_else_mixed(with_calendar: Store):
    split = kpi_table(with_calendar, by="channel", min_answers=1).set_index(["service", "channel"])
    # c0 (one event without a channel, one on the web) and c1 are wholly web; c2 is mixed; c3 is the centre.
    assert split.loc["permit", "cases"].to_dict() == {"centre": 1, "mixed": 1, "web": 2}
    assert split.loc[("permit", "web"), "median_working_hours"] == 2.0
    for row in split.itertuples():
        assert pd.isna(row.digital_take_up) and pd.isna(row.channel_switches)
        assert {"digital_take_up", "channel_switches"} <= set(row.not_applicable.split(", "))
    whole = kpi_table(with_calendar).set_index("service")
    assert whole.loc["permit", "digital_take_up"] == 0.5  # c0 and c1 used only a digital channel
    assert whole.loc["permit", "channel_switches"] == 0.25


def test_per_channel_ratings_carry_their_uncertainty(with_calendar: Store):
    rated = rate(with_calendar, config=FEW, by="channel", draws=40)
    assert "channel" in rated and set(rated["channel"]) == {"web", "mixed", "centre"}
    done = rated[rated["status"] == "rated"]
    assert len(done) and done[star_columns(FEW)].sum(axis=1).round(9).eq(1).all()
    assert all("digital_take_up" not in m and "channel_switches" not in m for m in rated["missing_kpis"])


@pytest.mark.parametrize(("line", "named"), [
    ("min_answers = 0", "'min_answers' must be a positive whole number"),
    ("min_answers = 2.5", "'min_answers' must be a positive whole number"),
    ("min_evidence = 1.5", "'min_evidence' must be a share from 0 to 1"),
    ('min_evidence = "half"', "'min_evidence' must be a share from 0 to 1"),
])
def test_the_minimums_are_checked_when_a_configuration_is_read(line: str, named: str):
    text = default_config().to_toml()
    key = line.split(" = ")[0]
    text = "\n".join(row for row in text.splitlines() if not row.startswith(f"{key} = "))
    with pytest.raises(RatingConfigError, match=named):
        parse_config(f"{line}\n{text}")


def test_the_minimums_default_to_30_answers_and_half_of_each_pillar():
    config = parse_config("\n".join(row for row in default_config().to_toml().splitlines()
                                    if not row.startswith(("min_answers", "min_evidence"))))
    assert (config.min_answers, config.min_evidence) == (30, 0.5)
