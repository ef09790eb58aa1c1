"""The quarter: the one home of its name, its bounds, its neighbours and its zone.

A quarter is named ``"2025Q1"`` and read in a zone: the quarter of an instant is the calendar
quarter of that instant on the clocks of the zone. A store reads its quarters in one zone, that of
its catalogue's work calendar (else UTC), so that every view of the store (the CLI, the ratings,
the dashboard, the report, the notebooks) counts the same cases in the same quarter.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import ibis
import pandas as pd
from ibis.expr.types import StringValue, TimestampValue

from najma.errors import InvalidEventLogError
from najma.journeys._tables import JourneyTables
from najma.journeys._working_time import registered_calendar

__all__ = ["quarter_bounds", "quarter_name", "previous_quarter", "next_quarter", "quarter_of", "quarter_expr", "quarter_start",
           "quarter_zone"]

_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


def _quarter_parts(quarter: str) -> tuple[int, int]:
    match = _QUARTER.match(str(quarter).strip())
    if not match:
        raise InvalidEventLogError(f"The 'quarter' parameter must look like 2025Q1. Got {quarter!r} instead.")
    return int(match[1]), int(match[2])


def quarter_name(quarter: str) -> str:
    """The quarter as najma writes it (``"2025Q1"``), from any form najma reads (``"2025-q1"``).

    Examples
    --------
    >>> quarter_name("2025-q1")
    '2025Q1'
    """
    year, number = _quarter_parts(quarter)
    return f"{year}Q{number}"


def quarter_bounds(quarter: str, zone: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the [start, end) instants (UTC) of a quarter read in `zone`.

    Examples
    --------
    >>> quarter_bounds("2025Q1", "Asia/Dubai")[0]
    Timestamp('2024-12-31 20:00:00+0000', tz='UTC')
    """
    year, number = _quarter_parts(quarter)
    start = pd.Timestamp(datetime(year, 3 * number - 2, 1, tzinfo=ZoneInfo(zone)))
    end = start + pd.DateOffset(months=3)
    return start.tz_convert("UTC"), end.tz_convert("UTC")


def previous_quarter(quarter: str) -> str:
    """The quarter before `quarter`.

    Examples
    --------
    >>> previous_quarter("2025Q1"), previous_quarter("2025q3")
    ('2024Q4', '2025Q2')
    """
    year, number = _quarter_parts(quarter)
    return f"{year - 1}Q4" if number == 1 else f"{year}Q{number - 1}"


def next_quarter(quarter: str) -> str:
    """The quarter after `quarter`.

    Examples
    --------
    >>> next_quarter("2024Q4"), next_quarter("2025Q1")
    ('2025Q1', '2025Q2')
    """
    year, number = _quarter_parts(quarter)
    return f"{year + 1}Q1" if number == 4 else f"{year}Q{number + 1}"


def quarter_of(instants: pd.Series, zone: str) -> pd.Series:
    """The quarter (``"2025Q1"``) of each instant (tz-aware), read in `zone`.

    Examples
    --------
    >>> quarter_of(pd.Series(pd.to_datetime(["2024-12-31 21:00"], utc=True)), "Asia/Dubai").tolist()
    ['2025Q1']
    """
    local = instants.dt.tz_convert(zone)
    return local.dt.year.astype("string") + "Q" + local.dt.quarter.astype("string")


def quarter_expr(instant: TimestampValue, zone: str, first: pd.Timestamp, last: pd.Timestamp) -> StringValue:
    """The quarter (``"2025Q1"``) of `instant` read in `zone`, as an Ibis expression, for instants from `first` to `last`.

    A portable expression (DuckDB and Spark alike): the instant is compared with the first instant of each quarter.
    """
    quarter = _quarter_of_instant(first, zone)
    branches = []
    while True:
        _, end = quarter_bounds(quarter, zone)
        if end > last:
            break
        branches.append((instant < ibis.literal(end.to_pydatetime()).cast(instant.type()), quarter))
        quarter = next_quarter(quarter)
    return ibis.cases(*branches, else_=quarter) if branches else ibis.literal(quarter)


def quarter_start(instant: pd.Timestamp, zone: str) -> pd.Timestamp:
    """The first instant (UTC) of the quarter of `instant` read in `zone`.

    Examples
    --------
    >>> quarter_start(pd.Timestamp("2025-02-10 08:00", tz="UTC"), "Asia/Dubai")
    Timestamp('2024-12-31 20:00:00+0000', tz='UTC')
    """
    return quarter_bounds(_quarter_of_instant(instant, zone), zone)[0]


def _quarter_of_instant(instant: pd.Timestamp, zone: str) -> str:
    """The quarter of one instant (tz-aware), read in `zone`: :func:`quarter_of` of a single value."""
    return quarter_of(pd.Series([pd.Timestamp(instant)]), zone).iloc[0]


def quarter_zone(store: JourneyTables) -> str:
    """The zone in which a store reads its quarters: its catalogue's work calendar's, else UTC."""
    calendar = registered_calendar(store)
    return calendar.time_zone if calendar else "UTC"
