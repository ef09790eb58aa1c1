"""Spark for the tests: the local session starts without its web UI (a Jetty server no test looks at)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

#: Settings read when the local Spark starts, for settings najma's session leaves to Spark (see najma.spark).
SUBMIT_ARGS = "--conf spark.ui.enabled=false pyspark-shell"


@pytest.fixture(scope="session", autouse=True)
def _spark_without_ui() -> Iterator[None]:
    """Start the tests' Spark without its UI, unless the one who runs them says how to start it."""
    with pytest.MonkeyPatch.context() as patch:
        if "PYSPARK_SUBMIT_ARGS" not in os.environ:
            patch.setenv("PYSPARK_SUBMIT_ARGS", SUBMIT_ARGS)
        yield
