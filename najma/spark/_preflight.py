"""What a Spark run can refuse before Spark starts: events that are not there or not in najma's schema.

A Spark session takes seconds to start (a JVM, its executors); a run that would end on a missing
file or a wrong column should end before that. These checks read only the Parquet footers of the
local files, with pyarrow; paths on other filesystems (``s3a://``, ``hdfs://``, ...) are left to
Spark, which reads them with the cluster's credentials.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence

from najma.errors import SourceReadError
from najma.spark._engine import not_parquet, require_columns, require_timestamp

__all__ = ["check_events"]


def check_events(events: Sequence[str]) -> None:
    """Refuse local event paths that match nothing, are not Parquet, or lack najma's required columns.

    Parameters
    ----------
    events : sequence of str
        Parquet files, folders (a partitioned lake too) or globs, as :func:`najma.spark.build_on_spark` takes them.

    Raises
    ------
    SourceReadError
        Naming the first path that Spark could not build from, and why. Of a folder or glob the first
        file's columns are checked (its footer only); Spark checks every file as it reads them.
    """
    for path in events:
        if "://" in path:
            continue
        files = _parquet_files(path)
        if not files:
            raise SourceReadError(path, "no such Parquet file or folder")
        _check_schema(files[0])


def _parquet_files(path: str) -> list[str]:
    """The Parquet files a path stands for, sorted: itself, a folder's files at any depth, or a glob's matches."""
    found: list[str] = []
    for match in sorted(glob.glob(path)):
        if os.path.isdir(match):
            found.extend(sorted(glob.glob(os.path.join(match, "**", "*.parquet"), recursive=True)))
        else:
            found.append(match)
    return found


def _check_schema(file: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(file)
    except (OSError, pa.ArrowException) as exc:
        raise not_parquet(file, exc) from None
    require_columns(file, schema.names)
    kind = schema.field("timestamp").type
    require_timestamp(file, kind, pa.types.is_timestamp(kind))
