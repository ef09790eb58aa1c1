"""Dashboard benchmark: start-up, callback times, the first page in Chromium, and a load run of 20 analysts.

Generates a log with the sample generator, loads it and builds the journeys (not timed), then

- najma, in a child process: the dashboard's start-up (reading the journeys and rating every
  service, quarter and channel), then each callback called as a function over many filter values,
  its first call (nothing cached) and again (cached): p50 and p95 per callback, and peak memory;
- pm4py, in a child process on the same Parquet file: the nearest work to a service page click,
  formatting the log, then for services x quarters a performance DFG and the variants;
- the served dashboard (``najma dashboard``): the first page in headless Chromium until the star
  table shows, while the server warms its caches and once they are warm (its "caches warmed" line),
  then, on the warm server, locust with ``--users`` simulated analysts for ``--seconds`` on loopback working
  every page (see ``dashboard_locust.py``), reporting p50, p95 and p99 latency and the failures per
  click kind, and apart, the time from the click to the answer of each kind of long job (a redesign
  projection, the conformance check).

Targets on 2 cores at 10M events: p95 callback under 200 ms, first page under 2 s; in the load run,
0 failures and p95 under 1 s for every click. Run::

    python benchmarks/dashboard.py --events 10000000
    python benchmarks/dashboard.py --store built.duckdb --load-only   # the load run only, on a built store
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from journey_build import prepare  # benchmarks/ is on the path when this file is run
from measure import in_child

HERE = Path(__file__).resolve().parent


def _clicks(data: object, rounds: int) -> list[tuple[str, object, tuple]]:
    """The callbacks of the pages and the arguments of `rounds` clicks of each, drawn with a fixed seed."""
    from najma.dashboards.pages import customer_journeys, data_quality, service

    rng = np.random.default_rng(0)
    pick = lambda values: values[int(rng.integers(len(values)))]  # noqa: E731
    clicks = []
    for _ in range(rounds):
        quarter = pick(data.quarters)
        chosen = pick(data.services)
        clicks += [
            ("overview", _overview_click, (quarter, pick([None, *data.agencies()]), pick([None, *data.channels]))),
            ("service: rating and variants", service.update_service, (chosen, pick([service.ALL, quarter]), "en")),
            ("service: map, variants, KPIs", service.update_selection,
             (chosen, pick([service.ALL, quarter]), [], pick(["frequency", "performance"]), pick([0.8, 1.0]), "cases",
              "en")),
            ("data: coverage", data_quality.update_coverage, (pick(["4", "all"]), "en")),
        ]
        if data.life_events:
            clicks.append(("journeys", customer_journeys.update_journeys, (data.life_events[0], "en")))
    return clicks


def _overview_click(quarter: str, agency: str | None, channel: str | None) -> None:
    """The overview's two callbacks, as one click runs them: the star table, then the charts of its rows."""
    from najma.dashboards.pages import overview

    rows, *_ = overview.update_overview(quarter, agency, channel, "", "steps", "en")
    overview.update_charts(rows, channel, "en")


def najma_run(store_path: str, rounds: int) -> dict[str, object]:
    """Start the dashboard's data and time every callback as a function."""
    from najma.dashboards._app import create_app
    from najma.dashboards._data import DashboardData

    started = time.perf_counter()
    data = DashboardData(store_path)
    startup = time.perf_counter() - started
    app = create_app(data)
    times: dict[str, list[float]] = {}
    with app.server.test_request_context():
        for name, function, args in _clicks(data, rounds):
            began = time.perf_counter()
            function(*args)
            times.setdefault(name, []).append(time.perf_counter() - began)
    return {"startup": startup, "times": times, "cases": len(data.features)}


