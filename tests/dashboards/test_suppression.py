"""One small-group rule for every output: no group of fewer than `min_group` customers shows a count.

The sample is rated at a threshold that suppresses some services of the quarter but not all
(the median of their customers) and at one above every group (1,000,000). Every output is read as
its reader sees it (the dashboard's frames and figures, the CLI's tables and CSV files, the report's
HTML and the text of its PDF) and checked against counts worked out here from the store's tables.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from najma.dashboards._data import DashboardData
from najma.dashboards._figures import customer_steps_figure
from najma.dashboards._report import write_report
from najma.dashboards.cli import app
from najma.dashboards.cli._options import MinGroupOption, min_group_of
from najma.dashboards.cli._options import out as console
from najma.journeys import Store
from najma.rating import case_features, default_config
from najma.rating._suppression import MIN_GROUP, SUPPRESSED
from najma.sample._services import SERVICES

QUARTER = "2025Q4"
ABOVE_ALL = 1_000_000
NAMES = {s.key: s.name_en for s in SERVICES}


@pytest.fixture(scope="module")
def features(built_sample: Path) -> pd.DataFrame:
    with Store(built_sample, read_only=True) as store:
        return case_features(store, satisfied_at=default_config().satisfied_at)


@pytest.fixture(scope="module")
def groups(features: pd.DataFrame) -> pd.DataFrame:
    """Cases and distinct customers of each service in QUARTER, by service."""
    rows = features[features["quarter"] == QUARTER]
    return rows.groupby("service").agg(cases=("case_id", "size"), customers=("customer_id", "nunique"))


@pytest.fixture(scope="module")
def some(groups: pd.DataFrame) -> int:
    """A threshold that suppresses some services of QUARTER and keeps the others."""
    threshold = int(groups["customers"].median())
    assert (groups["customers"] < threshold).any() and (groups["customers"] >= threshold).any()
    return threshold


@pytest.fixture(scope="module", params=["some", "above_all"])
def threshold(request: pytest.FixtureRequest, some: int) -> int:
    return some if request.param == "some" else ABOVE_ALL


@pytest.fixture(scope="module")
def steps_customers(built_sample: Path) -> pd.DataFrame:
    """Each step of the sample with its case's customer: service, quarter-free, activity, next_activity, customer_id."""
    with Store(built_sample, read_only=True) as store:
        steps = store.backend.table("steps").select("case_key", "service", "activity", "next_activity").to_pandas()
        owners = store.backend.table("journeys").select("case_key", "customer_id").to_pandas()
    return steps.merge(owners, on="case_key")


def _fewer(n: int) -> str:
    return f"fewer than {n} customers"


def _numbers(line: str, *allowed: str) -> set[str]:
    """The numbers written in `line`, once the quarters and the texts `allowed` are taken out."""
    for text in allowed:
        line = line.replace(text, " ")
    return set(re.findall(r"\d[\d,.]*", re.sub(r"\d{4}Q[1-4]", " ", line)))


# -- the dashboard's data and figures -----------------------------------------------------------------


def test_the_dashboards_frames_hold_no_count_of_a_small_group(built_sample, groups, threshold):
    data = DashboardData(built_sample, draws=0, min_group=threshold)
    try:
        rows = data.overview(QUARTER).set_index("service")
        small = groups.index[groups["customers"] < threshold]
        kept = groups.index[groups["customers"] >= threshold]
        assert set(rows.index[rows["status"] == SUPPRESSED]) == set(small)
        hidden = ["cases", "customers", "stars", "score", "confidence", "change", "efficiency", "within_sla"]
        assert rows.loc[small, hidden].isna().all().all()
        assert (rows.loc[kept, "cases"] == groups.loc[kept, "cases"]).all()
        for frame in (data.ratings, data.channel_ratings):
            suppressed = frame[frame["status"] == SUPPRESSED]
            assert suppressed.drop(columns=["service", "quarter", "channel", "status", "cases"],
                                   errors="ignore").isna().all().all()
            assert (frame.loc[frame["status"] != SUPPRESSED, "customers"] >= threshold).all()
        trend = data.trend(list(small))
        assert trend.loc[trend["quarter"] == QUARTER, "stars"].isna().all()
        coverage = data.coverage([QUARTER])[QUARTER]
        assert coverage[small].isna().all() and (coverage[kept] == groups.loc[kept, "cases"]).all()
        for service in groups.index:
            table, _ = data.variant_table(service, None)
            assert (table["customers"] >= threshold).all()
        for service in small:
            assert data.redesign(service, (), QUARTER) is None
            found = data.conformance(service, QUARTER)
            assert found is None or (found[0] is None and found[1].empty)
            assert data.selection_kpis(service, QUARTER) is None
            assert data.journey_map(service, QUARTER, (), 1.0) is None
        for life_event in data.life_events:
            flows = data.life_event_flows(life_event)
            assert threshold != ABOVE_ALL or (flows.empty and data.ask_once(life_event).empty
                                              and data.life_event_summary(life_event) is None)
    finally:
        data.close()


