"""The quarterly rating report: one HTML file with its pictures inline, and the same printed to PDF.

It holds the services and their stars with the change since last quarter, the distribution of
stars, the redesign opportunities (the best bundle and proactive candidates of
:func:`~najma.journeys.discover_bundles` and :func:`~najma.journeys.discover_proactive` over the
:data:`REDESIGN_QUARTERS` quarters up to the report's), a page per service (journey map, customer
steps, KPIs against targets, the explanation and next-star advice), data coverage and quarantined
rows, the methodology (the small-group rule of
:mod:`najma.rating._suppression`: a service of fewer than `min_group` customers gets no page and
shows no count, and no chart or table shows a smaller group), and the model's version and config hash.
The charts are the figures of :mod:`najma.dashboards._figures`, drawn by plotly.js in the page; the PDF is
printed by Chromium (:class:`~najma.dashboards._printing.LoadedPage`). In Arabic the pages read right to left in Noto Arabic fonts.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ibis
import jinja2
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from najma.dashboards._discovered import missing_line
from najma.dashboards._figures import customer_steps_figure, process_map_figure, star_distribution_figure
from najma.dashboards._i18n import (
    card_lines,
    change_text,
    column_notes,
    direction,
    display_names,
    kpi_label,
    listed,
    methodology,
    move_text,
    needs_text,
    number_text,
    percent_text,
    period_text,
    plan_text,
    quarter_text,
    rating_text,
    source_lines,
    star_marks,
    text,
)
from najma.dashboards._printing import LoadedPage
from najma.dashboards._static_images import pdf_destinations
from najma.errors import NajmaError
from najma.journeys import (
    NEEDED_BY,
    PROACTIVE_NEEDED_BY,
    CaseFilter,
    Store,
    discover_bundles,
    discover_proactive,
    held_columns,
    previous_quarter,
    process_map,
    quarter_bounds,
    quarter_zone,
)
from najma.rating import (
    KPIS,
    PILLARS,
    RatingCard,
    RatingConfig,
    case_features,
    default_config,
    format_value,
    quarter_ratings,
    rate_features,
    rating_cards,
)
from najma.rating._shown import with_published
from najma.rating._suppression import (
    MIN_GROUP,
    SUPPRESSED,
    cases_per_quarter,
    check_min_group,
    suppress_map,
    suppress_quarter,
    suppress_ratings,
)

__all__ = ["ReportFiles", "write_report"]

Progress = Callable[[str], None]
#: Share of events and edges the journey map of a service page keeps (see ProcessMap.abstract).
MAP_COVERAGE = 0.9
#: The greatest height (CSS pixels) of a journey map: the first page of a service holds its facts and its map.
MAP_HEIGHT = 760
#: The width (CSS pixels) of every chart: an A4 page's width inside its margins (186 mm), so that Chromium never
#: shrinks a page to fit a wider chart.
PLOT_WIDTH = 700
#: The height of the small charts (customer steps, star distribution), and the width of the steps chart, which
#: stands beside the explanation.
SMALL_HEIGHT = 260
HALF_WIDTH = 340
_FONTS = {"en": "Noto Sans, DejaVu Sans, Arial, sans-serif",
          "ar": "Noto Sans Arabic, Noto Naskh Arabic, Noto Sans, sans-serif"}
#: The ids of the report's sections that the table of contents lists, besides the service pages.
_SECTIONS = ("summary", "trends", "channels", "agencies", "redesign-section", "coverage-section", "methodology-section")
#: Writes the page of each heading into the table of contents of the loaded report, as the template writes `toc`.
_FILL_CONTENTS = """toc => { for (const link of document.querySelectorAll('#contents a[href^="#"]')) {
    link.nextElementSibling.textContent = toc[link.getAttribute('href').slice(1)] ?? ''; } }"""
#: The prints with page numbers that may be made before the numbers must stand still (the first one almost always).
_NUMBERED_PRINTS = 3
#: A service needs attention when it is rated in the two lowest stars of the scale (2 or 3 of 2 to 7 by default:
#: a score under 50 of 100, so fewer than half its targets met). A threshold on the scale, not on the other
#: services: a quarter in which every service has top marks names none, and one in which all do badly names all.
ATTENTION_STARS = 2
#: The quarters the redesign page reads, ending with the report's: the services of one event of a customer's life run
#: across quarters, and one quarter alone would cut their episodes at its edges (the page says so).
REDESIGN_QUARTERS = 4
#: The candidates of each kind the redesign page lists, best first.
TOP_CANDIDATES = 5
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
    say("trends, channels and agencies")
    rows = _overview_rows(cards, names, lang, fewer)
    summary = _summary(cards, names, lang, config)
    shown_services = {card.service for card in cards if card.status != SUPPRESSED}  # a small service is named nowhere
    trends = _trends(store, features[features["service"].isin(shown_services)], quarter, config, min_group, names, lang)
    channels = _channels(features[features["service"].isin(shown_services)], quarter, config, min_group, names)
    say("journey maps")
    held = held_columns(store)
    pages = [_service_page(store, card, features, config, names, lang, min_group)
             | {"notes": column_notes(held.of(card.service), lang)}
             for card in cards if card.status != SUPPRESSED]
    for n, page in enumerate(pages, start=1):  # an id of ASCII letters and digits: a service key may hold anything
        page["anchor"] = f"service-{n}"
    say("redesign opportunities")
    redesign = _redesign(store, quarter, names, lang, min_group, shown_services)
    stars = star_distribution_figure(ratings["stars"], lowest=config.lowest_star, x_title=text("stars", lang),
                                     y_title=text("service", lang), lang=lang).update_layout(height=SMALL_HEIGHT)
    figures = [stars] + [f for page in pages for f in page.pop("figures")]
    for figure in figures:  # a map sets its own size, no wider than PLOT_WIDTH; the others take the page's width
        figure.update_layout(font={"family": _FONTS[lang]}, width=figure.layout.width or PLOT_WIDTH, autosize=False)
    plots = [_plot(figure, n) for n, figure in enumerate(figures)]
    for n, page in enumerate(pages):
        page["map_plot"], page["steps_plot"] = plots[1 + 2 * n], plots[2 + 2 * n]
    context = {
        "t": lambda key: text(key, lang), "q": lambda name: quarter_text(name, lang), "lang": lang, "dir": direction(lang),
        "font": _FONTS[lang], "quarter": quarter, "selection": text("at_least_customers", lang).format(n=min_group),
        "rows": rows, "summary": summary, "trends": trends, "channels": channels,
        "trend_period": period_text(trends["quarters"], False, lang) if trends["quarters"] else quarter_text(quarter, lang),
        "channel_note": text("channel_note", lang).format(n=min_group), "agencies": _agencies(cards, names, lang),
        "stars_plot": plots[0], "rated": bool(ratings["stars"].notna().any()),
        "min_group": min_group, "pages": pages, "redesign": redesign, "config": config,
        "coverage": _coverage(features, quarter, names, min_group, fewer), "quarantine": _quarantine(store),
        "source": source_lines(shown.provenance, lang, names["service"]),
        "model_line": text("model_line", lang).format(version=config.version, hash=config.config_hash,
                                                      cutoff=_cutoff(shown.provenance.publication, features)),
        "methodology": methodology(config, min_group, lang, int(shown.provenance.publication.get("draws", draws))),
        "kpi_rows": _kpi_rows(config, lang), "bands": _band_lines(config, lang),
    }
    say("writing")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    html = out / f"rating-report-{quarter}-{lang}.html"
    if not pdf:
        _write_html(html, context, toc={})
        return ReportFiles(html, None)
    say("printing the PDF")
    return ReportFiles(html, _print_with_contents(html, context))


def _write_html(html: Path, context: dict[str, object], *, toc: dict[str, int]) -> None:
    """Render the report into `html`, its charts drawn by plotly.js, with `toc`'s page numbers."""
    html.write_text(_TEMPLATES.get_template("report.html.j2").render(**context, plotly_js=get_plotlyjs(), toc=toc),
                    encoding="utf-8")


