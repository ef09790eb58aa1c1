"""Spark for the tests: the local session starts without its web UI (a Jetty server no test looks at), and its JVM
compiles with the quick compiler only (C1)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

#: Settings read when the local Spark starts, for settings najma's session leaves to Spark (see najma.spark). The
#: tests' JVMs live a few minutes and run each query plan a few times: the optimising compiler (C2) costs them more CPU
#: than it gives back (a cold build of the sample: 56 s instead of 70 s on 2 cores); C1 alone needs a larger code cache
#: than its default 48 MB, which a build fills.
SUBMIT_ARGS = ("--conf spark.ui.enabled=false "
               "--driver-java-options '-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m' pyspark-shell")


@pytest.fixture(scope="session", autouse=True)
def _spark_without_ui() -> Iterator[None]:
    """Start the tests' Spark with `SUBMIT_ARGS`, unless the one who runs them says how to start it."""
    with pytest.MonkeyPatch.context() as patch:
        if "PYSPARK_SUBMIT_ARGS" not in os.environ:
            patch.setenv("PYSPARK_SUBMIT_ARGS", SUBMIT_ARGS)
        yield


@pytest.fixture(scope="module")
def session() -> object:
    """The local Spark session of the tests: the one this test process started already, if it runs (starting Spark
    takes seconds; every module starts from the same settings). A module that needs another kind of session (Spark
    Connect) defines its own."""
    from najma.spark import spark_session

    return spark_session("local[2]")


@pytest.fixture(scope="session", autouse=True)
def _spark_stopped_at_the_end() -> Iterator[None]:
    """Stop the local Spark session, if a test started one, when the tests end."""
    yield
    if "pyspark" in sys.modules:
        from pyspark.sql import SparkSession

        running = SparkSession.getActiveSession()
        if running is not None:
            running.stop()


#: The services of the sample's slice that the CLI and Spark Connect tests run on (a few seconds of Spark).
SLICE_SERVICES = ("trade_licence", "birth_notification")


@pytest.fixture(scope="session")
def spark_slice(tmp_path_factory: pytest.TempPathFactory):
    """Two services of the sample, loaded into a DuckDB store by its ingest, and exported as one Parquet file in
    najma's schema.

    Returns the file. Its folder also holds ``slice.duckdb`` (the DuckDB store, built: what Spark must equal) and
    ``spark.duckdb`` (a store with the sample's catalogue only, for Spark runs to attach to).
    """
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from najma.journeys import Store, load_catalogue, open_source, register_catalogue
    from najma.sample import SAMPLE_CATALOGUE, SAMPLE_EVENTS
    from najma.sample._loading import SAMPLE_TZ

    folder = tmp_path_factory.mktemp("spark-slice")
    raw = ds.dataset(SAMPLE_EVENTS).to_table(filter=pc.field("service").isin(list(SLICE_SERVICES)))
    pq.write_table(raw, folder / "raw.parquet")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAJMA_KEY_FILE", str(folder / "slice.key"))
        with Store(folder / "slice.duckdb") as store:
            register_catalogue(store, load_catalogue(SAMPLE_CATALOGUE))
            store.ingest(open_source(folder / "raw.parquet"), tz=SAMPLE_TZ)
            store.export_events(folder / "export")
    pq.write_table(ds.dataset(folder / "export").to_table(), folder / "events.parquet")
    with Store(folder / "spark.duckdb") as target:
        register_catalogue(target, load_catalogue(SAMPLE_CATALOGUE))
    return folder / "events.parquet"


@pytest.fixture(scope="session")
def sample_slice(spark_slice: Path) -> Path:
    """The DuckDB store of the slice (see `spark_slice`), built; open it read-only."""
    return spark_slice.parent / "slice.duckdb"


@pytest.fixture(scope="session")
def slice_exported(spark_slice: Path) -> Path:
    """The slice's events as DuckDB's export wrote them: one Parquet file in najma's schema."""
    return spark_slice


@pytest.fixture(scope="session")
def slice_months(sample_slice: Path) -> tuple[str, ...]:
    """The UTC months (YYYY-MM) of the slice's events, in order."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    times = pq.read_table(sample_slice.parent / "events.parquet", columns=["timestamp"]).column("timestamp")
    return tuple(sorted(set(pc.strftime(times, format="%Y-%m", locale="C").to_pylist())))


@pytest.fixture(scope="session")
def lake_writer() -> Callable[..., None]:
    """Write the given months of canonical events into a lake's ``service=/month=`` partitions, as a Spark ingest does."""
    def write(session: object, exported: Path, root: Path, months: Sequence[str]) -> None:
        from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention

        events = session.read.parquet(str(exported)).withColumn("month", F.date_format("timestamp", "yyyy-MM"))
        events.filter(F.col("month").isin(list(months))).write.mode("append").partitionBy("service", "month").parquet(str(root))

    return write


@pytest.fixture(scope="session")
def same_table() -> Callable[[pd.DataFrame, pd.DataFrame, Sequence[str]], None]:
    """Assert that a table computed on Spark equals DuckDB's, row for row by `keys`: the same columns; exact for text,
    lists, flags and counts, to 1e-9 for sums of floats (summed in another order). Each engine names a case by its
    own integer ``case_key``: the names must match one to one."""
    def same(spark: pd.DataFrame, expected: pd.DataFrame, keys: Sequence[str]) -> None:
        assert sorted(spark.columns) == sorted(expected.columns)
        ours = spark.sort_values(list(keys)).reset_index(drop=True)
        theirs = expected[spark.columns].sort_values(list(keys)).reset_index(drop=True)
        assert len(ours) == len(theirs)
        if "case_key" in ours.columns:
            pairs = pd.DataFrame({"spark": ours.pop("case_key"), "duck": theirs.pop("case_key")}).drop_duplicates()
            assert pairs.spark.is_unique and pairs.duck.is_unique
        for column in ours.columns:
            left, right = ours[column], theirs[column]
            if pd.api.types.is_datetime64_any_dtype(right):
                assert (pd.to_datetime(left, utc=True) == pd.to_datetime(right, utc=True)).all(), column
            elif any(pd.api.types.is_numeric_dtype(side) and not pd.api.types.is_bool_dtype(side) for side in (left, right)):
                np.testing.assert_allclose(left.astype(float), right.astype(float), rtol=1e-9, equal_nan=True, err_msg=column)
            else:
                assert _as_text(left) == _as_text(right), column

    return same


def _as_text(values: pd.Series) -> list:
    """Each value as text, a list as a list of texts: how values of any engine's type compare."""
    return [[str(v) for v in value] if isinstance(value, (list, np.ndarray)) else str(value) for value in values]
