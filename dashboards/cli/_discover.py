"""``najma discover``: bundles and proactive services found in the logs, and a bundle adopted as a life event.

``najma discover bundles`` and ``najma discover proactive`` list the candidates of
:func:`najma.journeys.discover_bundles` and :func:`najma.journeys.discover_proactive` (their module
docstrings define every figure), each with the period and the selection of cases it was found on
and the thresholds it used. Each bundle not yet a life event comes with the ``najma discover adopt``
command that writes it into the catalogue, registers it and rebuilds the journeys, as
``najma catalogue use`` does, so that it is measured from then on.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Column, Table

from najma.dashboards._adopt import CATALOGUE_PLACEHOLDER, adopt_commands
from najma.dashboards.cli._journeys import AgencyOption, AttributeOption, ChannelOption, QuarterOption, _where
from najma.dashboards.cli._options import StoreOption, err, existing_store, open_built_store, out

if TYPE_CHECKING:
    import pandas as pd

    from najma.journeys import CaseFilter, Catalogue

__all__ = ["app"]

app = typer.Typer(help="Discover life-event bundles and proactive services in the logs; adopt a bundle as a life event.",
                  no_args_is_help=True)

ServicesOption = Annotated[list[str] | None, typer.Option(
    "--service", help="Only the cases of this service (repeat the option for more services).")]
TopOption = Annotated[int, typer.Option(min=1, help="Show the best N candidates.")]
CsvOption = Annotated[Path | None, typer.Option("--csv", help="Also write every candidate to this CSV file.")]
WindowOption = Annotated[int | None, typer.Option(
    "--window-days", show_default=False,
    help="A customer's case joins the one before it when it starts at most this many days later \\[default: 60].")]
#: One character per day of a lag histogram, from none to the most.
BARS = " ▁▂▃▄▅▆▇█"
#: The figures of a bundle the listing shows, by the words of its table's header.
BUNDLE_LABELS = {"agencies": "agencies", "visits": "visits", "visits_bundled": "visits",
                 "customer_steps": "customer steps", "customer_steps_bundled": "customer steps",
                 "steps_saved": "steps saved", "visits_saved": "visits saved",
                 "documents_repeated": "documents asked again", "documents_repeated_bundled": "documents asked again",
                 "score": "score"}
#: The figures of a proactive candidate the listing shows, by the words of its table's header.
PROACTIVE_LABELS = {"already_proactive": "already proactive", "application_steps": "application steps",
                    "visits": "visits", "score": "score"}


@app.command("bundles")
def bundles_command(
    store: StoreOption = None, window_days: WindowOption = None,
    min_support: Annotated[float | None, typer.Option(
        show_default=False, help="The least share of customer episodes a bundle must hold, in (0, 1] \\[default: 0.01].")] = None,
    min_episodes: Annotated[int | None, typer.Option(
        show_default=False, help="The least number of episodes a bundle must hold \\[default: 20].")] = None,
    top: TopOption = 10, service: ServicesOption = None, quarter: QuarterOption = None, channel: ChannelOption = None,
    agency: AgencyOption = None, attribute: AttributeOption = None, csv: CsvOption = None,
    catalogue: Annotated[Path | None, typer.Option(
        "--catalogue", help=f"The catalogue file the printed adopt commands write into \\[default: {CATALOGUE_PLACEHOLDER}].")] = None,
) -> None:
    """Sets of services the same customers use together within a window: support, confidence, lift, the journey they
    make today and what one window would save. Each comes with the command that adopts it as a life event (in --csv
    too, its column adopt)."""
    from najma.journeys import NEEDED_BY, discover_bundles

    where = _selection(service, quarter, channel, agency, attribute)
    given = _given(window_days=window_days, min_support=min_support, min_episodes=min_episodes)
    with open_built_store(store) as source, err.status("looking for bundles"):
        found = discover_bundles(source, where=where, **given)
    table = found.table.assign(adopt=adopt_commands(found, catalogue, store))
    out.print(f"[bold]Bundles[/]: services the same customers use within {found.window_days:,} days of each other")
    _print_scope(found.period, found.where)
    out.print(f"{found.episodes:,} episodes of {found.customers:,} customers; a bundle needs a support of at least "
              f"{found.min_support:.1%} and {_used(discover_bundles, 'min_episodes', given):,} episodes, and holds 2 to "
              f"{_used(discover_bundles, 'max_services', given)} services")
    if table.empty:
        out.print("no bundle reaches these thresholds; try a lower --min-support or --min-episodes, or a longer "
                  "--window-days", markup=False)
    else:
        _print_bundles(table.head(top))
        _print_missing(found.lacking, NEEDED_BY, BUNDLE_LABELS)
    _write_csv(table, csv)


@app.command("proactive")
def proactive_command(
    store: StoreOption = None,
    within_days: Annotated[int | None, typer.Option(
        show_default=False, help="A follower counts when it starts at most this many days after its trigger ended "
                                 "\\[default: 30].")] = None,
    min_share: Annotated[float | None, typer.Option(
        show_default=False, help="The least share of the trigger's customers the follower must follow, in (0, 1] "
                                 "\\[default: 0.5].")] = None,
    min_customers: Annotated[int | None, typer.Option(
        show_default=False, help="The least number of customers with a completed trigger case \\[default: 20].")] = None,
    top: TopOption = 10, service: ServicesOption = None, quarter: QuarterOption = None, channel: ChannelOption = None,
    agency: AgencyOption = None, attribute: AttributeOption = None, csv: CsvOption = None,
) -> None:
    """Services whose start follows another service's completion for most of its customers: the trigger, the share,
    the lag, and what starting them proactively would save."""
    from najma.journeys import PROACTIVE_NEEDED_BY, discover_proactive

    where = _selection(service, quarter, channel, agency, attribute)
    given = _given(within_days=within_days, min_share=min_share, min_customers=min_customers)
    with open_built_store(store) as source, err.status("looking for proactive candidates"):
        found = discover_proactive(source, where=where, **given)
    out.print(f"[bold]Proactive candidates[/]: services customers start within {found.within_days:,} days of "
              "another service's completion")
    _print_scope(found.period, found.where)
    out.print(f"{found.customers:,} customers; a follower needs a share of at least {found.min_share:.0%} of a "
              f"trigger's customers, and the trigger {_used(discover_proactive, 'min_customers', given):,} customers")
    if found.table.empty:
        out.print("no service follows another this regularly; try a lower --min-share or --min-customers, or a longer "
                  "--within-days", markup=False)
    else:
        _print_proactive(found.table.head(top), found.within_days)
        _print_missing(found.lacking, PROACTIVE_NEEDED_BY, PROACTIVE_LABELS)
    _write_csv(found.table, csv)


@app.command("adopt")
def adopt_command(
    services: Annotated[str, typer.Option("--services", help="The bundle's services, comma-separated, e.g. a,b,c.")],
    key: Annotated[str, typer.Option("--as", help="The life event's key in the catalogue (letters, digits, _ and -).")],
    catalogue: Annotated[Path, typer.Option("--catalogue", help="The catalogue TOML file to write the life event into.")],
    name_en: Annotated[str | None, typer.Option(
        show_default=False, help="Its English name \\[default: its services' names, joined].")] = None,
    name_ar: Annotated[str | None, typer.Option(
        show_default=False, help="Its Arabic name \\[default: its services' Arabic names, joined].")] = None,
    window_days: WindowOption = None, store: StoreOption = None,
) -> None:
    """Write a bundle into the catalogue as a life event, register the catalogue and rebuild the journeys, in one
    transaction (as najma catalogue use does): the bundle is measured from then on."""
    from najma.journeys import LifeEvent, Store, adding_life_event, build_journeys, discover_bundles, load_catalogue, register_catalogue

    members = tuple(name.strip() for name in services.split(",") if name.strip())
    present = load_catalogue(catalogue)
    window = window_days if window_days is not None else _used(discover_bundles, "window_days", {})
    life_event = LifeEvent(key, name_en or _joined(present, members, "name_en", " + "),
                           name_ar or _joined(present, members, "name_ar", "، "), members, window)
    target = existing_store(store)
    with Store(target) as opened, opened.transaction(), adding_life_event(catalogue, life_event) as adopted:
        register_catalogue(opened, adopted)  # the catalogue, its journeys and the file's new table, or none of them
        with err.status("rebuilding the journeys"):
            cases = build_journeys(opened)
    out.print(f"{catalogue}: added the life event {key!r} ({life_event.name_en}: {', '.join(members)}; linked within "
              f"{window:,} days); registered in {target} (services: {len(adopted.services)}, life events: "
              f"{len(adopted.life_events)}); {cases:,} journeys rebuilt", markup=False)
    out.print(f"it is measured from now on: najma.life_event_journeys(store, {key!r})", markup=False)


def _selection(service: list[str] | None, quarter: str | None, channel: str | None, agency: str | None,
               attribute: str | None) -> CaseFilter | None:
    """The cases a discovery looks at (None: all), read as the other views read their options."""
    where = replace(_where(None, quarter, channel, agency, attribute), service=tuple(service) if service else None)
    return None if where.is_empty else where


def _given(**options: float | None) -> dict[str, float]:
    """The options the user gave; the others take the library's defaults."""
    return {name: value for name, value in options.items() if value is not None}


