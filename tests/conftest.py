"""Shared fixtures: a private pseudonymisation key per test, the real logs, a fresh store, the built sample."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from najma.journeys import Store
from najma.sample import load_sample

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
def built_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store file holding the sample, its catalogue and its journeys; open it read-only."""
    path = tmp_path_factory.mktemp("built") / "sample.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAJMA_KEY_FILE", str(tmp_path_factory.mktemp("built-key") / "pseudonym.key"))
        with Store(path) as store:
            load_sample(store)
    return path


@pytest.fixture
def sample_journeys(built_sample: Path) -> Store:
    """The built sample store, opened read-only."""
    with Store(built_sample, read_only=True) as opened:
        yield opened


@pytest.fixture(scope="session")
def real() -> Path:
    if not REAL.is_dir():
        pytest.fail(f"the real logs are missing: expected them in {REAL}")
    return REAL


def started(command: Sequence[str], sign: str, log: Path, env: Mapping[str, str]) -> subprocess.Popen:
    """Start `command` and return once it prints a line holding `sign` (its output is copied to `log`).

    The wait is for the process's own sign that it is ready, never for a fixed time, so a busy
    machine only makes it longer; a process that exits before the sign fails the test with its output.
    """
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(env), text=True)
    seen, done = threading.Event(), threading.Event()  # pytest-timeout bounds a process that neither says it nor ends

    def copy() -> None:
        with log.open("w") as sink:
            for line in process.stdout:
                sink.write(line)
                sink.flush()
                if sign in line:
                    seen.set()
                    done.set()
        done.set()  # the output ended: the process is ending

    threading.Thread(target=copy, daemon=True).start()
    done.wait()
    if not seen.is_set():
        process.wait()
        pytest.fail(f"{' '.join(command)} exited with {process.returncode} before saying {sign!r}:\n{log.read_text()}")
    return process
