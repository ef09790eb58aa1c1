"""The store's codes: an integer key for each case and dictionary codes for the text a build compares, given at ingest.

A journey build orders every case's events and compares each with the one before: the same activity
again, another channel, another agency, another resource. On the event's own text that is slow,
because DuckDB does not inline case ids of 16 to 31 characters or service names over 12 in its sort
keys: at 10.2M events, a window partitioned by an integer case key sorts in 1.2 to 1.4 s, and by
(service, case_id) in 7.3 s; a successor window over activity codes takes 1.0 to 1.1 s, over their
text 3.8 s. So each event is coded once, when it is loaded:

==================  =======  ==================================================================
column              type     meaning
==================  =======  ==================================================================
case_key            BIGINT   the case, (service, case_id), in table ``case_keys``
activity_code       INTEGER  the activity's code in table ``labels`` (kind ``activity``)
channel_code        INTEGER  the channel's code (kind ``channel``), NULL without a channel
agency_code         INTEGER  the agency's code (kind ``agency``), NULL without an agency
resource_code       INTEGER  the resource's code (kind ``resource``), NULL without a resource
==================  =======  ==================================================================

Codes are given in the order the store first sees their case or label (a case's key follows its
first loaded event; the labels of a load are numbered in their sorted order), and are never given
again to anything else, so a later load leaves every earlier code as it was. A load's events are coded as
they are written, in one INSERT from the table they were checked in (:func:`insert_statements`: an UPDATE of
10M events would rewrite their code columns); the events of a store brought up to date, in place
(:func:`encode_statements`). The coding is the
store's business: the events keep their text, so every reader sees names, and a build decodes only
what it writes (see :func:`najma.journeys._pipeline.steps_expr` and :class:`StoreCodes`). Customers are not coded: no window compares
them, and a case's customer is one value per case (at 10.2M events their dictionary alone took
longer to make than the build saved). Events read elsewhere (Parquet on Spark, a
redesign's changed events) carry no codes; the journey pipeline then compares their text itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from ibis.expr.types import Table

__all__ = ["CODED", "CODE_COLUMNS", "CODE_TABLES", "StoreCodes", "encode_statements", "insert_statements"]

#: The text columns of the events that are coded, each with its code column.
CODED: dict[str, str] = {
    "activity": "activity_code", "channel": "channel_code", "agency": "agency_code", "resource": "resource_code",
}
#: The columns the coding adds to the events, with their DuckDB types.
CODE_COLUMNS: dict[str, str] = {"case_key": "BIGINT", **{code: "INTEGER" for code in CODED.values()}}
#: The tables of the codes (see the module docstring).
CODE_TABLES: dict[str, dict[str, str]] = {
    "case_keys": {"case_key": "BIGINT", "service": "VARCHAR", "case_id": "VARCHAR"},
    "labels": {"kind": "VARCHAR", "code": "INTEGER", "label": "VARCHAR"},
}


def _new_codes(chosen: str) -> tuple[str, ...]:
    """The statements that number the cases and labels of the events `chosen` that the store has not coded yet,
    after those it holds: cases in the order of their first event (event_seq), a load's labels in sorted order."""
    cases = f"""INSERT INTO case_keys
        SELECT (SELECT coalesce(max(case_key), 0) FROM case_keys) + row_number() OVER (ORDER BY first_seq), service, case_id
        FROM (SELECT service, case_id, min(event_seq) AS first_seq FROM {chosen} GROUP BY service, case_id) AS fresh
        ANTI JOIN case_keys USING (service, case_id)"""
    labels = tuple(
        f"""INSERT INTO labels
        SELECT '{column}', (SELECT coalesce(max(code), 0) FROM labels WHERE kind = '{column}') + row_number() OVER (ORDER BY label),
               label
        FROM (SELECT DISTINCT {column} AS label FROM {chosen} WHERE {column} IS NOT NULL) AS fresh
        ANTI JOIN (SELECT label FROM labels WHERE kind = '{column}') USING (label)"""
        for column in CODED
    )
    return (cases, *labels)


def _coded(chosen: str, kept: str) -> str:
    """A SELECT of the columns `kept` of the events `chosen` (aliased ``e``), each with its case's key and its
    labels' codes (all given)."""
    decoded = " ".join(
        f"LEFT JOIN (SELECT code, label FROM labels WHERE kind = '{column}') AS {column}s ON {column}s.label = e.{column}"
        for column in CODED
    )
    return f"""SELECT {kept}, k.case_key, {", ".join(f"{column}s.code AS {code}" for column, code in CODED.items())}
        FROM {chosen} AS e JOIN case_keys AS k USING (service, case_id) {decoded}"""


def encode_statements(where: str) -> tuple[str, ...]:
    """The statements that code, in place, the events already stored that match `where` (a store brought up to date).

    New cases and labels are numbered after those the store holds; then the events are given their
    codes. Fixed names only: `where` is one of najma's own conditions on the events, never user text.

    Examples
    --------
    >>> [s.split()[:3] for s in encode_statements("true")][::5]
    [['INSERT', 'INTO', 'case_keys'], ['UPDATE', 'events', 'SET']]
    """
    chosen = f"(SELECT * FROM events WHERE {where})"
    update = f"""UPDATE events SET {", ".join(f"{code} = coded.{code}" for code in CODE_COLUMNS)}
        FROM ({_coded(chosen, "e.event_seq")}) AS coded
        WHERE events.event_seq = coded.event_seq"""
    return (*_new_codes(chosen), update)


def insert_statements(staged: str) -> tuple[str, ...]:
    """The statements that add the events of the table `staged` (the events' columns but the codes) to the
    events, coded: one INSERT, so that the events are written once, with their codes.

    Examples
    --------
    >>> [s.split()[:3] for s in insert_statements("_staged")][::5]
    [['INSERT', 'INTO', 'case_keys'], ['INSERT', 'INTO', 'events']]
    """
    return (*_new_codes(staged), f"INSERT INTO events BY NAME {_coded(staged, 'e.*')}")


@dataclass(frozen=True)
class StoreCodes:
    """The store's codes, as the journey pipeline reads them: the labels of the dictionary codes and the case of each key.

    Parameters
    ----------
    labels : ibis Table
        The store's ``labels`` (kind, code, label).
    case_keys : ibis Table
        The store's ``case_keys`` (case_key, service, case_id).
    """

    labels: Table
    case_keys: Table

    def decoded(self, rows: Table, kind: str, columns: dict[str, str]) -> Table:
        """`rows` with each code column of `columns` (code column: name) replaced by its label of `kind`.

        Examples
        --------
        >>> import ibis
        >>> codes = StoreCodes(ibis.memtable({"kind": ["activity"], "code": [1], "label": ["Apply"]}), None)
        >>> codes.decoded(ibis.memtable({"step": [7], "code_of": [1]}), "activity", {"code_of": "activity"}).to_pandas()
           step activity
        0     7    Apply
        """
        labels = self.labels.filter(self.labels.kind == kind)
        for code, name in columns.items():
            dictionary = labels.select(_code=labels.code, _label=labels.label).view()
            joined = rows.left_join(dictionary, rows[code] == dictionary._code)
            rows = joined.select(*(column for column in rows.columns if column != code), **{name: dictionary._label})
        return rows
