"""Working time: how much of a journey fell within the government's working hours.

The work week, hours, time zone and public holidays come from the catalogue's ``[calendar]``
table::

    [calendar]
    time_zone = "Asia/Dubai"
    work_days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
    hours = ["07:30", "15:30"]
    holidays = ["2025-03-30", "2025-03-31"]

A journey's working seconds are the seconds between its start and end that fall on a working
day (not a holiday) between the opening and closing hour, in the calendar's zone (daylight
saving time included). Without a calendar the working time stays empty: nothing is assumed.

Examples
--------
>>> calendar = WorkCalendar(time_zone="Asia/Dubai", opens="07:30", closes="15:30")
>>> days = calendar.days(pd.Timestamp("2025-01-03"), pd.Timestamp("2025-01-06"))
>>> days.seconds.tolist()  # Friday, Saturday, Sunday, Monday
[28800.0, 0.0, 0.0, 28800.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis
import pandas as pd
from ibis.expr.types import Table

from najma.errors import InvalidParameterError
from najma.journeys._tables import JourneyTables

__all__ = ["WorkCalendar", "WEEKDAYS", "calendar_problems", "covering_days", "days_by_utc_day", "with_working_time"]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class WorkCalendar:
    """A work week, its hours, its time zone and its holidays.

    Parameters
    ----------
    time_zone : str, default "UTC"
        An IANA zone, e.g. ``"Asia/Dubai"``.
    work_days : sequence of str, default Monday to Friday
        Abbreviated English day names (see :data:`WEEKDAYS`).
    opens, closes : str, default "08:00" and "16:00"
        Local opening and closing times, ``HH:MM``; `closes` after `opens`.
    holidays : sequence of str, default none
        Local dates, ``YYYY-MM-DD``, on which no one works.
    """

    time_zone: str = "UTC"
    work_days: Sequence[str] = WEEKDAYS[:5]
    opens: str = "08:00"
    closes: str = "16:00"
    holidays: Sequence[str] = ()

    def __post_init__(self) -> None:
        problems = calendar_problems(self.time_zone, self.work_days, self.opens, self.closes, self.holidays)
        if problems:
            raise InvalidParameterError("The work calendar is not valid: " + "; ".join(problems) + ".")
        object.__setattr__(self, "work_days", tuple(self.work_days))
        object.__setattr__(self, "holidays", tuple(self.holidays))

    def days(self, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
        """The calendar's local days from `first` to `last`, inclusive.

        Returns
        -------
        pandas.DataFrame
            day_start (the local midnight, UTC), opens and closes (UTC instants; both the
            midnight on a day off), seconds (worked that day) and worked_before (seconds worked
            on the earlier days of the frame).
        """
        zone = self.time_zone
        local = pd.date_range(pd.Timestamp(first).date(), pd.Timestamp(last).date(), freq="D")
        working = local.day_of_week.isin([WEEKDAYS.index(d) for d in self.work_days]) & ~local.isin(
            pd.to_datetime(list(self.holidays)))

        def at(offset: str) -> pd.DatetimeIndex:
            moments = local + pd.Timedelta(offset)
            return moments.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward").tz_convert("UTC")

        start = at("0s")
        opens = at(self.opens + ":00").where(working, start)
        closes = at(self.closes + ":00").where(working, start)
        seconds = pd.Series((closes - opens).total_seconds(), index=range(len(local))).fillna(0.0)
        return pd.DataFrame({
            "day_start": start, "opens": opens, "closes": closes, "seconds": seconds.to_numpy(),
            "worked_before": (seconds.cumsum() - seconds).to_numpy(),
        })


def covering_days(calendar: WorkCalendar | None, first: object, last: object) -> pd.DataFrame | None:
    """The calendar's days (see :meth:`WorkCalendar.days`) from a day before instant `first` to a day after `last`.

    None without a calendar or without instants, so that the working time stays empty.
    """
    if calendar is None or first is None or last is None:
        return None
    zone = ZoneInfo(calendar.time_zone)
    return calendar.days(pd.Timestamp(first).tz_convert(zone) - pd.Timedelta(days=1),
                         pd.Timestamp(last).tz_convert(zone) + pd.Timedelta(days=1))


def calendar_problems(
    time_zone: object, work_days: object, opens: object, closes: object, holidays: object
) -> list[str]:
    """What is wrong with a calendar's settings (see :class:`WorkCalendar`), one message per problem."""
    found = []
    try:
        ZoneInfo(str(time_zone))
    except (ZoneInfoNotFoundError, ValueError):
        found.append(f"time_zone {time_zone!r} is not an IANA time zone such as 'Asia/Dubai'")
    if not isinstance(work_days, (list, tuple)) or not all(d in WEEKDAYS for d in work_days):
        found.append(f"work_days {work_days!r} must be a list of {', '.join(WEEKDAYS)}")
    hours = []
    for name, value in (("opens", opens), ("closes", closes)):
        try:
            hours.append(time.fromisoformat(value))
        except (ValueError, TypeError):
            found.append(f"{name} {value!r} is not a time such as '07:30'")
    if len(hours) == 2 and hours[0] >= hours[1]:
        found.append(f"closing time {closes} must be after opening time {opens}")
    if not isinstance(holidays, (list, tuple)):
        return [*found, f"holidays {holidays!r} must be a list of dates such as ['2025-03-30']"]
    for holiday in holidays:
        try:
            date.fromisoformat(holiday)
        except (ValueError, TypeError):
            found.append(f"holiday {holiday!r} is not a date such as '2025-03-30'")
    return found


