"""The streaming XES reader against pm4py's, and its numbering of events in document order.

pm4py's ``read_xes`` is the oracle: every event of each real XES log must come out of
:class:`~najma.journeys._xes.XesSource` with the same case id, activity, timestamp and other
attributes, in the same order; trace attributes carry the prefix ``case:`` in both.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pm4py
import pyarrow as pa
import pytest

from najma.journeys import Store, _xes, open_source
from najma.journeys._sources import ROW

XES_LOGS = ["receipt.xes.gz", "roadtraffic100traces.xes", "running-example.xes"]


def _ours(path: Path) -> pd.DataFrame:
    return pa.Table.from_batches(list(open_source(path).batches())).to_pandas()


def _as_theirs(ours: pd.Series, theirs: pd.Series) -> pd.Series:
    """Our text values converted to the type pm4py gave the column."""
    if isinstance(theirs.dtype, pd.DatetimeTZDtype):
        return pd.to_datetime(ours, utc=True, format="ISO8601").astype(theirs.dtype)
    if pd.api.types.is_float_dtype(theirs.dtype):
        return pd.to_numeric(ours).astype(theirs.dtype)
    return ours.astype(object).where(ours.notna(), None)


@pytest.mark.parametrize("name", XES_LOGS)
def test_real_log_reads_as_pm4py_reads_it(real: Path, name: str):
    path = real / name
    ours = _ours(path)
    theirs = pm4py.read_xes(str(path), return_legacy_log_object=False).reset_index(drop=True)
    assert ours[ROW].tolist() == list(range(1, len(theirs) + 1))
    assert sorted(ours.columns.drop(ROW)) == sorted(theirs.columns)
    for column in ("case:concept:name", "concept:name", "time:timestamp", *theirs.columns):
        expected = theirs[column]
        if not isinstance(expected.dtype, pd.DatetimeTZDtype) and not pd.api.types.is_float_dtype(expected.dtype):
            expected = expected.astype(object).where(expected.notna(), None)
        pd.testing.assert_series_equal(_as_theirs(ours[column], expected), expected, check_names=False,
                                       obj=f"{name}: {column}")


TRACE = ('<trace><string key="concept:name" value="c{case}"/>{events}</trace>')
EVENT = ('<event><string key="concept:name" value="{activity}"/>'
         '<date key="time:timestamp" value="{ts}"/>{more}</event>')


def _log(traces: list[list[tuple[str, str]]], stray: str = "", more: str = "") -> str:
    """An XES log of `traces`, each a list of (activity, timestamp); `more` is added to every event, `stray` before the traces."""
    body = "".join(TRACE.format(case=i, events="".join(EVENT.format(activity=a, ts=ts, more=more) for a, ts in events))
                   for i, events in enumerate(traces))
    return f'<?xml version="1.0" encoding="UTF-8"?><log xmlns="http://www.xes-standard.org/">{stray}{body}</log>'


def test_a_malformed_event_is_quarantined_under_its_place_in_the_document(store: Store, tmp_path: Path, monkeypatch):
    monkeypatch.setattr("najma.journeys._xes.XES_BATCH_EVENTS", 2)  # traces end batches: numbers run across them
    good = [("Apply", "2025-01-01T09:00:00+04:00"), ("Pay", "2025-01-01T10:00:00+04:00")]
    bad = [("Apply", "2025-01-02T09:00:00+04:00"), ("Pay", "not a time"), ("Close", "2025-01-02T11:00:00+04:00")]
    stray = '<event><string key="concept:name" value="Stray"/></event>'
    path = tmp_path / "one-bad.xes"
    path.write_text(_log([good, good, bad, good], stray))
    result = store.ingest(open_source(path))
    assert (result.read, result.loaded, result.quarantined) == (10, 8, 2)
    rows = [row for row, _ in store.con.execute("SELECT row, unit FROM quarantine ORDER BY row").fetchall()]
    assert rows == [1, 7]  # the stray event first, then the second event of the third trace


def test_nested_attributes_keep_their_own_value_as_in_pm4py(tmp_path: Path):
    path = tmp_path / "nested.xes"
    nested = ('<string key="details" value="outer"><string key="inner" value="x"/></string>'
              '<list key="items"><values><string key="item" value="1"/></values></list>')
    path.write_text(_log([[("Apply", "2025-01-01T09:00:00+04:00")]], more=nested))
    ours = _ours(path)
    theirs = pm4py.read_xes(str(path), return_legacy_log_object=False)
    assert ours["details"].tolist() == [value["value"] for value in theirs["details"]] == ["outer"]
    assert "inner" not in ours.columns and "item" not in ours.columns
    assert "items" not in ours.columns  # a list has no value of its own (pm4py: None)
    assert [value["value"] for value in theirs["items"]] == [None]


def _table(path: Path) -> pa.Table:
    return pa.concat_tables([pa.Table.from_batches([batch]) for batch in open_source(path).batches()],
                            promote_options="default")


MIXED = ('<?xml version="1.0" encoding="UTF-8"?><log xmlns="http://www.xes-standard.org/"><string key="log" value="x"/>'
         '<event><string key="concept:name" value="Stray 1"/></event>'
         '<trace><string key="concept:name" value="c1"/>'
         '<event><string key="concept:name" value="A"/><int key="n" value="1"/></event>'
         '<event><string key="concept:name" value="B"/><int key="n" value="2"/></event></trace>'
         '<event><string key="concept:name" value="Stray 2"/></event>'
         '<trace><event><string key="concept:name" value="C"/><int key="n" value="3"/><int key="m" value="9"/></event>'
         '<event><string key="concept:name" value="D"/></event><string key="concept:name" value="c2"/></trace>'
         '<trace><string key="concept:name" value="c3"/><string key="only" value="here"/></trace>'
         '<trace><string key="concept:name" value="c4"/>'
         '<event><string key="concept:name" value="E"/><string key="concept:name" value="E2"/></event>'
         '<event><string key="concept:name" value="F"/><string key="case:concept:name" value="mine"/></event></trace>'
         '<event><string key="concept:name" value="Stray 3"/></event></log>')


def test_traces_of_every_shape_read_in_document_order(tmp_path: Path, monkeypatch):
    """Events outside traces before, between and after them; events alike (read whole) and unlike (one by one);
    trace attributes after the events, a trace without events, a key repeated, an event attribute named as a
    trace attribute; batches that end within the log."""
    monkeypatch.setattr("najma.journeys._xes.XES_BATCH_EVENTS", 3)
    path = tmp_path / "mixed.xes"
    path.write_text(MIXED)
    batches = list(open_source(path).batches())
    assert [batch.num_rows for batch in batches] == [3, 3, 3]
    assert batches[0].schema.names == ["concept:name", "n", "case:concept:name", ROW]
    rows = _table(path).to_pylist()
    assert [(row[ROW], row["case:concept:name"], row["concept:name"], row["n"], row["m"]) for row in rows] == [
        (1, None, "Stray 1", None, None), (2, "c1", "A", "1", None), (3, "c1", "B", "2", None),
        (4, None, "Stray 2", None, None), (5, "c2", "C", "3", "9"), (6, "c2", "D", None, None),
        (7, "c4", "E2", None, None), (8, "c4", "F", None, None), (9, None, "Stray 3", None, None)]
    assert "case:only" in batches[2].schema.names  # a trace without events still names its attributes


@pytest.mark.parametrize(("name", "some_whole"), [("receipt.xes.gz", True), ("running-example.xes", True),
                                                  ("roadtraffic100traces.xes", False), ("mixed.xes", True)])
def test_events_read_whole_trace_or_one_by_one_are_stored_alike(real: Path, tmp_path: Path, monkeypatch, name: str,
                                                                some_whole: bool):
    """Reading a trace's alike events in one pass changes nothing in the store: events, quarantine and counts.

    In roadtraffic100traces.xes every trace has events with other attributes than its others: it is read one by one.
    """
    path = real / name
    if name == "mixed.xes":
        path = tmp_path / name
        path.write_text(MIXED)
    shared_width, whole = _xes._shared_width, []

    def spy(events: list, *args: object) -> int | None:
        width = shared_width(events, *args)
        whole.append(bool(events) and width is not None)
        return width

    monkeypatch.setattr(_xes, "_shared_width", spy)
    stores = []
    for label in ("whole", "one by one"):
        with Store(tmp_path / f"{label}.duckdb") as store:
            result = store.ingest(open_source(path))
            stores.append(((result.read, result.loaded, result.quarantined),
                           store.con.execute("SELECT * FROM events ORDER BY event_seq").fetchall(),
                           store.con.execute("SELECT * FROM quarantine ORDER BY row").fetchall()))
        monkeypatch.setattr(_xes, "_shared_width", lambda *args: None)
    assert any(whole) == some_whole
    assert stores[0] == stores[1]


@pytest.mark.parametrize("name", ["running-example.xes", "mixed.xes"])
def test_a_long_trace_is_read_off_as_it_is_read_with_the_same_result(real: Path, tmp_path: Path, monkeypatch,
                                                                     name: str):
    """A trace of more than _OPEN_TRACE_EVENTS events has its events read so far taken out while it is read, so
    that a log of one huge trace is not held whole as elements; the events come out the same."""
    path = real / name
    if name == "mixed.xes":
        path = tmp_path / name
        path.write_text(MIXED)
    expected = _table(path)
    read_off, taken = _xes._read_off, []

    def spy(trace: object) -> list:
        taken.append(len(done := read_off(trace)))
        return done

    monkeypatch.setattr(_xes, "_OPEN_TRACE_EVENTS", 1)
    monkeypatch.setattr(_xes, "_FEED_BYTES", 40)
    monkeypatch.setattr(_xes, "_read_off", spy)
    assert _table(path).equals(expected)
    assert sum(taken) > 0
