"""The real logs load with exactly pm4py's counts of cases and events."""

from __future__ import annotations

import json

import pandas as pd
import pm4py
import pytest

from najma.journeys import Store, open_source, parse_mapping
from najma.journeys._eventlog import EventLog

BPI_MAP = "case=SessionID,activity=PAGE_NAME,timestamp=TIMESTAMP"


def _pm4py_counts(path, **csv) -> tuple[int, int]:
    if csv:
        frame = pd.read_csv(path, sep=csv["sep"])
        log = pm4py.format_dataframe(frame, case_id="SessionID", activity_key="PAGE_NAME", timestamp_key="TIMESTAMP")
    else:
        log = pm4py.read_xes(str(path), return_legacy_log_object=False)
    return log["case:concept:name"].nunique(), len(log)


@pytest.mark.parametrize(
    ("name", "options", "cases", "events"),
    [
        ("receipt.xes.gz", {}, 1434, 8577),
        ("roadtraffic100traces.xes", {}, 100, 390),
        ("running-example.xes", {}, 6, 42),
        ("BPI2016_Clicks_NOT_Logged_In_sample1000.csv", {"sep": ";"}, 603, 1000),
    ],
)
def test_real_log_loads_with_pm4py_counts(real, store: Store, name, options, cases, events):
    path = real / name
    mapping = parse_mapping(BPI_MAP) if options else None
    result = store.ingest(open_source(path, **options), mapping=mapping)
    log = EventLog(store)
    assert (result.read, result.loaded, result.quarantined) == (events, events, 0)
    assert (log.n_cases(), log.n_events()) == (cases, events)
    assert (log.n_cases(), log.n_events()) == _pm4py_counts(path, **options)


def test_xes_times_and_attributes_equal_pm4py(real, store: Store):
    store.ingest(open_source(real / "receipt.xes.gz"))
    ours = EventLog(store).to_pandas()
    theirs = pm4py.read_xes(str(real / "receipt.xes.gz"), return_legacy_log_object=False)
    key = ["case:concept:name", "time:timestamp", "concept:name", "org:resource"]
    theirs = theirs.sort_values(key, kind="stable").reset_index(drop=True)
    ours = ours.rename(columns={"case_id": "case:concept:name", "timestamp": "time:timestamp",
                                "activity": "concept:name", "resource": "org:resource"})
    ours = ours.sort_values(key, kind="stable").reset_index(drop=True)
    pd.testing.assert_series_equal(ours["time:timestamp"].dt.tz_convert("UTC").astype("datetime64[us, UTC]"),
                                   theirs["time:timestamp"].astype("datetime64[us, UTC]"), check_names=False)
    assert ours["concept:name"].tolist() == theirs["concept:name"].tolist()
    assert ours["lifecycle"].tolist() == theirs["lifecycle:transition"].tolist()
    channel = ours["attributes"].map(lambda a: (a if isinstance(a, dict) else json.loads(a))["case:channel"])
    assert channel.tolist() == theirs["case:channel"].tolist()


def test_bpi_clicks_times_equal_pandas(real, store: Store):
    path = real / "BPI2016_Clicks_NOT_Logged_In_sample1000.csv"
    store.ingest(open_source(path, sep=";"), mapping=parse_mapping(BPI_MAP))
    ours = store.con.execute("SELECT case_id, timestamp FROM events ORDER BY event_seq").df()
    theirs = pd.read_csv(path, sep=";")
    assert ours["case_id"].tolist() == theirs["SessionID"].astype(str).tolist()
    expected = pd.to_datetime(theirs["TIMESTAMP"], format="ISO8601").dt.tz_localize("UTC")
    assert (ours["timestamp"].dt.tz_convert("UTC") == expected).all()
