"""Working time: equal to pm4py's business-hours durations, with zones and holidays honoured."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pm4py
import pytest

from najma.errors import CatalogueError
from najma.journeys import Store, build_journeys, journey_table, open_source, parse_catalogue, register_catalogue

SERVICE = """
[services.{key}]
name_en = "Receipt"
name_ar = "استلام"
agency = "Municipality"
sla_hours = 24
"""


def _catalogue(key: str, calendar: str) -> str:
    return "version = 1\n" + calendar + SERVICE.format(key=key)


def test_working_seconds_equal_pm4py_business_hours_on_a_real_log(real, store: Store):
    store.ingest(open_source(real / "receipt.xes.gz"))
    service = store.con.execute("SELECT DISTINCT service FROM events").fetchall()[0][0]
    calendar = '[calendar]\ntime_zone = "UTC"\nwork_days = ["Mon", "Tue", "Wed", "Thu"]\nhours = ["08:30", "17:00"]\n'
    register_catalogue(store, parse_catalogue(_catalogue(service, calendar)))
    build_journeys(store)
    ours = np.sort(journey_table(store).working_seconds.to_pandas().to_numpy())
    frame = store.con.execute("SELECT case_id, activity, timestamp FROM events ORDER BY event_seq").df()
    log = pm4py.format_dataframe(frame, case_id="case_id", activity_key="activity", timestamp_key="timestamp")
    slots = [(day * 86400 + 8.5 * 3600, day * 86400 + 17 * 3600) for day in range(4)]
    expected = np.sort(pm4py.get_all_case_durations(log, business_hours=True, business_hour_slots=slots))
    assert ours.sum() > 0
    np.testing.assert_allclose(ours, expected, atol=1e-3)


def test_working_time_is_read_in_the_calendars_zone_and_skips_holidays(store: Store):
    rows = [  # Dubai is UTC+4: 04:00 UTC is 08:00 in Dubai
        ("over-weekend", "Apply", "2025-01-03 04:00"), ("over-weekend", "Issue", "2025-01-06 05:00"),
        ("over-holiday", "Apply", "2025-03-27 10:00"), ("over-holiday", "Issue", "2025-04-02 04:30"),
        ("at-night", "Apply", "2025-01-07 14:00"), ("at-night", "Issue", "2025-01-07 20:00"),
    ]
    store.ingest_frame(pd.DataFrame(rows, columns=["case_id", "activity", "timestamp"]).assign(service="permit"))
    calendar = ('[calendar]\ntime_zone = "Asia/Dubai"\nhours = ["07:30", "15:30"]\n'
                'holidays = ["2025-03-30", "2025-03-31", "2025-04-01"]\n')
    register_catalogue(store, parse_catalogue(_catalogue("permit", calendar)))
    build_journeys(store)
    working = journey_table(store).to_pandas().set_index("case_id").working_seconds
    assert working["over-weekend"] == 7.5 * 3600 + 1.5 * 3600  # Friday from 08:00, Monday to 09:00
    assert working["over-holiday"] == 1.5 * 3600 + 8 * 3600 + 1 * 3600  # Thursday, Friday, Wednesday to 08:30
    assert working["at-night"] == 0


def test_without_a_calendar_working_time_stays_empty(store: Store):
    store.ingest_frame(pd.DataFrame({"case_id": ["1", "1"], "activity": ["A", "B"],
                                     "timestamp": ["2025-01-06 09:00", "2025-01-06 10:00"]}))
    build_journeys(store)
    assert journey_table(store).working_seconds.to_pandas().isna().all()


def test_a_bad_calendar_is_named_key_by_key():
    calendar = '[calendar]\ntime_zone = "Asia/Dubay"\nwork_days = ["Mon", "Fry"]\nhours = ["16:00", "08:00"]\n'
    with pytest.raises(CatalogueError, match=r"Asia/Dubay.*Fry.*closing time 08:00 must be after opening time 16:00"):
        parse_catalogue(_catalogue("permit", calendar))
