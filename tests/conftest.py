"""Shared fixtures: a private pseudonymisation key per test, the real logs, a fresh store, the built sample and
the dashboard's data of it."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from najma.journeys import Store
from najma.sample import load_sample

if TYPE_CHECKING:  # the dashboard is imported by the tests that ask for its data, not by every test run
    from najma.dashboards._data import DashboardData

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
    """A store file holding the sample, its catalogue and its journeys; open it read-only.

    Its pseudonymisation key is the file ``sample.key`` beside it (for tests that load more into a copy).
    """
    path = tmp_path_factory.mktemp("built") / "sample.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAJMA_KEY_FILE", str(path.with_suffix(".key")))
        with Store(path) as store:
            load_sample(store)
    return path


@pytest.fixture
def sample_journeys(built_sample: Path) -> Store:
    """The built sample store, opened read-only."""
    with Store(built_sample, read_only=True) as opened:
        yield opened


@pytest.fixture(scope="session")
def data(built_sample: Path) -> Iterator[DashboardData]:
    """The dashboard's data of the built sample, without bootstrap draws (a test file may ask for its own)."""
    from najma.dashboards._data import DashboardData

    loaded = DashboardData(built_sample, draws=0)
    yield loaded
    loaded.close()


@pytest.fixture(scope="session")
def real() -> Path:
    if not REAL.is_dir():
        pytest.fail(f"the real logs are missing: expected them in {REAL}")
    return REAL


class Started(subprocess.Popen):
    """A process started by :func:`started`, whose output a test can wait on."""

    def wait_for(self, sign: str) -> str:
        """Return the first line of the output holding `sign`, waiting for it; fail if the output ends first."""
        with self.said:
            while True:
                found = next((line for line in self.lines if sign in line), None)
                if found is not None:
                    return found
                if self.ended:
                    pytest.fail(f"{' '.join(self.args)} ended its output without saying {sign!r}:\n{''.join(self.lines)}")
                self.said.wait()


def started(command: Sequence[str], sign: str, log: Path, env: Mapping[str, str]) -> Started:
    """Start `command` and return once it prints a line holding `sign` (its output is copied to `log`).

    The wait is for the process's own sign that it is ready, never for a fixed time, so a busy
    machine only makes it longer; a process that exits before the sign fails the test with its output.
    Later signs are waited for with :meth:`Started.wait_for`.
    """
    process = Started(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(env), text=True)
    process.lines, process.ended, process.said = [], False, threading.Condition()

    def copy() -> None:
        with log.open("w") as sink:
            for line in process.stdout:
                sink.write(line)
                sink.flush()
                with process.said:
                    process.lines.append(line)
                    process.said.notify_all()
        with process.said:  # the output ended: the process is ending
            process.ended = True
            process.said.notify_all()

    threading.Thread(target=copy, daemon=True).start()
    with process.said:
        while not process.ended and not any(sign in line for line in process.lines):
            process.said.wait()  # pytest-timeout bounds a process that neither says it nor ends
        if not any(sign in line for line in process.lines):
            process.wait()
            pytest.fail(f"{' '.join(command)} exited with {process.returncode} before saying {sign!r}:\n{log.read_text()}")
    return process
