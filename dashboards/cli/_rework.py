"""CLI view of rework: ``najma rework``, self-loops and later repetitions, by the same resource or another."""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from najma.dashboards.cli._discover import _scope_text
from najma.dashboards.cli._journeys import AgencyOption, AttributeOption, ChannelOption, QuarterOption, ServiceOption, _where
from najma.dashboards.cli._options import MinGroupOption, StoreOption, fewer_than, min_group_of, open_built_store, out

if TYPE_CHECKING:
    import pandas as pd

    from najma.journeys import CaseFilter, Store

__all__ = ["app"]

app = typer.Typer()


class Level(str, Enum):
    """The level of ``najma rework``'s counts."""

    case = "case"
    activity = "activity"
    service = "service"


#: The counts a row shows: (column, header); each kind of rework shown as its count and its counts by resource.
_SHOWN = (("cases", "cases"), ("events", "steps"), ("cases_with_rework", "cases with rework"))
_KINDS = (("self_loops", "self-loops"), ("repetitions", "repetitions"))
_KEYS = {"case": ("service", "case_id"), "activity": ("service", "activity"), "service": ("service",)}


@app.command("rework")
def rework_view(
    store: StoreOption = None, service: ServiceOption = None, quarter: QuarterOption = None,
    channel: ChannelOption = None, agency: AgencyOption = None, attribute: AttributeOption = None,
    by: Annotated[Level, typer.Option(help="Count per case, per activity or per service.")] = Level.service,
    csv: Annotated[Path | None, typer.Option("--csv", help="Also write the rows shown to this CSV file.")] = None,
    min_group: MinGroupOption = None,
) -> None:
    """Rework as bupaR's edeaR counts it: self-loops (a step again right after itself) and repetitions (again after
    other steps), each a repeat (by the same resource), a redo (by another) or unknown (a resource not known).
    Rows of fewer than --min-group customers are not shown; cases are listed only of a selection of at least
    --min-group customers."""
    from najma.journeys import rework

    smallest = min_group_of(min_group)
    where = _where(service, quarter, channel, agency, attribute)
    with open_built_store(store) as source:
        frame = rework(source, where, by=by.value)
        shown, hidden = _kept(frame, source, where, by.value, smallest)
    period = f"cases started in {quarter}" if quarter else "all quarters"
    chosen = _scope_text(replace(where, service=None, quarter=None))  # the rest of the selection: channel, agency, ...
    title = escape(" · ".join(filter(None, (f"Rework per {by.value}", service or "every service", period, chosen))))
    if frame.empty:
        out.print(f"{title}: no case passes the filter")
        return
    table = Table(*_KEYS[by.value], *(header for _, header in _SHOWN),
                  *(f"{header}: repeat / redo / unknown" for _, header in _KINDS), title=title)
    for row in shown.itertuples(index=False):
        table.add_row(*(str(getattr(row, key)) for key in _KEYS[by.value]),
                      *(f"{getattr(row, column):,}" for column, _ in _SHOWN),
                      *(_by_resource(row, kind) for kind, _ in _KINDS))
    out.print(table)
    out.print("repeat: by the same resource; redo: by another; unknown: a resource not known (never counted a redo). "
              "A self-loop is compared with the step right before it, a repetition with the activity's first step.")
    if hidden:
        out.print(f"{hidden:,} rows of {fewer_than(smallest)} are not shown")
    if csv is not None:
        shown.to_csv(csv, index=False)
        out.print(f"wrote {len(shown):,} rows to {csv}")


def _by_resource(row: object, kind: str) -> str:
    """A kind of rework of `row` as its count and its counts by resource: "12: 3 / 8 / 1"."""
    parts = " / ".join(f"{getattr(row, f'{kind}_{who}'):,}" for who in ("repeat", "redo", "unknown"))
    return f"{getattr(row, kind):,}: {parts}"


def _kept(frame: pd.DataFrame, source: Store, where: CaseFilter, by: str, smallest: int) -> tuple[pd.DataFrame, int]:
    """The rows of `frame` the small-group rule lets show, and how many it hides: rows of at least `smallest`
    customers; at the case level, every case of a selection of at least `smallest` customers, else none."""
    from najma.journeys import journey_table
    from najma.rating._suppression import kept_groups

    if by != "case":
        return kept_groups(frame, smallest)
    customers = journey_table(source, where).customer_id.nunique().to_pyarrow().as_py()
    return (frame, 0) if customers >= smallest else (frame.iloc[:0], len(frame))
