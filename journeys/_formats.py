"""Open a file or folder of events with the reader its name or content calls for."""

from __future__ import annotations

import os
from pathlib import Path

from najma.errors import SourceReadError
from najma.journeys._sources import LOG_SUFFIXES, CsvSource, Packed, ParquetSource, Source
from najma.journeys._xes import XesSource

__all__ = ["open_source"]

_PARQUET_MAGIC = b"PAR1"
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def _kind(packed: Packed) -> str:
    """The format of the log in `packed`: from its name, else from its first bytes."""
    name = packed.inner_name.lower()
    for suffix, kind in LOG_SUFFIXES.items():
        if name.endswith(suffix):
            return kind
    head = packed.head(64)
    if head.startswith(_PARQUET_MAGIC):
        return "parquet"
    for bom in _BOMS:
        head = head.removeprefix(bom)
    return "xes" if head.replace(b"\x00", b"").lstrip().startswith(b"<") else "csv"


def open_source(path: str | os.PathLike[str], *, sep: str | None = None, encoding: str = "utf-8") -> Source:
    """Open the file or folder at `path` as a source, choosing the reader by its name or content.

    The source's head is read at once (a CSV header, an XML prolog, the Parquet footers), so a
    file that cannot be read at all is refused here, before anything is written anywhere.

    Parameters
    ----------
    path : str or path-like
        A ``.csv``/``.tsv`` file, a ``.parquet`` file or folder, or a ``.xes`` file. CSV and XES
        files may be compressed (gzip, bzip2, Zstandard: recognised by their first bytes) or be
        the one log in a ``.zip`` archive.
    sep : str, optional
        The CSV delimiter; by default ``,`` (``\\t`` for ``.tsv``).
    encoding : str, default "utf-8"
        The text encoding of a CSV file.

    Raises
    ------
    SourceReadError
        If the path does not exist, is not readable, or holds no log that can be read: empty,
        binary, undecodable, corrupt, a DTD, a zip archive of several logs.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "log.csv").write_text("case_id,activity,timestamp\\n1,Apply,2025-01-01\\n")
    >>> open_source(folder / "log.csv").kind
    'csv'
    """
    path = Path(path)
    if not path.exists():
        raise SourceReadError(str(path), "no such file or folder")
    if not os.access(path, os.R_OK):
        raise SourceReadError(str(path), "permission denied")
    source = _source(path, sep, encoding)
    source.check()
    return source


def _source(path: Path, sep: str | None, encoding: str) -> Source:
    if path.is_dir():
        return ParquetSource(name=str(path), kind="parquet", path=path)
    try:
        packed = Packed.detect(path)
        kind = _kind(packed)
    except OSError as exc:
        raise SourceReadError(str(path), f"cannot be read ({exc.strerror or exc})") from None
    if kind == "parquet":
        if packed.packed:
            raise SourceReadError(str(path), "a compressed or zipped Parquet file cannot be read in place; unpack it")
        return ParquetSource(name=str(path), kind=kind, path=path)
    if kind == "xes":
        return XesSource(name=str(path), kind=kind, path=path, packed=packed)
    default_sep = "\t" if packed.inner_name.lower().endswith(".tsv") else ","
    return CsvSource(name=str(path), kind=kind, path=path, sep=sep or default_sep, encoding=encoding, packed=packed)
