"""The store's layout: the tables the :class:`najma.journeys.Store` creates, and how an older store is brought up to date.

The store's own tables are created, empty, when a store is made: its metadata, the events, the
import batches, the quarantined rows, the registered catalogue and the rating history. The tables
a journey build writes whole (steps, journeys and the kept maps) are made by the build, through
the store. ``meta`` keeps the layout's version (``schema_version``) and the version under which
the journeys were built (``journeys_version``).

A store of an older version is brought up to date when it is opened for writing, by the steps of
:data:`MIGRATIONS`; every step so far adds tables or columns, or rewrites values in place. Journeys built under an older version are
rebuilt by the next build.

Versions
--------
1
    meta, events, batches and quarantine; the catalogue's tables were made by a build, the
    rating history when ratings were first recorded.
2
    Every table above made by the store, with its declared columns; ``journeys_version`` kept
    with the journeys.
3
    ``batches.rows_repeated``: the events of a batch that repeat an earlier event of the same file
    (0 for the batches loaded before); identical events within a file are kept, and an event
    already loaded from an earlier file is not loaded again. The events' ``attributes`` are
    canonical (keys sorted, values as trimmed text, blank and missing values left out), so that
    an event's identity does not depend on how its file was read.
4
    The catalogue's documents (``activity_documents``: which activity supplies which document) and
    draft entries (``service_settings.draft``); published ratings (``publications`` and
    ``published_ratings``), which are never rewritten; ``rating_history.last_batch``, the last import
    batch a recorded rating saw (each rating run is kept beside the earlier ones).
5
    The events' codes, given at ingest (see :mod:`najma.journeys._codes`): an integer ``case_key``
    and dictionary codes of activity, channel, agency and resource, with the tables ``case_keys``
    and ``labels`` that decode them. An older store's events are coded when it is brought up to
    date, and its journeys rebuilt by the next build.
6
    Survey answers loaded as their own input (see :mod:`najma.journeys._surveys`): the answers
    (``survey_answers``), their loads (``survey_batches``) and their quarantined rows
    (``survey_quarantine``, laid out as ``quarantine``). The events and journeys are untouched.
"""

from __future__ import annotations

from najma.journeys._codes import CODE_COLUMNS, CODE_TABLES, encode_statements
from najma.journeys._schema import EVENT_COLUMNS

__all__ = ["SCHEMA_VERSION", "TABLES", "CATALOGUE_TABLES", "SURVEY_TABLES", "HISTORY_COLUMNS", "MIGRATIONS", "create_statement"]

SCHEMA_VERSION = "6"

#: The registered catalogue's tables (see :func:`najma.journeys.register_catalogue`).
CATALOGUE_TABLES: dict[str, dict[str, str]] = {
    "activity_roles": {"service": "VARCHAR", "activity": "VARCHAR", "role": "VARCHAR"},
    "service_settings": {"service": "VARCHAR", "name_en": "VARCHAR", "name_ar": "VARCHAR", "agency": "VARCHAR",
                         "sla_hours": "DOUBLE", "open_days": "DOUBLE", "draft": "BOOLEAN DEFAULT false"},
    "channel_settings": {"channel": "VARCHAR", "name_ar": "VARCHAR", "digital": "BOOLEAN"},
    "activity_names": {"activity": "VARCHAR", "name_ar": "VARCHAR"},
    "display_names": {"kind": "VARCHAR", "key": "VARCHAR", "name_en": "VARCHAR", "name_ar": "VARCHAR"},
    "designed_journeys": {"service": "VARCHAR", "position": "BIGINT", "activity": "VARCHAR"},
    "life_event_services": {"life_event": "VARCHAR", "service": "VARCHAR", "window_days": "BIGINT"},
    "work_calendar": {"time_zone": "VARCHAR", "work_days": "VARCHAR[]", "opens": "VARCHAR", "closes": "VARCHAR",
                      "holidays": "VARCHAR[]"},
    "activity_documents": {"service": "VARCHAR", "activity": "VARCHAR", "document": "VARCHAR"},
}

