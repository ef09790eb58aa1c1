"""Journeys benchmark: najma beside pm4py on the same generated log, in the same run.

For najma: build the steps and journey tables of a store that holds the log, then answer five
questions from them: the whole log's process map with performance, its variants, the same two
for one service in one quarter, and the map of one service worked out from the steps. The build
keeps the maps of the whole log and of each service and quarter, so the first and third maps are
read back; the last is asked so that it is not (a list of services is never read from the build),
which times a map that the build did not foresee. For pm4py: format the same Parquet file as a
frame (``pm4py.format_dataframe``), then ``discover_performance_dfg`` and ``get_variants`` on the
whole log and on the same service and quarter, and ``discover_performance_dfg`` on the same
service (filtered with pandas).

Each side runs in its own fresh process (see measure.py), so peak memory is its own. Run::

    python benchmarks/journey_build.py --events 1000000
    python benchmarks/journey_build.py --events 10000000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from measure import in_child  # benchmarks/ is on the path when this file is run

SERVICE, QUARTER, TZ = "trade_licence", "2025Q1", "Asia/Dubai"


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def najma_run(store_path: str) -> dict[str, float]:
    """Build the journeys of the store, then time the five questions (seconds each)."""
    from najma.journeys import CaseFilter, Store, build_journeys, process_map, variants

    with Store(store_path) as store:
        times = {"build": _timed(lambda: build_journeys(store))}
        where = CaseFilter(service=SERVICE, quarter=QUARTER, tz=TZ)
        process_map(store)  # the first question also warms DuckDB's caches; it is timed again below
        times["map"] = _timed(lambda: process_map(store))
        times["variants"] = _timed(lambda: variants(store))
        times["map, one service and quarter"] = _timed(lambda: process_map(store, where))
        times["variants, one service and quarter"] = _timed(lambda: variants(store, where))
        times["map, one service, worked out"] = _timed(lambda: process_map(store, CaseFilter(service=[SERVICE])))
    return times


def pm4py_run(parquet: str) -> dict[str, float]:
    """Format the log with pm4py, then time the same five questions (seconds each)."""
    import pandas as pd
    import pm4py

    from najma.journeys import quarter_bounds

    times: dict[str, float] = {}
    started = time.perf_counter()
    frame = pd.read_parquet(parquet)
    log = pm4py.format_dataframe(frame, case_id="case_id", activity_key="activity", timestamp_key="timestamp")
    times["build"] = time.perf_counter() - started
    times["map"] = _timed(lambda: pm4py.discover_performance_dfg(log))
    times["variants"] = _timed(lambda: pm4py.get_variants(log))
    low, high = quarter_bounds(QUARTER, TZ)

    def one_service_and_quarter() -> pd.DataFrame:
        ours = log[log["service"] == SERVICE]
        starts = ours.groupby("case:concept:name")["time:timestamp"].transform("min")
        return ours[(starts >= low) & (starts < high)]

    times["map, one service and quarter"] = _timed(lambda: pm4py.discover_performance_dfg(one_service_and_quarter()))
    times["variants, one service and quarter"] = _timed(lambda: pm4py.get_variants(one_service_and_quarter()))
    times["map, one service, worked out"] = _timed(lambda: pm4py.discover_performance_dfg(log[log["service"] == SERVICE]))
    return times


def prepare(events: int, folder: Path) -> tuple[Path, Path, int]:
    """Generate about `events` sample events into `folder`: a Parquet file of the generator's columns and a
    store that holds them with the sample's catalogue (journeys not built); return both and the events."""
    import pyarrow.parquet as pq

    from najma.journeys import Store, load_catalogue, open_source, register_catalogue
    from najma.sample import SAMPLE_CATALOGUE, generate
    from najma.sample._writer import plain_table

    table = plain_table(generate(max(1, events // 10), seed=3).events)
    parquet, store_path = folder / "events.parquet", folder / "store.duckdb"
    pq.write_table(table, parquet)
    with Store(store_path) as store:
        store.ingest(open_source(parquet), tz=TZ, build=False)  # the build is what is timed, later
        register_catalogue(store, load_catalogue(SAMPLE_CATALOGUE))
    return parquet, store_path, table.num_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--no-pm4py", action="store_true", help="time najma only")
    args = parser.parse_args()
    os.environ.setdefault("NAJMA_PSEUDONYM_KEY", "benchmark-key")
    with tempfile.TemporaryDirectory(prefix="najma-bench-") as tmp:
        print(f"generating and loading {args.events:,} events ...", flush=True)
        parquet, store_path, n = prepare(args.events, Path(tmp))
        _, memory, ours = in_child(najma_run, str(store_path))
        print(f"najma: {n:,} events, peak memory {memory / 2**20:,.0f} MiB", flush=True)
        theirs = None
        if not args.no_pm4py:
            _, their_memory, theirs = in_child(pm4py_run, str(parquet))
            print(f"pm4py: peak memory {their_memory / 2**20:,.0f} MiB", flush=True)
        print(f"{'step':<36} {'najma':>10} {'pm4py':>10} {'speed-up':>9}")
        for step, value in ours.items():
            line = f"{step:<36} {value * 1000:>8,.0f}ms"
            if theirs:
                line += f" {theirs[step] * 1000:>8,.0f}ms {theirs[step] / value:>8.1f}x"
            print(line, flush=True)


if __name__ == "__main__":
    main()
