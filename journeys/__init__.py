"""najma.journeys: event logs -> store -> journeys, steps, process maps, conformance and redesigns.

The flat API: open a store, load sources into it, build the journeys, and ask. Every name is
imported on first use, so importing the package costs nothing until a verb is needed (pm4py, for
discovering a process tree and writing BPMN, takes a second to load; conformance runs without it).
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(__name__, submod_attrs={
    "_store": ["Store", "BatchResult", "default_store_path"],
    "_formats": ["open_source"],
    "_eventlog": ["EventLog"],
    "_mapping": ["ColumnMapping", "XES_MAPPING", "parse_mapping"],
    "_normalise": ["check_time_format"],
    "_schema": ["EVENT_COLUMNS"],
    "_columns": ["OPTIONAL_COLUMNS", "HeldColumns", "held_columns"],
    "_catalogue": ["Catalogue", "LifeEvent", "load_catalogue", "parse_catalogue", "draft_catalogue", "add_life_event", "adding_life_event"],
    "_build": ["build_journeys", "register_catalogue"],
    "_pipeline": ["JourneyPipeline", "VARIANT_SEP"],
    "_quarter": ["quarter_bounds", "quarter_name", "previous_quarter", "next_quarter", "quarter_of", "quarter_expr", "quarter_zone"],
    "_filters": ["CaseFilter"],
    "_variants": ["journey_table", "journey_summary", "variants", "variant_activities"],
    "_process_map": ["ProcessMap", "process_map"],
    "_rework": ["rework", "rework_steps", "rework_per_activity", "REWORK_COLUMNS"],
    "_life_events": ["life_event_journeys", "linked_cases"],
    "_handover": ["handovers", "handover_matrix", "handover_network", "HANDOVER_LEVELS", "HANDOVER_NEEDS", "HANDOVER_EPISODE_DAYS"],
    "_bundles": ["BundleCandidates", "discover_bundles", "NEEDED_BY"],
    "_proactive": ["ProactiveCandidates", "discover_proactive", "PROACTIVE_NEEDED_BY"],
    "_discovery": ["Evidence", "evidence"],
    "_redesign": ["AutomateActivity", "MergeActivities", "MoveToChannel", "RemoveActivity", "project_journeys"],
    "_conformance_checking": ["Conformance", "conformance", "designed_journeys", "designed_steps"],
    "_designed": ["Tree", "parse_tree", "read_bpmn"],
    "_pm4py_adapter": ["discover_process_tree", "to_petri_net", "to_bpmn", "write_bpmn", "process_tree"],
    "_surveys": ["SurveyLoad", "SurveySummary", "load_survey", "survey_links", "case_satisfaction", "survey_summary", "has_answers"],
})