def _print_with_contents(html: Path, context: dict[str, object]) -> Path:
    """Print the report without page numbers in its table of contents, to read the page of each heading, then again
    with them written in, the page loaded once in one Chromium. The second print is checked: a number that moved a
    heading (it should not: the numbers' column keeps its width) is written anew and printed again. The HTML file
    gets the same numbers."""
    pdf = html.with_suffix(".pdf")
    _write_html(html, context, toc={})
    with LoadedPage(html) as page:
        toc = pdf_destinations(page.print_pdf(pdf))
        _check_contents(html, context, toc)
        for _ in range(_NUMBERED_PRINTS):
            page.call(_FILL_CONTENTS, toc)
            printed = pdf_destinations(page.print_pdf(pdf))
            if printed == toc:
                break
            toc = printed
        else:
            raise NajmaError(f"{pdf}: the headings kept moving as their pages were written into the table of contents")
    _write_html(html, context, toc=toc)
    return pdf


def _check_contents(html: Path, context: dict[str, object], toc: dict[str, int]) -> None:
    """Refuse a first print that gave no page for any heading, and warn of a heading without one: its line in the table
    of contents would be blank."""
    if not toc:
        raise NajmaError(f"{html}: the first print has no named destinations, so the table of contents has no page "
                         "numbers; Chromium 131 or later is needed")
    wanted = [*_SECTIONS, *(page["anchor"] for page in context["pages"])]
    missing = [target for target in wanted if target not in toc]
    if missing:
        warnings.warn(f"{html}: the table of contents has no page for {', '.join(missing)}", stacklevel=3)