#: The columns of the ``rating_history`` table; its pillar columns are those of :data:`najma.rating.PILLARS`.
HISTORY_COLUMNS: dict[str, str] = {
    "service": "VARCHAR", "quarter": "VARCHAR", "model_version": "VARCHAR", "config_hash": "VARCHAR",
    "cases": "BIGINT", "status": "VARCHAR", "stars": "INTEGER", "score": "DOUBLE",
    "efficiency": "DOUBLE", "effectiveness": "DOUBLE", "steps": "DOUBLE", "rated_at": "TIMESTAMPTZ",
    "last_batch": "INTEGER",
}

#: The quarantined rows of a load: its place in the source, the column at fault, the reason and the record (as JSON).
QUARANTINE_COLUMNS: dict[str, str] = {"batch_id": "INTEGER", "source": "VARCHAR", "row": "BIGINT", "unit": "VARCHAR",
                                      "column": "VARCHAR", "reason": "VARCHAR", "record": "JSON"}

#: The survey answers' tables (see :mod:`najma.journeys._surveys`): answers are kept as loaded, never linked in place,
#: so that the journeys stay as the events make them and a link always reads the journeys as they stand.
SURVEY_TABLES: dict[str, dict[str, str]] = {
    "survey_batches": {
        "batch_id": "INTEGER PRIMARY KEY", "source": "VARCHAR", "kind": "VARCHAR", "fingerprint": "VARCHAR UNIQUE",
        "mapping": "JSON", "tz": "VARCHAR", "time_format": "VARCHAR", "scale_min": "DOUBLE", "scale_max": "DOUBLE",
        "rows_read": "BIGINT", "rows_loaded": "BIGINT", "rows_quarantined": "BIGINT", "loaded_at": "TIMESTAMPTZ",
    },
    "survey_answers": {
        "batch_id": "INTEGER NOT NULL", "row": "BIGINT NOT NULL", "case_id": "VARCHAR", "customer_id": "VARCHAR",
        "service": "VARCHAR", "channel": "VARCHAR", "answered_at": "TIMESTAMPTZ", "score": "DOUBLE NOT NULL",
        "scale_min": "DOUBLE NOT NULL", "scale_max": "DOUBLE NOT NULL", "question": "VARCHAR", "comment": "VARCHAR",
        "attributes": "JSON",
    },
    "survey_quarantine": QUARANTINE_COLUMNS,
}

#: Every table the store owns: its name and its columns (name to DuckDB type and constraints).
TABLES: dict[str, dict[str, str]] = {
    "meta": {"key": "VARCHAR PRIMARY KEY", "value": "VARCHAR"},
    "events": {**{c.name: c.sql_type for c in EVENT_COLUMNS}, **CODE_COLUMNS},
    **CODE_TABLES,
    "batches": {
        "batch_id": "INTEGER PRIMARY KEY", "source": "VARCHAR", "kind": "VARCHAR", "fingerprint": "VARCHAR UNIQUE",
        "service": "VARCHAR", "mapping": "JSON", "tz": "VARCHAR", "time_format": "VARCHAR", "rows_read": "BIGINT",
        "rows_loaded": "BIGINT", "rows_quarantined": "BIGINT", "first_seq": "BIGINT", "loaded_at": "TIMESTAMPTZ",
        "seconds": "DOUBLE", "rows_repeated": "BIGINT DEFAULT 0",
    },
    "quarantine": QUARANTINE_COLUMNS,
    **CATALOGUE_TABLES,
    "rating_history": HISTORY_COLUMNS,
    # Published ratings (see :mod:`najma.rating._publish`): rows are only ever added, never rewritten.
    "publications": {
        "quarter": "VARCHAR NOT NULL", "revision": "INTEGER NOT NULL", "model_version": "VARCHAR", "config_hash": "VARCHAR",
        "najma_version": "VARCHAR", "draws": "INTEGER", "cutoff": "TIMESTAMPTZ", "last_batch": "INTEGER",
        "data_fingerprint": "VARCHAR", "catalogue_fingerprint": "VARCHAR", "events": "BIGINT", "cases": "BIGINT",
        "published_at": "TIMESTAMPTZ", "published_by": "VARCHAR", "note": "VARCHAR", "model": "JSON",
    },
    "published_ratings": {
        "quarter": "VARCHAR NOT NULL", "revision": "INTEGER NOT NULL", "service": "VARCHAR NOT NULL", "cases": "BIGINT",
        "status": "VARCHAR", "stars": "INTEGER", "score": "DOUBLE", "efficiency": "DOUBLE", "effectiveness": "DOUBLE",
        "steps": "DOUBLE", "data_fingerprint": "VARCHAR", "rating": "JSON",
    },
    **SURVEY_TABLES,
}


