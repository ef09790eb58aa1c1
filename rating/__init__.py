"""rating: journeys -> KPIs per service and quarter -> stars, with their trust and explanation, as data.

The flat API: :func:`rate` rates every service and quarter of a store; :class:`StarRater` is the
model as a scikit-learn estimator, calibratable against expert ratings; :func:`what_if` rates a
redesign; the explanation verbs say why a rating is what it is and what earns the next star.
"""

from rating.config import PILLARS, Curve, RatingConfig, RatingConfigError, default_config, load_config, parse_config
from rating.explain import Advice, describe_advice, format_value, kpi_breakdown, next_star_advice, next_star_plan, quarter_change
from rating.history import rating_history, record_ratings
from rating.kpis import KPIS, Kpi, case_features, kpi_table
from rating.model import StarRater, agreement
from rating.ratings import INSUFFICIENT, RATED, rate, rate_features, rate_quarter, star_columns
from rating.what_if import what_if

__all__ = [  # noqa: RUF022 - grouped by theme
    "rate",
    "rate_quarter",
    "rate_features",
    "what_if",
    "kpi_table",
    "case_features",
    "StarRater",
    "agreement",
    "kpi_breakdown",
    "next_star_advice",
    "next_star_plan",
    "describe_advice",
    "format_value",
    "quarter_change",
    "Advice",
    "record_ratings",
    "rating_history",
    "RatingConfig",
    "RatingConfigError",
    "Curve",
    "default_config",
    "load_config",
    "parse_config",
    "KPIS",
    "Kpi",
    "PILLARS",
    "INSUFFICIENT",
    "RATED",
    "star_columns",
]