def pm4py_run(parquet: str, rounds: int) -> dict[str, float]:
    """Format the log with pm4py, then per service and quarter: a performance DFG and the variants."""
    import pandas as pd
    import pm4py

    began = time.perf_counter()
    frame = pd.read_parquet(parquet)
    log = pm4py.format_dataframe(frame, case_id="case_id", activity_key="activity", timestamp_key="timestamp")
    formatted = time.perf_counter() - began
    starts = log.groupby("case:concept:name")["time:timestamp"].transform("min")
    log["quarter"] = starts.dt.tz_convert("Asia/Dubai").dt.tz_localize(None).dt.to_period("Q").astype(str)
    keys = log[["service", "quarter"]].drop_duplicates().sample(n=rounds, replace=True, random_state=0)
    clicks = []
    for service, quarter in keys.itertuples(index=False):
        began = time.perf_counter()
        part = log[(log["service"] == service) & (log["quarter"] == quarter)]
        pm4py.discover_performance_dfg(part)
        pm4py.get_variants(part)
        clicks.append(time.perf_counter() - began)
    return {"format": formatted, "p50": float(np.percentile(clicks, 50)), "p95": float(np.percentile(clicks, 95))}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(store_path: Path, port: int, log: Path) -> subprocess.Popen:
    """Start `najma dashboard` with its error output in `log`; return once it answers."""
    with log.open("w") as errors:  # the child keeps its own handle on the file
        server = subprocess.Popen([sys.executable, "-m", "najma", "dashboard",
                                   "--store", str(store_path), "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=errors, text=True)
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"najma dashboard stopped: {log.read_text()}") from None
            time.sleep(0.5)


def _warmed(server: subprocess.Popen, log: Path, timeout: float = 3600.0) -> str:
    """Wait for the server's line saying its caches are warmed (the load run measures a warm server); return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        said = next((line for line in log.read_text().splitlines() if "caches warmed" in line), None)
        if said is not None:
            return said.strip()
        if server.poll() is not None:
            raise SystemExit(f"najma dashboard stopped: {log.read_text()}")
        time.sleep(0.5)
    raise SystemExit(f"najma dashboard did not warm its caches in {timeout:.0f} s")


def first_page(url: str) -> float:
    """Seconds from opening the overview in Chromium until its star table shows."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        began = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("#ov-grid .ag-center-cols-container .ag-row", timeout=60_000)
        took = time.perf_counter() - began
        browser.close()
    return took


def load_run(url: str, users: int, seconds: int, choices: dict[str, list[str]], folder: Path) -> list[dict[str, str]]:
    """Run locust headless against `url`; return its aggregated statistics rows."""
    if importlib.util.find_spec("locust") is None:
        raise SystemExit("the load run needs locust: pip install -e '.[bench]'")
    prefix = folder / "locust"
    env = {**os.environ, "NAJMA_BENCH_CHOICES": json.dumps(choices)}
    subprocess.run([sys.executable, "-m", "locust", "-f", str(HERE / "dashboard_locust.py"), "--headless",
                    "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s", "--host", url,
                    "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"], env=env, check=False,
                   stdout=subprocess.DEVNULL)
    with open(f"{prefix}_stats.csv", newline="") as stats:
        return list(csv.DictReader(stats))


def report_load(rows: list[dict[str, str]]) -> None:
    """Print locust's statistics per click kind, the long jobs (time from the click to the answer) apart."""
    clicks = [r for r in rows if r["Type"] not in ("JOB", "") and r["Name"] != "Aggregated"]
    jobs = [r for r in rows if r["Type"] == "JOB"]
    for title, part in (("clicks", clicks), ("long jobs, time to the answer", jobs)):
        print(f"  {title}:")
        for row in sorted(part, key=lambda r: r["Name"]):
            print(f"    {row['Name']:40s} {int(row['Request Count']):6,} requests, {int(row['Failure Count'])} failures, "
                  f"p50 {row['50%']} ms, p95 {row['95%']} ms, p99 {row['99%']} ms")
    failures = sum(int(r["Failure Count"]) for r in clicks + jobs)
    slowest = max(clicks, key=lambda r: float(r["95%"]), default=None)
    if slowest is not None:
        print(f"  failures {failures}; slowest click p95 {slowest['95%']} ms ({slowest['Name']}; target 1000 ms)")


def load_phase(store_path: Path, folder: Path, users: int, seconds: int) -> None:
    """Serve the dashboard, open its first page in Chromium, then run the analysts against it."""
    port = _free_port()
    log = folder / "server-errors.log"
    began = time.perf_counter()
    server = _serve(store_path, port, log)
    print(f"server answers after {time.perf_counter() - began:.1f} s", flush=True)
    try:
        print(f"first page in Chromium while the caches warm: {first_page(f'http://127.0.0.1:{port}'):.2f} s")
        said = _warmed(server, log)
        print(f"server warm after {time.perf_counter() - began:.1f} s ({said})", flush=True)
        url = f"http://127.0.0.1:{port}"
        print(f"first page in Chromium once warm: {first_page(url):.2f} s (target 2 s)")
        from najma.dashboards._data import DashboardData

        data = DashboardData(store_path, draws=0)
        choices = {"quarters": data.quarters, "services": data.services, "agencies": data.agencies(),
                   "channels": data.channels, "life_events": data.life_events}
        data.close()
        rows = load_run(url, users, seconds, choices, folder)
        print(f"load run: {users} analysts for {seconds} s on loopback")
        report_load(rows)
        said = log.read_text()
        failures = said.split("Traceback (most recent call last):")[1:]
        print(f"server errors: {len(failures)}" + (f"; the first ends with: {failures[0].strip()[-600:]}" if failures else ""))
        print(f"server warnings of clicks queued for a thread: {said.count('Task queue depth')}")
    finally:
        server.terminate()
        print(f"server stopped with {server.wait(timeout=60)}: {log.read_text().strip().splitlines()[-1:]}")


def callback_phase(parquet: Path | None, store_path: Path, n: int, rounds: int, pm4py: bool) -> None:
    """Time each callback as a function (first call and again) and, on the Parquet file, pm4py's nearest work."""
    _, memory, ours = in_child(najma_run, str(store_path), rounds)
    print(f"najma: {n:,} events, {ours['cases']:,} cases; start-up (read and rate) {ours['startup']:.1f} s; "
          f"peak memory {memory / 2**20:,.0f} MiB")
    every = []
    for name_, times in ours["times"].items():
        every += times[1:]
        print(f"  {name_:32s} first {times[0] * 1000:7.0f} ms, p50 {np.percentile(times, 50) * 1000:6.0f} ms, "
              f"p95 {np.percentile(times, 95) * 1000:6.0f} ms")
    print(f"  all callbacks after the first: p95 {np.percentile(every, 95) * 1000:.0f} ms (target 200 ms)")
    if pm4py and parquet is not None:
        _, their_memory, theirs = in_child(pm4py_run, str(parquet), rounds)
        print(f"pm4py: format {theirs['format']:.1f} s, then a performance DFG and variants per service and "
              f"quarter p50 {theirs['p50'] * 1000:.0f} ms, p95 {theirs['p95'] * 1000:.0f} ms; "
              f"peak memory {their_memory / 2**20:,.0f} MiB")
        print(f"ratio pm4py / najma (service map click, p95): "
              f"{theirs['p95'] / np.percentile(ours['times']['service: map, variants, KPIs'], 95):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--store", type=Path, help="a built store to serve instead of generating one (kept)")
    parser.add_argument("--rounds", type=int, default=20, help="clicks per callback")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--no-pm4py", action="store_true", help="time najma only")
    parser.add_argument("--load-only", action="store_true", help="only the served dashboard: first page and load run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        parquet, store_path, n = None, args.store, 0
        if store_path is None:
            print(f"generating, loading and building {args.events:,} events ...", flush=True)
            parquet, store_path, n = prepare(args.events, folder)
            from najma.journeys import Store, build_journeys

            with Store(store_path) as store:
                build_journeys(store)
        if not args.load_only:
            callback_phase(parquet, store_path, n, args.rounds, not args.no_pm4py)
        load_phase(store_path, folder, args.users, args.seconds)


if __name__ == "__main__":
    main()
