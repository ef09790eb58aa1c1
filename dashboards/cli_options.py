"""Options shared by the ``najma`` commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from journeys import default_store_path

__all__ = ["StoreOption", "store_path"]

StoreOption = Annotated[
    Path | None, typer.Option("--store", help="The DuckDB store [default: $NAJMA_STORE or ./najma.duckdb].")
]


def store_path(store: Path | None) -> Path:
    """The store a command works on: the option's value, else the default."""
    return store if store is not None else default_store_path()
