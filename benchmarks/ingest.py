"""Ingest benchmark: najma beside pm4py on the same files, in one process.

Generates a log with the sample generator, writes it as Parquet, CSV and XES, then times

- najma: ``Store.ingest(..., build=False)`` of each file into a fresh DuckDB store (read, map,
  validate, pseudonymise, quarantine check, commit; the journey build is timed by journey_build.py);
- pm4py: ``pandas.read_parquet``/``read_csv`` plus ``pm4py.format_dataframe``, and
  ``pm4py.read_xes`` for XES.

It prints events per second, the peak memory of each step (each runs in a fresh process, see
measure.py) and the ratios; the line "xes read" times najma's XES reader alone, without the store. A plain
XES file is parsed in chunks by worker processes (najma.journeys._xes_split), whose memory is not in the
step's peak (for the ingest either): a line under "xes read" gives the largest worker's peak resident memory. Run::

    python benchmarks/ingest.py --events 10000000 --xes-events 1000000
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import quoteattr

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from measure import in_child  # benchmarks/ is on the path when this file is run

from najma.journeys import Store, open_source
from najma.sample import generate
from najma.sample._writer import plain_table


def write_xes(table: pa.Table, path: Path) -> None:
    """Write `table` as an XES file (case attributes: concept:name; event attributes as strings)."""
    frame = table.to_pandas().sort_values(["case_id", "timestamp"], kind="stable")
    frame["ts"] = frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0" xmlns="http://www.xes-standard.org/">\n')
        for case, events in frame.groupby("case_id", sort=False):
            out.write(f'<trace><string key="concept:name" value={quoteattr(case)}/>\n')
            for activity, ts, resource, channel in zip(events["activity"], events["ts"], events["resource"],
                                                       events["channel"], strict=True):
                out.write(f'<event><string key="concept:name" value={quoteattr(activity)}/>'
                          f'<date key="time:timestamp" value="{ts}"/>'
                          f'<string key="org:resource" value={quoteattr(resource)}/>'
                          f'<string key="channel" value={quoteattr(channel)}/></event>\n')
            out.write("</trace>\n")
        out.write("</log>\n")


class Files(NamedTuple):
    """The generated log as (path, events) in each format."""

    parquet: tuple[Path, int]
    csv: tuple[Path, int]
    xes: tuple[Path, int]


def write_files(events: int, xes_events: int, folder: Path, xes: Path | None = None) -> Files:
    """Generate about `events` sample events as Parquet and CSV, and about `xes_events` as XES, into `folder`.

    The XES goes to `xes` if given; a file already there is kept and its events counted instead.
    """
    print(f"generating {events:,} events ...", flush=True)
    started = time.perf_counter()
    table = generate(max(1, events // 10), seed=3).events
    print(f"  {table.num_rows:,} events generated in {time.perf_counter() - started:.1f} s", flush=True)
    plain = plain_table(table)
    parquet, csv = folder / "events.parquet", folder / "events.csv"
    pq.write_table(plain, parquet)
    pacsv.write_csv(plain, csv)
    xes = xes or folder / "events.xes"
    if xes.exists():
        print(f"reusing {xes}", flush=True)
        return Files((parquet, table.num_rows), (csv, table.num_rows), (xes, xes_events_in(xes)))
    xes_table = generate(max(1, xes_events // 10), seed=4).events
    write_xes(xes_table, xes)
    return Files((parquet, table.num_rows), (csv, table.num_rows), (xes, xes_table.num_rows))


def xes_events_in(path: Path) -> int:
    """The events of an XES file written by :func:`write_xes` (one ``<event>`` per line)."""
    with open(path, "rb") as handle:
        return sum(line.startswith(b"<event>") for line in handle)


def najma_ingest(path: Path, folder: Path) -> int:
    store_path = folder / f"bench-{path.suffix.strip('.')}-{time.monotonic_ns()}.duckdb"
    with Store(store_path) as store:
        result = store.ingest(open_source(path), build=False)  # the load alone, as pm4py's read (the build: journey_build.py)
    store_path.unlink()
    return result.loaded


def najma_read(path: Path) -> tuple[int, int]:
    """Read `path` through najma's reader alone, without a store; return the events read and the largest
    worker process's peak resident memory in bytes (0 if it was read in one stream)."""
    events = sum(batch.num_rows for batch in open_source(path).batches())
    return events, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def pm4py_frame(path: Path) -> int:
    import pm4py

    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    log = pm4py.format_dataframe(frame, case_id="case_id", activity_key="activity", timestamp_key="timestamp")
    return len(log)


def pm4py_xes(path: Path) -> int:
    import pm4py

    return len(pm4py.read_xes(str(path), return_legacy_log_object=False))


def report(name: str, events: int, ours: tuple[float, int, object], theirs: tuple[float, int, object] | None) -> None:
    line = f"{name:<8} {events:>11,} events  najma {events / ours[0]:>12,.0f} ev/s {ours[1] / 2**20:>8,.0f} MiB"
    if theirs is not None:
        line += (f" | pm4py {events / theirs[0]:>11,.0f} ev/s {theirs[1] / 2**20:>8,.0f} MiB"
                 f" | speed x{theirs[0] / ours[0]:.1f}, memory {ours[1] / max(theirs[1], 1):.2f} of pm4py's")
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events for Parquet and CSV")
    parser.add_argument("--xes-events", type=int, default=200_000, help="events for XES")
    parser.add_argument("--no-pm4py", action="store_true", help="time najma only")
    parser.add_argument("--xes-file", type=Path, help="write the XES here, or reuse the one there (its size then wins)")
    parser.add_argument("--only", choices=["parquet", "csv", "xes"], action="append", help="time these formats only")
    args = parser.parse_args()
    os.environ.setdefault("NAJMA_PSEUDONYM_KEY", "benchmark-key")
    with tempfile.TemporaryDirectory(prefix="najma-bench-") as tmp:
        folder = Path(tmp)
        files = write_files(args.events, args.xes_events, folder, args.xes_file)
        runs = [("parquet", *files.parquet, pm4py_frame), ("csv", *files.csv, pm4py_frame), ("xes", *files.xes, pm4py_xes)]
        for name, path, events, oracle in runs:
            if args.only and name not in args.only:
                continue
            ours = in_child(najma_ingest, path, folder)
            assert ours[2] == events, (name, ours[2], events)
            theirs = None if args.no_pm4py else in_child(oracle, path)
            report(name, events, ours, theirs)
        seconds, peak, (events, worker_peak) = in_child(najma_read, files.xes[0])  # the reader alone, no store
        assert events == files.xes[1], ("xes read", events, files.xes[1])
        report("xes read", events, (seconds, peak, events), None)
        if worker_peak:
            print(f"{'':<8} the largest worker process's peak: {worker_peak / 2**20:,.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
