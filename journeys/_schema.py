"""The canonical event schema: the one events table every source is mapped onto.

Every source (CSV, Parquet, XES, a pandas frame) is mapped onto these columns at ingest.
Times are instants in UTC. Attributes of the source that are not mapped onto a canonical
column are kept, as text, in the JSON column ``attributes``; nothing is dropped.

==================  ===========  =============================================================
column              type         meaning
==================  ===========  =============================================================
case_id             VARCHAR      the case (one application, request or session); required
activity            VARCHAR      what happened; required
timestamp           TIMESTAMPTZ  when it happened (its completion), UTC; required
start_timestamp     TIMESTAMPTZ  when the work on it started, UTC, if known
lifecycle           VARCHAR      the XES lifecycle transition (start, complete, ...)
service             VARCHAR      the government service the case belongs to
customer_id         VARCHAR      the customer, pseudonymised with a keyed hash (HMAC-SHA256)
channel             VARCHAR      service centre, website, smart app, call centre, ...
agency              VARCHAR      the agency that performed the event
resource            VARCHAR      the employee, system or team that performed it
actor               VARCHAR      who acted: ``customer``, ``staff`` or ``system``
satisfaction        DOUBLE       a satisfaction answer given with the event (e.g. 1 to 5)
cost                DOUBLE       the cost of the event to the government
attributes          JSON         every other source attribute, as text, keyed by its name
event_seq           BIGINT       stable order of ingest: breaks ties between equal timestamps
batch_id            INTEGER      the import batch that loaded the event
==================  ===========  =============================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["CanonicalColumn", "EVENT_COLUMNS", "MAPPABLE", "REQUIRED", "ACTORS", "EARLIEST_TIME", "TIME_LIMIT", "column"]


@dataclass(frozen=True)
class CanonicalColumn:
    """One column of the canonical events table.

    Parameters
    ----------
    name : str
        The column name in the store.
    sql_type : str
        Its DuckDB type.
    kind : {"text", "time", "number", "internal"}
        How a source value is converted: kept as text, parsed as a time, parsed as a number,
        or set by najma itself (never mapped from a source).
    required : bool
        Whether a row without a value is quarantined.
    description : str
        One line for the documentation and ``najma info``.
    """

    name: str
    sql_type: str
    kind: str
    required: bool
    description: str


EVENT_COLUMNS: tuple[CanonicalColumn, ...] = (
    CanonicalColumn("case_id", "VARCHAR", "text", True, "the case"),
    CanonicalColumn("activity", "VARCHAR", "text", True, "what happened"),
    CanonicalColumn("timestamp", "TIMESTAMPTZ", "time", True, "when it happened, UTC"),
    CanonicalColumn("start_timestamp", "TIMESTAMPTZ", "time", False, "when work started, UTC"),
    CanonicalColumn("lifecycle", "VARCHAR", "text", False, "lifecycle transition"),
    CanonicalColumn("service", "VARCHAR", "text", False, "the government service"),
    CanonicalColumn("customer_id", "VARCHAR", "text", False, "pseudonymised customer"),
    CanonicalColumn("channel", "VARCHAR", "text", False, "channel of the event"),
    CanonicalColumn("agency", "VARCHAR", "text", False, "agency that performed it"),
    CanonicalColumn("resource", "VARCHAR", "text", False, "who or what performed it"),
    CanonicalColumn("actor", "VARCHAR", "text", False, "customer, staff or system"),
    CanonicalColumn("satisfaction", "DOUBLE", "number", False, "satisfaction answer"),
    CanonicalColumn("cost", "DOUBLE", "number", False, "cost to the government"),
    CanonicalColumn("attributes", "JSON", "internal", False, "all other attributes"),
    CanonicalColumn("event_seq", "BIGINT", "internal", True, "stable ingest order"),
    CanonicalColumn("batch_id", "INTEGER", "internal", True, "import batch"),
)

#: Canonical columns that a source column can be mapped onto.
MAPPABLE: tuple[str, ...] = tuple(c.name for c in EVENT_COLUMNS if c.kind != "internal")

#: Canonical columns without which a row is quarantined.
REQUIRED: tuple[str, ...] = tuple(c.name for c in EVENT_COLUMNS if c.required and c.kind != "internal")

#: The earliest time an event may have (UTC). Older times are placeholders ("0001-01-01") or typing
#: errors, and the quarters of far-away years are not periods a rating can speak of: such a row is
#: quarantined with the time it gave.
EARLIEST_TIME = datetime(1900, 1, 1, tzinfo=UTC)

#: The first time an event may no longer have (UTC): times from it on ("9999-12-31") are quarantined
#: as :data:`EARLIEST_TIME` explains. A journey spanning them would also fill every day between.
TIME_LIMIT = datetime(2100, 1, 1, tzinfo=UTC)

#: The allowed values of ``actor``.
ACTORS: tuple[str, ...] = ("customer", "staff", "system")


def column(name: str) -> CanonicalColumn:
    """Return the canonical column called `name`.

    Examples
    --------
    >>> column("timestamp").sql_type
    'TIMESTAMPTZ'
    """
    for col in EVENT_COLUMNS:
        if col.name == name:
            return col
    raise KeyError(f"{name!r} is not a canonical event column; they are {', '.join(c.name for c in EVENT_COLUMNS)}.")
