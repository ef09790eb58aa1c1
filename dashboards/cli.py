"""The ``najma`` command line: load event logs into the store and see what it holds.

Every error najma expects (a file it cannot read, a bad option, a bad catalogue) ends with one
line on standard error and exit code 2; an interrupt ends with exit code 130 and the store as it
was. No traceback reaches the user.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from duckdb import ColumnExpression, ConstantExpression

from journeys import (
    NajmaError,
    Store,
    build_journeys,
    journeys_outdated,
    open_source,
    parse_mapping,
    register_catalogue,
)
from journeys.catalogue import draft_catalogue, load_catalogue
from journeys.eventlog import EventLog

from dashboards import cli_dashboard, cli_journeys, cli_rating
from dashboards.cli_options import StoreOption, store_path

__all__ = ["app", "main"]

app = typer.Typer(help="najma: customer journeys and star ratings of government services.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
catalogue_app = typer.Typer(help="Draft and check the service catalogue.", no_args_is_help=True)
app.add_typer(catalogue_app, name="catalogue")
cli_journeys.register(app)
cli_rating.register(app)
cli_dashboard.register(app)

out = Console()
err = Console(stderr=True)

def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    )


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="CSV, Parquet (file or folder), XES or XES.gz files.")],
    store: StoreOption = None,
    service: Annotated[str | None, typer.Option(help="The service of every event [default: a mapped service column, else the file name].")] = None,
    map_: Annotated[str | None, typer.Option("--map", help="Source columns onto canonical ones, e.g. case=SessionID,activity=PAGE_NAME,timestamp=TIMESTAMP.")] = None,
    sep: Annotated[str | None, typer.Option(help="CSV delimiter [default: ',' ('\\t' for .tsv)].")] = None,
    tz: Annotated[str, typer.Option(help="Zone of times written without an offset (IANA name).")] = "UTC",
    time_format: Annotated[str | None, typer.Option("--format", help="strptime format of the times, e.g. '%d/%m/%Y %H:%M' [default: ISO 8601].")] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of CSV files.")] = "utf-8",
    catalogue: Annotated[Path | None, typer.Option(help="A service catalogue to register first (roles of activities).")] = None,
) -> None:
    """Load event logs into the store, once each; print read / loaded / quarantined.

    The journeys of the cases each new file touches are rebuilt after it is loaded.
    """
    mapping = parse_mapping(map_)
    registered = load_catalogue(catalogue) if catalogue is not None else None
    stop = threading.Event()

    def on_interrupt(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        err.print("stopping after the current batch; the store will be left as it was (Ctrl-C again to stop now)")

    def advance(task: TaskID, done: int, total: int) -> None:
        bar.update(task, completed=done, total=total or None)
        if stop.is_set():
            raise KeyboardInterrupt

    table = Table("batch", "source", "read", "loaded", "quarantined", "note", title="Ingest")
    quarantined = 0
    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        with Store(store_path(store)) as target, _progress() as bar:
            if registered is not None:
                register_catalogue(target, registered)
            for path in paths:
                source = open_source(path, sep=sep, encoding=encoding)
                task = bar.add_task(path.name, total=None)
                result = target.ingest(
                    source, mapping=mapping, service=service, tz=tz, time_format=time_format,
                    progress=lambda done, total, task=task: advance(task, done, total),
                )
                bar.remove_task(task)
                if not result.skipped:
                    build_journeys(target, batch_id=result.batch_id)
                skipped = f"already loaded as batch {result.batch_id}; nothing added"
                table.add_row(str(result.batch_id), path.name, f"{result.read:,}", f"{result.loaded:,}",
                              f"{result.quarantined:,}", skipped if result.skipped else f"{result.seconds:.1f} s")
                quarantined += 0 if result.skipped else result.quarantined
    finally:
        signal.signal(signal.SIGINT, previous)
    out.print(table)
    if quarantined:
        out.print(f"Quarantined rows and their reasons: najma quarantine --store {store_path(store)}")


@app.command()
def info(store: StoreOption = None) -> None:
    """Show what the store holds: batches, services, cases, events, time span, quarantined rows."""
    with Store(store_path(store), read_only=True) as source:
        _print_info(source)


def _print_info(source: Store) -> None:
    batches = source.con.execute(
        "SELECT batch_id, source, rows_read, rows_loaded, rows_quarantined, loaded_at FROM batches ORDER BY batch_id"
    ).fetchall()
    table = Table("batch", "source", "read", "loaded", "quarantined", "loaded at (UTC)", title=f"Store {source.path}")
    for batch_id, name, read, loaded, quarantined, at in batches:
        table.add_row(str(batch_id), name, f"{read:,}", f"{loaded:,}", f"{quarantined:,}", f"{at:%Y-%m-%d %H:%M}")
    out.print(table)
    summary = EventLog(source).summary()
    services = Table("service", "cases", "events", "activities", "first (UTC)", "last (UTC)", title="Services")
    for row in summary.itertuples(index=False):
        services.add_row(str(row.service), f"{row.cases:,}", f"{row.events:,}", str(row.activities),
                         f"{row.first:%Y-%m-%d}", f"{row.last:%Y-%m-%d}")
    out.print(services)
    quarantined = source.con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0]
    cases = source.con.execute("SELECT count(DISTINCT case_id) FROM events").fetchall()[0][0]
    out.print(
        f"{len(batches)} batches, {len(summary)} services, {cases:,} cases, {int(summary['events'].sum()):,} events, "
        f"{quarantined:,} quarantined rows."
    )


@app.command()
def quarantine(
    store: StoreOption = None,
    limit: Annotated[int, typer.Option(help="Show at most this many rows (0: all).")] = 50,
    batch: Annotated[int | None, typer.Option(help="Only this batch.")] = None,
    csv: Annotated[Path | None, typer.Option(help="Write all the matching rows to this CSV file instead.")] = None,
) -> None:
    """List quarantined rows: file, place (line, row or event), column, reason and the record as read."""
    with Store(store_path(store), read_only=True) as source:
        relation = source.con.table("quarantine")
        if batch is not None:
            relation = relation.filter(ColumnExpression("batch_id") == ConstantExpression(batch))
        rows = relation.order("batch_id, row").select("batch_id, source, unit, row, \"column\", reason, record::VARCHAR AS record")
        total = rows.count("*").fetchall()[0][0]
        if csv is not None:
            rows.write_csv(str(csv))
            out.print(f"wrote {total:,} rows to {csv}")
            return
        shown = rows.limit(limit) if limit else rows
        table = Table("batch", "source", "where", "column", "reason", "record", title=f"Quarantine: {total:,} rows")
        for batch_id, name, unit, row, column, reason, record in shown.fetchall():
            table.add_row(str(batch_id), Path(name).name, unit if row is None else f"{unit} {row}", column or "", reason,
                          (record or "")[:80])
        out.print(table)


@app.command()
def export(
    out_dir: Annotated[Path, typer.Option("--out", help="A new folder for the Parquet files.")],
    store: StoreOption = None,
) -> None:
    """Write the store's events as Parquet files in najma's schema: the input of najma rate --engine spark."""
    if out_dir.exists() and any(out_dir.iterdir()):
        raise NajmaError(f"{out_dir} is not empty; export into a new folder")
    with Store(store_path(store), read_only=True) as source:
        total = source.export_events(out_dir)
    out.print(f"wrote {total:,} events to {out_dir}; rate them on Spark with: "
              f"najma rate --engine spark --events '{out_dir}/*.parquet' --quarter Q --store NEW.duckdb")


@app.command()
def sample(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write events, truth.parquet and services.toml.")],
    cases: Annotated[int, typer.Option(min=1, help="Number of cases (about 10 events each).")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same log.")] = 7,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
) -> None:
    """Generate a log of the sample government services, with its ground truth and catalogue."""
    from najma_sample import generate, write_sample

    with err.status(f"generating {cases:,} cases"):
        generated = generate(cases, seed=seed)
        written = write_sample(generated, out_dir, fmt=fmt)
    out.print(f"{generated.events.num_rows:,} events of {len(generated.truth):,} cases:")
    for path in written:
        out.print(f"  {path}")


@app.command()
def start(
    store: StoreOption = None,
    dashboard: Annotated[bool, typer.Option(help="Then serve the dashboard on http://127.0.0.1:8050/.")] = True,
) -> None:
    """Load the bundled sample into the store if it is empty (or rebuild journeys an earlier najma built), show
    what the store holds, and open the dashboard."""
    from najma_sample import load_sample

    path = store_path(store)
    with Store(path) as target:
        empty = target.con.execute("SELECT count(*) FROM events").fetchall()[0][0] == 0
        if empty:
            with err.status(f"loading the bundled sample into {path}"):
                load_sample(target)
        elif journeys_outdated(target):
            with err.status("rebuilding the journeys, which an earlier najma built"):
                build_journeys(target)
        _print_info(target)
    if dashboard:
        cli_dashboard.run_dashboard(path)


@catalogue_app.command("draft")
def catalogue_draft(
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the drafted TOML.")],
    store: StoreOption = None,
) -> None:
    """Draft a service catalogue from the loaded log, for the analyst to correct."""
    with Store(store_path(store), read_only=True) as source:
        profile = EventLog(source).activity_profile()
    if not profile:
        raise NajmaError(f"the store {store_path(store)} holds no events to draft a catalogue from")
    out_file.write_text(draft_catalogue(profile), encoding="utf-8")
    out.print(f"drafted {len(profile)} services into {out_file}; correct the TODOs, roles and journeys, then run "
              f"najma catalogue check {out_file}")


@catalogue_app.command("use")
def catalogue_use(
    path: Annotated[Path, typer.Argument(help="The catalogue TOML file.")],
    store: StoreOption = None,
) -> None:
    """Register a catalogue in the store (roles, open days) and rebuild the journeys with it."""
    catalogue = load_catalogue(path)
    with Store(store_path(store)) as target:
        register_catalogue(target, catalogue)
        with err.status("rebuilding the journeys"):
            cases = build_journeys(target)
    out.print(f"{path}: {len(catalogue.services)} services registered; {cases:,} journeys rebuilt")


@catalogue_app.command("check")
def catalogue_check(
    path: Annotated[Path, typer.Argument(help="The catalogue TOML file.")],
    store: StoreOption = None,
) -> None:
    """Validate a catalogue, and check it against the loaded log when there is a store."""
    catalogue = load_catalogue(path)
    target = store_path(store)
    if target.exists():
        with Store(target, read_only=True) as source:
            rows = source.con.execute("SELECT DISTINCT service, activity FROM events").fetchall()
        present: dict[str, set[str]] = {}
        for service, activity in rows:
            present.setdefault(service, set()).add(activity)
        catalogue.check_against(present)
    out.print(f"{path}: {len(catalogue.services)} services, {len(catalogue.life_events)} life events: valid")


def main() -> None:
    """Run the CLI, turning najma's errors into one line and exit code 2."""
    command = typer.main.get_command(app)
    try:
        code = command.main(prog_name="najma", standalone_mode=False)
    except typer.TyperException as exc:  # usage errors and bad parameters, from typer's own click
        context = getattr(exc, "ctx", None)
        hint = f" (see {context.command_path} --help)" if context is not None else ""
        sys.stderr.write(f"najma: error: {exc.format_message()}{hint}\n")
        sys.exit(getattr(exc, "exit_code", 2))
    except NajmaError as exc:
        sys.stderr.write(f"najma: error: {exc}\n")
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort, duckdb.InterruptException):
        _interrupted()
    except RuntimeError as exc:
        if "interrupted" not in str(exc).lower():
            raise
        _interrupted()
    if code == 130:  # typer turns KeyboardInterrupt into this exit code
        _interrupted()
    if isinstance(code, int) and code:
        sys.exit(code)


def _interrupted() -> None:
    sys.stderr.write("najma: interrupted; the store is as it was before this load.\n")
    sys.exit(130)
