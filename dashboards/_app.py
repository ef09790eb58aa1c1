"""The analysts' Dash app: an app factory, the pages of :mod:`najma.dashboards.pages`, and a server to run it.

Nothing is read at import time: :func:`create_app` takes the :class:`~najma.dashboards.DashboardData`
of a store and registers the pages and their callbacks on a new app. The language is part of each
page's address (``?lang=ar``); Arabic pages read right to left.
"""

from __future__ import annotations

import errno
import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode

import dash
import dash_mantine_components as dmc
from dash import Input, Output, dcc, html

from najma.dashboards._access import Access, check_exposure, protect
from najma.dashboards._data import DashboardData
from najma.dashboards._i18n import direction, text
from najma.dashboards._jobs import Jobs
from najma.dashboards.pages import PAGES
from najma.dashboards.pages.common import language
from najma.errors import AccessError

__all__ = ["create_app", "listen_error", "serve", "warm_up", "start_warm_up", "THREADS", "JOB_WORKERS"]

#: Waitress's threads serving clicks: clicks are short (long work runs as jobs) and mostly wait on DuckDB or
#: on the network, so a few per core keep both cores busy without queueing clicks behind one another.
THREADS = 6
#: Threads of the background jobs (projections, conformance): one per core, so that long work can never take more
#: than the machine's cores from the clicks. The warm-up of the caches runs on a thread of its own (:func:`start_warm_up`).
JOB_WORKERS = 2
#: Seconds an orderly stop waits for the clicks being served, then for the jobs running, to finish.
STOP_WAIT = 10.0
#: Seconds the warm-up gives way, before each of its questions, to clicks and jobs in flight.
GIVE_WAY = 1.0

_log = logging.getLogger("najma.dashboards")
_LINK = {"margin": "0 0.8rem", "color": "white", "textDecoration": "none", "fontWeight": 600}
_FONT = "Noto Sans, Noto Sans Arabic, DejaVu Sans, Arial, sans-serif"


def create_app(data: DashboardData, *, access: Access | None = None) -> dash.Dash:
    """Make the dashboard app over `data`.

    Parameters
    ----------
    data : DashboardData
        What the pages show.
    access : Access, optional
        Credentials every request must bring; none by default (loopback only, see :func:`serve`).

    Returns
    -------
    dash.Dash
        The app; ``app.server`` is its Flask server.
    """
    app = dash.Dash(__name__, use_pages=True, pages_folder="", title=text("app_title", "en"),
                    suppress_callback_exceptions=True, update_title=None)
    app.server.config["NAJMA_DATA"] = data
    app.server.config["NAJMA_JOBS"] = Jobs(workers=JOB_WORKERS)
    app.server.config["NAJMA_PROTECTED"] = access is not None and access.required
    if app.server.config["NAJMA_PROTECTED"]:
        protect(app.server, access)
    for page in PAGES:
        dash.register_page(page.__name__, path=page.PATH, name=page.TITLE, title=text("app_title", "en"),
                           layout=page.layout)
        for callback in page.CALLBACKS:
            app.callback(*callback.dependencies)(callback.function)
    app.layout = _shell()
    app.callback(
        [Output(f"nav-{page.KEY}", "href") for page in PAGES]
        + [Output(f"nav-{page.KEY}", "children") for page in PAGES]
        + [Output("language-link", "href"), Output("language-link", "children"), Output("direction", "direction"),
           Output("shell", "dir"), Output("app-title", "children")],
        Input("_pages_location", "pathname"), Input("_pages_location", "search"),
    )(navigation)
    return app


def _shell() -> dmc.MantineProvider:
    header = html.Header([
        html.Strong(text("app_title", "en"), id="app-title", style={"fontSize": "1.1rem"}),
        html.Nav([dcc.Link(text(f"page_{page.KEY}", "en"), id=f"nav-{page.KEY}", href=page.PATH, style=_LINK)
                  for page in PAGES], style={"flex": 1, "textAlign": "center"}),
        dcc.Link(text("other_language", "en"), id="language-link", href="/?lang=ar", style=_LINK),
    ], style={"display": "flex", "alignItems": "center", "padding": "0.6rem 1rem", "background": "#1f4e79",
              "color": "white"}, className="najma-header")
    return dmc.MantineProvider(dmc.DirectionProvider(
        html.Div([header, html.Main(dash.page_container, style={"padding": "1rem 1.5rem"})], id="shell", dir="ltr",
                 style={"fontFamily": _FONT}),
        id="direction", direction="ltr",
    ))


