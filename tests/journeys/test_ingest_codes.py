"""A load's events are staged, checked and written once, with their codes: the same codes, events and
quarantine as coding them in place after the load (the way of a store brought up to date).

And the pseudonyms of the customers that many batches of a source share are remembered, never changed.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from najma.journeys import Store, _pseudonym
from najma.journeys._codes import CODE_COLUMNS, CODE_TABLES, encode_statements
from najma.journeys._pseudonym import Pseudonymiser

FIRST = pd.DataFrame({
    "case_id": ["m", "m", "b", "b", "b"],
    "activity": ["Apply", "Pay", "Apply", "Apply", "Review"],
    "channel": ["web", "web", None, None, "centre"],
    "timestamp": ["2025-01-05 09:00", "2025-01-05 10:00", "2025-01-06 09:00", "2025-01-06 09:00", "2025-01-09 09:00"],
})
# Overlapping: two events of case "b" loaded before (one of them twice, one copy too many), a repeat within
# the file, new events of "m" at other times, and new cases seen in an order that is not their sorted one.
LATER = pd.DataFrame({
    "case_id": ["z", "b", "b", "b", "m", "a", "z", "b"],
    "activity": ["Appeal", "Apply", "Apply", "Apply", "Close", "Apply", "Appeal", "Review"],
    "channel": ["kiosk", None, None, None, "web", "agent", "kiosk", "centre"],
    "timestamp": ["2025-01-08 09:00", "2025-01-06 09:00", "2025-01-06 09:00", "2025-01-06 09:00",
                  "2025-01-10 09:00", "2025-01-07 09:00", "2025-01-08 09:00", "2025-01-09 09:00"],
})


def _stored(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """The events with their codes, the case keys and the labels, in a fixed order."""
    return (con.execute("SELECT * EXCLUDE (attributes) FROM events ORDER BY event_seq").fetchall(),
            con.execute("SELECT * FROM case_keys ORDER BY case_key").fetchall(),
            con.execute("SELECT * FROM labels ORDER BY kind, code").fetchall())


def test_codes_given_at_staging_equal_those_given_in_place_after_each_load(store: Store):
    first = store.ingest_frame(FIRST, service="permit", build=False)
    later = store.ingest_frame(LATER, service="permit", build=False)
    assert (later.read, later.loaded, later.quarantined, later.repeated) == (8, 5, 3, 3)
    assert sorted(store.quarantined(later.batch_id).reason.to_pandas()) == [
        f"already loaded in batch {first.batch_id}"] * 3
    path = store.path
    store.close()
    with duckdb.connect(str(path)) as con:
        con.execute("SET TimeZone = 'UTC'")
        staged = _stored(con)
        assert [key for key, *_ in staged[1]] == [1, 2, 3, 4]
        assert [case for *_, case in staged[1]] == ["m", "b", "z", "a"]  # in the order of their first event
        con.execute(f"UPDATE events SET {', '.join(f'{code} = NULL' for code in CODE_COLUMNS)}")
        for table in CODE_TABLES:
            con.execute(f"DELETE FROM {table}")
        for batch_id in (first.batch_id, later.batch_id):  # coded in place, load by load, as before staging
            for statement in encode_statements(f"batch_id = {int(batch_id)}"):
                con.execute(statement)
        assert _stored(con) == staged


def test_a_shared_case_s_events_at_other_times_are_loaded(store: Store):
    store.ingest_frame(FIRST, service="permit", build=False)
    again = FIRST.assign(timestamp=FIRST.timestamp.str.replace("2025-01-0", "2025-02-0"))
    result = store.ingest_frame(pd.concat([FIRST, again]), service="permit", build=False)
    assert (result.read, result.loaded, result.quarantined) == (10, 5, 5)


def test_pseudonyms_are_the_same_in_every_batch_whatever_is_remembered(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(_pseudonym, "KNOWN_IDS", 3)
    pseudonymiser = Pseudonymiser(b"secret")
    batches = [["a", "b", "a", None], ["b", "c"], ["d", "e", "a"], ["a", "f", "g", "h"], []]
    for ids in batches:
        given = pseudonymiser.array(pa.array(ids, pa.string())).to_pylist()
        assert given == [None if value is None else pseudonymiser.pseudonym(value) for value in ids]