def days_by_utc_day(days: pd.DataFrame) -> pd.DataFrame:
    """The calendar's days keyed by each UTC day (days since 1970) they overlap: one or two rows a day.

    Joining an instant on its UTC day and keeping the local day that holds it finds its day with an
    equality join, which every engine runs (Spark has no as-of join).
    """
    start = days["day_start"]
    following = start.shift(-1).fillna(start.iloc[-1] + pd.Timedelta(days=1)) if len(days) else start
    epoch = pd.Timestamp(0, tz="UTC")
    first = (start - epoch) // pd.Timedelta(days=1)
    last = (following - pd.Timedelta(microseconds=1) - epoch) // pd.Timedelta(days=1)
    keyed = days.assign(next_start=following, utc_day=[list(range(a, b + 1)) for a, b in zip(first, last, strict=True)])
    return keyed.explode("utc_day").astype({"utc_day": "int64"}).reset_index(drop=True)


def _worked_until(table: Table, days: Table, column: str, name: str) -> Table:
    """Add `name`: the seconds worked from the first calendar day up to the instant in `column`."""
    days = days.view()  # a fresh reference, so that the table can be joined once per column
    keyed = table.mutate(_utc_day=(table[column].epoch_seconds() // 86400).cast("int64"))
    joined = keyed.join(days, [keyed._utc_day == days.utc_day, keyed[column] >= days.day_start,
                               keyed[column] < days.next_start])
    since_open = joined[column].epoch_seconds() - joined.opens.epoch_seconds()
    worked = joined.worked_before + ibis.greatest(ibis.least(since_open, joined.seconds), 0)
    return joined.select(*table.columns, **{name: worked})


def with_working_time(journeys: Table, days: Table | None) -> Table:
    """Add ``working_seconds`` to each journey: its duration within working hours.

    Parameters
    ----------
    journeys : ibis Table
        With ``start`` and ``end`` instants.
    days : ibis Table, optional
        :func:`days_by_utc_day` of :meth:`WorkCalendar.days` over a span that covers every journey
        (see :func:`covering_days`), as a table of the journeys' engine; None leaves the working
        time empty.
    """
    if days is None:
        return journeys.mutate(working_seconds=ibis.null("float64"))
    started = _worked_until(journeys, days, "start", "_worked_at_start")
    ended = _worked_until(started, days, "end", "_worked_at_end")
    return ended.mutate(
        working_seconds=(ended._worked_at_end - ended._worked_at_start).cast("float64")
    ).drop("_worked_at_start", "_worked_at_end")


def registered_calendar(store: JourneyTables) -> WorkCalendar | None:
    """The work calendar registered with the catalogue, if any."""
    if not store.has_table("work_calendar"):
        return None
    rows = store.backend.table("work_calendar").to_pandas()
    if rows.empty:
        return None
    row = rows.iloc[0]
    return WorkCalendar(row.time_zone, tuple(row.work_days), row.opens, row.closes, tuple(row.holidays))
