"""Journeys benchmark: najma beside pm4py on the same generated log, in the same run.

For najma, each figure the median of three runs, each run in a fresh process (see measure.py):

- the build: the steps and journey tables (and the kept maps) of a store that holds the log;
- ingest plus build: a new store loads the log's Parquet file and builds its journeys;
- a month's extract: a store that holds and has built all but the log's last month loads that
  month as a second file; only the cases it touches are built again;
- seven questions after the build: the whole log's process map with performance, its variants,
  the same two for one service in one quarter, the map of a list of two services, the map of
  one channel and the map of the cases with one activity. The build keeps the maps of the whole log
  and of each service and quarter, so the first and third maps are read back (a list of one
  service too); a list of services sums the kept counts of its services and works their edges' times out from the steps; the
  channel's and the activity's maps are worked out from the steps and the variants alone, which
  times maps that the build did not foresee.

For pm4py, in the same way: read the same Parquet file and format it (``pm4py.format_dataframe``),
its build (and, having no store, its ingest plus build too), then ``discover_performance_dfg`` and
``get_variants`` on the whole log and on the same service and quarter, and
``discover_performance_dfg`` on the same service, on the same channel and on the cases with the
same activity (filtered with pandas).

Beside the build, ``--floors`` times the bare work any build of the store must do, each pass alone over the
columns it needs, in a fresh process, on the built store (:data:`BUILD_FLOORS`): put each case's events in order on
its integer key, write the steps table, sum each case up, and the exact quantiles of the kept maps. Their sum is a
floor under the build on this machine and engine: a build target below it cannot be met by changing najma's SQL.

Peak memory is each process's own, above its imports; the build's peak per event is what
:data:`najma.journeys._build.BUILD_BYTES_PER_EVENT` should be set from (run without
``NAJMA_MEMORY_LIMIT`` at 2M and 10M events). Run::

    python benchmarks/journey_build.py --events 1000000
    python benchmarks/journey_build.py --events 10200000
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from measure import in_child  # benchmarks/ is on the path when this file is run

SERVICE, OTHER, QUARTER, TZ, CHANNEL = "trade_licence", "passport", "2025Q1", "Asia/Dubai", "smart app"
#: The activity of the activity criterion's map: one that about a third of the sample's cases have.
ACTIVITY = "Request additional documents"
RUNS = 3
BUILD, INGEST_BUILD, MONTH = "build", "ingest + build from Parquet", "a month's extract, ingest + build"


@dataclass(frozen=True)
class Files:
    """The generated log: all of it, and the same split before and from the first day of its last month."""

    parquet: Path
    head: Path
    month: Path
    events: int
    month_events: int


#: The bare passes of a build over the built store's tables (fixed text, no input in it); see the module docstring.
#: Each is the least its pass of :func:`najma.journeys.build_journeys` can do: the steps' window over the coded
#: events; the steps table, persisted as readers need it; one row per case with its count and bounds; the median and
#: p90 of each edge's seconds, per service and quarter, service, quarter and over the whole log.
_CASE_ORDER = "PARTITION BY case_key ORDER BY timestamp, event_seq"
BUILD_FLOORS = {
    "floor: order each case's events": (
        f"SELECT case_key, row_number() OVER ({_CASE_ORDER}), lead(activity_code) OVER ({_CASE_ORDER}), "
        f"lead(timestamp) OVER ({_CASE_ORDER}), lag(channel_code) OVER ({_CASE_ORDER}), "
        f"lag(agency_code) OVER ({_CASE_ORDER}), "
        "row_number() OVER (PARTITION BY case_key, activity_code ORDER BY timestamp, event_seq) FROM events"),
    "floor: write the steps": "CREATE TABLE floor.steps AS SELECT * FROM steps",
    "floor: one row per case": "SELECT case_key, count(*), min(timestamp), max(timestamp) FROM events GROUP BY case_key",
    "floor: the maps' exact quantiles": (
        "SELECT service, quarter, activity, next_activity, quantile_cont(seconds_to_next, 0.5), "
        "quantile_cont(seconds_to_next, 0.9) FROM (SELECT *, date_trunc('quarter', case_start) AS quarter FROM steps "
        "WHERE next_activity IS NOT NULL) GROUP BY GROUPING SETS ((service, quarter, activity, next_activity), "
        "(service, activity, next_activity), (quarter, activity, next_activity), (activity, next_activity))"),
}


def build_floor(store_path: str, sql: str) -> None:
    """Run one of :data:`BUILD_FLOORS` on the built store, opened read-only beside a new file ``floor`` that the write
    goes to (a query goes to a temporary table)."""
    import duckdb

    floor = Path(store_path).with_name("floor.duckdb")
    with duckdb.connect(str(floor)) as con:
        con.execute("SET enable_progress_bar = false")
        con.execute("ATTACH ? AS store (READ_ONLY)", [store_path])
        con.execute("USE store")
        con.execute(sql if sql.startswith("CREATE") else f"CREATE TEMP TABLE floor_rows AS {sql}")
    floor.unlink()


def floor_runs(whole: Path, runs: int) -> dict[str, list[float]]:
    """The seconds of each of :data:`BUILD_FLOORS` in `runs` runs, each in a fresh process, on the built store."""
    times: dict[str, list[float]] = {}
    for _ in range(runs):
        for name, sql in BUILD_FLOORS.items():
            seconds, _, _ = in_child(build_floor, str(whole), sql)
            times.setdefault(name, []).append(seconds)
    return times


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def najma_build(store_path: str) -> dict[str, float]:
    """Build the journeys of the store, then time the seven questions (seconds each)."""
    from najma.journeys import CaseFilter, Store, build_journeys, process_map, variants

    with Store(store_path) as store:
        times = {BUILD: _timed(lambda: build_journeys(store))}
        where = CaseFilter(service=SERVICE, quarter=QUARTER, tz=TZ)
        process_map(store)  # the first question also warms DuckDB's caches; it is timed again below
        times["map"] = _timed(lambda: process_map(store))
        times["variants"] = _timed(lambda: variants(store))
        times["map, one service and quarter"] = _timed(lambda: process_map(store, where))
        times["variants, one service and quarter"] = _timed(lambda: variants(store, where))
        times["map, a list of two services"] = _timed(lambda: process_map(store, CaseFilter(service=[SERVICE, OTHER])))
        times["map, one channel, worked out"] = _timed(lambda: process_map(store, CaseFilter(channel=CHANNEL)))
        times["map, one activity, worked out"] = _timed(lambda: process_map(store, CaseFilter(present=[ACTIVITY])))
    return times


def najma_ingest(store_path: str, parquet: str, catalogue: bool) -> dict[str, float]:
    """Load `parquet` into the store and build the journeys it touches (with the sample's catalogue
    registered first when `catalogue`); the seconds it took."""
    from najma.journeys import Store, load_catalogue, open_source, register_catalogue
    from najma.sample import SAMPLE_CATALOGUE

    with Store(store_path) as store:
        if catalogue:
            register_catalogue(store, load_catalogue(SAMPLE_CATALOGUE))
        return {"ingest": _timed(lambda: store.ingest(open_source(parquet), tz=TZ))}


def pm4py_run(parquet: str) -> dict[str, float]:
    """Format the log with pm4py, then time the same seven questions (seconds each)."""
    import pandas as pd
    import pm4py

    from najma.journeys import quarter_bounds

    times: dict[str, float] = {}
    started = time.perf_counter()
    frame = pd.read_parquet(parquet)
    log = pm4py.format_dataframe(frame, case_id="case_id", activity_key="activity", timestamp_key="timestamp")
    times[BUILD] = times[INGEST_BUILD] = time.perf_counter() - started
    times["map"] = _timed(lambda: pm4py.discover_performance_dfg(log))
    times["variants"] = _timed(lambda: pm4py.get_variants(log))
    low, high = quarter_bounds(QUARTER, TZ)

    def one_service_and_quarter() -> pd.DataFrame:
        ours = log[log["service"] == SERVICE]
        starts = ours.groupby("case:concept:name")["time:timestamp"].transform("min")
        return ours[(starts >= low) & (starts < high)]

    times["map, one service and quarter"] = _timed(lambda: pm4py.discover_performance_dfg(one_service_and_quarter()))
    times["variants, one service and quarter"] = _timed(lambda: pm4py.get_variants(one_service_and_quarter()))
    times["map, a list of two services"] = _timed(
        lambda: pm4py.discover_performance_dfg(log[log["service"].isin([SERVICE, OTHER])]))
    times["map, one channel, worked out"] = _timed(lambda: pm4py.discover_performance_dfg(log[log["channel"] == CHANNEL]))

    def with_activity() -> pd.DataFrame:
        having = log.loc[log["concept:name"] == ACTIVITY, "case:concept:name"].unique()
        return log[log["case:concept:name"].isin(having)]

    times["map, one activity, worked out"] = _timed(lambda: pm4py.discover_performance_dfg(with_activity()))
    return times


def generate_files(events: int, folder: Path) -> Files:
    """Generate about `events` sample events into Parquet files of the generator's columns: the whole log, and the
    log split at the first instant (UTC) of the month of its last event."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from najma.sample import generate
    from najma.sample._writer import plain_table

    table = plain_table(generate(max(1, events // 10), seed=3).events)
    last = pc.max(table["timestamp"]).as_py()
    cut = pa.scalar(last.replace(day=1, hour=0, minute=0, second=0, microsecond=0), table["timestamp"].type)
    in_month = pc.greater_equal(table["timestamp"], cut)
    files = Files(folder / "events.parquet", folder / "head.parquet", folder / "month.parquet", table.num_rows,
                  pc.sum(in_month).as_py())
    pq.write_table(table, files.parquet)
    pq.write_table(table.filter(pc.invert(in_month)), files.head)
    pq.write_table(table.filter(in_month), files.month)
    return files


def whole_store(parquet: Path, folder: Path) -> Path:
    """A store holding the log `parquet` with the sample's catalogue, journeys not built (the build is what is timed)."""
    from najma.journeys import Store, load_catalogue, open_source, register_catalogue
    from najma.sample import SAMPLE_CATALOGUE

    path = folder / "store.duckdb"
    with Store(path) as store:
        store.ingest(open_source(parquet), tz=TZ, build=False)
        register_catalogue(store, load_catalogue(SAMPLE_CATALOGUE))
    return path


def prepare(events: int, folder: Path) -> tuple[Path, Path, int]:
    """Generate about `events` sample events into `folder` and load them (see :func:`whole_store`); return the
    Parquet file, the store and the number of events (what the other benchmarks start from)."""
    files = generate_files(events, folder)
    return files.parquet, whole_store(files.parquet, folder), files.events


def prepare_stores(files: Files, folder: Path) -> tuple[Path, Path]:
    """:func:`whole_store` of the whole log, and a store holding all but the last month, built (to which the
    month is added)."""
    from najma.journeys import Store, load_catalogue, open_source, register_catalogue
    from najma.sample import SAMPLE_CATALOGUE

    head = folder / "head.duckdb"
    with Store(head) as store:
        register_catalogue(store, load_catalogue(SAMPLE_CATALOGUE))
        store.ingest(open_source(files.head), tz=TZ)
    return whole_store(files.parquet, folder), head


def najma_runs(files: Files, whole: Path, head: Path, folder: Path, runs: int) -> tuple[dict[str, list[float]], list[int]]:
    """Each najma figure (seconds) of `runs` runs, and the build's peak memory in each."""
    times: dict[str, list[float]] = {}
    memory = []
    for run in range(runs):
        _, peak, built = in_child(najma_build, str(whole))
        memory.append(peak)
        fresh = folder / f"fresh{run}.duckdb"
        _, _, loaded = in_child(najma_ingest, str(fresh), str(files.parquet), True)
        fresh.unlink()
        grown = folder / f"grown{run}.duckdb"
        shutil.copyfile(head, grown)
        _, _, added = in_child(najma_ingest, str(grown), str(files.month), False)
        grown.unlink()
        for step, seconds in {**built, INGEST_BUILD: loaded["ingest"], MONTH: added["ingest"]}.items():
            times.setdefault(step, []).append(seconds)
    return times, memory


def pm4py_runs(files: Files, runs: int) -> tuple[dict[str, list[float]], list[int]]:
    """Each pm4py figure (seconds) of `runs` runs, and its peak memory in each."""
    times: dict[str, list[float]] = {}
    memory = []
    for _ in range(runs):
        _, peak, figures = in_child(pm4py_run, str(files.parquet))
        memory.append(peak)
        for step, seconds in figures.items():
            times.setdefault(step, []).append(seconds)
    return times, memory


def report(files: Files, ours: dict[str, list[float]], theirs: dict[str, list[float]] | None) -> None:
    """Print the median of each figure, najma's beside pm4py's."""
    print(f"medians of {len(ours[BUILD])} runs; {files.events:,} events, the month's extract {files.month_events:,}")
    print(f"{'step':<36} {'najma':>10} {'pm4py':>10} {'speed-up':>9}")
    order = [BUILD, INGEST_BUILD, MONTH, *(step for step in ours if step not in (BUILD, INGEST_BUILD, MONTH))]
    for step in order:
        value = statistics.median(ours[step])
        line = f"{step:<36} {value * 1000:>8,.0f}ms"
        if theirs and step in theirs:
            their = statistics.median(theirs[step])
            line += f" {their * 1000:>8,.0f}ms {their / value:>8.1f}x"
        print(line, flush=True)
    floors = [statistics.median(ours[name]) for name in BUILD_FLOORS if name in ours]
    if floors:
        print(f"{'floor: the sum, under the build':<36} {sum(floors) * 1000:>8,.0f}ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--no-pm4py", action="store_true", help="time najma only")
    parser.add_argument("--runs", type=int, default=RUNS, help="runs of each side, of which the medians are printed")
    parser.add_argument("--floors", action="store_true", help="also time the bare passes under the build (BUILD_FLOORS)")
    args = parser.parse_args()
    os.environ.setdefault("NAJMA_PSEUDONYM_KEY", "benchmark-key")
    with tempfile.TemporaryDirectory(prefix="najma-bench-") as tmp:
        folder = Path(tmp)
        print(f"generating and loading {args.events:,} events ...", flush=True)
        files = generate_files(args.events, folder)
        whole, head = prepare_stores(files, folder)
        ours, memory = najma_runs(files, whole, head, folder, args.runs)
        if args.floors:  # the runs left the whole store built
            ours.update(floor_runs(whole, args.runs))
        peak = statistics.median(memory)
        print(f"najma: build peak memory {peak / 2**20:,.0f} MiB, {peak / files.events:,.0f} bytes per event "
              f"(limit {os.environ.get('NAJMA_MEMORY_LIMIT', 'none')})", flush=True)
        theirs = None
        if not args.no_pm4py:
            theirs, their_memory = pm4py_runs(files, args.runs)
            print(f"pm4py: peak memory {statistics.median(their_memory) / 2**20:,.0f} MiB", flush=True)
        report(files, ours, theirs)


if __name__ == "__main__":
    main()
