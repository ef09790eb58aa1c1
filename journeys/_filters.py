"""Which cases a question is about: a filter over the journey table, turned into an Ibis predicate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

import ibis
import pandas as pd
from ibis.expr.types import BooleanValue, Table, TimestampValue

from najma.errors import InvalidEventLogError, InvalidParameterError
from najma.journeys._quarter import quarter_bounds, quarter_zone
from najma.journeys._tables import JourneyTables

__all__ = ["CaseFilter"]

#: Canonical text columns of an event that the attribute filter reads directly.
_EVENT_TEXT = ("activity", "channel", "agency", "resource", "actor", "lifecycle")


@dataclass(frozen=True)
class CaseFilter:
    """Keep the cases that match every given criterion (None means any).

    Parameters
    ----------
    service : str or sequence of str, optional
        The case's service.
    quarter : str, optional
        The quarter the case started in, e.g. ``"2025Q1"``, in zone `tz`.
    start, end : datetime-like, optional
        The case started at or after `start` and before `end`.
    channel : str, optional
        The channel of the case's first event.
    agency : str, optional
        The agency of the case's first event.
    variants : sequence of str, optional
        The case's variant is one of these (in the text form of :data:`najma.journeys.VARIANT_SEP`).
    outcome : str, optional
        completed, rejected, abandoned or open.
    attribute : (str, str), optional
        (name, value): some event of the case has this value, in a canonical text column
        (activity, channel, agency, resource, actor, lifecycle) or in a kept source attribute.
    tz : str, optional
        The zone in which `quarter` is read. By default the zone of the store asked, its
        catalogue's (see :func:`najma.journeys.quarter_zone`), so that every view counts the same cases.

    Examples
    --------
    >>> CaseFilter(service="passport", attribute=("channel", "smart app")).is_empty
    False
    """

    service: str | Sequence[str] | None = None
    quarter: str | None = None
    start: object = None
    end: object = None
    channel: str | None = None
    agency: str | None = None
    variants: Sequence[str] | None = None
    outcome: str | None = None
    attribute: tuple[str, str] | None = None
    tz: str | None = None

    def __post_init__(self) -> None:
        if self.attribute is not None and not (
            isinstance(self.attribute, tuple) and len(self.attribute) == 2 and all(isinstance(x, str) for x in self.attribute)
        ):
            raise InvalidEventLogError(
                f"The 'attribute' parameter of CaseFilter must be a (name, value) pair of strings. Got {self.attribute!r} instead."
            )

    def in_zone_of(self, store: JourneyTables) -> CaseFilter:
        """This filter with its quarter read in `store`'s zone, unless it names a zone of its own."""
        if self.tz is not None or self.quarter is None:
            return self
        return replace(self, tz=quarter_zone(store))

    def predicates(self, journeys: Table) -> list[BooleanValue]:
        """Return the Ibis predicates over the journey table; filter values are literals."""
        found = self.span_predicates(journeys, journeys.start)
        if self.channel is not None:
            found.append(journeys.first_channel == self.channel)
        if self.agency is not None:
            found.append(journeys.first_agency == self.agency)
        if self.variants is not None:
            found.append(journeys.variant.isin(list(self.variants)))
        if self.outcome is not None:
            found.append(journeys.outcome == self.outcome)
        return found

    def span_predicates(self, table: Table, start: TimestampValue) -> list[BooleanValue]:
        """Return the predicates on the service and on the case's `start` alone.

        Any table with a ``service`` column and the start of each row's case takes them: the
        journey table (``start``) and the steps table (``case_start``), which then needs no join.
        """
        found: list[BooleanValue] = []
        if self.service is not None:
            services = [self.service] if isinstance(self.service, str) else list(self.service)
            found.append(table.service.isin(services))
        bounds = [(self.start, self.end)]
        if self.quarter is not None:
            if self.tz is None:
                raise InvalidEventLogError("CaseFilter reads its quarter in a zone; give 'tz', or ask through a verb that takes the store "
                                           "(it reads the quarter in the store's zone).")
            bounds.append(quarter_bounds(self.quarter, self.tz))
        for low, high in bounds:
            if low is not None:
                found.append(start >= ibis.literal(pd.Timestamp(low, tz=None if _aware(low) else "UTC")))
            if high is not None:
                found.append(start < ibis.literal(pd.Timestamp(high, tz=None if _aware(high) else "UTC")))
        return found

    @property
    def spans_only(self) -> bool:
        """True when the filter asks only about the service and the case's start (see :meth:`span_predicates`)."""
        return all(getattr(self, name) is None for name in ("channel", "agency", "variants", "outcome", "attribute"))

    def apply(self, journeys: Table, events: Table | None = None) -> Table:
        """Return the journeys that pass the filter; `events` is needed for the attribute filter."""
        predicates = self.predicates(journeys)
        kept = journeys.filter(*predicates) if predicates else journeys
        if self.attribute is None:
            return kept
        if events is None:
            raise InvalidParameterError("CaseFilter.apply needs the events table to filter on an attribute.")
        name, value = self.attribute
        column = events[name] if name in _EVENT_TEXT else events.attributes[name].str
        having = events.filter(column == value).select("service", "case_id")
        return kept.semi_join(having, ["service", "case_id"])

    @property
    def is_empty(self) -> bool:
        """True when the filter keeps every case."""
        return all(getattr(self, f.name) is None for f in fields(self) if f.name != "tz")


def _aware(value: object) -> bool:
    return pd.Timestamp(value).tzinfo is not None
