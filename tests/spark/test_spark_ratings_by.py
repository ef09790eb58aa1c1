"""Ratings per channel and per agency on Spark equal DuckDB's on a slice of the sample, KPIs, stars and bootstrap alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from najma.errors import InvalidEventLogError
from najma.journeys import Store
from najma.rating import rate

pytest.importorskip("pyspark")

from najma.spark import SparkTables, build_on_spark, rate_on_spark  # noqa: E402 - needs pyspark

DRAWS = 30


@pytest.fixture(scope="module")
def tables(session: object, slice_exported: Path, sample_slice: Path, tmp_path_factory: pytest.TempPathFactory) -> SparkTables:
    """The Spark build of the slice's exported events, on the module's one session."""
    from najma.journeys import load_catalogue, register_catalogue
    from najma.sample import SAMPLE_CATALOGUE

    folder = tmp_path_factory.mktemp("rated_by")
    with Store(folder / "spark.duckdb") as store:
        register_catalogue(store, load_catalogue(SAMPLE_CATALOGUE))
        build = build_on_spark(session, [str(slice_exported)], store, str(folder / "out"))
    return build.tables


@pytest.mark.parametrize(("by", "key"), [("channel", "channel"), ("agency", "first_agency")])
def test_ratings_by_equal_duckdbs(tables: SparkTables, sample_slice: Path, same_table, by: str, key: str) -> None:
    spark = rate_on_spark(tables, by=by, draws=DRAWS)
    with Store(sample_slice, read_only=True) as duck:
        expected = rate(duck, by=by, draws=DRAWS)
    # Several groups are rated, with stars and a bootstrap.
    assert (expected["status"] == "rated").sum() >= 3 and expected["p_2"].notna().any()
    assert expected[key].notna().all()
    same_table(spark, expected, ["service", "quarter", key])


def test_channels_split_a_service_and_quarter(tables: SparkTables) -> None:
    rated = rate_on_spark(tables, by="channel", quarters=["2025Q4"], draws=0)
    assert rated.groupby("service")["channel"].nunique().max() > 2
    # Within one channel, digital take-up and channel switches do not apply.
    assert rated["not_applicable"].str.contains("digital_take_up").all()


def test_ratings_by_an_unknown_split_are_refused(tables: SparkTables) -> None:
    with pytest.raises(InvalidEventLogError, match="'by' parameter must be one of channel, agency"):
        rate_on_spark(tables, by="resource", draws=0)
