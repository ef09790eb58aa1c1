"""One quarter, one set of cases: the CLI views, the ratings, the dashboard and the report read a
quarter in the store's zone (its catalogue's, Asia/Dubai on the sample), so they count the same cases.

The sample's passport service has a case that starts on 31 December 2024 after 20:00 UTC: in
Dubai that is already 2025Q1, in UTC still 2024Q4, so a view that read quarters in UTC would
count one case fewer.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from najma import CaseFilter, DashboardData, Store, journey_table, process_map, quarter_zone, rate_quarter, write_report
from najma.journeys._process_map import _kept_map

SERVICE, QUARTER = "passport", "2025Q1"


def _cli(*args: str) -> str:
    """What a command prints to a wide terminal, run as a user runs it."""
    done = subprocess.run([sys.executable, "-m", "najma", *args], env={**os.environ, "COLUMNS": "250"},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _row_cases(output: str, service: str) -> int:
    [line] = [line for line in output.splitlines() if re.search(rf"\b{service}\b", line)]
    return int(re.search(r"\b(\d{1,3}(?:,\d{3})*)\b", line.split(service, 1)[1]).group(1).replace(",", ""))


@pytest.fixture(scope="module")
def counted(built_sample: Path, data: DashboardData, tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    store = str(built_sample)
    counts = {
        "najma journeys": _row_cases(_cli("journeys", "--store", store, "--service", SERVICE, "--quarter", QUARTER), SERVICE),
        "najma rate": _row_cases(_cli("rate", "--store", store, "--quarter", QUARTER, "--draws", "0", "--no-record"), SERVICE),
    }
    with Store(built_sample, read_only=True) as opened:
        where = CaseFilter(service=SERVICE, quarter=QUARTER)
        counts["journey_table"] = int(journey_table(opened, where).count().to_pyarrow().as_py())
        assert _kept_map(opened, where) is not None, "the map the build kept for the quarter was missed"
        counts["process_map (kept)"] = sum(process_map(opened, where).start_activities.values())
        ratings, _ = rate_quarter(opened, QUARTER, draws=0)
        counts["rate_quarter"] = int(ratings.set_index("service").loc[SERVICE, "cases"])
        report = write_report(opened, QUARTER, tmp_path_factory.mktemp("report"), draws=0, pdf=False)
        counts["UTC"] = int(journey_table(opened, CaseFilter(service=SERVICE, quarter=QUARTER, tz="UTC")).count().to_pyarrow().as_py())
        assert quarter_zone(opened) == "Asia/Dubai"
    html = report.html.read_text()
    counts["report"] = int(re.search(rf'data-service="{SERVICE}"[^>]*><td>[^<]*</td><td class="num">([\d,]+)<', html)
                           .group(1).replace(",", ""))
    counts["dashboard"] = int(data.overview(QUARTER).set_index("service").loc[SERVICE, "cases"])
    return counts


def test_every_view_counts_the_same_cases_of_a_quarter(counted: dict[str, int]):
    utc = counted.pop("UTC")
    assert len(set(counted.values())) == 1, counted
    assert utc == next(iter(counted.values())) - 1, "the sample's boundary case no longer tells the zones apart"
