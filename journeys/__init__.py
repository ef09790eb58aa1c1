"""journeys: event logs -> store -> journeys, steps and process maps.

The flat API: open a store, load sources into it, and ask an :class:`EventLog` over it.
"""

from journeys.build import VARIANT_SEP, build_journeys, register_catalogue
from journeys.catalogue import Catalogue, load_catalogue
from journeys.errors import CatalogueError, InvalidEventLogError, NajmaError, SourceReadError, StoreError
from journeys.formats import open_source
from journeys.mapping import XES_MAPPING, ColumnMapping, parse_mapping
from journeys.schema import EVENT_COLUMNS
from journeys.filters import CaseFilter, quarter_bounds
from journeys.process_map import ProcessMap, process_map, rework_per_activity
from journeys.store import BatchResult, Store, default_store_path
from journeys.variants import journey_table, variant_activities, variants

__all__ = [
    "BatchResult",
    "CaseFilter",
    "Catalogue",
    "ProcessMap",
    "VARIANT_SEP",
    "build_journeys",
    "journey_table",
    "load_catalogue",
    "process_map",
    "quarter_bounds",
    "register_catalogue",
    "rework_per_activity",
    "variant_activities",
    "variants",
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
