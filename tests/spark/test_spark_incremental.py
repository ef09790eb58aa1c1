"""A Spark build of a lake (``service=/month=`` partitions) keeps the maps DuckDB keeps, and a new month rebuilds only
the cases with an event in it: its tables equal DuckDB's full build of every month, table by table; and the ratings
per channel and per agency of those tables equal DuckDB's, KPIs, stars and bootstrap alike.

The lake is the DuckDB slice's exported events laid out as a Spark ingest lays them out; it is built once with
every month but the last, then the last month's partitions are added and it is built again. That second build is
the module's tables for the ratings too (a Spark build costs tens of seconds, whatever the slice's size).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from najma.errors import InvalidEventLogError
from najma.journeys import CaseFilter, Store, process_map
from najma.rating import rate

pytest.importorskip("pyspark")

from najma.spark import SparkBuild, attach_to_store, build_on_spark, rate_on_spark  # noqa: E402 - needs pyspark

TABLES = {"steps": ["service", "case_id", "position"], "journeys": ["service", "case_id"],
          "service_map_edges": ["service", "quarter", "source", "target"],
          "service_map_activities": ["service", "quarter", "activity"]}
DRAWS = 30


@pytest.fixture(scope="module")
def catalogue_store(sample_slice: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of its own for the Spark build, with the slice's catalogue."""
    from najma.journeys import load_catalogue, register_catalogue
    from najma.sample import SAMPLE_CATALOGUE

    path = tmp_path_factory.mktemp("spark_store") / "spark.duckdb"
    with Store(path) as store:
        register_catalogue(store, load_catalogue(SAMPLE_CATALOGUE))
    return path


@pytest.fixture(scope="module")
def builds(session, slice_exported: Path, catalogue_store: Path, lake_writer, slice_months: tuple[str, ...],
           tmp_path_factory: pytest.TempPathFactory) -> tuple[SparkBuild, SparkBuild]:
    """The build of every month but the last, then the build after the last month's partitions were added."""
    folder = tmp_path_factory.mktemp("lake")
    root, out = folder / "events", str(folder / "built")
    lake_writer(session, slice_exported, root, slice_months[:-1])
    with Store(catalogue_store) as store:
        before = build_on_spark(session, [str(root)], store, out)
        lake_writer(session, slice_exported, root, slice_months[-1:])
        after = build_on_spark(session, [str(root)], store, out)
        attach_to_store(store, after)
    return before, after


def test_first_build_of_a_lake_builds_every_case(builds, sample_slice: Path, slice_months: tuple[str, ...]) -> None:
    before, _ = builds
    assert before.lake and before.touched is None and before.rebuilt == before.journeys > 0
    with Store(sample_slice, read_only=True) as duck:
        events = duck.con.execute("SELECT count(*) FROM events WHERE strftime(timestamp, '%Y-%m') < ?", [slice_months[-1]]).fetchall()[0][0]
    assert (before.read, before.loaded, before.quarantined) == (events, events, 0)


def test_a_new_month_rebuilds_only_the_cases_with_an_event_in_it(builds, sample_slice: Path, slice_months: tuple[str, ...]) -> None:
    before, after = builds
    last = slice_months[-1]
    with Store(sample_slice, read_only=True) as duck:
        (in_last, services), = duck.con.execute(
            "SELECT count(DISTINCT (service, case_id)), list(DISTINCT service ORDER BY service) FROM events "
            "WHERE strftime(timestamp, '%Y-%m') = ?", [last]).fetchall()
        (events,), = duck.con.execute("SELECT count(*) FROM events WHERE strftime(timestamp, '%Y-%m') = ?", [last]).fetchall()
        (cases,), = duck.con.execute("SELECT count(*) FROM journeys").fetchall()
    # Only the last month's partitions were read, and only its cases built; the others were kept.
    assert after.touched == {service: (last,) for service in services}
    assert (after.read, after.loaded) == (events, events)
    assert after.rebuilt == in_last < before.journeys
    assert after.journeys == cases


@pytest.mark.parametrize("table", list(TABLES))
def test_incremental_tables_equal_duckdbs_full_build(builds, sample_slice: Path, same_table, table: str) -> None:
    _, after = builds
    spark = pd.read_parquet(Path(after.out) / table)
    with Store(sample_slice, read_only=True) as duck:
        expected = duck.con.execute(f"SELECT * FROM {table}").df()
    assert len(expected) > 10
    same_table(spark, expected, TABLES[table])


@pytest.mark.parametrize("where", [
    None, CaseFilter(service="trade_licence"), CaseFilter(service="birth_notification", quarter="2025Q3", tz="Asia/Dubai"),
    CaseFilter(quarter="2025Q4", tz="Asia/Dubai"),
], ids=["all", "service", "service-quarter", "quarter"])
def test_maps_of_the_attached_store_equal_duckdbs(builds, catalogue_store: Path, sample_slice: Path, same_table,
                                                   where: CaseFilter | None) -> None:
    with Store(catalogue_store, read_only=True) as attached, Store(sample_slice, read_only=True) as duck:
        assert attached.table_kind("service_map_edges") == "VIEW"  # the kept maps are Spark's files
        assert attached.n_rows("events") == duck.n_rows("events")  # and the events the lake's, read in place
        spark, expected = process_map(attached, where), process_map(duck, where)
    assert spark.dfg == expected.dfg and len(expected.dfg) > 5
    assert (spark.start_activities, spark.end_activities) == (expected.start_activities, expected.end_activities)
    same_table(spark.edges, expected.edges, ["source", "target"])
    same_table(spark.activities, expected.activities, ["activity"])


@pytest.mark.parametrize(("by", "key"), [("channel", "channel"), ("agency", "first_agency")])
def test_ratings_by_equal_duckdbs(builds, sample_slice: Path, same_table, by: str, key: str) -> None:
    _, after = builds
    spark = rate_on_spark(after.tables, by=by, draws=DRAWS)
    with Store(sample_slice, read_only=True) as duck:
        expected = rate(duck, by=by, draws=DRAWS)
    # Several groups are rated, with stars and a bootstrap.
    assert (expected["status"] == "rated").sum() >= 3 and expected["p_2"].notna().any()
    assert expected[key].notna().all()
    same_table(spark, expected, ["service", "quarter", key])


def test_channels_split_a_service_and_quarter(builds) -> None:
    _, after = builds
    rated = rate_on_spark(after.tables, by="channel", quarters=["2025Q4"], draws=0)
    assert rated.groupby("service")["channel"].nunique().max() > 2
    # Within one channel, digital take-up and channel switches do not apply.
    assert rated["not_applicable"].str.contains("digital_take_up").all()


def test_ratings_by_an_unknown_split_are_refused(builds) -> None:
    _, after = builds
    with pytest.raises(InvalidEventLogError, match="'by' parameter must be one of channel, agency"):
        rate_on_spark(after.tables, by="resource", draws=0)
