"""najma: customer-journey analytics and star ratings of government services, from their event logs.

The flat facade of what the README teaches. Load logs into a store, build the journeys, ask for
maps and variants, rate every service and quarter, and publish::

    import najma

    with najma.Store("najma.duckdb") as store:
        najma.load_sample(store)
        ratings = najma.rate(store, quarters=["2025Q4"])

Every name is imported on first use, so ``import najma`` is quick and the command line answers at
once; the floors are :mod:`najma.journeys`, :mod:`najma.rating` and :mod:`najma.dashboards`, and
:mod:`najma.errors` holds the one family of errors najma raises.
"""

import lazy_loader

__version__ = "0.1.0"

__getattr__, __dir__, __all__ = lazy_loader.attach(__name__, submodules=["errors", "journeys", "rating", "dashboards", "sample", "spark"], submod_attrs={
    "errors": ["NajmaError", "InvalidParameterError", "InvalidEventLogError", "SourceReadError", "StoreError", "OutdatedStoreError", "CatalogueError", "RatingConfigError", "AccessError"],
    "journeys": [
        "Store", "open_source", "parse_mapping", "ColumnMapping", "EventLog",
        "Catalogue", "load_catalogue", "parse_catalogue", "draft_catalogue", "register_catalogue", "build_journeys",
        "CaseFilter", "quarter_bounds", "quarter_zone", "previous_quarter", "next_quarter",
        "journey_table", "journey_summary", "variants", "process_map", "rework_per_activity", "rework", "life_event_journeys", "linked_cases",
        "handovers", "handover_matrix", "handover_network",
        "load_survey", "survey_summary", "survey_links",
        "conformance", "discover_process_tree", "to_bpmn", "write_bpmn",
        "AutomateActivity", "MergeActivities", "MoveToChannel", "RemoveActivity", "project_journeys",
        "BundleCandidates", "discover_bundles", "ProactiveCandidates", "discover_proactive", "LifeEvent", "add_life_event",
    ],
    "rating": [
        "rate", "rate_quarter", "kpi_table", "case_features", "what_if", "StarRater", "agreement",
        "kpi_breakdown", "next_star_plan", "describe_advice", "rating_history", "RatingCard", "rating_cards",
        "RatingConfig", "default_config", "load_config", "publish", "publications", "published_ratings",
        "quarter_ratings", "redesign_options", "describe_plan",
    ],
    "dashboards": ["create_app", "serve", "DashboardData", "write_report"],
    "sample": ["load_sample", "generate"],
})