def _plot(figure: go.Figure, n: int) -> dict[str, object]:
    """A figure as the template embeds it: its id, height and its JSON, safe inside a script element (every ``<``,
    ``>`` and ``&`` written as a JSON escape, so no name can close the element or open a comment in it)."""
    escaped = figure.to_json().replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return {"id": f"plot-{n}", "width": int(figure.layout.width), "height": int(figure.layout.height), "json": escaped}


def _summary(cards: list[RatingCard], names: dict, lang: str, config: RatingConfig) -> dict[str, list[str]]:
    """The executive summary's lists: services up and down since last quarter, and those needing attention: rated in
    the lowest :data:`ATTENTION_STARS` stars of the scale (a line saying none when none is), not rated, provisional."""
    shown = [card for card in cards if card.status != SUPPRESSED]
    name = names["service"]

    def moved(sign: int) -> list[str]:
        found = sorted((c for c in shown if c.rated and not pd.isna(c.change) and c.change * sign > 0),
                       key=lambda c: -abs(c.change))
        return [f"{name.get(c.service, c.service)}: {change_text(c.change, lang)} ({rating_text(c, lang)})" for c in found]

    below = config.lowest_star + ATTENTION_STARS
    low = [c for c in shown if c.rated and c.stars < below]
    lists = (("not_rated_list", [c for c in shown if not c.rated]), ("provisional_list", [c for c in shown if c.provisional]))
    low_names = listed((name.get(c.service, c.service) for c in low), lang) or text("no_service", lang)
    attention = [text("below_stars", lang).format(stars=below, services=low_names)]
    attention += [text(key, lang).format(services=listed((name.get(c.service, c.service) for c in found), lang))
                  for key, found in lists if found]
    return {"up": moved(1), "down": moved(-1), "attention": attention}


def _trends(store: Store, features: pd.DataFrame, quarter: str, config: RatingConfig, min_group: int, names: dict,
            lang: str) -> dict[str, object]:
    """Stars of every service in every quarter up to `quarter` (published where published), and a line of its score."""
    rated, _ = with_published(store, rate_features(features[features["quarter"] <= quarter], config=config, draws=0),
                              config)
    rated = suppress_ratings(rated, features, min_group)
    quarters = sorted(rated["quarter"].unique())
    rows = []
    for service, group in rated.groupby("service", sort=True):
        by_quarter = group.set_index("quarter")
        stars = [_star_number(by_quarter["stars"].get(q)) for q in quarters]
        scores = [by_quarter["score"].get(q) for q in quarters]
        rows.append({"service": names["service"].get(service, service), "stars": stars,
                     "line": _sparkline(scores, mirrored=lang == "ar")})
    return {"quarters": quarters, "rows": rows}


