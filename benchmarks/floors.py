"""Floors: how long DuckDB and lxml take on this machine for the bare work under najma's targets.

Each step does only what any ingest or journey build must do, and nothing of what najma adds
(mapping, checks, quarantine, pseudonyms, duplicates, metrics), on the same generated log as
ingest.py and journey_build.py:

- load Parquet or CSV: ``CREATE TABLE ... AS SELECT * FROM read_parquet`` (``read_csv``, and
  Arrow's streaming CSV reader) into a fresh DuckDB file;
- read XES: lxml's ``iterparse`` of each trace, freed once its events are counted;
- order each case's events by time: a plain ``ORDER BY`` of the case, timestamp and row;
- the window passes of a journey build, over the few columns they need: one numbering each
  case's events, then both passes of the steps table (per case, and per case and activity, which
  the rework taxonomy needs).

A target of events per second that a floor does not reach cannot be met by najma either; a
floor that leaves little room shows how much the rest may cost. Each step runs in a fresh
process (see measure.py). Run::

    python benchmarks/floors.py --events 10000000 --xes-events 1000000
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import duckdb
import pyarrow.csv as pacsv
from ingest import write_files  # benchmarks/ is on the path when this file is run
from lxml import etree
from measure import in_child

#: The targets of the issues, in events per second: loads and reads alone, and a whole journey build
#: (10M events in 15 s), which each step of a build must beat by far, as they add up.
BUILD_TARGET = 10_000_000 / 15
TARGETS = {"load Parquet": 1_000_000, "load CSV": 1_000_000, "load CSV (Arrow's reader)": 1_000_000, "read XES": 250_000}
_CASE = "PARTITION BY service, case_id ORDER BY timestamp, file_row_number"
#: The bare work of a build, as SQL over the loaded table ``events`` (fixed text, no input in it).
BUILD_FLOORS = {
    "order each case's events": "SELECT service, case_id, timestamp, file_row_number, activity FROM events "
                                "ORDER BY service, case_id, timestamp, file_row_number",
    "number each case's events": f"SELECT file_row_number, row_number() OVER ({_CASE}) FROM events",
    "both window passes of the steps": (
        f"SELECT file_row_number, row_number() OVER ({_CASE}), lead(activity) OVER ({_CASE}), "
        f"lead(timestamp) OVER ({_CASE}), lag(channel) OVER ({_CASE}), "
        "row_number() OVER (PARTITION BY service, case_id, activity ORDER BY timestamp, file_row_number) FROM events"
    ),
}


def load(path: Path, store_path: Path) -> int:
    """Copy the Parquet or CSV file into a table of a new DuckDB file with DuckDB's reader; return its rows."""
    reader = "read_parquet(?, file_row_number = true)" if path.suffix == ".parquet" else "read_csv(?)"
    with duckdb.connect(str(store_path)) as con:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"CREATE TABLE events AS SELECT * FROM {reader}", [str(path)])
        return con.execute("SELECT count(*) FROM events").fetchall()[0][0]


def load_csv_with_arrow(path: Path, store_path: Path) -> int:
    """Copy the CSV file into a table of a new DuckDB file, read by Arrow's streaming reader (as
    najma reads CSV, but on every core); return its rows."""
    with duckdb.connect(str(store_path)) as con:
        con.execute("SET enable_progress_bar = false")
        con.register("batches", pacsv.open_csv(path))
        con.execute("CREATE TABLE events AS SELECT * FROM batches")
        return con.execute("SELECT count(*) FROM events").fetchall()[0][0]


def read_xes(path: Path) -> int:
    """Parse the XES file trace by trace, freeing each; return its events."""
    events = 0
    for _, trace in etree.iterparse(str(path), events=("end",), tag="{*}trace", resolve_entities=False,
                                    no_network=True, load_dtd=False):
        events += sum(1 for child in trace if child.tag.endswith("event"))
        trace.clear(keep_tail=False)
        while trace.getprevious() is not None:
            del trace.getparent()[0]
    return events


def build_floor(store_path: Path, sql: str) -> int:
    """Materialise `sql` over the loaded events in memory; return its rows."""
    with duckdb.connect(str(store_path), read_only=True) as con:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"CREATE TEMP TABLE floor AS {sql}")
        return con.execute("SELECT count(*) FROM floor").fetchall()[0][0]


def report(name: str, events: int, seconds: float, memory: int) -> None:
    """Print a floor beside its target: above 1.0, the floor leaves that much room for the rest."""
    target = TARGETS.get(name, BUILD_TARGET)
    print(f"{name:<34} {seconds:>7.2f} s {events / seconds:>12,.0f} ev/s {memory / 2**20:>8,.0f} MiB"
          f"   target {target:>9,.0f} ev/s, floor/target {events / seconds / target:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events for Parquet, CSV and the build")
    parser.add_argument("--xes-events", type=int, default=200_000, help="events for XES")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="najma-floors-") as tmp:
        folder = Path(tmp)
        files = write_files(args.events, args.xes_events, folder)
        stores = {name: folder / f"{name}.duckdb" for name in ("parquet", "csv")}
        loads = (("load Parquet", load, files.parquet, stores["parquet"]), ("load CSV", load, files.csv, stores["csv"]),
                 ("load CSV (Arrow's reader)", load_csv_with_arrow, files.csv, folder / "arrow.duckdb"))
        for name, step, (path, events), store_path in loads:
            seconds, memory, rows = in_child(step, path, store_path)
            assert rows == events, (name, rows, events)
            report(name, events, seconds, memory)
        path, events = files.xes
        seconds, memory, rows = in_child(read_xes, path)
        assert rows == events, ("read XES", rows, events)
        report("read XES", events, seconds, memory)
        events = files.parquet[1]
        for name, sql in BUILD_FLOORS.items():
            seconds, memory, rows = in_child(build_floor, stores["parquet"], sql)
            assert rows == events, (name, rows, events)
            report(name, events, seconds, memory)


if __name__ == "__main__":
    main()
