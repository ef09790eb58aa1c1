"""DuckDB reads an instant's epoch without casting it to a local timestamp (journeys/_duckdb_sql.py)."""

from __future__ import annotations

import datetime as dt

import duckdb
import ibis
import pytest

import najma.journeys._duckdb_sql  # noqa: F401  (the rule under test)

INSTANTS = [
    dt.datetime(2025, 3, 30, 0, 59, 59, 250_000, tzinfo=dt.UTC),
    dt.datetime(1969, 12, 31, 23, 59, 58, 500_000, tzinfo=dt.UTC),
    dt.datetime(2024, 2, 29, 12, 0, 0, 1, tzinfo=dt.UTC),
]


def _epochs(zone: str) -> list[float]:
    """The epoch seconds of :data:`INSTANTS` as DuckDB works them out from Ibis's SQL, in a session set to `zone`."""
    table = ibis.table({"instant": "timestamp('UTC')", "wall": "timestamp"}, name="instants")
    sql = ibis.to_sql(table.select(zoned=table.instant.epoch_seconds(), naive=table.wall.epoch_seconds()), dialect="duckdb")
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{zone}'")  # a fixed zone name of this test, not user text
    con.execute("CREATE TABLE instants (instant TIMESTAMPTZ, wall TIMESTAMP)")
    con.executemany("INSERT INTO instants VALUES (?, ?)", [(at, at.replace(tzinfo=None)) for at in INSTANTS])
    rows = con.execute(sql).fetchall()
    assert [naive for _, naive in rows] == [at.timestamp() for at in INSTANTS]
    return [zoned for zoned, _ in rows]


def test_an_instants_epoch_is_read_without_a_cast() -> None:
    table = ibis.table({"instant": "timestamp('UTC')", "wall": "timestamp"}, name="t")
    sql = ibis.to_sql(table.select(zoned=table.instant.epoch_seconds(), naive=table.wall.epoch_seconds()), dialect="duckdb")
    assert 'EPOCH("t0"."instant")' in sql
    assert 'EPOCH(CAST("t0"."wall" AS TIMESTAMP))' in sql  # a local timestamp is written as Ibis writes it


@pytest.mark.parametrize("zone", ["UTC", "Asia/Riyadh", "America/New_York"])
def test_the_epoch_is_the_instants_own_in_any_session_zone(zone: str) -> None:
    assert _epochs(zone) == [at.timestamp() for at in INSTANTS]
