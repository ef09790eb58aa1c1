"""CLI view of the hand-over of work: ``najma handover``."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from najma.dashboards.cli._journeys import AgencyOption, AttributeOption, ChannelOption, QuarterOption, ServiceOption, _where
from najma.dashboards.cli._options import MinGroupOption, StoreOption, fewer_than, min_group_of, open_built_store, out

__all__ = ["app"]

app = typer.Typer()


class Level(str, Enum):
    """Between what work is handed over (see najma.journeys.handovers)."""

    agency = "agency"
    service = "service"
    resource = "resource"


@app.command("handover")
def handover_view(
    store: StoreOption = None,
    by: Annotated[Level, typer.Option(help="Hand-overs between agencies, services (within a customer's linked cases) "
                                           "or resources.")] = Level.agency,
    service: ServiceOption = None, quarter: QuarterOption = None, channel: ChannelOption = None,
    agency: AgencyOption = None, attribute: AttributeOption = None,
    window_days: Annotated[int, typer.Option(min=1, help="With --by service: a customer's case continues the run of "
                                                         "the case before it when it starts within these days.")] = 60,
    matrix: Annotated[bool, typer.Option("--matrix", help="Show (and write) a matrix of hand-over counts, a row per "
                                                          "source and a column per target.")] = False,
    csv: Annotated[Path | None, typer.Option("--csv", help="Write what is shown to this CSV file.")] = None,
    min_group: MinGroupOption = None,
) -> None:
    """Hand-overs of work: per (from, to) pair, the hand-overs, the cases, the customers and the median time of the
    hand-over (pairs of fewer than --min-group customers are left out, on screen and in the file)."""
    from najma.journeys import HANDOVER_NEEDS, handover_matrix, handovers, held_columns
    from najma.rating._suppression import kept_groups

    smallest = min_group_of(min_group)
    where = _where(service, quarter, channel, agency, attribute)
    with open_built_store(store) as source:
        lacking = HANDOVER_NEEDS[by.value] not in held_columns(source).of(service)
        pairs = None if lacking else handovers(source, by.value, where, window_days=window_days)
    if pairs is None:
        of = f" of {service}" if service else ""
        out.print(f"no data: the events{of} have no {HANDOVER_NEEDS[by.value]} column, so hand-overs between {by.value} values "
                  "cannot be counted")
        return
    kept, hidden = kept_groups(pairs, smallest)
    if matrix:
        shown = handover_matrix(kept)
        _print_matrix(shown, by.value)
    else:
        shown = kept
        _print_pairs(kept, by.value)
    if hidden:
        out.print(f"{hidden:,} pairs of {fewer_than(smallest)} are not shown")
    if csv is not None:
        shown.to_csv(csv, index=matrix)
        out.print(f"wrote {csv}")


def _print_pairs(pairs: object, by: str) -> None:
    table = Table("from", "to", "hand-overs", "cases", "customers", "median time", title=f"Hand-overs between {by} values")
    for row in pairs.itertuples(index=False):
        table.add_row(row.source, row.target, f"{row.handovers:,}", f"{row.cases:,}", f"{row.customers:,}",
                      f"{row.median_seconds / 3600:,.1f} h")
    out.print(table)


def _print_matrix(matrix: object, by: str) -> None:
    table = Table("from \\ to", *matrix.columns, title=f"Hand-overs between {by} values")
    for source, row in matrix.iterrows():
        table.add_row(source, *(f"{n:,}" if n else "" for n in row))
    out.print(table)
