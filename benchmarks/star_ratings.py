"""Rating benchmark: every service and quarter rated, with the bootstrap, after the journey build.

Generates a log with the sample generator, loads it and builds the journeys (not timed), then
times in a fresh process each

- najma: reading the case features of every journey from the store, and rating every service
  and quarter with ``--draws`` bootstrap draws (KPIs, scores, stars, the probability of each star);
- pm4py, on the same Parquet file: formatting the log and the case durations per service, the
  input of only the time KPIs (pm4py has no ratings; this is the nearest work it does).

It prints seconds, peak memory and the ratio. The target is under 5 s for najma at 10M events
with 200 draws. Run::

    python benchmarks/star_ratings.py --events 10000000 --draws 200
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from journey_build import prepare  # benchmarks/ is on the path when this file is run
from measure import in_child


def najma_run(store_path: str, draws: int) -> dict[str, float]:
    """Rate every service and quarter of the built store; return the seconds of each part."""
    from najma.journeys import Store
    from najma.rating import case_features, default_config
    from najma.rating._ratings import rate_features

    config = default_config()
    with Store(store_path, read_only=True) as store:
        started = time.perf_counter()
        features = case_features(store, satisfied_at=config.satisfied_at)
        read = time.perf_counter()
        ratings = rate_features(features, config=config, draws=draws)
        done = time.perf_counter()
    return {"features": read - started, "rating": done - read, "total": done - started, "groups": len(ratings),
            "cases": len(features)}


def pm4py_run(parquet: str) -> dict[str, float]:
    """Format the log with pm4py and get every case's duration, service by service."""
    import pandas as pd
    import pm4py

    started = time.perf_counter()
    frame = pd.read_parquet(parquet)
    log = pm4py.format_dataframe(frame, case_id="case_id", activity_key="activity", timestamp_key="timestamp")
    for _, cases in log.groupby("service", observed=True):
        pm4py.get_all_case_durations(cases)
    return {"total": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--no-pm4py", action="store_true", help="time najma only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(f"generating, loading and building {args.events:,} events ...", flush=True)
        parquet, store_path, n = prepare(args.events, Path(folder))
        from najma.journeys import Store, build_journeys

        with Store(store_path) as store:
            build_journeys(store)
        _, memory, ours = in_child(najma_run, str(store_path), args.draws)
        print(f"najma: {n:,} events, {ours['cases']:,} cases, {ours['groups']} services x quarters, "
              f"{args.draws} draws; peak memory {memory / 2**20:,.0f} MiB")
        print(f"  case features {ours['features']:.2f} s, rating {ours['rating']:.2f} s, total {ours['total']:.2f} s "
              f"(target: under 5 s at 10M events)")
        if not args.no_pm4py:
            _, their_memory, theirs = in_child(pm4py_run, str(parquet))
            print(f"pm4py: format and case durations per service {theirs['total']:.2f} s, "
                  f"peak memory {their_memory / 2**20:,.0f} MiB")
            print(f"ratio pm4py / najma: {theirs['total'] / ours['total']:.1f}")


if __name__ == "__main__":
    main()
