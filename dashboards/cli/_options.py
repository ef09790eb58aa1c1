"""What the ``najma`` commands share: the store option, the consoles, and the choices as enums."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from najma.journeys import Store

__all__ = ["StoreOption", "store_path", "open_built_store", "out", "err", "Engine", "Measure", "Language", "SampleFormat"]

out = Console()
err = Console(stderr=True)

StoreOption = Annotated[
    Path | None, typer.Option("--store", help="The DuckDB store [default: $NAJMA_STORE or ./najma.duckdb].")
]


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


def store_path(store: Path | None) -> Path:
    """The store a command works on: the option's value, else the default."""
    from najma.journeys import default_store_path

    return store if store is not None else default_store_path()


def open_built_store(store: Path | None, *, read_only: bool = True) -> Store:
    """Open the store of a command that reads journeys; a store without journeys is an error."""
    from najma.errors import OutdatedStoreError, StoreError
    from najma.journeys import Store

    path = store_path(store)
    if read_only and not path.exists():
        raise StoreError(f"no store at {path}; load events with: najma ingest FILE --store {path}")
    rebuild = StoreError(f"the journeys of {path} were built by an earlier najma; rebuild them with: "
                         f"najma start --no-dashboard --store {path}")
    try:
        opened = Store(path, read_only=read_only)
    except OutdatedStoreError:
        raise rebuild from None
    if not opened.has_table("journeys"):
        opened.close()
        raise StoreError(f"{opened.path} has no journeys yet; load events with najma ingest (or najma start)")
    if opened.journeys_outdated():
        opened.close()
        raise rebuild
    return opened