def _star_number(stars: object) -> str:
    """A number of stars as digits; empty for a quarter without a rating."""
    return "" if stars is None or pd.isna(stars) else str(int(stars))


def _sparkline(scores: list[float | None], *, mirrored: bool, width: int = 110, height: int = 22) -> str:
    """A small SVG line of scores (0 to 100) in quarter order; a quarter without a score breaks the line.
    `mirrored` draws time from right to left, as an Arabic table's columns run."""
    step = width / max(len(scores) - 1, 1)
    points = [None if v is None or pd.isna(v) else
              ((width - i * step) if mirrored else i * step, height - 2 - (height - 4) * float(v) / 100)
              for i, v in enumerate(scores)]
    runs, run = [], []
    for point in [*points, None]:
        if point is None:
            runs, run = runs + [run] if run else runs, []
        else:
            run.append(point)
    lines = "".join(f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in r)}"/>' for r in runs if len(r) > 1)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.6"/>' for r in runs for x, y in r)
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'fill="none" stroke="#1f4e79" stroke-width="1.4">{lines}<g fill="#1f4e79">{dots}</g></svg>')


def _channels(features: pd.DataFrame, quarter: str, config: RatingConfig, min_group: int,
              names: dict) -> dict[str, object]:
    """Stars of each service in each channel of `quarter`; blank where the group is too small or not rated."""
    cases = features[features["quarter"] == quarter]
    rated = suppress_ratings(rate_features(cases, by="channel", config=config, draws=0), cases, min_group)
    channels = sorted(rated["channel"].dropna().unique(), key=lambda c: names["channel"].get(c, c))
    table = rated.set_index(["service", "channel"])["stars"]
    services = sorted(rated["service"].unique(), key=lambda s: names["service"].get(s, s))
    return {"channels": [names["channel"].get(c, c) for c in channels],
            "rows": [(names["service"].get(s, s), [star_marks(table.get((s, c))) for c in channels]) for s in services]}


def _agencies(cards: list[RatingCard], names: dict, lang: str) -> list[dict[str, str]]:
    """Per agency: its services shown, their cases, the lowest and highest stars, and the score of its rated services
    weighted by their cases (the score of the agency's average case, so a small service weighs little)."""
    grouped: dict[str, list[RatingCard]] = {}
    for card in cards:
        if card.status != SUPPRESSED:
            grouped.setdefault(names["service_agency"].get(card.service, ""), []).append(card)
    rows = []
    for agency, found in sorted(grouped.items()):
        stars = [c.stars for c in found if c.rated]
        scored = [c for c in found if c.rated and not pd.isna(c.score) and c.cases > 0]
        weight = sum(c.cases for c in scored)
        rows.append({"agency": agency, "services": listed((names["service"].get(c.service, c.service) for c in found), lang),
                     "cases": f"{sum(c.cases for c in found):,}",
                     "stars": f"{star_marks(min(stars))} – {star_marks(max(stars))}" if stars else "",
                     "score": number_text(sum(c.score * c.cases for c in scored) / weight) if weight else ""})
    return rows


def _cutoff(publication: dict, features: pd.DataFrame) -> str:
    """The data cut-off: the publication's, else the latest start of a case in the store (UTC day)."""
    value = publication.get("cutoff") if publication else features["start"].max()
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%d")


def _kpi_rows(config: RatingConfig, lang: str) -> list[dict[str, str]]:
    """The model's KPIs: pillar, label, floor, target and weight in its pillar."""
    return [{"pillar": text(curve.pillar, lang), "kpi": kpi_label(name, lang),
             "floor": format_value(curve.floor, KPIS[name].unit), "target": format_value(curve.target, KPIS[name].unit),
             "weight": percent_text(curve.weight / sum(config.kpis[k].weight for k in config.kpis_of(curve.pillar)))}
            for name, curve in config.kpis.items()]


