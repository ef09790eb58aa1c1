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

from najma.journeys import Store, open_source
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
