"""Open a file or folder of events with the reader its name or content calls for."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from najma.errors import SourceReadError
from najma.journeys._sources import CsvSource, ParquetSource, Source
from najma.journeys._xes import XesSource

__all__ = ["open_source"]


def _sniff(path: Path) -> str:
    """Guess the format of `path` from its name, then from its first bytes."""
    name = path.name.lower()
    if path.is_dir():
        return "parquet"
    for suffix, kind in ((".xes.gz", "xes"), (".xes", "xes"), (".parquet", "parquet"), (".csv", "csv"), (".tsv", "csv")):
        if name.endswith(suffix):
            return kind
    with open(path, "rb") as handle:
        head = handle.read(64)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\x1f\x8b"):
        with gzip.open(path, "rb") as handle:
            head = handle.read(64)
    if head.lstrip().startswith(b"<"):
        return "xes"
    return "csv"


def open_source(path: str | os.PathLike[str], *, sep: str | None = None, encoding: str = "utf-8") -> Source:
    """Open the file or folder at `path` as a source, choosing the reader by its name or content.

    Parameters
    ----------
    path : str or path-like
        A ``.csv``/``.tsv`` file, a ``.parquet`` file or folder, or a ``.xes``/``.xes.gz`` file.
    sep : str, optional
        The CSV delimiter; by default ``,`` (``\\t`` for ``.tsv``).
    encoding : str, default "utf-8"
        The text encoding of a CSV file.

    Raises
    ------
    SourceReadError
        If the path does not exist or is not readable.
    """
    path = Path(path)
    if not path.exists():
        raise SourceReadError(str(path), "no such file or folder")
    if not os.access(path, os.R_OK):
        raise SourceReadError(str(path), "permission denied")
    try:
        kind = _sniff(path)
    except (OSError, EOFError) as exc:
        raise SourceReadError(str(path), f"cannot be read ({exc})") from None
    if kind == "parquet":
        return ParquetSource(name=str(path), kind=kind, path=path)
    if kind == "xes":
        return XesSource(name=str(path), kind=kind, path=path)
    default_sep = "\t" if path.name.lower().endswith(".tsv") else ","
    return CsvSource(name=str(path), kind=kind, path=path, sep=sep or default_sep, encoding=encoding)