def _band_lines(config: RatingConfig, lang: str) -> list[str]:
    """The pillars' weights in the score, then the score each star starts from."""
    pillars = [text("pillar_weight", lang).format(pillar=text(p, lang), weight=percent_text(w))
               for p, w in config.pillars.items()]
    bands = [text("lowest_band", lang).format(stars=config.lowest_star, high=f"{config.bands[0]:g}")]
    bands += [text("band_line", lang).format(stars=config.lowest_star + n, low=f"{low:g}")
              for n, low in enumerate(config.bands, start=1)]
    return pillars + bands


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
    journey_map = process_map_figure(graph, "frequency", labels=names["activity"], max_width=PLOT_WIDTH,
                                     max_height=MAP_HEIGHT, lang=lang)
    figures: list[go.Figure] = [
        journey_map,
        customer_steps_figure(completed["customer_steps"], completed["customer_id"], min_group=min_group,
                              x_title=text("steps", lang), y_title=text("cases", lang),
                              merged_note=text("merged_bins", lang), lang=lang).update_layout(height=SMALL_HEIGHT,
                                                                                   width=HALF_WIDTH),
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
             "score": "" if pd.isna(k.score) else f"{k.score:.0f}", "points": f"{k.points:.1f}",
             "bar": 0 if pd.isna(k.score) else round(float(k.score))}
            for k in breakdown.itertuples()
        ],
        "figures": figures,
        "steps_reason": "" if len(completed) else text("no_completed", lang),
    }


def _quarters_up_to(quarter: str, n: int) -> list[str]:
    """The `n` quarters that end with `quarter`, oldest first."""
    quarters = [quarter]
    while len(quarters) < n:
        quarters.insert(0, previous_quarter(quarters[0]))
    return quarters


def _redesign(store: Store, quarter: str, names: dict, lang: str, min_group: int,
              shown: set[str]) -> dict[str, object]:
    """The redesign page: the best :data:`TOP_CANDIDATES` bundles and proactive services found in the cases started in
    the :data:`REDESIGN_QUARTERS` quarters up to `quarter`, each of at least `min_group` customers and only of the
    services in `shown`, those the report shows (a small service is named nowhere), and the sentences that state the period, the
    selection and the thresholds."""
    quarters = _quarters_up_to(quarter, REDESIGN_QUARTERS)
    zone = quarter_zone(store)
    where = CaseFilter(start=quarter_bounds(quarters[0], zone)[0], end=quarter_bounds(quarter, zone)[1])
    bundles = discover_bundles(store, min_episodes=min_group, where=where)
    proactive = discover_proactive(store, min_customers=min_group, where=where)
    found, followers = bundles.table, proactive.table  # the small-group rule, as everywhere
    shown_bundles = found[(found["customers"] >= min_group) & found["services"].map(shown.issuperset).astype(bool)]
    shown_proactive = followers[(followers["followed"] >= min_group)
                                & followers["trigger"].isin(shown) & followers["follower"].isin(shown)]
    top_bundles, top_proactive = shown_bundles.head(TOP_CANDIDATES), shown_proactive.head(TOP_CANDIDATES)
    first, last = quarter_text(quarters[0], lang), quarter_text(quarter, lang)
    thresholds = {"support": _fine_percent(bundles.min_support), "share": percent_text(proactive.min_share),
                  "within": proactive.within_days, "n": min_group}
    then = text("rp_then", lang)
    unlinked = "" if bundles.episodes else text("rp_no_customers", lang)  # no customer, no episode: say why
    return {
        "period": period_text(quarters, False, lang),
        "method": text("rp_redesign_method", lang).format(first=first, last=last, window=bundles.window_days,
                                                          episodes=f"{bundles.episodes:,}", **thresholds),
        "note": text("rp_redesign_period", lang).format(n=REDESIGN_QUARTERS, first=first, last=last),
        "bundles": [_bundle_row(row, names, then, lang) for row in top_bundles.itertuples()],
        "bundles_ranked": _with_missing(
            text("rp_bundles_ranked", lang).format(shown=min(TOP_CANDIDATES, len(shown_bundles)), total=len(shown_bundles)),
            bundles.lacking, NEEDED_BY, _BUNDLE_FIGURES, {s for row in top_bundles.services for s in row}, names, lang),
        "no_bundles": unlinked or text("rp_no_bundles", lang).format(**thresholds),
        "proactive": [_proactive_row(row, names, then, lang) for row in top_proactive.itertuples()],
        "proactive_ranked": _with_missing(
            text("rp_proactive_ranked", lang).format(shown=min(TOP_CANDIDATES, len(shown_proactive)),
                                                     total=len(shown_proactive)),
            proactive.lacking, PROACTIVE_NEEDED_BY, _PROACTIVE_FIGURES, set(top_proactive.follower), names, lang),
        "no_proactive": unlinked or text("rp_no_proactive", lang).format(**thresholds),
        "pair_heading": then.join((text("dc_trigger", lang), text("dc_follower", lang))),
    }


