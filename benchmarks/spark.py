"""Spark benchmark: najma's journey build, maps, variants and ratings on local Spark beside DuckDB, on
the same generated log, in the same run; then an estimate of a cluster run at a larger scale.

Both engines start from the same raw Parquet log, cut into monthly extracts as a programme receives
it (``--extracts one`` keeps it one file): DuckDB ingests the folder of extracts into a store
(``najma ingest``, which also builds the journeys it touches) and rebuilds the journeys; Spark
ingests the extracts into a lake (``najma ingest --engine spark``, one task per file) and builds
from the lake's events. Spark's own messages go to a log in the run's folder, not the terminal. Each engine runs in its own
fresh process (see measure.py), ``--runs`` times; the medians are printed. Spark's peak memory is
its driver JVM's with its Python workers (VmHWM of every process below the run's, from /proc;
local mode runs the executors inside the JVM) plus the Python driver's (measure.py).

The estimate scales each Spark stage's measured cost, in core-seconds per million events, to
``--estimate-events`` on ``--cluster-cores`` cores, assuming the stages scale linearly (they are
scans, shuffles by case and per-case aggregations: no step is worse than n log n in the events of
one case) and adding the measured fixed cost of a stage. Run::

    python benchmarks/spark.py --events 10000000
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from journey_build import TZ, najma_ingest, prepare  # benchmarks/ is on the path when this file is run
from measure import in_child

DRAWS = 200
QUARTER = "2025Q4"


def _descendants_peak_kib() -> int:
    """The summed peak resident memory (VmHWM) of this process's descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry))
    total, stack = 0, list(children.get(os.getpid(), []))
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status") as handle:
                total += next((int(line.split()[1]) for line in handle if line.startswith("VmHWM:")), 0)
        except OSError:
            continue
    return total


def duckdb_run(store_path: str) -> dict[str, float]:
    """Build the journeys in the store, then rate every quarter and draw the maps and variants (seconds each)."""
    from najma.journeys import Store, build_journeys, process_map, variants
    from najma.rating import rate

    times: dict[str, float] = {}
    with Store(store_path) as store:
        for stage, call in (("build", lambda: build_journeys(store)), ("ratings", lambda: rate(store, draws=DRAWS)),
                            ("map", lambda: process_map(store)), ("variants", lambda: variants(store))):
            started = time.perf_counter()
            call()
            times[stage] = time.perf_counter() - started
    return times


def spark_run(sources: list[str], store_path: str, out: str, memory: str) -> dict[str, float]:
    """The same on local Spark, from the ingest of the raw log on, stage by stage (seconds each), with the JVM's
    peak memory in KiB."""
    from najma.journeys import Store, process_map, variants
    from najma.spark import build_on_spark, ingest_on_spark, rate_on_spark, spark_session

    times: dict[str, float] = {}
    started = time.perf_counter()
    session = spark_session(conf=[("spark.driver.memory", memory)], log=out + ".spark.log")
    times["session"] = time.perf_counter() - started
    started = time.perf_counter()
    lake = ingest_on_spark(session, sources, out + "/lake", tz=TZ)
    times["ingest"] = time.perf_counter() - started
    marks: list[tuple[str, float]] = []
    with Store(store_path, read_only=True) as catalogue:
        build = build_on_spark(session, [lake.events_path], catalogue, out + "/build",
                               progress=lambda stage: marks.append((stage, time.perf_counter())))
    marks.append(("", time.perf_counter()))
    for (stage, at), (_, following) in zip(marks, marks[1:], strict=False):
        times[stage] = following - at
    for stage, call in (("ratings", lambda: rate_on_spark(build.tables, draws=DRAWS)),
                        ("map", lambda: process_map(build.tables)), ("variants", lambda: variants(build.tables))):
        started = time.perf_counter()
        call()
        times[stage] = time.perf_counter() - started
    times["jvm_peak_kib"] = _descendants_peak_kib()
    session.stop()
    return times


