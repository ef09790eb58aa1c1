"""The quarterly rating report: one HTML file with its pictures inline, and the same printed to PDF.

It holds the services and their stars with the change since last quarter, the distribution of
stars, a page per service (journey map, customer steps, KPIs against targets, the explanation and
next-star advice), data coverage and quarantined rows, the methodology (the small-group rule of
:mod:`najma.rating._suppression`: a service of fewer than `min_group` customers gets no page and
shows no count, and no chart or table shows a smaller group), and the model's version and config hash.
The charts are the figures of :mod:`najma.dashboards._figures`, drawn by kaleido through Chromium; the
PDF is printed by the same Chromium. In Arabic the pages read right to left in Noto Arabic fonts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ibis
import jinja2
import pandas as pd
import plotly.graph_objects as go

from najma.dashboards._figures import customer_steps_figure, kpi_scores_figure, process_map_figure, star_distribution_figure
from najma.dashboards._i18n import (
    card_lines,
    change_text,
    column_notes,
    direction,
    display_names,
    kpi_label,
    methodology,
    move_text,
    needs_text,
    number_text,
    percent_text,
    plan_text,
    rating_text,
    source_lines,
    text,
)
from najma.dashboards._static_images import figures_as_svg, print_pdf
from najma.journeys import CaseFilter, Store, held_columns, previous_quarter, process_map
from najma.rating import (
    KPIS,
    PILLARS,
    RatingCard,
    RatingConfig,
    case_features,
    default_config,
    format_value,
    quarter_ratings,
    rating_cards,
)
from najma.rating._suppression import (
    MIN_GROUP,
    SUPPRESSED,
    cases_per_quarter,
    check_min_group,
    suppress_map,
    suppress_quarter,
)

__all__ = ["ReportFiles", "write_report"]

Progress = Callable[[str], None]
#: Share of events and edges the journey map of a service page keeps (see ProcessMap.abstract).
MAP_COVERAGE = 0.9
#: The greatest height (pixels) of a journey map on a service page, so that a page holds it.
MAP_HEIGHT = 520
_FONTS = {"en": "Noto Sans, DejaVu Sans, Arial, sans-serif",
          "ar": "Noto Sans Arabic, Noto Naskh Arabic, Noto Sans, sans-serif"}
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("najma.dashboards", "templates"), autoescape=True, undefined=jinja2.StrictUndefined
)


@dataclass(frozen=True)
class ReportFiles:
    """The files a report was written to."""

    html: Path
    pdf: Path | None


def write_report(
    store: Store, quarter: str, out_dir: str | Path, *, lang: str = "en", config: RatingConfig | None = None,
    draws: int = 200, pdf: bool = True, min_group: int = MIN_GROUP, progress: Progress | None = None,
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
    min_group : int, default 10
        No group of fewer customers is shown: such a service gets no page, and its row no count,
        stars or KPIs (see :mod:`najma.rating._suppression`); the methodology states the rule.
    progress : callable, optional
        Called with the name of each stage as it starts.
    """
    say = progress or (lambda _stage: None)
    config = config or default_config()
    min_group = check_min_group(min_group, "write_report")
    text("quarter", lang)  # refuses an unknown language before any work is done
    say("rating")
    features = case_features(store, satisfied_at=config.satisfied_at)
    shown = quarter_ratings(store, quarter, config, draws, features=features)
    ratings, before = suppress_quarter(shown.ratings, shown.before, features, min_group)
    cards = rating_cards(ratings, before, config)
    fewer = text("fewer_than", lang).format(n=min_group)
    names = display_names(store, lang)
    say("journey maps")
    held = held_columns(store)
    pages = [_service_page(store, card, features, config, names, lang, min_group)
             | {"notes": column_notes(held.of(card.service), lang)}
             for card in cards if card.status != SUPPRESSED]
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
        rows=_overview_rows(cards, names, lang, fewer), stars_svg=overview_svg, pages=pages, config=config,
        coverage=_coverage(features, quarter, names, min_group, fewer), quarantine=_quarantine(store),
        source=source_lines(shown.provenance, lang, names["service"]),
        methodology=methodology(config, min_group, lang, int(shown.provenance.publication.get("draws", draws))),
    ), encoding="utf-8")
    printed = None
    if pdf:
        say("printing the PDF")
        printed = print_pdf(html, html.with_suffix(".pdf"))
    return ReportFiles(html, printed)