def test_the_map_keeps_only_activities_and_edges_of_enough_customers(built_sample, steps_customers, some):
    data = DashboardData(built_sample, draws=0, min_group=some)
    try:
        graph = data.journey_map("passport", None, (), 1.0)
    finally:
        data.close()
    steps = steps_customers[steps_customers["service"] == "passport"]
    per_activity = steps.groupby("activity")["customer_id"].nunique()
    per_edge = steps.dropna(subset=["next_activity"]).groupby(["activity", "next_activity"])["customer_id"].nunique()
    assert set(graph.activities["activity"]) == set(per_activity.index[per_activity >= some])
    shown = set(zip(graph.edges["source"], graph.edges["target"], strict=True))
    assert shown and all(per_edge[edge] >= some for edge in shown)
    assert len(shown) < len(per_edge)  # some were left out


def test_histogram_bars_of_few_customers_are_merged_and_say_so(features, some):
    completed = features[(features["service"] == "trade_licence") & (features["completed"] == 1)]
    figure = customer_steps_figure(completed["customer_steps"], completed["customer_id"], min_group=some)
    bars = figure.data[0]
    assert sum(bars.y) == len(completed)  # merged, not dropped
    for label in bars.x:
        low, _, high = label.partition("–")
        inside = completed["customer_steps"].between(int(low), int(high or low))
        assert completed.loc[inside, "customer_id"].nunique() >= some
    assert any("–" in label for label in bars.x)
    assert f"fewer than {some} customers are merged" in figure.layout.annotations[0].text
    nothing = customer_steps_figure(completed["customer_steps"], completed["customer_id"], min_group=ABOVE_ALL)
    assert list(nothing.data[0].y) == []