def _median_runs(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def _measure(n_runs: int, raw: Path, store_path: Path, spark_store: Path, tmp: Path, memory: str) -> tuple[dict, dict]:
    """`n_runs` runs of each engine, each in a fresh process: the medians of their stages (seconds) and peaks (bytes)."""
    duck_runs, spark_runs = [], []
    for run in range(n_runs):
        fresh = tmp / f"ingest{run}.duckdb"
        _, _, ingest = in_child(najma_ingest, str(fresh), str(raw), True)
        fresh.unlink()
        _, duck_memory, duck = in_child(duckdb_run, str(store_path))
        duck_runs.append({**ingest, **duck, "peak": duck_memory})
        extracts = [str(path) for path in sorted(raw.glob("*.parquet"))] if raw.is_dir() else [str(raw)]
        _, spark_memory, spark = in_child(spark_run, extracts, str(spark_store), str(tmp / f"spark{run}"), memory)
        spark_runs.append({**spark, "peak": spark_memory, "jvm_peak": spark.pop("jvm_peak_kib") * 1024})
    return _median_runs(duck_runs), _median_runs(spark_runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="generate a log of about this many events")
    parser.add_argument("--source", type=Path, help="a raw Parquet log of the sample's columns instead (e.g. /work/big/m1/events.parquet)")
    parser.add_argument("--extracts", choices=("month", "one"), default="month",
                        help="cut the log into monthly extract files (default) or keep it one file")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--spark-memory", default="8g", help="spark.driver.memory of the local run")
    parser.add_argument("--estimate-events", type=float, default=1e9)
    parser.add_argument("--cluster-cores", type=int, default=256)
    args = parser.parse_args()
    os.environ.setdefault("NAJMA_PSEUDONYM_KEY", "benchmark-key")
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="najma-spark-bench-") as tmp:
        print(f"loading {args.source or f'{args.events:,} generated events'} ...", flush=True)
        raw, store_path, n = prepare(args.events, Path(tmp)) if args.source is None else _given(args.source, Path(tmp))
        spark_store = Path(tmp) / "catalogue.duckdb"
        spark_store.write_bytes(store_path.read_bytes())  # the Spark side reads the catalogue only
        if args.extracts == "month":
            raw = _monthly_extracts(raw, Path(tmp) / "extracts")
        handed = _extracts_text(raw)
        duck, spark = _measure(args.runs, raw, store_path, spark_store, Path(tmp), args.spark_memory)
    print(f"{n:,} events ({handed}) on {cores} cores, medians of {args.runs} runs. Peak memory: DuckDB {duck['peak'] / 2**20:,.0f} "
          f"MiB; Spark driver JVM and workers {spark['jvm_peak'] / 2**20:,.0f} MiB + Python {spark['peak'] / 2**20:,.0f} MiB")
    print(f"{'stage':<12} {'DuckDB':>10} {'Spark':>10} {'ratio':>7}   core-s per M events: DuckDB  Spark")
    spark_build = spark["events"] + spark["steps"] + spark["journeys"]
    rows = [("ingest", duck["ingest"], spark["ingest"]), ("build", duck["build"], spark_build),
            *((s, duck[s], spark[s]) for s in ("ratings", "map", "variants"))]
    per_million = n / 1e6
    for stage, ours, theirs in rows:
        print(f"{stage:<12} {ours:>9.1f}s {theirs:>9.1f}s {theirs / ours:>6.1f}x   "
              f"{ours * cores / per_million:>27.1f} {theirs * cores / per_million:>6.1f}")
    print("(DuckDB's ingest includes the build of the journeys it touches; its build row is a rebuild of them all)")
    print(f"Spark session start {spark['session']:.1f}s; build stages: events {spark['events']:.1f}s, steps "
          f"{spark['steps']:.1f}s, journeys {spark['journeys']:.1f}s")
    scale = args.estimate_events / n
    staged = {stage: spark[stage] for stage in ("ingest", "events", "steps", "journeys", "ratings", "map", "variants")}
    estimate = sum(seconds * cores * scale / args.cluster_cores for seconds in staged.values())
    print(f"estimate: {args.estimate_events:,.0f} events on {args.cluster_cores} cores: about {estimate / 60:,.0f} min of "
          f"stages if it scaled perfectly (before shuffles over a network, skew and stragglers: see docs/spark.md)")


def _monthly_extracts(raw: Path, folder: Path) -> Path:
    """`raw` cut into one Parquet file per month of its events (UTC; rows without a time in one more), each in the
    log's order: the folder."""
    import duckdb

    folder.mkdir()
    log = duckdb.read_parquet(str(raw), file_row_number=True)
    month = duckdb.FunctionExpression("strftime", duckdb.ColumnExpression("timestamp"), duckdb.ConstantExpression("%Y-%m"))
    columns = [column for column in log.columns if column != "file_row_number"]
    for (value,) in log.select(month.alias("month")).distinct().fetchall():
        kept = month.isnull() if value is None else month == duckdb.ConstantExpression(value)  # rows without a time too
        extract = log.filter(kept).order("file_row_number").select(*columns)
        extract.write_parquet(str(folder / f"{value or 'no-time'}.parquet"))
    return folder


def _extracts_text(raw: Path) -> str:
    """How the log was handed to the engines, for the heading."""
    return f"{len(list(raw.glob('*.parquet')))} monthly extracts" if raw.is_dir() else "one file"


def _given(source: Path, folder: Path) -> tuple[Path, Path, int]:
    """A given raw log, loaded into a store with the sample's catalogue as :func:`journey_build.prepare` loads its own."""
    import pyarrow.parquet as pq

    store_path = folder / "whole.duckdb"
    in_child(najma_ingest, str(store_path), str(source), True)
    return source, store_path, pq.ParquetFile(source).metadata.num_rows


if __name__ == "__main__":
    main()
