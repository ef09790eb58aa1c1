"""Which optional columns a store holds: the canonical columns beyond case, activity and timestamp
that its events carry values in, service by service.

Logs come from many systems, each with some columns and not others. A figure or KPI that needs a
column the log lacks says so instead of showing zeros; this module is where that is read, once,
from the store's ``events`` table.

Examples
--------
>>> held = HeldColumns({"permit": frozenset({"resource"}), "visa": frozenset({"channel", "resource"})})
>>> sorted(held.of("permit")), sorted(held.of())
(['resource'], ['channel', 'resource'])
>>> held.lacking("channel"), held.lacking("channel", "visa")
(['permit'], [])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from najma.journeys._schema import EVENT_COLUMNS
from najma.journeys._tables import JourneyTables

__all__ = ["OPTIONAL_COLUMNS", "HeldColumns", "held_columns"]

#: The optional canonical columns a log may or may not have (every event has a service once loaded).
OPTIONAL_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in EVENT_COLUMNS if not c.required and c.kind != "internal" and c.name != "service"
)


@dataclass(frozen=True)
class HeldColumns:
    """The optional columns with at least one value, per service.

    Parameters
    ----------
    by_service : mapping of str to frozenset of str
        Each service's columns (of :data:`OPTIONAL_COLUMNS`) that hold a value in some event.
    """

    by_service: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def of(self, service: str | None = None) -> frozenset[str]:
        """The columns `service` holds; without a service, those any service holds."""
        if service is not None:
            return self.by_service.get(service, frozenset())
        return frozenset().union(*self.by_service.values())

    def lacking(self, column: str, service: str | None = None) -> list[str]:
        """The services (`service` alone when given) without a value in `column`, sorted."""
        services = [service] if service is not None else sorted(self.by_service)
        return [s for s in services if column not in self.of(s)]


def held_columns(store: JourneyTables) -> HeldColumns:
    """Read which optional columns each service of `store` holds (present and not all null).

    Parameters
    ----------
    store : Store or SparkTables
        A store (its ``events`` table is read).

    Returns
    -------
    HeldColumns
        Empty when the store holds no events table.
    """
    if not store.has_table("events"):
        return HeldColumns()
    events = store.backend.table("events")
    counts = events.group_by("service").aggregate(**{name: events[name].count() for name in OPTIONAL_COLUMNS})
    rows = counts.to_pyarrow().to_pylist()
    return HeldColumns({row["service"]: frozenset(c for c in OPTIONAL_COLUMNS if row[c]) for row in rows})