def create_statement(name: str) -> str:
    """The ``CREATE TABLE IF NOT EXISTS`` statement of the store's table `name` (fixed names, never user text)."""
    columns = ", ".join(f'"{column}" {kind}' for column, kind in TABLES[name].items())
    return f"CREATE TABLE IF NOT EXISTS {name} ({columns})"


def _retyped(name: str) -> tuple[str, ...]:
    """Statements that give the table `name` its declared columns, keeping its rows (an earlier najma made it
    from a frame, so a column that held no value there has DuckDB's type NULL and takes nothing else)."""
    return (create_statement(name), f"ALTER TABLE {name} RENAME TO _old_{name}", create_statement(name),
            f"INSERT INTO {name} BY NAME SELECT * FROM _old_{name}", f"DROP TABLE _old_{name}")


#: Rewrites the ``attributes`` of the events of an earlier najma as version 3 writes them (see
#: :mod:`najma.journeys._normalise`): keys sorted, values as trimmed text, blank and missing values left out.
_CANONICAL_ATTRIBUTES = r"""UPDATE events SET attributes = nullif(to_json(map_from_entries(list_sort(list_filter(
    list_transform(map_entries(attributes::MAP(VARCHAR, VARCHAR)),
                   lambda x: {'key': x.key, 'value': nullif(trim(x.value, e' \t\n\r\x0b\x0c'), '')}),
    lambda x: x.value IS NOT NULL))))::VARCHAR, '{}')::JSON WHERE attributes IS NOT NULL"""

#: Version 3 kept a line that could not be split into columns as its text, which may hold a customer
#: id in the clear; version 4 keeps such a line's fields pseudonymised, which needs the key, so the
#: text of the lines an earlier najma kept is withheld instead (the row, its place and reason stay).
_WITHHELD_LINES = """UPDATE quarantine SET record = json_object('withheld',
    'the text of this line, kept by an earlier najma, may hold a customer id: load the file again to see its fields')
    WHERE record->>'text' IS NOT NULL"""

#: The steps that bring a store of each older version to the next: statements run in one transaction.
MIGRATIONS: dict[str, tuple[str, ...]] = {
    "1": (*(statement for name in CATALOGUE_TABLES for statement in _retyped(name)), create_statement("rating_history")),
    "2": ("ALTER TABLE batches ADD COLUMN IF NOT EXISTS rows_repeated BIGINT DEFAULT 0", _CANONICAL_ATTRIBUTES),
    "3": ("ALTER TABLE service_settings ADD COLUMN IF NOT EXISTS draft BOOLEAN DEFAULT false",
          create_statement("activity_documents"),
          "ALTER TABLE rating_history ADD COLUMN IF NOT EXISTS last_batch INTEGER",
          create_statement("publications"), create_statement("published_ratings"), _WITHHELD_LINES),
    "4": (*(f"ALTER TABLE events ADD COLUMN IF NOT EXISTS {name} {kind}" for name, kind in CODE_COLUMNS.items()),
          *(create_statement(name) for name in CODE_TABLES), *encode_statements("true")),
    "5": tuple(create_statement(name) for name in SURVEY_TABLES),
}
