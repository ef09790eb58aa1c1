"""``najma surveys``: load survey answers beside the events, and show their link to journeys and the response rates."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from najma.dashboards.cli._options import MinGroupOption, StoreOption, fewer_than, min_group_of, open_built_store, out, store_path

if TYPE_CHECKING:
    from najma.journeys import Store, SurveySummary

__all__ = ["app", "parse_scale", "summary_row"]

app = typer.Typer(help="Survey answers: load them beside the events, linked to journeys without changing them.",
                  no_args_is_help=True)

#: The quarantined rows a load lists, at most; the rest are counted (``najma surveys quarantine`` is not needed:
#: every row is in the store's ``survey_quarantine`` table).
SHOWN_ROWS = 20

WindowOption = Annotated[float | None, typer.Option(
    "--window-days", min=0, show_default=False,
    help="How many days after a journey ends an answer by its customer still links to it \\[default: 30].")]


def parse_scale(text: str) -> tuple[float, float]:
    """Read ``--scale`` such as ``1-5`` or ``0-10`` as (lowest, highest).

    Examples
    --------
    >>> parse_scale("1-5"), parse_scale("0 - 10")
    ((1.0, 5.0), (0.0, 10.0))
    """
    from najma.errors import InvalidParameterError

    low, _, high = text.partition("-")
    try:
        return float(low), float(high)
    except ValueError:
        raise InvalidParameterError(f"the scale must be LOW-HIGH, e.g. 1-5. Got {text!r} instead.", parameter="scale") from None


@app.command()
def load(
    path: Annotated[Path, typer.Argument(help="A CSV or Parquet file of answers, one a row.")],
    store: StoreOption = None,
    map_: Annotated[str | None, typer.Option("--map", help="Source columns onto canonical ones: case, customer, service, channel, "
                                             "timestamp (when answered), satisfaction (the score), activity (the question); "
                                             "e.g. case=Ref,timestamp=AnsweredAt,satisfaction=Rating \\[default: columns named "
                                             "case_id, customer_id, answered_at, score, question].")] = None,
    comment: Annotated[str | None, typer.Option(help="The column of free-text comments \\[default: comment, if present].")] = None,
    scale: Annotated[str, typer.Option(help="The lowest and highest score, LOW-HIGH; scores outside it are quarantined.")] = "1-5",
    service: Annotated[str | None, typer.Option(help="The service of every answer \\[default: a mapped service column, else any].")] = None,
    sep: Annotated[str | None, typer.Option(help="CSV delimiter \\[default: ',' ('\\t' for .tsv)].")] = None,
    tz: Annotated[str, typer.Option(help="Zone of times written without an offset (IANA name).")] = "UTC",
    time_format: Annotated[str | None, typer.Option("--format", help="strptime format of the times \\[default: ISO 8601].")] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of a CSV file.")] = "utf-8",
) -> None:
    """Load a file of survey answers into the store (once); print read / loaded / quarantined and each bad row's place."""
    from najma.journeys import Store, load_survey, open_source, parse_mapping

    mapping, low_high = parse_mapping(map_), parse_scale(scale)
    source = open_source(path, sep=sep, encoding=encoding)  # refused before the store is touched
    with Store(store_path(store)) as target:
        result = load_survey(target, source, mapping=mapping, comment=comment, scale=low_high, service=service, tz=tz,
                             time_format=time_format)
        table = Table("batch", "source", "read", "loaded", "quarantined", "note", title="Survey answers")
        table.add_row(str(result.batch_id), path.name, f"{result.read:,}", f"{result.loaded:,}", f"{result.quarantined:,}",
                      f"already loaded as survey batch {result.batch_id}; nothing added" if result.skipped else "")
        out.print(table)
        if result.quarantined and not result.skipped:
            _print_quarantined(target, result.batch_id, path.name)


def _print_quarantined(target: Store, batch_id: int, name: str) -> None:
    """One line per quarantined row of the batch (the first :data:`SHOWN_ROWS`): file, row, column and reason."""
    rows = target.backend.table("survey_quarantine")
    rows = rows.filter(rows.batch_id == batch_id).order_by("row")
    for row in rows.select("row", "unit", "column", "reason").limit(SHOWN_ROWS).to_pyarrow().to_pylist():
        column = f", column {row['column']}" if row["column"] else ""
        out.print(f"{name} {row['unit']} {row['row']}{column}: {row['reason']}", markup=False, highlight=False)
    more = rows.count().execute() - SHOWN_ROWS
    if more > 0:
        out.print(f"... and {more:,} more quarantined rows (the store's survey_quarantine table)")


@app.command()
def info(
    store: StoreOption = None,
    quarter: Annotated[str | None, typer.Option(help="Only the journeys started in this quarter, e.g. 2025Q1.")] = None,
    window_days: WindowOption = None,
    min_group: MinGroupOption = None,
) -> None:
    """Per service: journeys, answered journeys and response rate, answers linked and link rate; unlinked answers by reason."""
    from najma.journeys import CaseFilter, survey_summary
    from najma.journeys._surveys import LINK_WINDOW_DAYS

    window = LINK_WINDOW_DAYS if window_days is None else window_days
    smallest = min_group_of(min_group)
    with open_built_store(store) as source:
        services = [row.service for row in source.service_summary()]
        table = Table("service", "journeys", "answered", "response rate", "answers", "linked", "link rate",
                      title=f"Survey answers, {quarter or 'all quarters'} (linked up to {window:g} days after a journey)")
        for service in services:
            summary = survey_summary(source, where=CaseFilter(service=service, quarter=quarter), window_days=window)
            table.add_row(*summary_row(service, summary, smallest))
        total = survey_summary(source, where=CaseFilter(quarter=quarter), window_days=window)
        table.add_row(*summary_row("all services", total, smallest))
        out.print(table)
        for reason, count in sorted(total.unlinked.items()):
            out.print(f"unlinked: {count:,} answers: {reason}", markup=False, highlight=False)


def summary_row(label: str, summary: SurveySummary, min_group: int) -> list[str]:
    """A table row of `summary`; a group of fewer than `min_group` customers shows no count."""
    if summary.customers < min_group:
        return [label, fewer_than(min_group), *[""] * 5]

    def rate(value: float) -> str:
        return "no data" if value != value else f"{value:.1%}"

    return [label, f"{summary.journeys:,}", f"{summary.answered:,}", rate(summary.response_rate), f"{summary.answers:,}",
            f"{summary.linked:,}", rate(summary.link_rate)]
