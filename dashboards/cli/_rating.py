"""CLI views of the ratings: ``najma rate``, ``najma explain`` and ``najma report``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from najma.dashboards.cli._options import (
    Engine,
    Language,
    MinGroupOption,
    StoreOption,
    err,
    fewer_than,
    min_group_of,
    open_built_store,
    out,
    store_path,
)

if TYPE_CHECKING:
    import pandas as pd

    from najma.rating import RatingConfig

__all__ = ["app"]

app = typer.Typer()

QuarterArgument = Annotated[str, typer.Option(help="The quarter to rate, e.g. 2025Q4.")]
ConfigOption = Annotated[Path | None, typer.Option("--config", help="A rating model TOML \\[default: najma's shipped model].")]
DrawsOption = Annotated[int, typer.Option(min=0, help="Bootstrap draws per service for the uncertainty (0: none).")]


@app.command("rate")
def rate_command(
    quarter: QuarterArgument, store: StoreOption = None, config: ConfigOption = None, draws: DrawsOption = 200,
    out_file: Annotated[Path | None, typer.Option("--out", help="Also write the whole rating table as CSV.")] = None,
    record: Annotated[bool, typer.Option(help="Keep the ratings in the store's rating history.")] = True,
    engine: Annotated[Engine, typer.Option(help="duckdb: the store's journeys; spark: build them from --events on Spark.")] = Engine.duckdb,
    events: Annotated[list[str] | None, typer.Option(help="Spark: Parquet events in najma's schema (files, folders, globs; repeatable).")] = None,
    spark_out: Annotated[str | None, typer.Option(help="Spark: the folder for steps, journeys and quarantine \\[default: STORE.spark].")] = None,
    master: Annotated[str | None, typer.Option(help="Spark: master URL \\[default: spark-submit's, else local[*]].")] = None,
    remote: Annotated[str | None, typer.Option(help="Spark: a Spark Connect URL (sc://host:15002) instead of a master.")] = None,
    conf: Annotated[list[str] | None, typer.Option(help="Spark: a setting KEY=VALUE (repeatable).")] = None,
    min_group: MinGroupOption = None,
) -> None:
    """Print the star table of a quarter: every service, its stars and the change since last quarter.

    With --engine spark the journeys are first built on Spark from --events and written where the
    dashboard and reports read them (the store then reads the Parquet files Spark wrote). A service
    of fewer than --min-group customers shows no count, stars or KPIs, here and in --out.
    """
    from najma.dashboards._i18n import card_lines, change_text, number_text, percent_text, rating_text, source_lines
    from najma.errors import NajmaError
    from najma.journeys import Store
    from najma.rating import PILLARS, case_features, load_config, quarter_ratings, rating_cards, record_ratings
    from najma.rating._suppression import SUPPRESSED, shown_ratings, suppress_quarter

    model = load_config(config)
    smallest = min_group_of(min_group)
    notes: list[str] = []
    if engine is Engine.spark:
        ratings = _rate_on_spark(quarter, store, model, draws, record, events or [], spark_out, master, remote, conf or [])
        with Store(store_path(store), read_only=True) as source:
            features = case_features(source, satisfied_at=model.satisfied_at)
    else:
        if events or spark_out or master or remote or conf:
            raise NajmaError("--events, --spark-out, --master, --remote and --conf need --engine spark")
        with open_built_store(store, read_only=not record) as source:
            features = case_features(source, satisfied_at=model.satisfied_at)
            shown = quarter_ratings(source, quarter, model, draws, features=features, published=False)
            ratings, notes = shown.ratings, source_lines(shown.provenance, "en")
            if record:
                record_ratings(source, ratings)
    ratings, _ = suppress_quarter(ratings, None, features, smallest)
    table = Table("service", "cases", "stars", "change", "score", *PILLARS, "evidence", "confidence",
                  title=f"Star ratings {quarter} · model {model.version} ({model.config_hash})")
    cards = rating_cards(ratings, None, model)
    for card in cards:
        if card.status == SUPPRESSED:
            table.add_row(card.service, fewer_than(smallest), SUPPRESSED, *[""] * (4 + len(PILLARS)))
            continue
        table.add_row(card.service, f"{card.cases:,}", rating_text(card, "en"), change_text(card.change, "en"),
                      number_text(card.score), *(number_text(card.pillars.get(p)) for p in PILLARS),
                      percent_text(card.evidence), percent_text(card.confidence))
    out.print(table)
    for line in notes + [f"{card.service}: {line}" for card in cards for line in card_lines(card, "en")
                         if card.provisional or card.shortfalls]:
        out.print(line, markup=False)
    if out_file is not None:
        shown_ratings(ratings).to_csv(out_file, index=False)
        out.print(f"wrote {out_file}")


def _rate_on_spark(
    quarter: str, store: Path | None, model: RatingConfig, draws: int, record: bool, events: list[str],
    spark_out: str | None, master: str | None, remote: str | None, conf: list[str],
) -> pd.DataFrame:
    """Rate on Spark; everything that can be refused without Spark (options, events, store) is, before it starts."""
    from najma.dashboards.cli._spark import quiet_spark_session, spark_settings
    from najma.errors import NajmaError
    from najma.journeys import Store, quarter_name
    from najma.spark import rate_events_on_spark
    from najma.spark._engine import ensure_attachable
    from najma.spark._preflight import check_events

    if not events:
        raise NajmaError("--engine spark needs --events: Parquet files in najma's schema (najma ingest --engine spark "
                         "or najma export writes them)")
    settings = spark_settings(conf)
    quarter_name(quarter)
    check_events(events)
    target = store_path(store)
    results = spark_out or f"{target}.spark"
    with Store(target) as opened:
        ensure_attachable(opened)
        session = quiet_spark_session(results, master, remote, settings)
        with err.status("Spark: reading the events") as status:
            ratings, build, notes = rate_events_on_spark(
                opened, session, events, results, quarter, config=model, draws=draws, record=record,
                progress=lambda stage: status.update(f"Spark: {stage}"))
    err.print(f"Spark read {build.read:,} events: {build.loaded:,} loaded, {build.quarantined:,} quarantined "
              f"(najma quarantine --store {target}); {build.journeys:,} journeys written to {results}; "
              f"the store {target} reads them")
    for note in notes:
        err.print(f"note: {note}")
    return ratings


@app.command("explain")
def explain_command(
    service: Annotated[str, typer.Option(help="The service to explain.")], quarter: QuarterArgument,
    store: StoreOption = None, config: ConfigOption = None, draws: DrawsOption = 200, min_group: MinGroupOption = None,
    redesigns: Annotated[bool, typer.Option(help="Also rate the redesigns that act on the next-star plan (a second or two each).")] = True,
) -> None:
    """Explain a service's rating: KPIs against targets, points, what changed, what earns the next star, and the
    redesigns (remove, merge, automate, move to a channel) that would earn it, with their projected stars."""
    from najma.dashboards._i18n import (
        card_lines,
        change_text,
        column_notes,
        move_text,
        percent_text,
        rating_text,
        shortfall_text,
        source_lines,
    )
    from najma.errors import NajmaError
    from najma.journeys import held_columns
    from najma.rating import case_features, describe_plan, load_config, quarter_ratings, rating_cards, redesign_options
    from najma.rating._suppression import SUPPRESSED, suppress_quarter

    model = load_config(config)
    smallest = min_group_of(min_group)
    with open_built_store(store) as source:
        features = case_features(source, satisfied_at=model.satisfied_at)
        shown = quarter_ratings(source, quarter, model, draws, features=features)
        ratings, before = suppress_quarter(shown.ratings, shown.before, features, smallest)
        notes = column_notes(held_columns(source).of(service), "en")
        chosen = ratings[ratings["service"] == service]
        if chosen.empty:
            raise NajmaError(f"no service {service!r} rated in {quarter}; the services are {', '.join(ratings['service'])}")
        card = rating_cards(chosen, before, model)[0]
        options = redesign_options(source, service, quarter, model) if redesigns and card.rated and card.plan else []
    for line in [*source_lines(shown.provenance, "en"), *notes]:
        out.print(f"note: {line}", markup=False)
    if card.status == SUPPRESSED:
        out.print(f"{service} {quarter}: {fewer_than(smallest)}; not shown, so that no one can be singled out")
        return
    if not card.rated:
        needs = "; ".join(shortfall_text(s, "en") for s in card.shortfalls) or f"the model needs {model.min_cases} cases"
        out.print(f"{service} {quarter}: {card.status} ({card.cases} cases; {needs})", markup=False)
        return
    out.print(f"[bold]{service} {quarter}[/]: {rating_text(card, 'en')} {card.stars} stars, score {card.score:.1f} ("
              + ", ".join(f"{pillar} {score:.1f}" for pillar, score in card.pillars.items()) + ")")
    for line in card_lines(card, "en"):
        out.print(line, markup=False)
    if card.probabilities:
        chances = ", ".join(f"{star}★ {percent_text(p)}" for star, p in card.probabilities.items())
        out.print(f"bootstrap over cases ({draws} draws, KPIs without data drawn anywhere on their curves): {chances}")
    _print_breakdown(card.breakdown)
    if card.moves:
        out.print(f"since {card.previous_quarter} ({change_text(card.change, 'en')} stars): "
                  + "; ".join(move_text(m, "en") for m in card.moves))
    if card.plan:
        out.print("next star: " + describe_plan(card.plan, model))
        if options and not shown.provenance.everything_rerated:
            out.print("redesigns are rated on today's data, not on the published quarter:")
        for option in options:
            out.print(("redesign that earns it: " if option.earns_next_star else "redesign tried: ") + option.describe(),
                      markup=False)
    elif not card.at_highest_star:
        out.print("next star: no change of the KPIs within their curves earns it")


def _print_breakdown(breakdown: pd.DataFrame) -> None:
    from najma.dashboards._i18n import number_text
    from najma.rating import KPIS, format_value

    table = Table("pillar", "KPI", "value", "floor", "target", "score", "weight", "points")
    for kpi in breakdown.itertuples():
        unit = KPIS[kpi.kpi].unit
        value = format_value(kpi.value, unit) if not kpi.missing else f"no data (needs {kpi.missing})"
        table.add_row(kpi.pillar, kpi.label, value, format_value(kpi.floor, unit), format_value(kpi.target, unit),
                      number_text(kpi.score), f"{kpi.weight:.1%}", number_text(kpi.points))
    out.print(table)


@app.command("report")
def report_command(
    quarter: QuarterArgument,
    out_dir: Annotated[Path, typer.Option("--out", help="The folder to write the HTML and PDF into.")],
    lang: Annotated[Language, typer.Option(help="en or ar (Arabic reads right to left).")] = Language.en,
    store: StoreOption = None, config: ConfigOption = None, draws: DrawsOption = 200,
    pdf: Annotated[bool, typer.Option(help="Also print the PDF with Chromium.")] = True,
    min_group: MinGroupOption = None,
) -> None:
    """Write the quarterly rating report as HTML and PDF."""
    from najma.dashboards._report import write_report
    from najma.rating import load_config

    model = load_config(config)
    with open_built_store(store) as source, err.status("writing the report") as status:
        files = write_report(source, quarter, out_dir, lang=lang.value, config=model, draws=draws, pdf=pdf,
                             min_group=min_group_of(min_group), progress=lambda stage: status.update(f"report: {stage}"))
    out.print(f"wrote {files.html}" + (f" and {files.pdf}" if files.pdf else ""))

