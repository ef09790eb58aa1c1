"""Options shared by the ``najma`` commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from journeys import Store, StoreError, default_store_path, journeys_outdated

__all__ = ["StoreOption", "store_path", "open_built_store"]

StoreOption = Annotated[
    Path | None, typer.Option("--store", help="The DuckDB store [default: $NAJMA_STORE or ./najma.duckdb].")
]


def store_path(store: Path | None) -> Path:
    """The store a command works on: the option's value, else the default."""
    return store if store is not None else default_store_path()


def open_built_store(store: Path | None, *, read_only: bool = True) -> Store:
    """Open the store of a command that reads journeys; a store without journeys is an error."""
    opened = Store(store_path(store), read_only=read_only)
    if not opened.has_table("journeys"):
        opened.close()
        raise StoreError(f"{opened.path} has no journeys yet; load events with najma ingest (or najma start)")
    if journeys_outdated(opened):
        opened.close()
        raise StoreError(
            f"the journeys of {opened.path} were built by an earlier najma; rebuild them with: "
            f"najma start --no-dashboard --store {opened.path}"
        )
    return opened
