"""Where the journey tables are read: the DuckDB store or a Spark session's tables.

Process maps, variants and KPIs are Ibis expressions over the tables ``steps``, ``journeys``,
``events`` and the catalogue's; they run on whichever engine holds them. A :class:`najma.journeys.Store`
holds them in a DuckDB file; :class:`najma.spark.SparkTables` on a Spark session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import ibis

from najma.errors import StoreError

__all__ = ["JourneyTables", "require_journeys"]


class JourneyTables(Protocol):
    """The journey tables of one engine, as an Ibis backend."""

    @property
    def path(self) -> Path | str:
        """Where the tables live, named in messages."""

    @property
    def backend(self) -> ibis.BaseBackend:
        """The engine's Ibis backend, whose ``table(name)`` gives each table."""

    def has_table(self, name: str) -> bool:
        """Whether the engine holds a table called `name`."""


def require_journeys(tables: JourneyTables) -> None:
    """Refuse `tables` whose journeys are not built.

    Raises
    ------
    StoreError
        Naming where the tables live, with ``parameter="store"``.
    """
    if not tables.has_table("journeys"):
        raise StoreError(f"{tables.path}: the journeys are not built; build them with najma.build_journeys(store)",
                         parameter="store")
