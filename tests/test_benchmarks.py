"""Every benchmark runs end to end on a small log and prints its measurements beside pm4py's.

The measurements themselves are not asserted (speed is measured, not tested); this keeps the
scripts working as the code they measure changes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

RUNS = {
    "ingest.py": (["--events", "3000", "--xes-events", "2000"], ["parquet", "csv", "xes", "ev/s", "of pm4py's"]),
    "journey_build.py": (["--events", "3000", "--runs", "1"], ["build", "map, one service and quarter", "pm4py: peak memory"]),
    "star_ratings.py": (["--events", "3000", "--draws", "20"], ["case features", "ratio pm4py / najma"]),
    "dashboard.py": (["--events", "3000", "--rounds", "2", "--users", "2", "--seconds", "2"], ["p95", "server errors: 0"]),
    "discover.py": (["--events", "6000", "--runs", "1"], ["discover_bundles", "discover_proactive", "rank 1: birth_notification"]),
}


#: Runs kept out of the default suite for time (opt in with -m heavy): the report benchmark writes two whole reports;
#: the Spark benchmark starts Spark twice and runs every stage on both engines (about 85 s even at 3,000 events).
HEAVY_RUNS = {"report.py": (["--repeat", "1", "--draws", "20"], ["median s", "python MB"]),
              "spark.py": (["--events", "3000", "--runs", "1", "--spark-memory", "1g"],
                           ["ingest", "build", "core-s per M events", "estimate:"])}


@pytest.mark.parametrize("script", [*sorted(RUNS), *(pytest.param(s, marks=pytest.mark.heavy) for s in HEAVY_RUNS)])
def test_benchmark_runs_and_reports(script: str):
    arguments, expected = {**RUNS, **HEAVY_RUNS}[script]
    # A short temporary folder of its own: Chromium's socket path there must fit in 107 bytes (pytest-xdist's are longer).
    with tempfile.TemporaryDirectory(prefix="nb-") as tmp:
        env = {**os.environ, "NAJMA_PSEUDONYM_KEY": "benchmark-test-key", "TMPDIR": tmp}
        done = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / script), *arguments],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    for text in expected:
        assert text in done.stdout, (text, done.stdout[-2000:])
    assert "Traceback" not in done.stderr
