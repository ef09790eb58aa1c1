"""How Ibis writes one operation for DuckDB where its own SQL is needlessly slow: the epoch of an instant.

Ibis writes ``epoch_seconds()`` as ``epoch(CAST(x AS TIMESTAMP))`` for every engine. On DuckDB, casting a
``TIMESTAMP WITH TIME ZONE`` (every instant najma keeps) to a local ``TIMESTAMP`` goes through the ICU calendar
of the session's time zone, row by row: at 1M events that cast takes about 0.09 s per column, ten times the
epoch itself, and a build takes it for two columns of every event twice. ``epoch`` reads an instant's seconds
since 1970 directly, and gives the same value: the store's sessions are in UTC (see
:class:`najma.journeys.Store`), where an instant's local time is its UTC time. An instant's epoch does not
depend on the session's zone at all, so a session set to another zone now gets the instant's true epoch where
the cast would have shifted it by the zone's offset.

Importing this module (the journey pipeline does) makes Ibis's DuckDB compiler, which every DuckDB backend and
``ibis.to_sql(..., dialect="duckdb")`` share, write the epoch of an instant with a zone that way; other values
(a local timestamp, a date) and other engines are written as Ibis writes them.
"""

from __future__ import annotations

from typing import Any

import ibis.expr.operations as ops
from ibis.backends.sql.compilers.duckdb import DuckDBCompiler

__all__: list[str] = []

#: Ibis's own way, kept for the values it is right for; None on an Ibis that names its visitor otherwise, which
#: then keeps its own SQL everywhere (slower, never wrong: tests/journeys/test_duckdb_sql.py tells which).
_ibis_epoch_seconds = getattr(DuckDBCompiler, "visit_ExtractEpochSeconds", None)


def _epoch_seconds(compiler: DuckDBCompiler, op: ops.ExtractEpochSeconds, *, arg: Any) -> Any:
    """The seconds since 1970 of `op`'s argument: ``epoch`` of an instant with a zone, Ibis's SQL for anything else."""
    dtype = op.arg.dtype
    if dtype.is_timestamp() and dtype.timezone is not None:
        return compiler.f.epoch(arg)
    return _ibis_epoch_seconds(compiler, op, arg=arg)


if _ibis_epoch_seconds is not None:
    DuckDBCompiler.visit_ExtractEpochSeconds = _epoch_seconds