#: The figures a log may not support that the redesign page's tables show, by the key of their header.
_BUNDLE_FIGURES = {"steps_saved": "dc_steps_saved", "visits_saved": "dc_visits_saved"}
_PROACTIVE_FIGURES = {"application_steps": "dc_application_steps", "visits": "dc_visits_saved"}


def _with_missing(said: str, lacking: dict, needed_by: dict, figures: dict[str, str], shown: set[str], names: dict,
                  lang: str) -> str:
    """`said`, then what the figures shown as "no data" need and which of the services `shown` lack it."""
    missing = missing_line(lacking, needed_by, {field: text(key, lang) for field, key in figures.items()}, lang,
                           lambda service: names["service"].get(service, service), among=shown)
    return f"{said} {missing}" if missing else said


def _figure_text(value: float, lang: str) -> str:
    """A figure of a candidate with one decimal, or "no data" when the log cannot support it (NaN)."""
    return text("no_data_short", lang) if pd.isna(value) else number_text(value)


def _fine_percent(value: float) -> str:
    """A share in per cent with one decimal: a support of a few per cent, or a share just short of all, needs it."""
    return f"{value:.1%}"


def _bundle_row(row: tuple, names: dict, then: str, lang: str) -> dict[str, str]:
    """A bundle candidate as its row shows it: its services by name in their usual order, and its figures."""
    service = names["service"]
    return {"service_keys": " ".join(row.services), "services": then.join(service.get(s, s) for s in row.services),
            "customers": f"{row.customers:,}", "support": _fine_percent(row.support),
            "steps_saved": _figure_text(row.steps_saved, lang), "visits_saved": _figure_text(row.visits_saved, lang),
            "days": number_text(row.days),
            "life_event": names["life_event"].get(row.life_event, row.life_event) if pd.notna(row.life_event)
            else text("dc_not_yet", lang)}


def _proactive_row(row: tuple, names: dict, then: str, lang: str) -> dict[str, str]:
    """A proactive candidate as its row shows it: trigger and follower by name, the share, the lag and the savings."""
    service = names["service"]
    return {"follower": row.follower, "pair": then.join((service.get(row.trigger, row.trigger),
                                                          service.get(row.follower, row.follower))),
            "customers": f"{row.customers:,}", "followed": f"{row.followed:,}", "share": _fine_percent(row.share),
            "lag": number_text(row.lag_days_median), "steps": _figure_text(row.application_steps, lang),
            "visits": _figure_text(row.visits, lang), "days": number_text(row.days_saved)}


def _coverage(features: pd.DataFrame, quarter: str, names: dict, min_group: int, fewer: str) -> dict[str, object]:
    """Cases per service in the four quarters up to `quarter`; `fewer` where they have fewer than `min_group` customers."""
    quarters = _quarters_up_to(quarter, 4)
    counts = cases_per_quarter(features, quarters, min_group=min_group)
    return {"quarters": quarters, "rows": [(names["service"].get(s, s), [fewer if pd.isna(v) else f"{v:,}" for v in counts.loc[s]])
                                           for s in counts.index]}


def _quarantine(store: Store) -> list[tuple[str, str, str]]:
    rows = store.quarantined()
    counted = rows.group_by(["source", "reason"]).aggregate(n=rows.count()).order_by(["source", ibis.desc("n")])
    return [(row["source"], row["reason"], f"{row['n']:,}") for row in counted.to_pyarrow().to_pylist()]
