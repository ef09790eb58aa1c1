"""CLI of the dashboard: ``najma dashboard`` serves it, ``najma dashboard-user`` makes a user's password line."""

from __future__ import annotations

import logging
import math
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from najma.dashboards.cli._options import MinGroupOption, StoreOption, err, min_group_of, open_built_store, store_path

__all__ = ["app", "check_port", "refresh_seconds", "run_dashboard"]

app = typer.Typer()
#: The exit code of a stop that abandoned work still running after the wait (0 is a clean stop).
ABANDONED = 3


def run_dashboard(store: Path | None, *, host: str = "127.0.0.1", port: int = 8050, token: str | None = None,
                  users: Path | None = None, min_group: int | None = None, draws: int = 200,
                  config: Path | None = None) -> None:
    """Rate a copy of the store, then serve the dashboard on `host`:`port` until interrupted (Ctrl-C or SIGTERM
    stop it in order, see :func:`~najma.dashboards._app.serve`). Groups of
    fewer than `min_group` customers (the small-group rule's default when None) are not shown.

    The dashboard reads its own copy of the store and picks up the store's changes (see
    :mod:`najma.dashboards._followed_store`), looking every :func:`refresh_seconds`, so commands can write to the
    store while it runs. A stop that leaves a click or a job running after the wait exits with code :data:`ABANDONED`.
    A port that is taken is refused before the store is read.
    """
    from najma.dashboards._access import Access, check_exposure, load_users
    from najma.dashboards._app import STOP_WAIT, create_app, serve, start_warm_up
    from najma.dashboards._data import DashboardData
    from najma.dashboards._followed_store import FollowedStore
    from najma.rating import load_config

    access = Access(token=token, users=load_users(users) if users is not None else {})
    check_exposure(host, access.required)
    every = refresh_seconds()
    check_port(host, port)
    open_built_store(store).close()  # a clear error for a store without journeys; stale journeys are built
    model = load_config(config) if config else None
    starting = threading.Event()  # set while the first copy is read: its stages show on the status line
    starting.set()
    with err.status("starting the dashboard") as status:
        def stage(name: str) -> None:
            if starting.is_set():
                status.update(f"dashboard: {name}")

        followed = FollowedStore(store_path(store), lambda copy: DashboardData(
            copy, config=model, min_group=min_group_of(min_group), draws=draws, progress=stage), every=every,
            say=err.print)
        starting.clear()

    def warmed(asked: int, seconds: float) -> None:
        err.print(f"najma dashboard caches warmed: {asked} questions in {seconds:.1f} s")

    # SIGTERM during start-up stops as Ctrl-C does (the copies of the store are removed); serve handles both after.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        app = create_app(followed.current, access=access)
        followed.follow(lambda data: (app.server.config.__setitem__("NAJMA_DATA", data), start_warm_up(app, warmed)))
        clean = serve(app, host=host, port=port, warmed=warmed,
                      ready=lambda url: err.print(f"najma dashboard on {url} (Ctrl-C stops it)"))
    except BaseException:
        followed.close()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    if not clean:  # a click or a job still uses the data: closing it under them could crash the process
        followed.abandon()  # its copies still go
        _exit(f"najma dashboard stopped; work still running after {STOP_WAIT:.0f} s was abandoned "
              f"(exit code {ABANDONED})", ABANDONED)
    followed.close()
    _exit("najma dashboard stopped", 0)


def refresh_seconds() -> float:
    """The seconds between two looks at the store for changes: ``$NAJMA_REFRESH_SECONDS``, else
    :data:`najma.dashboards._followed_store.REFRESH_SECONDS`.

    Raises
    ------
    typer.BadParameter
        When the variable is not a number of seconds above 0.
    """
    from najma.dashboards._followed_store import REFRESH_SECONDS  # the store's follower: imported when used

    given = os.environ.get("NAJMA_REFRESH_SECONDS", "").strip()
    if not given:
        return REFRESH_SECONDS
    try:
        seconds = float(given)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise typer.BadParameter(f"NAJMA_REFRESH_SECONDS must be a number of seconds above 0; got {given!r}")
    return seconds


def check_port(host: str, port: int) -> None:
    """Refuse a port another program listens on, before the store is read: serving finds it only after.

    The probe binds as waitress does (reusing a port left in TIME_WAIT), then lets the port go; the error is the one
    :func:`~najma.dashboards._app.serve` gives.
    """
    from najma.dashboards._app import listen_error

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise listen_error(host, port, exc) from None


def _exit(said: str, code: int) -> None:
    """Say `said`, flush, and end the process with `code` at once, everything of the dashboard being closed.

    The interpreter's own teardown is skipped: it ends the daemon threads that remain (waitress's, the
    warm-up's) wherever they stand, and one standing in DuckDB's native code then aborts the process
    (SIGABRT, "FATAL: exception not rethrown"; seen in about one stop in four on a loaded machine).
    """
    err.print(said)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@app.command()
def dashboard(
    store: StoreOption = None,
    host: Annotated[str, typer.Option(help="The address to listen on; off loopback, --token or --users is required.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="The port to listen on.")] = 8050,
    token: Annotated[str | None, typer.Option(envvar="NAJMA_DASHBOARD_TOKEN",
                                              help="A shared secret every request must bring.")] = None,
    users: Annotated[Path | None, typer.Option(help="A TOML file of [users] name = password hash "
                                                    "(see najma dashboard-user).")] = None,
    min_group: MinGroupOption = None,
    draws: Annotated[int, typer.Option(min=0, help="Bootstrap draws per rating for its uncertainty.")] = 200,
    config: Annotated[Path | None, typer.Option(help="A rating model TOML \\[default: najma's shipped model].")] = None,
) -> None:
    """Serve the analysts' dashboard (overview, services, customer journeys, redesign, data).

    It follows the store: commands may write to it while it runs, and it shows their work. It looks every 5 seconds;
    set NAJMA_REFRESH_SECONDS to look more or less often.
    """
    run_dashboard(store, host=host, port=port, token=token, users=users, min_group=min_group, draws=draws,
                  config=config)

@app.command("dashboard-user")
def dashboard_user(
    name: Annotated[str, typer.Argument(help="The user's name.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                                          envvar="NAJMA_NEW_PASSWORD", help="The password (asked for when not given).")],
) -> None:
    """Print the line that gives `name` access, to add under \\[users] in the file given to --users."""
    from najma.dashboards._access import hash_password

    if not name.strip() or any(c in name for c in "\"\n="):
        raise typer.BadParameter(f"a user name without quotes, '=' or line breaks; got {name!r}")
    typer.echo(f'"{name}" = "{hash_password(password)}"')