def _overview_rows(cards: list[RatingCard], names: dict, lang: str, fewer: str) -> list[dict[str, str]]:
    """A row per card; a suppressed service's row says it has too few customers, and nothing more."""
    return [{
        "service": names["service"].get(card.service, card.service), "key": card.service, "cases": fewer,
        "stars": fewer, "number": "", "change": "", "score": "", **{p: "" for p in PILLARS}, "confidence": "",
    } if card.status == SUPPRESSED else {
        "service": names["service"].get(card.service, card.service), "key": card.service, "cases": f"{card.cases:,}",
        "stars": rating_text(card, lang), "number": str(card.stars) if card.rated else "",
        "change": change_text(card.change, lang),
        "score": number_text(card.score), **{p: number_text(card.pillars.get(p)) for p in PILLARS},
        "confidence": percent_text(card.confidence),
    } for card in cards]


def _service_page(store: Store, card: RatingCard, features: pd.DataFrame, config: RatingConfig, names: dict,
                  lang: str, min_group: int) -> dict[str, object]:
    where = CaseFilter(service=card.service, quarter=card.quarter)  # read in the store's zone
    graph = suppress_map(process_map(store, where), store, where, min_group).abstract(MAP_COVERAGE)
    cases = features[(features["service"] == card.service) & (features["quarter"] == card.quarter)]
    completed = cases[cases["completed"] == 1]
    breakdown = card.breakdown.assign(label=[kpi_label(k, lang) for k in card.breakdown["kpi"]])
    journey_map = process_map_figure(graph, "frequency", labels=names["activity"])
    journey_map.update_layout(height=min(journey_map.layout.height, MAP_HEIGHT))
    figures: list[go.Figure] = [
        journey_map,
        customer_steps_figure(completed["customer_steps"], completed["customer_id"], min_group=min_group,
                              x_title=text("steps", lang), y_title=text("cases", lang),
                              merged_note=text("merged_bins", lang)),
        kpi_scores_figure(breakdown, x_title=f"{text('score', lang)} (100 = {text('target', lang)})"),
    ]
    return {
        "key": card.service, "name": names["service"].get(card.service, card.service),
        "agency": names["service_agency"].get(card.service, ""), "cases": f"{card.cases:,}",
        "stars": rating_text(card, lang), "facts": card_lines(card, lang),
        "score": number_text(card.score), "change": change_text(card.change, lang),
        "moves": [move_text(m, lang) for m in card.moves], "advice": plan_text(card, config, lang),
        "probabilities": [(star, percent_text(p)) for star, p in card.probabilities.items()],
        "kpis": [
            {"label": k.label, "value": format_value(k.value, KPIS[k.kpi].unit) if not k.missing
             else f"{text('no_data', lang)} {needs_text(k.kpi, lang)}", "target": format_value(k.target, KPIS[k.kpi].unit),
             "score": "" if pd.isna(k.score) else f"{k.score:.0f}", "points": f"{k.points:.1f}"}
            for k in breakdown.itertuples()
        ],
        "figures": figures,
        "steps_reason": "" if len(completed) else text("no_completed", lang),
    }


def _coverage(features: pd.DataFrame, quarter: str, names: dict, min_group: int, fewer: str) -> dict[str, object]:
    """Cases per service in the four quarters up to `quarter`; `fewer` where they have fewer than `min_group` customers."""
    quarters = [quarter]
    for _ in range(3):
        quarters.insert(0, previous_quarter(quarters[0]))
    counts = cases_per_quarter(features, quarters, min_group=min_group)
    return {"quarters": quarters, "rows": [(names["service"].get(s, s), [fewer if pd.isna(v) else f"{v:,}" for v in counts.loc[s]])
                                           for s in counts.index]}


def _quarantine(store: Store) -> list[tuple[str, str, str]]:
    rows = store.quarantined()
    counted = rows.group_by(["source", "reason"]).aggregate(n=rows.count()).order_by(["source", ibis.desc("n")])
    return [(row["source"], row["reason"], f"{row['n']:,}") for row in counted.to_pyarrow().to_pylist()]
