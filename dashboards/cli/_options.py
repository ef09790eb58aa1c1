"""What the ``najma`` commands share: the store option, the consoles, and the choices as enums."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from najma.journeys import Store

__all__ = ["StoreOption", "MinGroupOption", "min_group_of", "fewer_than", "store_path", "existing_store", "open_built_store", "is_interrupt", "OUTDATED", "out", "err", "Engine", "Measure", "Language", "SampleFormat", "Repeats"]

out = Console()
err = Console(stderr=True, soft_wrap=True)  # a line of its own, whatever the width: tests and logs read it whole

#: What the command line says of a store an earlier najma wrote, instead of the library's Python advice.
OUTDATED = ("{path} was written by an earlier najma; bring it up to date and rebuild its journeys with: "
            "najma start --no-dashboard --store {path}")

StoreOption = Annotated[
    Path | None, typer.Option("--store", help="The DuckDB store \\[default: $NAJMA_STORE or ./najma.duckdb].")
]

#: The small-group rule's threshold (see najma.rating._suppression); its default is the library's,
#: read when a command runs (the library is not imported to print help).
MinGroupOption = Annotated[int | None, typer.Option(
    "--min-group", min=1, show_default=False,
    help="Groups of fewer customers show no count, KPI or stars \\[default: 10, najma's small-group rule].",
)]


def min_group_of(value: int | None) -> int:
    """The threshold a command applies: the option's value, else the library's default."""
    from najma.rating._suppression import MIN_GROUP

    return MIN_GROUP if value is None else value


def fewer_than(min_group: int) -> str:
    """What a command prints instead of the count of a suppressed group."""
    from najma.dashboards._i18n import text

    return text("fewer_than", "en").format(n=min_group)


class Engine(str, Enum):
    """Where the journeys and ratings are computed."""

    duckdb = "duckdb"
    spark = "spark"


class Measure(str, Enum):
    """What the edges of a map show."""

    frequency = "frequency"
    performance = "performance"


class Language(str, Enum):
    """The language of a report (Arabic reads right to left)."""

    en = "en"
    ar = "ar"


class SampleFormat(str, Enum):
    """The file format of a generated sample log."""

    parquet = "parquet"
    csv = "csv"


class Repeats(str, Enum):
    """What to do with an event equal to an earlier event of the same file."""

    keep = "keep"
    quarantine = "quarantine"


def is_interrupt(exc: BaseException | None) -> bool:
    """Whether `exc`, or an error it was raised in the handling of, is an interrupt (Ctrl-C, or DuckDB's report of it)."""
    duckdb = sys.modules.get("duckdb")  # loaded only if a command used it
    while exc is not None:
        if isinstance(exc, KeyboardInterrupt) or (duckdb is not None and isinstance(exc, duckdb.InterruptException)):
            return True
        if isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower():
            return True
        exc = exc.__context__
    return False


def store_path(store: Path | None) -> Path:
    """The store a command works on: the option's value, else the default."""
    from najma.journeys import default_store_path

    return store if store is not None else default_store_path()


def existing_store(store: Path | None) -> Path:
    """The store a command reads, which must exist (a command that only reads never makes an empty one)."""
    from najma.errors import StoreError

    path = store_path(store)
    if not path.exists():
        raise StoreError(f"no store at {path}; load events with: najma ingest FILE --store {path}")
    return path


def open_built_store(store: Path | None, *, read_only: bool = True) -> Store:
    """Open the store of a command that reads journeys; a store without journeys is an error.

    Journeys left stale (events loaded without a build, a catalogue registered, an earlier najma's
    build) are built first, saying so, so that no command reads them stale.
    """
    from najma.errors import OutdatedStoreError, StoreError
    from najma.journeys import Store, build_journeys

    path = existing_store(store)
    try:
        opened: Store | None = Store(path, read_only=read_only)
        stale = opened.journeys_stale()
    except OutdatedStoreError:
        opened, stale = None, "it was written by an earlier najma"
    if opened is not None and not stale and not opened.has_table("journeys"):
        opened.close()
        raise StoreError(f"{path} has no journeys yet; load events with najma ingest (or najma start)")
    if stale:
        if opened is not None:
            opened.close()
        with Store(path) as writable, err.status(f"building the journeys first: {stale}"):
            build_journeys(writable)
        err.print(f"built the journeys of {path} first: {stale}")
        opened = Store(path, read_only=read_only)
    return opened
