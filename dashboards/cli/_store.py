"""Commands that fill the store and say what it holds: ``ingest``, ``info``, ``quarantine``, ``export``, ``sample``, ``start``."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from najma.dashboards.cli._options import (
    Engine,
    MinGroupOption,
    Repeats,
    SampleFormat,
    StoreOption,
    err,
    existing_store,
    fewer_than,
    is_interrupt,
    min_group_of,
    out,
    store_path,
)

if TYPE_CHECKING:
    from najma.journeys import Store

__all__ = ["app", "print_info"]

app = typer.Typer()


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    )


@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="CSV, Parquet (file or folder) or XES files; plain, compressed (gzip, bz2, zstd) or zipped.")],
    store: StoreOption = None,
    service: Annotated[str | None, typer.Option(help="The service of every event \\[default: a mapped service column, else the file name].")] = None,
    map_: Annotated[str | None, typer.Option("--map", help="Source columns onto canonical ones, e.g. case=SessionID,activity=PAGE_NAME,timestamp=TIMESTAMP.")] = None,
    sep: Annotated[str | None, typer.Option(help="CSV delimiter \\[default: ',' ('\\t' for .tsv)].")] = None,
    tz: Annotated[str, typer.Option(help="Zone of times written without an offset (IANA name).")] = "UTC",
    time_format: Annotated[str | None, typer.Option("--format", help="strptime format of the times, e.g. '%d/%m/%Y %H:%M' \\[default: ISO 8601].")] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of CSV files.")] = "utf-8",
    catalogue: Annotated[Path | None, typer.Option(help="A service catalogue to register first (roles of activities).")] = None,
    repeats: Annotated[Repeats, typer.Option(help="Events equal to an earlier event of the same file: keep them as genuine "
                                             "repeats, or quarantine them as rows repeated by mistake.")] = Repeats.keep,
    engine: Annotated[Engine, typer.Option(help="duckdb: into the store; spark: on Spark, into the Parquet lake --out.")] = Engine.duckdb,
    lake: Annotated[str | None, typer.Option("--out", help="Spark: the lake folder it writes (events, quarantine, batches); a lake written before grows.")] = None,
    master: Annotated[str | None, typer.Option(help="Spark: master URL \\[default: spark-submit's, else local[*]].")] = None,
    remote: Annotated[str | None, typer.Option(help="Spark: a Spark Connect URL (sc://host:15002) instead of a master.")] = None,
    conf: Annotated[list[str] | None, typer.Option(help="Spark: a setting KEY=VALUE (repeatable).")] = None,
) -> None:
    """Load event logs into the store, once each; print read / loaded / quarantined.

    Each file is loaded together with the build of the journeys it touches (and, for the first, the
    catalogue given): an error or Ctrl-C leaves the store as it was before that file, keeping the
    files loaded before it. Files that cannot be read are refused before the store is touched.
    With --engine spark the same rules run on Spark and write najma's Parquet lake to --out, the
    input of najma rate --engine spark; what can be refused is refused before Spark starts.
    """
    from najma.errors import NajmaError
    from najma.journeys import Store, check_time_format, load_catalogue, open_source, parse_mapping, register_catalogue

    mapping = parse_mapping(map_)
    if engine is Engine.spark:
        _refuse_duckdb_options(store=store, catalogue=catalogue)
        if lake is None:
            raise NajmaError("--engine spark needs --out: the folder of the Parquet lake it writes")
        options = {"mapping": mapping, "service": service, "tz": tz, "time_format": time_format, "sep": sep, "encoding": encoding}
        _ingest_on_spark(paths, lake, options, repeats, master, remote, conf or [])
        return
    if lake or master or remote or conf:
        raise NajmaError("--out, --master, --remote and --conf need --engine spark")
    if time_format is not None:
        check_time_format(time_format)
    registered = load_catalogue(catalogue) if catalogue is not None else None
    sources = [open_source(path, sep=sep, encoding=encoding) for path in paths]  # refused before the store is touched
    path = store_path(store)
    stop = threading.Event()

    def on_interrupt(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        err.print("stopping: the file being loaded will not be kept, the files loaded before it are "
                  "(Ctrl-C again to stop at once)")

    building: set[TaskID] = set()

    def advance(task: TaskID, name: str, done: int, total: int) -> None:
        if done >= total and task not in building:  # the load is read; its journeys are being built
            building.add(task)
            bar.update(task, description=f"{name}: building journeys")
            if bar.disable:
                err.print(f"building the journeys of {name}")
        bar.update(task, completed=done, total=total or None)
        if stop.is_set():
            raise KeyboardInterrupt

    table = Table("batch", "source", "read", "loaded", "quarantined", "note", title="Ingest")
    quarantined = 0
    kept: list[str] = []  # the files whose load is committed (or was there before)
    previous = signal.signal(signal.SIGINT, on_interrupt)
    with _removed_if_left_empty(path), Store(path) as target, _progress() as bar:
        try:
            for index, source in enumerate(sources):
                name = Path(source.name).name
                task = bar.add_task(name, total=None)
                if bar.disable:  # no bar off a terminal: one line per file says what is being loaded
                    err.print(f"loading {source.name} into {target.path}")
                with _told(target, name, kept, table), target.transaction():
                    if index == 0 and registered is not None:
                        register_catalogue(target, registered)
                    result = target.ingest(
                        source, mapping=mapping, service=service, tz=tz, time_format=time_format, repeats=repeats.value,
                        progress=lambda done, total, task=task, name=name: advance(task, name, done, total),
                    )
                bar.remove_task(task)
                kept.append(name)
                skipped = f"already loaded as batch {result.batch_id}; nothing added"
                table.add_row(str(result.batch_id), name, f"{result.read:,}", f"{result.loaded:,}",
                              f"{result.quarantined:,}", skipped if result.skipped else f"{result.seconds:.1f} s")
                quarantined += 0 if result.skipped else result.quarantined
                if result.cases_elsewhere:
                    err.print(f"note: {result.cases_elsewhere:,} cases of {name} are in the store under another "
                              "service too; without a service column each file is a service named after it: load "
                              "the extracts of one service with --service NAME")
                if stop.is_set():  # the stop came as this file was committed: it is kept
                    out.print(table)
                    rest = [Path(later.name).name for later in sources[index + 1:]]
                    err.print(f"najma: interrupted as {name} was committed; kept {', '.join(kept)}"
                              + (f"; not loaded: {', '.join(rest)}" if rest else ""))
                    sys.exit(130)
        finally:
            signal.signal(signal.SIGINT, previous)
    out.print(table)
    if quarantined:
        out.print(f"Quarantined rows and their reasons: najma quarantine --store {path}")


def _refuse_duckdb_options(**given: object) -> None:
    """Refuse the options of the DuckDB ingest that a Spark ingest has no use for."""
    from najma.errors import NajmaError

    used = [name for name, value in given.items() if value is not None]
    if used:
        raise NajmaError(f"{', '.join('--' + name for name in used)}: not with --engine spark, which writes a Parquet "
                         "lake (register the catalogue in the store that najma rate --engine spark fills)")


def _ingest_on_spark(
    paths: list[str], lake: str, options: dict[str, object], repeats: Repeats, master: str | None, remote: str | None,
    conf: list[str],
) -> None:
    """Ingest on Spark: every refusal that needs no Spark first, then the session, then the ingest and its summary.

    `options` are the ingest's mapping, service, tz, time_format, sep and encoding, as the library names them.
    """
    from najma.dashboards.cli._spark import quiet_spark_session, spark_settings
    from najma.spark import check_spark_ingest, ingest_on_spark

    settings = spark_settings(conf)
    check_spark_ingest(paths, lake, **options)
    session = quiet_spark_session(lake, master, remote, settings)
    with err.status("Spark: ingesting") as status:
        done = ingest_on_spark(session, paths, lake, repeats=repeats.value, **options,
                               progress=lambda step, steps: status.update(f"Spark: ingesting, step {step} of {steps}"))
    table = Table("batch", "source", "read", "loaded", "quarantined", "repeated", "note", title=f"Ingest on Spark into {lake}")
    for batch in done.batches:
        note = f"already loaded as batch {batch.batch_id}; nothing added" if batch.skipped else f"{batch.seconds:.1f} s"
        table.add_row(str(batch.batch_id), Path(batch.source).name, f"{batch.read:,}", f"{batch.loaded:,}",
                      f"{batch.quarantined:,}", f"{batch.repeated:,}", note)
    out.print(table)
    if done.quarantined:
        out.print(f"Quarantined rows and their reasons: {lake}/quarantine (Parquet)", markup=False)
    target = f" --remote {remote}" if remote else f" --master {master}" if master else ""
    out.print(f"Next: najma rate --engine spark --events {done.events_path} --quarter QUARTER --store NEW.duckdb{target}",
              markup=False)


@contextmanager
def _told(target: Store, name: str, kept: list[str], table: Table) -> Iterator[None]:
    """If loading `name` fails or is interrupted, say truthfully what the store kept: the files in `kept`, whose
    rows `table` shows, and of `name` nothing (or, for an interrupt that came as it was committed, all of it)."""
    from najma.errors import NajmaError

    before = len(target.batches())
    earlier = f"; kept the files loaded before it: {', '.join(kept)}" if kept else ""
    try:
        yield
    except NajmaError:
        if kept:
            out.print(table)
            err.print(f"najma: {name} was not loaded{earlier}")
        raise
    except BaseException as exc:
        if not is_interrupt(exc):
            raise
        told = ("it was loaded and its journeys built before the interrupt took hold" if len(target.batches()) > before
                else f"nothing of it was kept{earlier or ': the store holds what it held before'}")
        err.print(f"najma: interrupted while loading {name}; {told}")
        sys.exit(130)


@contextmanager
def _removed_if_left_empty(path: Path) -> Iterator[None]:
    """Remove the store file that the block made, if the block fails before loading anything into it."""
    existed = path.exists()
    try:
        yield
    except BaseException:
        if not existed and path.exists() and _holds_no_batch(path):
            for leftover in (path, path.with_name(path.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise


def _holds_no_batch(path: Path) -> bool:
    from najma.errors import NajmaError
    from najma.journeys import Store

    try:
        with Store(path, read_only=True) as left:
            return not left.batches()
    except NajmaError:
        return False


@app.command()
def info(store: StoreOption = None, min_group: MinGroupOption = None) -> None:
    """Show what the store holds: batches, services, cases, events, time span, quarantined rows (no count of a
    service of fewer than --min-group customers)."""
    from najma.journeys import Store

    with Store(existing_store(store), read_only=True) as source:
        print_info(source, min_group)


def print_info(source: Store, min_group: int | None = None) -> None:
    """Print the store's batches, its services and its totals; a service of fewer than `min_group` customers
    (the small-group rule's default when None) shows no count."""
    smallest = min_group_of(min_group)
    customers = _customers_per_service(source)
    batches = source.batches()
    table = Table("batch", "source", "read", "loaded", "quarantined", "repeats", "loaded at (UTC)", title=f"Store {source.path}")
    for row in batches:
        table.add_row(str(row.batch_id), row.source, f"{row.rows_read:,}", f"{row.rows_loaded:,}",
                      f"{row.rows_quarantined:,}", f"{row.rows_repeated:,}", f"{row.loaded_at:%Y-%m-%d %H:%M}")
    out.print(table)
    summary = source.service_summary()
    services = Table("service", "cases", "events", "activities", "first (UTC)", "last (UTC)", title="Services")
    for row in summary:
        if customers.get(row.service, 0) < smallest:
            services.add_row(str(row.service), fewer_than(smallest), "", "", "", "")
            continue
        services.add_row(str(row.service), f"{row.cases:,}", f"{row.events:,}", str(row.activities),
                         f"{row.first:%Y-%m-%d}", f"{row.last:%Y-%m-%d}")
    out.print(services)
    out.print(
        f"{len(batches)} batches, {len(summary)} services, {sum(s.cases for s in summary):,} cases, "
        f"{sum(s.events for s in summary):,} events, "
        f"{source.n_rows('quarantine'):,} quarantined rows."
    )


def _customers_per_service(source: Store) -> dict[str, int]:
    """The distinct customers of each service's events; a case without a customer is its own customer."""
    import ibis

    events = source.backend.table("events")
    who = ibis.coalesce(events.customer_id, "case:" + events.case_id.cast("string"))
    counted = events.group_by("service").aggregate(customers=who.nunique())
    return {row["service"]: row["customers"] for row in counted.to_pyarrow().to_pylist()}


@app.command()
def quarantine(
    store: StoreOption = None,
    limit: Annotated[int, typer.Option(help="Show at most this many rows (0: all).")] = 50,
    batch: Annotated[int | None, typer.Option(help="Only this batch.")] = None,
    csv: Annotated[Path | None, typer.Option(help="Write all the matching rows to this CSV file instead.")] = None,
) -> None:
    """List quarantined rows: file, place (line, row or event), column, reason and the record as read."""
    from najma.journeys import Store

    with Store(existing_store(store), read_only=True) as source:
        rows = source.quarantined(batch)
        total = int(rows.count().to_pyarrow().as_py())
        if csv is not None:
            rows.to_csv(csv)
            out.print(f"wrote {total:,} rows to {csv}")
            return
        shown = (rows.limit(limit) if limit else rows).to_pandas()
    shown = shown.astype(object).where(shown.notna(), None)  # a missing column or record is None, never NaN
    table = Table("batch", "source", "where", "column", "reason", "record", title=f"Quarantine: {total:,} rows")
    for row in shown.itertuples(index=False):
        place = row.unit if row.row is None else f"{row.unit} {int(row.row)}"
        table.add_row(str(row.batch_id), Path(row.source).name, place, row.column or "", row.reason, (row.record or "")[:80])
    out.print(table)


@app.command()
def export(
    out_dir: Annotated[Path, typer.Option("--out", help="A new folder for the Parquet files.")],
    store: StoreOption = None,
) -> None:
    """Write the store's events as Parquet files in najma's schema: the input of najma rate --engine spark."""
    from najma.errors import NajmaError
    from najma.journeys import Store

    if out_dir.exists() and any(out_dir.iterdir()):
        raise NajmaError(f"{out_dir} is not empty; export into a new folder")
    with Store(existing_store(store), read_only=True) as source:
        total = source.export_events(out_dir)
    out.print(f"wrote {total:,} events to {out_dir}; rate them on Spark with: "
              f"najma rate --engine spark --events '{out_dir}/*.parquet' --quarter Q --store NEW.duckdb")


@app.command()
def sample(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write events, truth.parquet and services.toml.")],
    cases: Annotated[int, typer.Option(min=1, help="Number of cases (about 10 events each).")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same log.")] = 7,
    fmt: Annotated[SampleFormat, typer.Option("--format", help="parquet or csv.")] = SampleFormat.parquet,
) -> None:
    """Generate a log of the sample government services, with its ground truth and catalogue."""
    from najma.sample import generate, write_sample

    with err.status(f"generating {cases:,} cases"):
        generated = generate(cases, seed=seed)
        written = write_sample(generated, out_dir, fmt=fmt.value)
    out.print(f"{generated.events.num_rows:,} events of {len(generated.truth):,} cases:")
    for path in written:
        out.print(f"  {path}")


@app.command()
def start(
    store: StoreOption = None,
    dashboard: Annotated[bool, typer.Option(help="Then serve the dashboard.")] = True,
    host: Annotated[str, typer.Option(help="The address the dashboard listens on (loopback only: use najma dashboard "
                                           "with --token or --users to serve others).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="The port the dashboard listens on.")] = 8050,
) -> None:
    """Load the bundled sample into the store if it is empty (or finish journeys left stale), show what the store
    holds, and open the dashboard on http://HOST:PORT/."""
    from najma.dashboards.cli._dashboard import check_port, run_dashboard
    from najma.journeys import Store, build_journeys
    from najma.sample import load_sample

    if dashboard:
        check_port(host, port)  # a taken port is said at once, before the sample loads
    path = store_path(store)
    with Store(path) as target:
        if target.n_rows("events") == 0:
            with err.status(f"loading the bundled sample into {path}"):
                load_sample(target)
        elif stale := target.journeys_stale():
            with err.status(f"rebuilding the journeys: {stale}"):
                build_journeys(target)
        print_info(target)
    if dashboard:
        run_dashboard(path, host=host, port=port)
