"""The doctests' sample: the examples of najma.rating that rate the sample open a copy of one store file that holds
it, loaded once per test session, instead of loading it into a new store each (3 to 4 s each).

An example says ``store = Store(sample_path)``; each gets a fresh copy, which it may change (publish, record ratings).
The copies are loaded with the key the examples were written with, since the bootstrap's draws follow the pseudonyms.

The Spark tests run first: pytest-xdist hands test files to its workers in the order they are collected, and the
longest files started last would leave one worker running them alone at the end.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _pytest.doctest import DoctestItem

#: The key the sample of the examples is pseudonymised with: their star probabilities were drawn on it.
EXAMPLE_KEY = "example-key"


@pytest.fixture(scope="session")
def _example_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store file holding the sample, loaded with the examples' key."""
    from najma.journeys import Store
    from najma.sample import load_sample

    path = tmp_path_factory.mktemp("example-sample") / "sample.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAJMA_PSEUDONYM_KEY", EXAMPLE_KEY)
        with Store(path) as store:
            load_sample(store)
    return path


@pytest.fixture(autouse=True)
def _sample_path(request: pytest.FixtureRequest, doctest_namespace: dict[str, object]) -> None:
    """Give an example that names ``sample_path`` a fresh copy of the example sample's store file."""
    item = request.node
    if not isinstance(item, DoctestItem) or not any("sample_path" in e.source for e in item.dtest.examples):
        return
    copy = request.getfixturevalue("tmp_path") / "sample.duckdb"
    shutil.copyfile(request.getfixturevalue("_example_sample"), copy)
    doctest_namespace["sample_path"] = copy


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the Spark tests (the longest files) first; the order is otherwise kept."""
    items.sort(key=lambda item: "tests/spark/" not in item.nodeid)
