"""najma.rating: journeys -> KPIs per service and quarter -> stars, with their trust and explanation, as data.

The flat API: :func:`rate` rates every service and quarter of a store; :class:`StarRater` is the
model as a scikit-learn estimator, calibratable against expert ratings; :func:`what_if` rates a
redesign; the explanation verbs say why a rating is what it is and what earns the next star; and
:func:`rating_cards` gathers all that people are shown of each rating into a :class:`RatingCard`.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(__name__, submod_attrs={
    "_ratings": ["rate", "rate_quarter", "rate_features", "finish_ratings", "INSUFFICIENT", "INSUFFICIENT_EVIDENCE", "RATED", "Shortfall", "evidence_shortfalls", "star_columns", "quarter_with_change"],
    "_what_if": ["what_if", "RedesignOption", "redesign_options", "describe_redesign"],
    "_card": ["KpiMove", "RatingCard", "rating_card", "rating_cards"],
    "_kpis": ["KPIS", "Kpi", "MIXED", "NOT_APPLICABLE_WITHIN", "case_features", "kpi_table"],
    "_model": ["StarRater", "agreement"],
    "_explain": ["REACH", "Advice", "describe_advice", "describe_plan", "format_value", "kpi_breakdown", "next_star_advice", "next_star_plan", "quarter_change"],
    "_history": ["record_ratings", "rating_history"],
    "_publish": ["Publication", "publish"],
    "_shown": ["Provenance", "ShownQuarter", "quarter_ratings"],
    "_published": ["publications", "published_ratings", "published_before", "revision_changes"],
    "_suppression": ["MIN_GROUP", "SUPPRESSED", "check_min_group", "too_few", "customers_per_group", "suppress_ratings",
                     "suppress_quarter", "shown_ratings", "kept_groups", "merged_bins", "suppress_map", "cases_per_quarter"],
    "_config": ["PILLARS", "Curve", "RatingConfig", "default_config", "load_config", "parse_config"],
})