def _used(method: object, name: str, given: dict[str, float]) -> float:
    """The value of `method`'s parameter `name` in a call with `given`: the given one, else the method's default."""
    return given.get(name, inspect.signature(method).parameters[name].default)


def _scope_text(where: CaseFilter | None) -> str:
    """The selection of cases, in words."""
    if where is None:
        return "all cases"
    chosen = [(item.name, getattr(where, item.name)) for item in fields(where)]
    return "; ".join(f"{name} {_value_text(name, value)}" for name, value in chosen if value is not None)


def _value_text(name: str, value: object) -> str:
    """One field of a selection, in words: an attribute as name=value, several values joined by commas."""
    if name == "attribute":
        return "=".join(map(str, value))
    return ", ".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


def _print_scope(period: tuple[pd.Timestamp, pd.Timestamp] | None, where: CaseFilter | None) -> None:
    """Print the period of the cases a discovery looked at (UTC days) and their selection."""
    span = "no cases" if period is None else f"{period[0]:%Y-%m-%d} to {period[1]:%Y-%m-%d} (UTC)"
    out.print(f"period: {span}; selection: {_scope_text(where)}", markup=False)


def _print_bundles(table: pd.DataFrame) -> None:
    """The candidates in two tables, how often and what they cost and save, then the command that adopts each."""
    found = Table("#", "services, in their usual order", "in that order", "customers", "support", "confidence", "lift",
                  title="Bundles")
    saved = Table("#", "agencies", "visits", "customer steps", "steps saved", "visits saved", "documents asked again",
                  "days", "score", title="Today → in one window (means per episode; days: the median)")
    for row in table.itertuples(index=False):
        found.add_row(str(row.rank), escape(" → ".join(row.services)), f"{row.order_share:.0%}", f"{row.customers:,}",
                      f"{row.support:.1%}", f"{row.confidence:.0%}", f"{row.lift:,.1f}")
        saved.add_row(str(row.rank), _figure(row.agencies, ".1f"), _change(row.visits, row.visits_bundled, ".2f"),
                      _change(row.customer_steps, row.customer_steps_bundled, ".1f"), _figure(row.steps_saved, ".1f"),
                      _figure(row.visits_saved, ".2f"),
                      _change(row.documents_repeated, row.documents_repeated_bundled, ".2f"),
                      _figure(row.days, ".1f"), _figure(row.score, ",.0f"))
    out.print(found)
    out.print(saved)
    out.print("to measure a bundle from now on, adopt it as a life event of the catalogue:")
    for row in table.itertuples(index=False):
        said = row.adopt if row.adopt is not None else f"already the catalogue's life event {row.life_event!r}"
        out.print(f"  {row.rank}. {said}", markup=False, soft_wrap=True)
    if any(row.adopt and CATALOGUE_PLACEHOLDER in row.adopt for row in table.itertuples(index=False)):
        out.print(f"  ({CATALOGUE_PLACEHOLDER}: your catalogue file; give --catalogue FILE to name it here)", markup=False)


