"""The store owns its connection and every table; it reads its version and brings an older store up to date."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from najma.errors import OutdatedStoreError, StoreError
from najma.journeys import Store, build_journeys, load_catalogue, quarter_zone, register_catalogue
from najma.journeys._store_schema import HISTORY_COLUMNS, SCHEMA_VERSION, TABLES
from najma.rating import PILLARS
from najma.sample import SAMPLE_CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [path for folder in ("journeys", "rating", "dashboards", "najma", "data/sample")
           for path in sorted((ROOT / folder).rglob("*.py"))]
OWNERS = {ROOT / "journeys" / "_store.py", ROOT / "journeys" / "_store_schema.py"}
FRAME = pd.DataFrame({"case_id": ["1", "1", "2"], "activity": ["Apply", "Pay", "Apply"],
                      "timestamp": ["2025-01-05 09:00", "2025-01-05 10:00", "2025-01-06 10:00"]})


@pytest.mark.parametrize("pattern", [r"\.con\b", r"CREATE\s+(OR\s+REPLACE\s+)?(TEMP\w*\s+)?(TABLE|VIEW)"])
def test_only_the_store_uses_its_connection_and_makes_tables(pattern: str):
    assert SOURCES
    users = [f"{path.relative_to(ROOT)}:{number}" for path in SOURCES if path not in OWNERS
             for number, line in enumerate(path.read_text().splitlines(), 1) if re.search(pattern, line, re.IGNORECASE)]
    assert users == []


def test_a_new_store_holds_every_table_of_its_version(tmp_path: Path):
    with Store(tmp_path / "s.duckdb") as store:
        assert store.schema_version == SCHEMA_VERSION == "6"
        assert all(store.has_table(name) for name in TABLES)
    with Store(tmp_path / "s.duckdb", read_only=True) as again:
        assert again.schema_version == SCHEMA_VERSION


def test_the_rating_history_has_a_column_per_pillar():
    assert set(PILLARS) <= set(HISTORY_COLUMNS)


def _set_version(path: Path, version: str) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [version])


def _as_version_1(path: Path) -> None:
    """Make the store at `path` look as an earlier najma left it: version 1 had no rating history until
    ratings were recorded, noted no version of its journeys, and an early one built steps without a case key."""
    _set_version(path, "1")
    with duckdb.connect(str(path)) as con:
        con.execute("DELETE FROM meta WHERE key = 'journeys_version'")
        con.execute("DROP TABLE rating_history")
        con.execute("ALTER TABLE steps DROP COLUMN case_key")
        # It made the catalogue's tables from frames: a calendar-less catalogue left columns of type NULL.
        con.execute("DROP TABLE work_calendar")
        con.execute("CREATE TABLE work_calendar AS SELECT NULL AS time_zone, NULL AS work_days, NULL AS opens, "
                    "NULL AS closes, NULL AS holidays WHERE false")


@pytest.fixture
def version_1(tmp_path: Path) -> Path:
    path = tmp_path / "old.duckdb"
    with Store(path) as store:
        store.ingest_frame(FRAME, service="s")  # its journeys are built with it
    _as_version_1(path)
    return path


def test_a_version_1_store_is_refused_read_only_in_library_words(version_1: Path):
    with pytest.raises(OutdatedStoreError, match=r"version 1.*najma\.Store\(path\).*najma\.build_journeys\(store\)") as refused:
        Store(version_1, read_only=True)
    assert "--" not in str(refused.value)


def test_a_version_1_store_is_brought_up_to_date_and_its_journeys_rebuilt(version_1: Path):
    with Store(version_1) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert all(store.has_table(name) for name in TABLES)
        assert store.journeys_stale() == "its journeys were built by an earlier najma"
        store.ingest_frame(FRAME.assign(case_id="3"), service="s")  # the journeys were stale: all are rebuilt
        assert store.n_rows("journeys") == 3
        assert "case_key" in store.backend.table("steps").columns and store.journeys_stale() is None
        register_catalogue(store, load_catalogue(SAMPLE_CATALOGUE))  # it has a calendar: the retyped table takes it
        assert quarter_zone(store) == "Asia/Dubai"
        assert store.journeys_stale() == "events or the catalogue changed after its journeys were built"
        build_journeys(store)
    with Store(version_1, read_only=True) as reopened:
        assert reopened.n_rows("journeys") == 3 and reopened.journeys_stale() is None


@pytest.mark.parametrize(("version", "says"), [("7", "newer najma"), ("0", "cannot bring up to date")])
def test_a_store_of_a_version_it_cannot_migrate_is_refused(version_1: Path, version: str, says: str):
    _set_version(version_1, version)
    for read_only in (False, True):
        with pytest.raises(StoreError, match=says):
            Store(version_1, read_only=read_only)
