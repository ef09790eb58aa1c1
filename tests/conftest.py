"""Shared fixtures: a private pseudonymisation key per test, the real logs, a fresh store."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeys import Store

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


@pytest.fixture(autouse=True)
def _private_key(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's key file: each test gets its own key file."""
    monkeypatch.delenv("NAJMA_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("NAJMA_STORE", raising=False)
    monkeypatch.setenv("NAJMA_KEY_FILE", str(tmp_path_factory.mktemp("key") / "pseudonym.key"))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "test.duckdb") as opened:
        yield opened


@pytest.fixture(scope="session")
def real() -> Path:
    if not REAL.is_dir():
        pytest.fail(f"the real logs are missing: expected them in {REAL}")
    return REAL