def _print_proactive(table: pd.DataFrame, within_days: int) -> None:
    """The candidates in two tables: how regularly each follows its trigger, and what a proactive start saves."""
    found = Table("#", "trigger → follower", "customers", "followed", "share", "lag p10", "median", "p90",
                  title="Proactive candidates (lags in days after the trigger's end)")
    saved = Table("#", Column(f"followed per day of lag, 0-{within_days - 1}", no_wrap=True), "already proactive", "application steps",
                  "visits", "days saved", "score", title="What a proactive start saves (per followed case)")
    for row in table.itertuples(index=False):
        found.add_row(str(row.rank), escape(f"{row.trigger} → {row.follower}"), f"{row.customers:,}", f"{row.followed:,}",
                      f"{row.share:.1%}", f"{row.lag_days_p10:.1f}", f"{row.lag_days_median:.1f}", f"{row.lag_days_p90:.1f}")
        saved.add_row(str(row.rank), _bars(row.lag_histogram), _figure(row.already_proactive, ".0%"),
                      _figure(row.application_steps, ".2f"), _figure(row.visits, ".2f"), _figure(row.days_saved, ".1f"),
                      _figure(row.score, ",.0f"))
    out.print(found)
    out.print(saved)


def _figure(value: float, spec: str) -> str:
    """A figure in the format `spec`, or "no data" when the log cannot support it (NaN)."""
    from najma.dashboards._i18n import text

    return text("no_data_short", "en") if math.isnan(value) else format(value, spec)


