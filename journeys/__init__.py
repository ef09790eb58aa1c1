"""journeys: event logs -> store -> journeys, steps and process maps.

The flat API: open a store, load sources into it, and ask an :class:`EventLog` over it.
"""

from journeys.errors import CatalogueError, InvalidEventLogError, NajmaError, SourceReadError, StoreError
from journeys.formats import open_source
from journeys.mapping import XES_MAPPING, ColumnMapping, parse_mapping
from journeys.schema import EVENT_COLUMNS
from journeys.store import BatchResult, Store, default_store_path

__all__ = [
    "BatchResult",
    "CatalogueError",
    "ColumnMapping",
    "EVENT_COLUMNS",
    "InvalidEventLogError",
    "NajmaError",
    "SourceReadError",
    "Store",
    "StoreError",
    "XES_MAPPING",
    "default_store_path",
    "open_source",
    "parse_mapping",
]
