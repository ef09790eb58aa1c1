"""The Spark engine in local mode gives the same journeys, maps, variants, KPIs and stars as DuckDB on the sample.

The sample is built on Spark once, by ``najma rate --engine spark`` as a user runs it; the tests compare that build
(its files, and its tables left on the session) with DuckDB's. The tests of bad input build their own afterwards.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from najma.dashboards.cli import app
from najma.errors import SourceReadError, StoreError
from najma.journeys import CaseFilter, Store, process_map, rework_per_activity, variants
from najma.rating import rate, rate_quarter, rating_history

pytest.importorskip("pyspark")

from najma.spark import (  # noqa: E402 - needs pyspark
    SparkBuild,
    SparkTables,
    attach_to_store,
    build_on_spark,
    rate_on_spark,
)

DRAWS = 30
ONE_EVENT = pd.DataFrame({"case_id": ["x"], "activity": ["Apply"], "timestamp": ["2025-01-01"]})


@pytest.fixture(scope="module")
def exported(built_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample's events as Parquet in najma's schema, written by `najma export`."""
    folder = tmp_path_factory.mktemp("exported") / "events"
    result = CliRunner().invoke(app, ["export", "--out", str(folder), "--store", str(built_sample)])
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="module")
def rated(session, exported: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`najma rate --engine spark` of 2025Q4 into a store of its own: the module's one Spark build.

    Returns the store and what the command printed.
    """
    folder = tmp_path_factory.mktemp("spark")
    target = folder / "spark.duckdb"
    runner = CliRunner()
    shutil.copy(Path(__file__).resolve().parents[2] / "data" / "sample" / "services.toml", folder / "services.toml")
    assert runner.invoke(app, ["catalogue", "use", str(folder / "services.toml"), "--store", str(target)]).exit_code == 0
    result = runner.invoke(app, ["rate", "--engine", "spark", "--events", str(exported / "*.parquet"), "--quarter", "2025Q4",
                                 "--store", str(target), "--master", "local[2]", "--draws", str(DRAWS)])
    assert result.exit_code == 0, result.output
    return target, result.output


@pytest.fixture(scope="module")
def spark_build(session, rated: tuple[Path, str], exported: Path) -> SparkBuild:
    """The build of `rated`: its tables stay on the session, its counts are in the store's batch."""
    target, _ = rated
    with Store(target, read_only=True) as attached:
        (read, loaded, quarantined), = attached.con.execute(
            "SELECT rows_read, rows_loaded, rows_quarantined FROM batches").fetchall()
    tables = SparkTables(session, f"{target}.spark")
    return SparkBuild(tables, (str(exported / "*.parquet"),), tables.path, read, loaded, quarantined,
                      session.table("journeys").count())


def test_counts_add_up(spark_build, sample_journeys: Store) -> None:
    events = sample_journeys.con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    assert (spark_build.read, spark_build.loaded, spark_build.quarantined) == (events, events, 0)
    assert spark_build.journeys == sample_journeys.con.execute("SELECT count(*) FROM journeys").fetchall()[0][0]


def test_journey_table_equals_duckdb(spark_build, sample_journeys: Store, same_table) -> None:
    spark = pd.read_parquet(Path(spark_build.out) / "journeys")
    duck = sample_journeys.con.execute("SELECT * FROM journeys").df()
    assert duck["working_seconds"].notna().all()  # the sample has a work calendar: working time is compared too
    same_table(spark, duck, ["service", "case_id"])


def test_steps_equal_duckdb(spark_build, sample_journeys: Store, same_table) -> None:
    spark = pd.read_parquet(Path(spark_build.out) / "steps")
    duck = sample_journeys.con.execute("SELECT * FROM steps").df()
    same_table(spark, duck, ["service", "case_id", "position"])


@pytest.mark.parametrize("where", [
    None,
    CaseFilter(service="trade_licence", quarter="2025Q3", channel="website", tz="Asia/Dubai"),
    CaseFilter(attribute=("channel", "service centre")),
], ids=["all", "service-quarter-channel", "attribute"])
def test_process_maps_and_variants_equal_duckdb(spark_build, sample_journeys: Store, same_table, where: CaseFilter | None) -> None:
    spark, duck = process_map(spark_build.tables, where), process_map(sample_journeys, where)
    assert spark.dfg == duck.dfg and len(duck.dfg) > 5
    assert (spark.start_activities, spark.end_activities) == (duck.start_activities, duck.end_activities)
    same_table(spark.edges, duck.edges, ["source", "target"])
    same_table(spark.activities, duck.activities, ["activity"])
    assert rework_per_activity(spark_build.tables, where) == rework_per_activity(sample_journeys, where)
    same_table(variants(spark_build.tables, where), variants(sample_journeys, where), ["variant"])


def test_kpis_and_stars_equal_duckdb(spark_build, sample_journeys: Store, same_table) -> None:
    spark = rate_on_spark(spark_build.tables, draws=DRAWS)
    duck = rate(sample_journeys, draws=DRAWS)
    assert len(duck) == 72 and duck["stars"].notna().all()
    # Same KPIs, scores and stars, and the same bootstrap: each group's draws are seeded by its name.
    same_table(spark, duck, ["service", "quarter"])


def test_bad_rows_are_quarantined_and_counted(session, tmp_path: Path) -> None:
    events = pd.DataFrame({
        "case_id": ["a", "a", None, "b", "b"], "activity": ["Apply", "Pay", "Apply", " ", "Apply"],
        "timestamp": pd.to_datetime(["2025-01-05 09:00", "2025-01-05 10:00", "2025-01-06 09:00", "2025-01-06 10:00",
                                     "2025-01-07 09:00"], utc=True),
        "event_seq": [1, 2, 3, 4, 5], "service": "permit",
    })
    events.to_parquet(tmp_path / "events.parquet")
    with Store(tmp_path / "spark.duckdb") as store:
        build = build_on_spark(session, [str(tmp_path / "events.parquet")], store, str(tmp_path / "out"))
        assert (build.read, build.loaded, build.quarantined, build.journeys) == (5, 3, 2, 2)
        attach_to_store(store, build)
        quarantined = store.con.execute('SELECT "column", reason, source FROM quarantine ORDER BY "column"').fetchall()
        assert [(column, reason) for column, reason, _ in quarantined] == [("activity", "no activity"), ("case_id", "no case_id")]
        assert all(source.endswith("events.parquet") for _, _, source in quarantined)
        read, loaded, bad = store.con.execute("SELECT rows_read, rows_loaded, rows_quarantined FROM batches").fetchall()[0]
        assert (read, loaded + bad) == (5, 5)
        assert store.con.execute("SELECT count(*) FROM events").fetchall()[0][0] == 3
        assert process_map(store).dfg == {("Apply", "Pay"): 1}


def test_unreadable_events_fail_clearly(session, tmp_path: Path) -> None:
    pd.DataFrame({"case": ["a"], "activity": ["Apply"], "timestamp": [pd.Timestamp("2025-01-05", tz="UTC")]}).to_parquet(
        tmp_path / "raw.parquet")
    with Store(tmp_path / "s.duckdb") as store:
        with pytest.raises(SourceReadError, match=r"raw\.parquet.*no column case_id, event_seq"):
            build_on_spark(session, [str(tmp_path / "raw.parquet")], store, str(tmp_path / "out"))
        with pytest.raises(SourceReadError, match="nothing.parquet.*cannot read as Parquet"):
            build_on_spark(session, [str(tmp_path / "nothing.parquet")], store, str(tmp_path / "out"))


def test_cli_rates_on_spark_into_a_store_the_dashboard_reads(
    rated: tuple[Path, str], exported: Path, built_sample: Path, tmp_path: Path, same_table
) -> None:
    target, said = rated
    assert "0 quarantined" in said
    with Store(built_sample, read_only=True) as duck, Store(target, read_only=True) as attached:
        expected, _ = rate_quarter(duck, "2025Q4", draws=DRAWS)
        recorded = rating_history(attached).sort_values("service").reset_index(drop=True)
        assert recorded["stars"].astype(int).tolist() == expected.sort_values("service")["stars"].astype(int).tolist()
        # The store now serves what the dashboard and reports ask, from Spark's files.
        again, _ = rate_quarter(attached, "2025Q4", draws=DRAWS)
        same_table(again, expected, ["service"])
        assert process_map(attached).dfg == process_map(duck).dfg
    with Store(target) as attached, pytest.raises(StoreError, match="reads the events of a Spark build"):
        attached.ingest_frame(ONE_EVENT)
    own = tmp_path / "own.duckdb"
    with Store(own) as loaded:
        loaded.ingest_frame(ONE_EVENT)
    refused = CliRunner().invoke(app, ["rate", "--engine", "spark", "--events", str(exported / "*.parquet"),
                                       "--quarter", "2025Q4", "--store", str(own), "--master", "local[2]"])
    assert isinstance(refused.exception, StoreError) and "holds events loaded into it" in str(refused.exception)
