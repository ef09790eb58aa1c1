"""Discovery benchmark: bundle and proactive-service discovery on a built store.

Each figure is the median of three runs, each run in a fresh process (see measure.py) that opens the
store read-only and asks the question twice with the functions' defaults: the first call is what a
command or a dashboard's first look costs, the second what asking again costs once DuckDB has read
the store. Peak memory is the process's own, above its imports (opening the store counts).

- ``discover_bundles``: the customers' cases linked into episodes, the frequent sets of services,
  each candidate's journey today and projected as one window;
- ``discover_proactive``: each service's first follower within the window after a completed case of
  another, the regular pairs, their lags and what a proactive start would save.

The store is the generated sample log of about ``--events`` events (the newborn bundle planted, the
sample's catalogue registered), loaded and built first; or, with ``--store``, a store already built,
which is only read. Run::

    python benchmarks/discover.py --events 1000000
    python benchmarks/discover.py --store /path/to/built.duckdb
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
from journey_build import generate_files, najma_ingest  # benchmarks/ is on the path when this file is run
from measure import in_child

# Imported here, so that a child's memory baseline (taken after the imports of this module) leaves them out.
from najma.journeys import Store, discover_bundles, discover_proactive

RUNS = 3
QUESTIONS = {"discover_bundles": discover_bundles, "discover_proactive": discover_proactive}


def ask(store_path: str, question: str) -> dict[str, object]:
    """Open the store read-only and ask `question` twice; the seconds of each call and what the first found."""
    discover = QUESTIONS[question]
    with Store(store_path, read_only=True) as store:
        started = time.perf_counter()
        found = discover(store).table
        first = time.perf_counter() - started
        started = time.perf_counter()
        discover(store)
        again = time.perf_counter() - started
    return {"first": first, "again": again, "found": _found(question, found)}


def _found(question: str, table: pd.DataFrame) -> str:
    """A short account of a candidates table: how many, and the best one."""
    if table.empty:
        return "no candidate"
    best = table.iloc[0]
    named = " + ".join(best["services"]) if question == "discover_bundles" else f"{best['trigger']} -> {best['follower']}"
    return f"{len(table)} candidate{'s' if len(table) > 1 else ''}; rank 1: {named}"


def size(store_path: str) -> tuple[int, int]:
    """The events and cases (journeys) of the store."""
    with Store(store_path, read_only=True) as store:
        return store.n_rows("events"), store.n_rows("journeys")


def built_store(events: int, folder: Path) -> Path:
    """A store of about `events` generated sample events, with the sample's catalogue, its journeys built."""
    files = generate_files(events, folder)
    path = folder / "store.duckdb"
    najma_ingest(str(path), str(files.parquet), True)
    return path


def measured(store_path: Path, runs: int) -> dict[str, dict[str, list]]:
    """Per question: the first call's and the second call's seconds, peak bytes and findings of `runs` runs."""
    figures: dict[str, dict[str, list]] = {}
    for _ in range(runs):
        for question in QUESTIONS:
            _, peak, result = in_child(ask, str(store_path), question)
            own = figures.setdefault(question, {"first": [], "again": [], "peak": [], "found": []})
            for name in ("first", "again", "found"):
                own[name].append(result[name])
            own["peak"].append(peak)
    return figures


def report(store_path: Path, figures: dict[str, dict[str, list]]) -> None:
    """Print the medians of each question's figures, and what it found."""
    events, cases = size(str(store_path))
    runs = len(next(iter(figures.values()))["first"])
    print(f"{events:,} events, {cases:,} cases; medians of {runs} runs, each in a fresh process")
    print(f"{'question':<20} {'first call':>11} {'again':>9} {'peak memory':>12}  found")
    for question, own in figures.items():
        print(f"{question:<20} {statistics.median(own['first']) * 1000:>9,.0f}ms "
              f"{statistics.median(own['again']) * 1000:>7,.0f}ms {statistics.median(own['peak']) / 2**20:>8,.0f} MiB  "
              f"{own['found'][0]}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events to generate, load and build")
    parser.add_argument("--store", type=Path, help="a built store to read instead (never written)")
    parser.add_argument("--runs", type=int, default=RUNS, help="runs of each question, of which the medians are printed")
    args = parser.parse_args()
    os.environ.setdefault("NAJMA_PSEUDONYM_KEY", "benchmark-key")
    if args.store:
        if not args.store.is_file():
            parser.error(f"{args.store}: no such store")
        report(args.store, measured(args.store, args.runs))
        return
    with tempfile.TemporaryDirectory(prefix="najma-bench-") as tmp:
        print(f"generating, loading and building {args.events:,} events ...", flush=True)
        store = built_store(args.events, Path(tmp))
        report(store, measured(store, args.runs))


if __name__ == "__main__":
    main()
