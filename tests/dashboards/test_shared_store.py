"""A store shared by the dashboard and the programme's commands: the dashboard never locks the others out."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import typer

from najma.dashboards._followed_store import FollowedStore
from najma.dashboards.cli._dashboard import refresh_seconds, run_dashboard
from najma.errors import AccessError
from tests.conftest import started
from tests.dashboards.conftest import _free_port

pytestmark = pytest.mark.timeout(300)


def _najma(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "najma", *args], capture_output=True, text=True, env=os.environ.copy())


@pytest.fixture
def sample_copy(built_sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the built sample, loaded with the key in $NAJMA_KEY_FILE (so more can be loaded into it)."""
    path = tmp_path / "shared.duckdb"
    shutil.copyfile(built_sample, path)
    monkeypatch.setenv("NAJMA_KEY_FILE", str(built_sample.with_suffix(".key")))
    return path


def test_a_taken_port_is_named_in_one_line(sample_copy: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = _najma("start", "--store", str(sample_copy), "--port", str(port))
    assert refused.returncode == 2
    last = refused.stderr.strip().splitlines()[-1]
    assert last.startswith(f"najma: error: cannot listen on 127.0.0.1:{port}") and last.endswith("(see --port to choose another port)")
    assert "Traceback" not in refused.stderr


def test_a_taken_port_is_refused_before_the_store_is_read(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(AccessError, match=f"^cannot listen on 127.0.0.1:{port}: ") as refused:
            run_dashboard(tmp_path / "none.duckdb", port=port)  # no store there: it would be named if it were read first
    assert refused.value.parameter == "port"


@pytest.mark.parametrize("seconds", ["0", "-1", "soon", "inf", "nan"])
def test_a_refresh_that_is_not_a_number_of_seconds_is_refused(seconds: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NAJMA_REFRESH_SECONDS", seconds)
    with pytest.raises(typer.BadParameter, match=f"^NAJMA_REFRESH_SECONDS must be a number of seconds above 0; got '{seconds}'$"):
        refresh_seconds()


def test_the_refresh_is_5_seconds_unless_set(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("NAJMA_REFRESH_SECONDS", raising=False)
    assert refresh_seconds() == 5.0
    monkeypatch.setenv("NAJMA_REFRESH_SECONDS", " 0.5 ")
    assert refresh_seconds() == 0.5


def test_commands_write_while_the_dashboard_runs_and_it_shows_their_work(sample_copy: Path, tmp_path: Path,
                                                                          page: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAJMA_REFRESH_SECONDS", "0.5")  # it looks at the store every half second, not every 5
    port = _free_port()
    dashboard = started([sys.executable, "-m", "najma", "start", "--store", str(sample_copy), "--port", str(port)],
                        "najma dashboard on", tmp_path / "dashboard.log", os.environ)
    try:
        extra = tmp_path / "extra-permits.csv"
        pd.DataFrame({"case_id": ["x1", "x1"], "activity": ["Apply", "Approve"],
                      "timestamp": ["2025-11-02 09:00", "2025-11-03 10:00"]}).to_csv(extra, index=False)
        loaded = _najma("ingest", str(extra), "--store", str(sample_copy), "--service", "extra permits")
        assert loaded.returncode == 0, loaded.stderr
        dashboard.wait_for(f"the dashboard now shows {sample_copy}")
        page.goto(f"http://127.0.0.1:{port}/data")
        page.wait_for_selector("#dq-batches .ag-center-cols-container .ag-row >> text=extra-permits.csv")
    finally:
        page.goto("about:blank")  # the page's callbacks still on their way end here, not on a stopped server
        dashboard.terminate()
        dashboard.wait(timeout=60)
    assert "Traceback" not in "".join(dashboard.lines)
    assert not list(Path(tempfile.gettempdir()).glob(f"najma-dashboard-{dashboard.pid}-*")), "its copies are left behind"


def test_a_copy_that_cannot_be_made_keeps_the_dashboard_on_the_last_one(sample_copy: Path):
    said: list[str] = []
    made: list[Path] = []

    def make(copy: Path) -> Path:
        if made:
            raise OSError(28, "No space left on device")
        made.append(copy)
        return copy

    followed = FollowedStore(sample_copy, make, say=said.append)
    try:
        first = followed.current
        assert not followed.refresh() and not followed.refresh()
        assert followed.current == first and first.exists()
        assert said == ["the dashboard keeps showing the store as it was: OSError: [Errno 28] No space left on device"]
        assert [p.name for p in first.parent.iterdir()] == [first.name]  # the failed copy is removed
    finally:
        followed.close()
    assert not first.parent.exists()
