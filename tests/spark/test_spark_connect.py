"""Spark Connect for real: a local Spark Connect server in a process of its own, and najma's Spark API through it.

The server is pyspark's own (``spark-submit --class ...SparkConnectServer``, from the jars pyspark bundles); the
test waits for its log line saying it listens, and stops it at the end. Through ``spark_session(remote=...)`` the
Spark build and ratings of a slice of the sample equal those of the DuckDB store it was exported from (the classic
session's tests, test_spark_engine.py, show the same equality for the whole sample).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from najma.journeys import CaseFilter, Store, variants
from najma.rating import rate
from tests.spark.conftest import SLICE_SERVICES

#: A second JVM (the server) and a build through it: about 70 s, so it runs with -m heavy (kept out of the default
#: suite's 15 minutes); run it before changing najma/spark or the Ibis/pyspark pins.
pytestmark = pytest.mark.heavy

pytest.importorskip("pyspark")
pytest.importorskip("grpc")  # pyspark[connect]

from najma.spark import build_on_spark, rate_on_spark, spark_session  # noqa: E402 - needs pyspark

#: The line the server logs once it accepts clients.
READY = "Spark Connect server started at"
DRAWS = 20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A local Spark Connect server; yields its URL once its log says it listens."""
    import pyspark

    port = _free_port()
    submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    started = subprocess.Popen(
        [str(submit), "--master", "local[2]", "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
         "--conf", f"spark.connect.grpc.binding.port={port}", "--conf", "spark.ui.enabled=false",
         "--conf", "spark.sql.session.timeZone=UTC",
         "--conf", "spark.sql.shuffle.partitions=4"],  # a server's own setting: a 2-core server, not a cluster's 200
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYSPARK_PYTHON": sys.executable})  # the server's Python workers import najma
    ready = threading.Event()
    log: list[str] = []

    def watch() -> None:  # reads the server's log to its end, so that the server never blocks on a full pipe
        for line in started.stderr:
            log.append(line)
            if READY in line:
                ready.set()
        ready.set()  # the server ended without starting: the wait below ends too, and the check fails

    threading.Thread(target=watch, daemon=True).start()
    try:
        assert ready.wait(timeout=120) and started.poll() is None, "".join(log[-30:])
        yield f"sc://127.0.0.1:{port}"
    finally:
        started.terminate()
        started.wait(timeout=60)


@pytest.fixture(scope="module")
def session(server: str):
    """The module's one session: a Spark Connect client of the server (a classic session an earlier module left running
    is stopped first: pyspark refuses a remote session beside one)."""
    from pyspark.sql import SparkSession

    classic = SparkSession.getActiveSession()
    if classic is not None:
        classic.stop()
    environment = dict(os.environ)  # pyspark marks the process as a Connect client in its environment
    connected = spark_session(remote=server)
    yield connected
    connected.stop()
    os.environ.clear()
    os.environ.update(environment)


@pytest.fixture(scope="module")
def built(session, spark_slice: Path, tmp_path_factory: pytest.TempPathFactory):
    with Store(spark_slice.parent / "spark.duckdb", read_only=True) as catalogue:
        return build_on_spark(session, [str(spark_slice)], catalogue, str(tmp_path_factory.mktemp("connect") / "out"))


@pytest.fixture(scope="module")
def duckdb_slice(spark_slice: Path) -> Iterator[Store]:
    """The slice as DuckDB ingested and built it: what the build through Spark Connect must equal."""
    with Store(spark_slice.parent / "slice.duckdb", read_only=True) as store:
        yield store


def test_the_session_is_a_spark_connect_client(session):
    assert type(session).__module__.startswith("pyspark.sql.connect")


def test_journeys_through_spark_connect_equal_duckdb(built, duckdb_slice):
    assert built.read == built.loaded and built.quarantined == 0
    ours = built.tables.session.table("journeys").toPandas()
    theirs = duckdb_slice.backend.table("journeys").to_pandas()
    assert len(ours) == len(theirs) == built.journeys > 0
    assert set(ours["service"]) == set(SLICE_SERVICES)
    # Every column but the engines' own integer keys of a case (DuckDB's store numbers them densely).
    columns = [c for c in theirs.columns if c in ours.columns and theirs[c].dtype.kind not in "mM" and c != "case_key"]
    assert {"case_id", "variant", "outcome"} <= set(columns)
    ours, theirs = (frame.sort_values("case_id").reset_index(drop=True) for frame in (ours, theirs))
    pairs = pd.DataFrame({"spark": ours["case_key"], "duck": theirs["case_key"]}).drop_duplicates()
    assert pairs["spark"].is_unique and pairs["duck"].is_unique  # the keys name the same cases one to one
    pd.testing.assert_frame_equal(ours[columns], theirs[columns], check_dtype=False, check_exact=False)
    where = CaseFilter(service=SLICE_SERVICES[0])
    pd.testing.assert_frame_equal(variants(built.tables, where), variants(duckdb_slice, where), check_dtype=False)


def test_stars_through_spark_connect_equal_duckdb(built, duckdb_slice):
    ours = rate_on_spark(built.tables, draws=DRAWS)
    theirs = rate(duckdb_slice, draws=DRAWS)
    assert set(ours["service"]) == set(SLICE_SERVICES) and ours["stars"].notna().any()
    pd.testing.assert_frame_equal(ours.reset_index(drop=True), theirs[ours.columns].reset_index(drop=True),
                                  check_dtype=False, check_exact=False)
