"""najma.dashboards: all that a person sees: plotly figures, the Dash app, the quarterly report, the command line.

The figures are pure functions shared by the app's pages and the report, so the screen and the
PDF show the same picture. Every name is imported on first use.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(__name__, submod_attrs={
    "_app": ["create_app", "serve"],
    "_data": ["DashboardData"],
    "_report": ["ReportFiles", "write_report"],
    "_access": ["Access", "hash_password"],
    "_i18n": ["display_names"],
    "_figures": [
        "process_map_figure", "star_distribution_figure", "customer_steps_figure", "kpi_scores_figure", "trend_figure",
        "pillar_scores_figure", "variant_figure", "sankey_figure", "star_probability_figure", "coverage_figure",
    ],
    "_static_images": ["write_static_image"],
})
