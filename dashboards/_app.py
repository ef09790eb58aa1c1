"""The analysts' Dash app: an app factory, the pages of :mod:`najma.dashboards.pages`, and a server to run it.

Nothing is read at import time: :func:`create_app` takes the :class:`~najma.dashboards.DashboardData`
of a store and registers the pages and their callbacks on a new app. The language is part of each
page's address (``?lang=ar``); Arabic pages read right to left.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
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

__all__ = ["create_app", "serve"]

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
    app.server.config["NAJMA_JOBS"] = Jobs()
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


def serve(app: dash.Dash, *, host: str = "127.0.0.1", port: int = 8050, threads: int = 8,
          ready: Callable[[str], None] | None = None) -> None:
    """Serve the app with waitress until interrupted.

    Parameters
    ----------
    app : dash.Dash
        From :func:`create_app`.
    host, port : str, int
        Where to listen.
    threads : int, default 8
        Waitress's worker threads.
    ready : callable, optional
        Called with the app's address once the server listens, before it serves the first request.

    Raises
    ------
    AccessError
        When asked to bind to an address other than loopback without credentials.
    """
    check_exposure(host, bool(app.server.config.get("NAJMA_PROTECTED")))
    from waitress import create_server

    logging.basicConfig()  # waitress's warnings (a full task queue, say) reach the terminal, as waitress.serve has them
    try:
        server = create_server(app.server, host=host, port=port, threads=threads, ident="najma")
    except OSError as exc:
        raise AccessError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                          parameter="port" if exc.errno == errno.EADDRINUSE else "host") from None
    if ready is not None:
        ready(f"http://{host}:{port}/")
    try:
        server.run()
    finally:
        server.close()