def navigation(pathname: str | None, search: str | None) -> list[str]:
    """The header in the page's language: links that keep it, the link to the other language, the direction.

    Examples
    --------
    >>> out = navigation("/service", "?service=passport&lang=ar")
    >>> out[-5:-2]
    ['/service?service=passport&lang=en', 'English', 'rtl']
    """
    lang = language(search)
    query = {key: values[0] for key, values in parse_qs((search or "").lstrip("?")).items()}
    other = "en" if lang == "ar" else "ar"
    hrefs = [f"{page.PATH}?lang={lang}" for page in PAGES]
    labels = [text(f"page_{page.KEY}", lang) for page in PAGES]
    switch = f"{pathname or '/'}?{urlencode({**query, 'lang': other})}"
    return [*hrefs, *labels, switch, text("other_language", lang), direction(lang), direction(lang),
            text("app_title", lang)]


def warm_up(data: DashboardData, stop: threading.Event, busy: Callable[[], bool] = lambda: False) -> int:
    """Ask `data` the questions that are slow the first time, so that the first analyst to open a page does not wait.

    The questions (cards, variant tables, whole maps, KPIs, case lists, the activities, life events) are
    asked for every service in the latest quarter and in all quarters, with the arguments the pages
    give (no variant chosen, no filter), as the caches are keyed by them. Before each question it
    gives way, for up to :data:`GIVE_WAY` seconds, while `busy` says clicks or jobs are in flight.

    Parameters
    ----------
    data : DashboardData
        Whose caches are warmed.
    stop : threading.Event
        Set to stop before the next question.
    busy : callable, optional
        Says whether the server has clicks or jobs in flight; never by default.

    Returns
    -------
    int
        The questions asked.
    """
    steps = _warm_up_steps(data)
    for asked, (question, args) in enumerate(steps):
        deadline = time.monotonic() + GIVE_WAY
        while busy() and time.monotonic() < deadline and not stop.wait(0.05):
            pass  # clicks and jobs first
        if stop.is_set():
            return asked
        question(*args)
    return len(steps)


def _warm_up_steps(data: DashboardData) -> list[tuple[Callable[..., object], tuple[object, ...]]]:
    """The questions :func:`warm_up` asks, with their arguments."""
    latest = data.quarters[0] if data.quarters else None
    steps: list[tuple[Callable[..., object], tuple[object, ...]]] = [
        (data.cards, (latest, channel)) for channel in (None, *data.channels)] if latest else []
    for service in data.services:
        steps.append((data.activities, (service,)))
        for quarter in dict.fromkeys((latest, None)):
            steps += [(question, (service, quarter, *more)) for question, more in (
                (data.variant_table, (None,)), (data.journey_map, ((), 1.0, None)), (data.selection_kpis, ((), None)),
                (data.case_list, ((), None)))]
    for life_event in data.life_events:
        steps += [(question, (life_event,)) for question in (data.life_event_summary, data.life_event_flows,
                                                              data.ask_once)]
    return steps


def start_warm_up(app: dash.Dash, done: Callable[[int, float], None] | None = None) -> threading.Thread:
    """Warm the caches of the data `app` shows now on a thread of its own, after stopping the previous warm-up.

    The thread is not one of the jobs' (projections and conformance keep both job threads) and gives
    way to clicks and jobs in flight (see :func:`warm_up`). Its stop event is kept in
    ``app.server.config["NAJMA_WARM_UP"]`` with the thread, so that the next warm-up (the store was
    refreshed) and the server's stop end it.

    Parameters
    ----------
    app : dash.Dash
        From :func:`create_app`; its ``NAJMA_BUSY`` config (set by :func:`serve`) says when the server is busy.
    done : callable, optional
        Called on the warm-up's thread with the questions asked and the seconds taken, once it ends unstopped.

    Returns
    -------
    threading.Thread
        The warm-up's thread (a daemon), already started.
    """
    config = app.server.config
    previous = config.get("NAJMA_WARM_UP")
    if previous is not None:
        previous[1].set()
    stop = threading.Event()
    data, busy = config["NAJMA_DATA"], config.get("NAJMA_BUSY", lambda: False)

    def run() -> None:
        began = time.monotonic()
        try:
            asked = warm_up(data, stop, busy)
        except Exception:  # noqa: BLE001 - the caches stay cold; the pages ask again and say what fails
            _log.exception("warming the caches failed")
            return
        if done is not None and not stop.is_set():  # a warm-up stopped early warmed nothing to speak of
            done(asked, time.monotonic() - began)

    thread = threading.Thread(target=run, name="najma-warm-up", daemon=True)
    config["NAJMA_WARM_UP"] = (thread, stop)
    thread.start()
    return thread


def listen_error(host: str, port: int, exc: OSError) -> AccessError:
    """The error of an address that cannot be listened on: the port when it is taken, else the host."""
    return AccessError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                       parameter="port" if exc.errno == errno.EADDRINUSE else "host")


