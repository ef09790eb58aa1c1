"""What the commands that run on Spark share: their settings, and a session started without noise on the terminal.

Spark's JVM writes its start-up warnings (log4j's profile, the native Hadoop library, the
hostname, ...) and, later, its executors' warnings to the standard error it inherits. The session
is therefore started with standard error pointing at a log file beside the Spark output folder: the
JVM keeps writing there for its whole life, while najma's own lines reach the terminal as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from najma.dashboards.cli._options import err

__all__ = ["spark_settings", "quiet_spark_session", "log_path"]

#: The ending of the JVM's log, beside the Spark output folder (a lake's folder holds only what Spark wrote).
LOG_ENDING = ".spark.log"


def spark_settings(conf: Sequence[str]) -> list[tuple[str, str]]:
    """The ``--conf KEY=VALUE`` options as (key, value) pairs; a malformed one is refused."""
    from najma.errors import NajmaError

    malformed = [item for item in conf if "=" not in item or not item.split("=", 1)[0].strip()]
    if malformed:
        raise NajmaError(f"--conf takes KEY=VALUE; got {', '.join(malformed)}")
    return [(key.strip(), value) for key, value in (item.split("=", 1) for item in conf)]


def log_path(out: str) -> Path:
    """Where the JVM's output goes: beside the Spark output folder `out` when it is local, else in the current folder."""
    if "://" in out:
        return Path.cwd() / f"najma{LOG_ENDING}"
    folder = Path(out).resolve()
    folder.parent.mkdir(parents=True, exist_ok=True)
    return folder.with_name(folder.name + LOG_ENDING)


def quiet_spark_session(out: str, master: str | None, remote: str | None, settings: Sequence[tuple[str, str]]) -> object:
    """Start (or join) the Spark session with the JVM's output in the log of `out`, and say once where that log is."""
    from najma.spark import spark_session

    log = log_path(out)
    err.print(f"Spark: starting; its own messages go to {log}", markup=False)
    return spark_session(master, remote=remote, conf=settings, log=log)
