"""The quarterly rating report: one HTML file with its pictures inline, and the same printed to PDF.

It holds the services and their stars with the change since last quarter, the distribution of
stars, a page per service (journey map, customer steps, KPIs against targets, the explanation and
next-star advice), data coverage and quarantined rows, and the model's version and config hash.
The charts are the figures of :mod:`dashboards.figures`, drawn by kaleido through Chromium; the
PDF is printed by the same Chromium. In Arabic the pages read right to left in Noto Arabic fonts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pandas as pd
import plotly.graph_objects as go

from najma.dashboards._data import cases_per_quarter
from najma.dashboards._figures import customer_steps_figure, kpi_scores_figure, process_map_figure, star_distribution_figure
from najma.dashboards._i18n import advice_text, change_text, direction, display_names, kpi_label, star_marks, text
from najma.dashboards._static_images import figures_as_svg, print_pdf
from najma.journeys import CaseFilter, Store, process_map, quarter_zone
from najma.rating import (
    KPIS,
    RATED,
    RatingConfig,
    case_features,
    default_config,
    format_value,
    kpi_breakdown,
    next_star_plan,
    quarter_change,
    rate_quarter,
)
from najma.journeys import previous_quarter

__all__ = ["ReportFiles", "write_report"]

Progress = Callable[[str], None]
#: Share of events and edges the journey map of a service page keeps (see ProcessMap.abstract).
MAP_COVERAGE = 0.9
#: The greatest height (pixels) of a journey map on a service page, so that a page holds it.
MAP_HEIGHT = 520
_FONTS = {"en": "Noto Sans, DejaVu Sans, Arial, sans-serif",
          "ar": "Noto Sans Arabic, Noto Naskh Arabic, Noto Sans, sans-serif"}
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("dashboards", "templates"), autoescape=True, undefined=jinja2.StrictUndefined
)


@dataclass(frozen=True)
class ReportFiles:
    """The files a report was written to."""

    html: Path
    pdf: Path | None


def write_report(
    store: Store, quarter: str, out_dir: str | Path, *, lang: str = "en", config: RatingConfig | None = None,
    draws: int = 200, pdf: bool = True, progress: Progress | None = None,
) -> ReportFiles:
    """Write the rating report of `quarter` to `out_dir` as ``rating-report-<quarter>-<lang>.html`` and ``.pdf``.

    Parameters
    ----------
    store : Store
        A store whose journeys are built.
    quarter : str
        The quarter, e.g. ``"2025Q4"``.
    out_dir : path
        The folder to write into (created if need be).
    lang : {"en", "ar"}
        The report's language; Arabic reads right to left.
    config : RatingConfig, optional
        The rating model; the shipped default by default.
    draws : int, default 200
        Bootstrap draws for each rating's uncertainty.
    pdf : bool, default True
        Also print the PDF (needs Chromium).
    progress : callable, optional
        Called with the name of each stage as it starts.
    """
    say = progress or (lambda _stage: None)
    config = config or default_config()
    text("quarter", lang)  # refuses an unknown language before any work is done
    say("rating")
    features = case_features(store, satisfied_at=config.satisfied_at)
    ratings, before = rate_quarter(store, quarter, config, draws, features=features)
    names = display_names(store, lang)
    say("journey maps")
    pages = [_service_page(store, row, before, features, quarter, config, names, lang) for _, row in ratings.iterrows()]
    say("charts")
    stars = star_distribution_figure(ratings["stars"], lowest=config.lowest_star, x_title=text("stars", lang),
                                     y_title=text("service", lang))
    figures = [stars] + [f for page in pages for f in page.pop("figures")]
    for figure in figures:
        figure.update_layout(font={"family": _FONTS[lang]})
    svgs = iter(figures_as_svg(figures))
    overview_svg = next(svgs)
    for page in pages:
        page["map_svg"], page["steps_svg"], page["kpis_svg"] = next(svgs), next(svgs), next(svgs)
    say("writing")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    html = out / f"rating-report-{quarter}-{lang}.html"
    html.write_text(_TEMPLATES.get_template("report.html.j2").render(
        t=lambda key: text(key, lang), lang=lang, dir=direction(lang), font=_FONTS[lang], quarter=quarter,
        rows=_overview_rows(ratings, names, lang), stars_svg=overview_svg, pages=pages, config=config,
        coverage=_coverage(features, quarter, names), quarantine=_quarantine(store),
    ), encoding="utf-8")
    printed = None
    if pdf:
        say("printing the PDF")
        printed = print_pdf(html, html.with_suffix(".pdf"))
    return ReportFiles(html, printed)


def _overview_rows(ratings: pd.DataFrame, names: dict, lang: str) -> list[dict[str, str]]:
    rows = []
    for row in ratings.itertuples(index=False):
        rated = row.status == RATED
        rows.append({
            "service": names["service"].get(row.service, row.service), "key": row.service, "cases": f"{row.cases:,}",
            "stars": star_marks(row.stars) if rated else text("insufficient", lang),
            "number": "" if not rated else str(int(row.stars)), "change": change_text(row.change, lang),
            "score": "" if not rated else f"{row.score:.1f}",
            **{p: "" if not rated else f"{getattr(row, p):.1f}" for p in ("efficiency", "effectiveness", "steps")},
            "confidence": "" if not rated or pd.isna(getattr(row, f"p_{int(row.stars)}"))
            else f"{getattr(row, f'p_{int(row.stars)}'):.0%}",
        })
    return rows


def _service_page(store: Store, row: pd.Series, before: pd.DataFrame, features: pd.DataFrame, quarter: str,
                  config: RatingConfig, names: dict, lang: str) -> dict[str, object]:
    where = CaseFilter(service=row.service, quarter=quarter, tz=quarter_zone(store))
    graph = process_map(store, where).abstract(MAP_COVERAGE)
    cases = features[(features["service"] == row.service) & (features["quarter"] == quarter)]
    breakdown = kpi_breakdown(row, config)
    breakdown["label"] = [kpi_label(k, lang) for k in breakdown["kpi"]]
    journey_map = process_map_figure(graph, "frequency", labels=names["activity"])
    journey_map.update_layout(height=min(journey_map.layout.height, MAP_HEIGHT))
    figures: list[go.Figure] = [
        journey_map,
        customer_steps_figure(cases.loc[cases["completed"] == 1, "customer_steps"], x_title=text("steps", lang),
                              y_title=text("cases", lang)),
        kpi_scores_figure(breakdown, x_title=f"{text('score', lang)} (100 = {text('target', lang)})"),
    ]
    rated = row.status == RATED
    previous = before[before["service"] == row.service]
    changes = []
    if rated and len(previous) and previous.iloc[0].status == RATED:
        for change in quarter_change(row, previous.iloc[0], config).head(3).itertuples():
            unit = KPIS[change.kpi].unit
            changes.append(f"{kpi_label(change.kpi, lang)}: {format_value(change.before, unit)} → {format_value(change.now, unit)} "
                           f"({change.points:+.1f})")
    if not rated:
        advice = [text("insufficient", lang)]
    elif int(row.stars) >= config.highest_star:
        advice = [text("highest_star", lang)]
    else:
        advice = [advice_text(a, config, lang) for a in next_star_plan(row, config)] or [text("no_advice", lang)]
    return {
        "key": row.service, "name": names["service"].get(row.service, row.service),
        "agency": names["service_agency"].get(row.service, ""), "cases": f"{row.cases:,}",
        "stars": star_marks(row.stars) if rated else text("insufficient", lang),
        "score": f"{row.score:.1f}" if rated else "", "changes": changes, "advice": advice,
        "probabilities": [(c[2:], f"{row[c]:.0%}") for c in row.index if c.startswith("p_") and row[c] > 0],
        "kpis": [
            {"label": kpi_label(k.kpi, lang), "value": format_value(k.value, KPIS[k.kpi].unit) if not k.missing
             else f"{text('no_data', lang)} {k.missing}", "target": format_value(k.target, KPIS[k.kpi].unit),
             "score": "" if pd.isna(k.score) else f"{k.score:.0f}", "points": f"{k.points:.1f}"}
            for k in breakdown.itertuples()
        ],
        "figures": figures,
    }


def _coverage(features: pd.DataFrame, quarter: str, names: dict) -> dict[str, object]:
    """Cases per service in the four quarters up to `quarter`."""
    quarters = [quarter]
    for _ in range(3):
        quarters.insert(0, previous_quarter(quarters[0]))
    counts = cases_per_quarter(features, quarters)
    return {"quarters": quarters, "rows": [(names["service"].get(s, s), [f"{v:,}" for v in counts.loc[s]])
                                           for s in counts.index]}


def _quarantine(store: Store) -> list[tuple[str, str, str]]:
    rows = store.con.execute(
        "SELECT source, reason, count(*) FROM quarantine GROUP BY source, reason ORDER BY source, count(*) DESC"
    ).fetchall()
    return [(source, reason, f"{count:,}") for source, reason, count in rows]