def _change(today: float, bundled: float, spec: str) -> str:
    """A figure today and in one window ("2.00 → 1.00"); "no data" once when the log cannot support it."""
    return _figure(today, spec) if math.isnan(today) else f"{today:{spec}} → {_figure(bundled, spec)}"


def _print_missing(lacking: Mapping[str, tuple[str, ...]], needed_by: Mapping[str, tuple[str, ...]],
                   labels: Mapping[str, str]) -> None:
    """Print, once, what the figures shown as "no data" need and which services lack it."""
    from najma.dashboards._discovered import missing_line  # its words load the i18n tables: only when printing

    said = missing_line(lacking, needed_by, labels, "en")
    if said:
        out.print(said, markup=False, soft_wrap=True)


def _bars(counts: tuple[int, ...]) -> str:
    """A histogram as one line of bars, one character a day."""
    most = max(counts, default=0)
    return "".join(BARS[0 if not most else -(-count * (len(BARS) - 1) // most)] for count in counts)


def _joined(catalogue: Catalogue, services: tuple[str, ...], name: str, separator: str) -> str:
    """A life event's default name: its services' names (of those the catalogue describes), joined."""
    return separator.join(getattr(catalogue.services[key], name) for key in services if key in catalogue.services)


def _write_csv(table: pd.DataFrame, path: Path | None) -> None:
    """Write `table` as CSV, its tuples as text (services as a,b,c; a histogram as counts with spaces)."""
    if path is None:
        return
    flat = table.copy()
    for column in ("services", "lag_histogram"):
        if column in flat:
            flat[column] = [(" " if column == "lag_histogram" else ",").join(map(str, value)) for value in flat[column]]
    flat.to_csv(path, index=False)
    out.print(f"wrote {len(flat):,} candidate{'' if len(flat) == 1 else 's'} to {path}", markup=False)
