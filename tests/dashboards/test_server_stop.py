"""`najma dashboard` stops in order on Ctrl-C and on SIGTERM: exit code 0, one line saying so, no traceback;
and :func:`serve`, called from a thread (a notebook's), stops when asked and frees its port.

The server is started for real, in a subprocess, on the built sample; each stop comes right after its
"ready" line, while the caches are being warmed in the background and once the server has taken a
page's request (it answered the request's ``Expect: 100-continue``). Once per signal by default;
:data:`STOPS` times each with ``-m heavy`` (a start takes seconds).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from najma.dashboards._app import create_app, serve
from najma.dashboards._data import DashboardData
from tests.conftest import started

STOPS = 10
WAIT = 60.0  # seconds a test waits for a sign before it fails


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _open_a_page(port: int, taken: threading.Event) -> None:
    """Ask for the service page's layout, as the browser does when the page is opened; set `taken` once the
    server has read the whole request (sent in one piece, it answers ``100 Continue`` as it queues it)."""
    body = json.dumps({"output": ".._pages_content.children..._pages_store.data..",
                       "outputs": [{"id": "_pages_content", "property": "children"},
                                   {"id": "_pages_store", "property": "data"}],
                       "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/service"},
                                  {"id": "_pages_location", "property": "search", "value": "?lang=en"}],
                       "changedPropIds": ["_pages_location.pathname"], "state": []}).encode()
    head = (f"POST /_dash-update-component HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n").encode()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as connection:
            connection.sendall(head + body)
            answer = connection.makefile("rb")
            if answer.readline().startswith(b"HTTP/1.1 100"):
                taken.set()
            answer.read()  # the answer, or nothing when the stop closed the connection
    except OSError:  # the stop may close the connection before it answers
        pass


def stops(built_sample: Path, folder: Path, stop: signal.Signals, times: int) -> list[tuple[int, bool, bool]]:
    """Start the server `times` times and stop it with `stop` right after it is ready; return each exit code,
    whether it printed a traceback and whether Python reported a fatal error."""
    env = {**os.environ, "NAJMA_KEY_FILE": str(folder / "k.key")}
    outcomes = []
    for number in range(times):
        port = _free_port()
        server = started([sys.executable, "-m", "najma", "dashboard", "--store", str(built_sample), "--port", str(port),
                          "--draws", "0"], "najma dashboard on", folder / f"server-{number}.log", env)
        taken = threading.Event()
        client = threading.Thread(target=_open_a_page, args=(port, taken), daemon=True)
        client.start()
        assert taken.wait(WAIT)
        server.send_signal(stop)
        server.wait_for("najma dashboard stopped")
        code = server.wait(timeout=WAIT)
        client.join(WAIT)
        said = "".join(server.lines)
        assert said.strip().splitlines()[-1] == "najma dashboard stopped", said
        outcomes.append((code, "Traceback" in said, "Fatal Python error" in said))
    return outcomes


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_server_stops_in_order(built_sample: Path, tmp_path: Path, stop: signal.Signals):
    assert stops(built_sample, tmp_path, stop, 1) == [(0, False, False)]


@pytest.mark.heavy
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_server_stops_in_order_every_time(built_sample: Path, tmp_path: Path, stop: signal.Signals):
    assert stops(built_sample, tmp_path, stop, STOPS) == [(0, False, False)] * STOPS


def _free(port: int) -> bool:
    """Whether a server could listen on `port` again (as waitress does, with SO_REUSEADDR)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            probe.listen()
        except OSError:
            return False
    return True


def test_serve_from_a_thread_stops_when_asked_and_frees_its_port(data: DashboardData):
    app = create_app(data)  # an app of its own: serve closes its jobs, and the session's data stays open
    port, stop, ready, results = _free_port(), threading.Event(), threading.Event(), []
    server = threading.Thread(target=lambda: results.append(serve(app, port=port, stop=stop,
                                                                  ready=lambda _url: ready.set())))
    server.start()
    assert ready.wait(WAIT)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/?lang=en", timeout=WAIT) as page:
        assert page.status == 200
    assert not _free(port)
    stop.set()
    server.join(WAIT)
    assert not server.is_alive() and results == [True]
    assert _free(port)


def test_serve_frees_its_port_when_it_fails_before_serving(data: DashboardData):
    port = _free_port()

    def broken(_url: str) -> None:
        raise RuntimeError("the caller's ready hook failed")

    with pytest.raises(RuntimeError, match="ready hook"):
        serve(create_app(data), port=port, ready=broken)
    assert _free(port)
