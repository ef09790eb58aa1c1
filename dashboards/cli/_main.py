"""The root of the ``najma`` command line and its one way of ending on an error.

Every error najma expects (a file it cannot read, a bad option, a bad catalogue) ends with one
line on standard error and exit code 2; an interrupt ends with exit code 130 and the store as it
was before the command (``najma ingest`` keeps the files loaded before the interrupt and says so).
No traceback reaches the user.
"""

from __future__ import annotations

import sys

import typer

from najma.dashboards.cli import _catalogue, _dashboard, _discover, _handover, _journeys, _publish, _rating, _rework, _store, _surveys
from najma.dashboards.cli._options import OUTDATED, is_interrupt

__all__ = ["app", "main", "OPTIONS"]

#: The option of the command line that gives each parameter named by the library's errors.
OPTIONS = {"mapping": "--map", "tz": "--tz", "time_format": "--format", "repeats": "--repeats", "encoding": "--encoding",
           "store": "--store", "token": "--token or --users", "users": "--users; najma dashboard-user NAME prints a line",
           "port": "--port to choose another port", "host": "--host",
           "cutoff": "--cutoff", "min_group": "--min-group", "quarter": "--quarter", "revision": "--revision",
           "window_days": "--window-days", "min_support": "--min-support", "min_episodes": "--min-episodes",
           "within_days": "--within-days", "min_share": "--min-share", "min_customers": "--min-customers",
           "life_event": "--as", "scale": "--scale"}

app = typer.Typer(help="najma: customer journeys and star ratings of government services.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
for theme in (_store, _journeys, _rating, _publish, _dashboard):
    app.add_typer(theme.app)
app.add_typer(_catalogue.app, name="catalogue")
app.add_typer(_discover.app, name="discover")
app.add_typer(_surveys.app, name="surveys")
app.add_typer(_handover.app)
app.add_typer(_rework.app)


def main() -> None:
    """Run the CLI, turning najma's errors into one line and exit code 2."""
    from najma.errors import NajmaError, OutdatedStoreError

    command = typer.main.get_command(app)
    try:
        code = command.main(prog_name="najma", standalone_mode=False)
    except typer.TyperException as exc:  # usage errors and bad parameters, from typer's own click
        context = getattr(exc, "ctx", None)
        hint = f" (see {context.command_path} --help)" if context is not None else ""
        sys.stderr.write(f"najma: error: {exc.format_message()}{hint}\n")
        sys.exit(getattr(exc, "exit_code", 2))
    except OutdatedStoreError as exc:
        sys.stderr.write(f"najma: error: {OUTDATED.format(path=exc.path)}\n")
        sys.exit(2)
    except NajmaError as exc:
        option = OPTIONS.get(exc.parameter or "")
        sys.stderr.write(f"najma: error: {exc}" + (f" (see {option})" if option else "") + "\n")
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort):
        _interrupted()
    except Exception as exc:
        if not is_interrupt(exc):
            raise
        _interrupted()
    if code == 130:  # typer turns KeyboardInterrupt into this exit code
        _interrupted()
    if isinstance(code, int) and code:
        sys.exit(code)


def _interrupted() -> None:
    sys.stderr.write("najma: interrupted; the store is as it was before this command.\n")
    sys.exit(130)
