"""CLI views of the journeys: ``najma journeys``, ``najma variants`` and ``najma map``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from najma.dashboards.cli._options import (
    Language,
    Measure,
    MinGroupOption,
    StoreOption,
    fewer_than,
    min_group_of,
    open_built_store,
    out,
)

if TYPE_CHECKING:
    from najma.journeys import CaseFilter, ProcessMap

__all__ = ["app"]

app = typer.Typer()

ServiceOption = Annotated[str | None, typer.Option(help="Only this service.")]
QuarterOption = Annotated[str | None, typer.Option(help="Only cases started in this quarter, e.g. 2025Q1, read in the store's zone (its catalogue's).")]
ChannelOption = Annotated[str | None, typer.Option(help="Only cases that started on this channel.")]
AgencyOption = Annotated[str | None, typer.Option(help="Only cases whose first event was by this agency.")]
AttributeOption = Annotated[str | None, typer.Option(
    help="Only cases with an event that has this value, as name=value (a column such as resource, or a source attribute).",
)]


def _where(service: str | None, quarter: str | None, channel: str | None, agency: str | None,
           attribute: str | None) -> CaseFilter:
    """The cases a view is about; its quarter is read in the store's zone, as the ratings read it."""
    from najma.journeys import CaseFilter

    pair = None
    if attribute is not None:
        name, sep, value = attribute.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"{attribute!r} is not name=value", param_hint="--attribute")
        pair = (name.strip(), value)
    return CaseFilter(service=service, quarter=quarter, channel=channel, agency=agency, attribute=pair)


def _hours(seconds: float | None) -> str:
    return "" if seconds is None or math.isnan(seconds) else f"{seconds / 3600:,.1f} h"


@app.command("journeys")
def journeys_view(
    store: StoreOption = None, service: ServiceOption = None, quarter: QuarterOption = None,
    channel: ChannelOption = None, agency: AgencyOption = None, attribute: AttributeOption = None,
    min_group: MinGroupOption = None,
) -> None:
    """Per service: cases, median customer steps, visits, duration, rework and outcomes (nothing of a service
    whose cases have fewer than --min-group customers)."""
    from najma.journeys import journey_summary, journey_table

    smallest = min_group_of(min_group)
    where = _where(service, quarter, channel, agency, attribute)
    with open_built_store(store) as source:
        summary = journey_summary(source, where)
        cases = journey_table(source, where)
        customers = cases.group_by("service").aggregate(customers=cases.customer_id.nunique()).to_pandas()
    summary = summary.merge(customers, on="service", how="left")
    table = Table("service", "cases", "median customer steps", "visits / case", "median duration",
                  "with rework", "hand-offs / case", "completed", "abandoned", title="Journeys")
    for row in summary.itertuples(index=False):
        if row.customers < smallest:
            table.add_row(str(row.service), fewer_than(smallest), *[""] * 7)
            continue
        table.add_row(str(row.service), f"{row.cases:,}", f"{row.median_customer_steps:g}", f"{row.visits_per_case:.2f}",
                      _hours(row.median_duration_seconds), f"{row.rework_share:.1%}", f"{row.handoffs_per_case:.2f}",
                      _percent(row.completed_share), _percent(row.abandoned_share))
    out.print(table)


def _percent(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.1%}"


@app.command("variants")
def variants_view(
    store: StoreOption = None, service: ServiceOption = None, quarter: QuarterOption = None,
    channel: ChannelOption = None, agency: AgencyOption = None, attribute: AttributeOption = None,
    top: Annotated[int, typer.Option(min=1, help="Show the most frequent variants.")] = 10,
    min_group: MinGroupOption = None,
) -> None:
    """The most frequent variants with their share, coverage, median duration and customer steps (of those
    followed by at least --min-group customers)."""
    from najma.journeys import variants
    from najma.rating._suppression import kept_groups

    smallest = min_group_of(min_group)
    where = _where(service, quarter, channel, agency, attribute)
    with open_built_store(store) as source:
        frame, hidden = kept_groups(variants(source, where), smallest)
    table = Table("#", "cases", "share", "cumulative", "median duration", "customer steps", "variant", title="Variants")
    for rank, row in enumerate(frame.head(top).itertuples(index=False), start=1):
        table.add_row(str(rank), f"{row.cases:,}", f"{row.share:.1%}",
                      f"{row.cumulative:.1%}", _hours(row.median_duration_seconds), f"{row.median_customer_steps:g}",
                      row.variant)
    out.print(table)
    if hidden:
        out.print(f"{hidden:,} variants of {fewer_than(smallest)} are not shown")


