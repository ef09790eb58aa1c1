"""The warm-up asks, in the background, the questions a first visit would otherwise wait for.

Each test reads a fresh :class:`DashboardData`, so that its caches start cold and what the warm-up (or
the page) asks shows in their counts (``cache_info()``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from najma.dashboards._app import create_app, start_warm_up, warm_up
from najma.dashboards._data import DashboardData
from najma.dashboards.pages import service

WAIT = 120.0  # seconds a test waits for a sign before it fails
#: The kept answers a first visit of the overview and of a service page asks for.
CACHES = ("cards", "variant_table", "_whole_map", "selection_kpis", "case_list", "activities")


@pytest.fixture
def data(built_sample: Path) -> Iterator[DashboardData]:
    loaded = DashboardData(built_sample, draws=0)
    yield loaded
    loaded.close()


def _misses(data: DashboardData) -> dict[str, int]:
    return {name: getattr(data, name).cache_info().misses for name in CACHES}


def test_a_warmed_service_page_asks_nothing_new(data: DashboardData):
    cold = _misses(data)
    asked = warm_up(data, threading.Event())
    warmed = _misses(data)
    assert asked > 3 * len(data.services)
    assert all(warmed[name] > cold[name] for name in CACHES), (cold, warmed)  # each cache was filled
    assert warmed["cards"] - cold["cards"] == 1 + len(data.channels)
    app = create_app(data)
    with app.server.test_request_context():
        for quarter in (data.quarters[0], service.ALL):  # the page as first opened: no variant, no filter
            service.update_selection(data.services[0], quarter, [], "frequency", 0.9, "cases", "en", None)
    app.server.config["NAJMA_JOBS"].close()
    assert _misses(data) == warmed  # map, variants, KPIs and case list all answered from what was kept
    assert data.variant_table.cache_info().hits > 0


def test_the_warm_up_stops_when_asked(data: DashboardData):
    stop = threading.Event()
    stop.set()
    assert warm_up(data, stop) == 0
    assert all(count == 0 for count in _misses(data).values())


def test_the_warm_up_gives_way_while_the_server_is_busy(data: DashboardData):
    stop, asked_busy = threading.Event(), threading.Event()

    def busy() -> bool:  # a click in flight until the test says otherwise
        asked_busy.set()
        return True

    thread = threading.Thread(target=warm_up, args=(data, stop, busy))
    thread.start()
    assert asked_busy.wait(WAIT)
    stop.set()  # while it gives way: it stops before asking anything
    thread.join(WAIT)
    assert not thread.is_alive() and all(count == 0 for count in _misses(data).values())


def test_the_app_warms_up_on_a_thread_of_its_own_and_a_new_warm_up_stops_the_old(data: DashboardData):
    app = create_app(data)
    jobs = app.server.config["NAJMA_JOBS"]
    finished: list[tuple[int, float]] = []
    ended = threading.Event()
    gate = threading.Event()
    app.server.config["NAJMA_BUSY"] = lambda: not gate.wait(WAIT)  # the first warm-up waits at its first question
    first = start_warm_up(app, lambda asked, seconds: finished.append((asked, seconds)))
    assert first.name == "najma-warm-up" and first.daemon and not jobs.busy()  # not one of the job threads
    _, first_stop = app.server.config["NAJMA_WARM_UP"]
    app.server.config["NAJMA_BUSY"] = lambda: False
    second = start_warm_up(app, lambda asked, seconds: (finished.append((asked, seconds)), ended.set()))
    assert first_stop.is_set()  # the store was refreshed: the old warm-up is told to stop
    gate.set()
    first.join(WAIT)
    assert ended.wait(WAIT)
    second.join(WAIT)
    jobs.close()
    assert len(finished) == 1 and finished[0][0] == warm_up(data, threading.Event())  # only the second one finished
    assert _misses(data)["variant_table"] > 0
