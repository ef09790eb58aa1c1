"""CLI views of publication: ``najma publish`` and ``najma publications``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from najma.dashboards.cli._options import (
    MinGroupOption,
    StoreOption,
    existing_store,
    fewer_than,
    min_group_of,
    open_built_store,
    out,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["app"]

app = typer.Typer()

#: KPI moves shown per service; the rest are counted.
_MOVES_SHOWN = 3


@app.command("publish")
def publish_command(
    quarter: Annotated[str, typer.Option(help="The quarter to publish, e.g. 2025Q3.")],
    store: StoreOption = None,
    config: Annotated[Path | None, typer.Option("--config", help="A rating model TOML (default: najma's shipped model).")] = None,
    cutoff: Annotated[str | None, typer.Option(help="The data cut-off, e.g. '2025-10-15 00:00' (UTC unless it names a zone); "
                                                    "events after it are not used (default: the store's last event).")] = None,
    by: Annotated[str | None, typer.Option(help="Who publishes (default: your user name).")] = None,
    note: Annotated[str, typer.Option(help="A note kept with the record, e.g. why it is published again.")] = "",
    draws: Annotated[int, typer.Option(min=0, help="Bootstrap draws per service for the uncertainty (0: none).")] = 200,
    min_group: MinGroupOption = None,
) -> None:
    """Freeze a quarter's ratings as a new published revision, and print what changed since the last one.

    Publishing again with the same events, catalogue and model makes nothing and says so. The record
    keeps every service; what is printed leaves out the services of fewer than --min-group customers.
    """
    from najma.rating import case_features, load_config, publish, published_ratings
    from najma.rating._suppression import customers_per_group

    model = load_config(config)
    smallest = min_group_of(min_group)
    with open_built_store(store, read_only=False) as source:
        done = publish(source, quarter, config=model, cutoff=cutoff, by=by, draws=draws, note=note)
        customers = customers_per_group(case_features(source, satisfied_at=model.satisfied_at), ["service", "quarter"])
        rows = published_ratings(source, done.quarter, done.revision)
    provisional = set(rows.loc[rows["provisional"].fillna(False).astype(bool), "service"])
    customers = customers[customers["quarter"] == done.quarter].set_index("service")["customers"]
    small = {service for service in done.changes["service"] if customers.get(service, 0) < smallest}
    out.print(done.summary, markup=False)
    record = done.record
    out.print(f"model {record['model_version']} ({record['config_hash']}), najma {record['najma_version']}; "
              f"{record['cases']:,} cases, {record['events']:,} events up to batch {record['last_batch']}; "
              f"data {str(record['data_fingerprint'])[:12]}; by {record['published_by']} at {record['published_at']:%Y-%m-%d %H:%M} UTC",
              markup=False)
    if done.made and not done.changes.empty:
        out.print(_changes_table(done.changes, done.quarter, done.revision, small, fewer_than(smallest), provisional))


def _changes_table(changes: pd.DataFrame, quarter: str, revision: int, small: set[str], fewer: str,
                   provisional: set[str]) -> Table:
    from najma.dashboards._i18n import number_text, star_marks
    from najma.rating import KPIS, format_value

    def stars(value: object, status: object, service: str) -> str:
        """The stars (marked provisional for a draft catalogue entry), else the status; empty where the service was absent."""
        marks = star_marks(value)
        if marks:
            return f"{marks} (provisional)" if service in provisional else marks
        return "" if status is None else str(status)

    against = f" against revision {revision - 1}" if revision > 1 else ""
    table = Table("service", "stars", "score", "KPIs moved", "why", title=f"{quarter} revision {revision}{against}")
    for row in changes.itertuples():
        if row.service in small:
            table.add_row(row.service, fewer, "", "", "")
            continue
        listed = [] if revision == 1 else row.kpis_moved  # a first revision moves from nothing
        moved = [f"{KPIS[kpi].label} {format_value(old, KPIS[kpi].unit)} → {format_value(new, KPIS[kpi].unit)}"
                 for kpi, old, new in listed[:_MOVES_SHOWN]]
        if len(listed) > _MOVES_SHOWN:
            moved.append(f"{len(listed) - _MOVES_SHOWN} more")
        score = number_text(row.score) if revision == 1 else (
            f"{number_text(row.score_before)} → {number_text(row.score)} ({number_text(row.score_delta)})")
        table.add_row(row.service, stars(row.stars, row.status, row.service) if revision == 1 else
                      f"{stars(row.stars_before, row.status_before, row.service)} → {stars(row.stars, row.status, row.service)}",
                      score, "; ".join(moved), row.why)
    return table


@app.command("publications")
def publications_command(store: StoreOption = None) -> None:
    """List what was published: each quarter's revisions, their cut-off, model, data and who published them."""
    from najma.journeys import Store
    from najma.rating._published import publications

    with Store(existing_store(store), read_only=True) as source:
        listed = publications(source)
    if listed.empty:
        out.print("nothing has been published; publish a quarter with: najma publish --quarter QUARTER")
        return
    for row in listed.itertuples():  # one sentence per revision: it wraps at any width, a table would cut it
        note = f": {row.note}" if row.note else ""
        out.print(f"{row.quarter} revision {row.revision}: cut-off {row.cutoff:%Y-%m-%d %H:%M:%S} UTC (last batch "
                  f"{row.last_batch}, {row.batches_since} loaded since), model {row.model_version} ({row.config_hash}), "
                  f"data {row.data_fingerprint[:12]}, {row.cases:,} cases; published {row.published_at:%Y-%m-%d %H:%M} UTC "
                  f"by {row.published_by}{note}", markup=False)