def serve(app: dash.Dash, *, host: str = "127.0.0.1", port: int = 8050, threads: int = THREADS,
          ready: Callable[[str], None] | None = None, stop: threading.Event | None = None,
          warmed: Callable[[int, float], None] | None = None) -> bool:
    """Serve the app with waitress until `stop` is set, or interrupted (Ctrl-C, SIGTERM), then stop in order.

    Once it listens, the caches of the data are warmed in the background (:func:`start_warm_up`).
    Stopping in order: no new connection is accepted, the clicks being served finish (waited for up to
    :data:`STOP_WAIT` seconds), then the warm-up and queued jobs are stopped and running jobs finish (up
    to :data:`STOP_WAIT` seconds more): a stop takes at most about ``2 * STOP_WAIT`` seconds, plus up to a
    second for the server to see `stop`. It may be called from any thread (a notebook's, say): only the
    main thread's call handles SIGINT and SIGTERM; elsewhere, set `stop` to end it. The listening socket
    is closed whatever happens.

    Parameters
    ----------
    app : dash.Dash
        From :func:`create_app`.
    host, port : str, int
        Where to listen.
    threads : int, default THREADS
        Waitress's worker threads; waitress logs a warning ("Task queue depth is N") when clicks wait for one.
    ready : callable, optional
        Called with the app's address once the server listens, before it serves the first request.
    stop : threading.Event, optional
        Set (from any thread) to stop the server in order.
    warmed : callable, optional
        Called with the questions asked and the seconds taken once the first warm-up ends.

    Returns
    -------
    bool
        Whether everything stopped in time; when not, threads may still use the data, which must not be closed.

    Raises
    ------
    AccessError
        When asked to bind to an address other than loopback without credentials, or when it cannot listen.
    """
    check_exposure(host, bool(app.server.config.get("NAJMA_PROTECTED")))
    from waitress import create_server

    logging.basicConfig()  # waitress's warnings (a full task queue, say) reach the terminal, as waitress.serve has them
    # Dash finishes setting itself up on its first request, unguarded: two first requests at once (two browsers on a
    # fresh server) raced there ("dictionary changed size during iteration"). It is done here, once, before serving.
    with app.server.test_request_context("/"):
        app._setup_server()
    try:
        server = create_server(app.server, host=host, port=port, threads=threads, ident="najma")
    except OSError as exc:
        raise listen_error(host, port, exc) from None
    stop = stop or threading.Event()
    jobs: Jobs = app.server.config["NAJMA_JOBS"]
    app.server.config["NAJMA_BUSY"] = lambda: server.task_dispatcher.active_count > 0 or jobs.busy()
    previous = _on_signals(stop)
    try:
        start_warm_up(app, warmed)
        if ready is not None:
            ready(f"http://{host}:{port}/")
        _run(server, stop)
    except KeyboardInterrupt:  # a Ctrl-C that came before the handlers, or in a notebook's main thread
        pass
    finally:
        for number in previous:  # a second signal does not break the orderly stop
            signal.signal(number, signal.SIG_IGN)
        try:
            clean = _stop(server, app)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
    return clean


def _on_signals(stop: threading.Event) -> dict[int, Any]:
    """In the main thread, make SIGINT and SIGTERM set `stop`; return the handlers they had (none elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {number: signal.signal(number, lambda _signum, _frame: stop.set()) for number in (signal.SIGINT, signal.SIGTERM)}


def _run(server: Any, stop: threading.Event) -> None:
    """Serve until `stop` is set: waitress's loop (``server.run``), a poll at a time, seeing `stop` within a second."""
    timeout = min(1.0, server.adj.asyncore_loop_timeout)
    while not stop.is_set() and server._map:  # noqa: SLF001 - the sockets waitress's own run() loops over
        server.asyncore.loop(timeout=timeout, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1)  # noqa: SLF001


def _stop(server: Any, app: dash.Dash) -> bool:
    """Stop accepting, let the clicks being served finish, stop the warm-up, close the jobs; say whether all ended."""
    from waitress import wasyncore

    # The listening socket only, so nothing new comes in; the server's own close() would also close the trigger
    # that the clicks still running pull when they finish (EBADF in their thread).
    wasyncore.dispatcher.close(server)
    dispatcher = server.task_dispatcher
    dispatcher.shutdown(cancel_pending=True, timeout=STOP_WAIT)
    served = not dispatcher.threads
    if not served:
        _log.warning("%d click(s) still running after %.0f s", len(dispatcher.threads), STOP_WAIT)
    if served:
        wasyncore.close_all(server._map)  # noqa: SLF001 - the connections browsers keep open, and the trigger
    deadline = time.monotonic() + STOP_WAIT
    warm_up_thread, warm_up_stop = app.server.config.get("NAJMA_WARM_UP") or (None, threading.Event())
    warm_up_stop.set()
    closed = app.server.config["NAJMA_JOBS"].close(timeout=STOP_WAIT)
    if warm_up_thread is not None:
        warm_up_thread.join(max(0.0, deadline - time.monotonic()))
    warmed = warm_up_thread is None or not warm_up_thread.is_alive()
    if not (closed and warmed):
        _log.warning("background work still running after %.0f s", STOP_WAIT)
    return served and closed and warmed