#: What ``najma map --out`` can write, by file suffix.
MAP_FORMATS = {
    ".csv": "the edges as a table",
    ".html": "an interactive map (self-contained; opens in any browser)",
    ".svg": "a vector picture (needs kaleido and Chromium)",
    ".png": "a picture (needs kaleido and Chromium)",
    ".pdf": "a printable picture (needs kaleido and Chromium)",
    ".bpmn": "a BPMN model discovered by the inductive miner (pm4py)",
}


@app.command("map")
def map_view(
    store: StoreOption = None, service: ServiceOption = None, quarter: QuarterOption = None,
    channel: ChannelOption = None, agency: AgencyOption = None, attribute: AttributeOption = None,
    coverage: Annotated[float, typer.Option(min=0.01, max=1.0, help="Keep activities and edges covering this share.")] = 1.0,
    measure: Annotated[Measure, typer.Option(help="Edges show frequency or performance (median time).")] = Measure.frequency,
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="Write the map to a file: " + "; ".join(f"{k} {v}" for k, v in MAP_FORMATS.items()) + ".",
    )] = None,
    min_group: MinGroupOption = None,
    lang: Annotated[Language, typer.Option(help="The language of a drawn map's names, title and times: en or ar.")] = Language.en,
) -> None:
    """The directly-follows graph: edges with their frequency and median and p90 time between (activities, edges,
    starts and ends of fewer than --min-group customers are left out, in the table and in every file)."""
    from najma.dashboards._i18n import display_names, text
    from najma.errors import NajmaError
    from najma.journeys import process_map
    from najma.rating._suppression import suppress_map

    if out_file is not None and out_file.suffix.lower() not in MAP_FORMATS:
        raise typer.BadParameter(f"{out_file}: the file name must end in {', '.join(MAP_FORMATS)}", param_hint="--out")
    smallest = min_group_of(min_group)
    where = _where(service, quarter, channel, agency, attribute)
    with open_built_store(store) as source:
        whole = process_map(source, where)
        graph = suppress_map(whole, source, where, smallest).abstract(coverage)
        names = display_names(source, lang.value)
    if whole.activities.empty:
        raise NajmaError("no case passes the filter: nothing to map")
    if graph.activities.empty:  # the rule, not an error: said as the tables say it, and no file is written
        out.print(f"no activity of the cases that pass the filter has at least {smallest:,} customers: nothing is "
                  f"shown ({fewer_than(smallest)})")
        return
    if out_file is not None:
        title = names["service"].get(service, service) if service else text("all_services", lang.value)
        _write_map(graph, out_file, measure.value, title=title, labels=names["activity"], lang=lang.value)
        return
    table = Table("from", "to", "times", "cases", "median", "p90", title="Process map")
    for row in graph.edges.itertuples(index=False):
        table.add_row(row.source, row.target, f"{row.frequency:,}", f"{row.cases:,}",
                      _hours(row.median_seconds), _hours(row.p90_seconds))
    out.print(table)
    starts = ", ".join(f"{a} ({n:,})" for a, n in sorted(graph.start_activities.items(), key=lambda x: -x[1]))
    out.print(f"Start activities: {starts}")


def _write_map(graph: ProcessMap, path: Path, measure: str, *, title: str, labels: dict[str, str], lang: str) -> None:
    from najma.dashboards._figures import process_map_figure
    from najma.dashboards._static_images import write_static_image

    suffix = path.suffix.lower()
    if suffix == ".csv":
        graph.edges.to_csv(path, index=False)
    elif suffix == ".bpmn":
        from najma.journeys import discover_process_tree, to_bpmn, write_bpmn  # pm4py loads only when asked for

        write_bpmn(to_bpmn(discover_process_tree(graph)), path)
    else:
        figure = process_map_figure(graph, measure, title=title, labels=labels, lang=lang)
        if suffix == ".html":
            figure.write_html(path, include_plotlyjs=True)
        else:
            write_static_image(figure, path, width=figure.layout.width)  # drawn at its own size: no label is crowded
    out.print(f"wrote the map of {len(graph.activities):,} activities and {len(graph.edges):,} edges to {path}")

