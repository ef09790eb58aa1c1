"""journeys: event logs -> store -> journeys, steps, process maps, conformance and redesigns.

The flat API: open a store, load sources into it, build the journeys, and ask. The verbs that
need pm4py (discovery and conformance) are imported on first use, as pm4py takes a second to load.
"""

from importlib import import_module

from journeys.build import VARIANT_SEP, build_journeys, journeys_outdated, quarter_zone, register_catalogue
from journeys.catalogue import Catalogue, load_catalogue, parse_catalogue
from journeys.errors import CatalogueError, InvalidEventLogError, NajmaError, SourceReadError, StoreError
from journeys.formats import open_source
from journeys.mapping import XES_MAPPING, ColumnMapping, parse_mapping
from journeys.schema import EVENT_COLUMNS
from journeys.filters import CaseFilter, quarter_bounds
from journeys.life_events import life_event_journeys, linked_cases
from journeys.process_map import ProcessMap, process_map, rework_per_activity
from journeys.redesign import AutomateActivity, MergeActivities, MoveToChannel, RemoveActivity, project_journeys
from journeys.store import BatchResult, Store, default_store_path
from journeys.variants import journey_table, variant_activities, variants

#: Names served on first use from the modules that import pm4py. No module may share a name with
#: what it serves: importing it would set the package's attribute to the module.
_LAZY = {
    "Conformance": "journeys.conformance_checking",
    "conformance": "journeys.conformance_checking",
    "designed_journeys": "journeys.conformance_checking",
    "discover_process_tree": "journeys.pm4py_adapter",
    "to_petri_net": "journeys.pm4py_adapter",
    "to_bpmn": "journeys.pm4py_adapter",
    "write_bpmn": "journeys.pm4py_adapter",
}

__all__ = [  # noqa: RUF022 - grouped by theme
    "Conformance",
    "conformance",
    "designed_journeys",
    "discover_process_tree",
    "to_petri_net",
    "to_bpmn",
    "write_bpmn",
    "AutomateActivity",
    "MergeActivities",
    "MoveToChannel",
    "RemoveActivity",
    "project_journeys",
    "life_event_journeys",
    "linked_cases",
    "BatchResult",
    "CaseFilter",
    "Catalogue",
    "ProcessMap",
    "VARIANT_SEP",
    "build_journeys",
    "journey_table",
    "journeys_outdated",
    "load_catalogue",
    "parse_catalogue",
    "process_map",
    "quarter_bounds",
    "register_catalogue",
    "quarter_zone",
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


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'journeys' has no attribute {name!r}")