# -- the command line -------------------------------------------------------------------------------------


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables printed one row a line, so that a row is read whole."""
    monkeypatch.setattr(console, "width", 400)


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _row(output: str, service: str) -> str:
    return next(line for line in output.splitlines() if re.search(rf"[│|]\s*{service}\s*[│|]", line))


def test_rate_and_its_csv_show_no_count_of_a_small_group(built_sample, groups, threshold, wide, tmp_path):
    csv = tmp_path / "ratings.csv"
    shown = _run("rate", "--quarter", QUARTER, "--store", str(built_sample), "--no-record", "--draws", "0",
                 "--min-group", str(threshold), "--out", str(csv))
    exported = pd.read_csv(csv).set_index("service")
    for service, group in groups.iterrows():
        row = _row(shown, service)
        if group["customers"] < threshold:
            assert _fewer(threshold) in row and not _numbers(row, _fewer(threshold))
            assert exported.loc[service, "status"] == SUPPRESSED
            assert exported.loc[service].drop("status").drop("quarter").isna().all()
        else:
            assert f"{group['cases']:,}" in row and exported.loc[service, "cases"] == group["cases"]
    small = groups.index[groups["customers"] < threshold][0]
    explained = _run("explain", "--service", small, "--quarter", QUARTER, "--store", str(built_sample), "--draws", "0",
                     "--min-group", str(threshold))
    assert _fewer(threshold) in explained and "★" not in explained and "next star" not in explained


def test_publish_prints_no_small_group(built_sample, groups, threshold, wide, tmp_path, monkeypatch):
    copy = tmp_path / "published.duckdb"
    copy.write_bytes(built_sample.read_bytes())
    monkeypatch.setenv("NAJMA_KEY_FILE", str(built_sample.with_name("sample.key")))
    shown = _run("publish", "--quarter", QUARTER, "--store", str(copy), "--draws", "0", "--by", "analyst",
                 "--min-group", str(threshold))
    for service, group in groups.iterrows():
        row = _row(shown, service)
        small = group["customers"] < threshold
        assert (_fewer(threshold) in row and not _numbers(row, _fewer(threshold)) and "★" not in row) == small


def test_journeys_variants_info_and_map_show_no_small_group(built_sample, features, steps_customers, threshold,
                                                            wide, tmp_path):
    store = ("--store", str(built_sample))
    per_service = features[features["quarter"] == QUARTER].groupby("service")["customer_id"].nunique()
    journeys = _run("journeys", *store, "--quarter", QUARTER, "--min-group", str(threshold))
    for service, customers in per_service.items():
        row = _row(journeys, service)
        assert (_fewer(threshold) in row and not _numbers(row, _fewer(threshold))) == (customers < threshold)
    variants = _run("variants", *store, "--service", "passport", "--top", "1000", "--min-group", str(threshold))
    assert "not shown" in variants
    info = _run("info", *store, "--min-group", str(threshold))
    all_time = features.groupby("service")["customer_id"].nunique()
    for service, customers in all_time.items():
        assert (_fewer(threshold) in _row(info, service)) == (customers < threshold)
    edges = tmp_path / "edges.csv"
    result = CliRunner().invoke(app, ["map", *store, "--service", "passport", "--min-group", str(threshold),
                                      "--out", str(edges)])
    steps = steps_customers[steps_customers["service"] == "passport"]
    per_edge = steps.dropna(subset=["next_activity"]).groupby(["activity", "next_activity"])["customer_id"].nunique()
    if threshold == ABOVE_ALL:
        assert result.exit_code == 0 and _fewer(threshold) in result.output and not edges.exists()
    else:
        assert result.exit_code == 0, result.output
        written = pd.read_csv(edges)
        assert len(written) and all(per_edge[(s, t)] >= threshold for s, t in zip(written.source, written.target,
                                                                                    strict=True))


def test_the_min_group_option_says_the_librarys_default():
    option = MinGroupOption.__metadata__[0]
    assert f"[default: {MIN_GROUP}, najma's small-group rule]" in option.help
    assert min_group_of(None) == MIN_GROUP and min_group_of(3) == 3


# -- the report ---------------------------------------------------------------------------------------------


def test_the_report_html_and_pdf_show_no_count_of_a_small_group(built_sample, features, groups, threshold, tmp_path):
    with Store(built_sample, read_only=True) as store:
        files = write_report(store, QUARTER, tmp_path, draws=0, min_group=threshold)
    html = files.html.read_text(encoding="utf-8")
    fewer = _fewer(threshold)
    small = list(groups.index[groups["customers"] < threshold])
    kept = list(groups.index[groups["customers"] >= threshold])
    assert fewer in html.split('id="methodology"')[1]  # the rule is stated
    for service in small:
        row = re.search(rf'<tr data-service="{service}"[^>]*>(.*?)</tr>', html, re.S).group(1)
        assert fewer in row and not _numbers(re.sub(r"<[^>]+>", " ", row), fewer)
        assert f'data-service="{service}">' not in html  # no page: no map, no histogram, no KPIs
    for service in kept:
        row = re.search(rf'<tr data-service="{service}"[^>]*>(.*?)</tr>', html, re.S).group(1)
        assert f">{groups.loc[service, 'cases']:,}<" in row
        assert re.search(rf'<section class="service" id="service-\d+" data-service="{service}">', html)
    # Coverage: a cell shows a count only for a group of enough customers, in every quarter shown.
    quarters = re.findall(r'<th data-quarter="(\d{4}Q\d)">', html.split('id="coverage"')[1].split("</thead>")[0])
    cells = features[features["quarter"].isin(quarters)].groupby(["service", "quarter"]).agg(
        cases=("case_id", "size"), customers=("customer_id", "nunique"))
    body = html.split('id="coverage"')[1].split("</table>")[0]
    for service, name in NAMES.items():
        shown = re.findall(r'<td class="num">([^<]*)</td>', re.search(rf"<td>{re.escape(name)}</td>(.*?)</tr>", body).group(1))
        for quarter, cell in zip(quarters, shown, strict=True):
            found = cells.loc[(service, quarter)] if (service, quarter) in cells.index else None
            enough = found is not None and found["customers"] >= threshold
            assert cell == (f"{found['cases']:,}" if enough else fewer)
    # The PDF as text, in reading order: the star table and the coverage hold no whole number but the counts
    # of groups kept, and a suppressed service is named nowhere else (it has no page).
    text = " ".join(subprocess.run(["pdftotext", str(files.pdf), "-"], check=True, capture_output=True,
                                   text=True).stdout.split())
    assert "fewer than" in text
    stars_table = _between(text, "Services and stars", "Distribution of stars")
    coverage_table = _between(text, "Data coverage", "Quarantined rows")
    assert _whole_numbers(stars_table, threshold) <= {f"{groups.loc[s, 'cases']:,}" for s in kept}
    kept_cells = {f"{row.cases:,}" for row in cells.itertuples() if row.customers >= threshold}
    assert _whole_numbers(coverage_table, threshold) <= kept_cells
    rest = text.replace(stars_table, " ").replace(coverage_table, " ")
    assert not [NAMES[service] for service in small if NAMES[service] in rest]


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start):text.index(end, text.index(start))]


def _whole_numbers(text: str, threshold: int) -> set[str]:
    """The whole numbers written in `text` (not a quarter, a decimal, a percentage, a change such as +1 or the
    threshold itself)."""
    return set(re.findall(r"(?<![\w.,+\-−])\d[\d,]*(?![\w.,%])", text)) - {str(threshold)}
