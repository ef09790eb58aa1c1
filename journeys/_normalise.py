"""Map one Arrow batch of a source onto the canonical columns, finding the rows to quarantine.

Everything here is a DuckDB expression built from column references and constants, never SQL
text made from user input: column names, formats and zones travel as identifiers and values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import duckdb
from duckdb import CaseExpression, CoalesceOperator, ColumnExpression, ConstantExpression, Expression, FunctionExpression

from najma._lazy import lazy_module
from najma.errors import InvalidEventLogError
from najma.journeys._schema import ACTORS, EARLIEST_TIME, EVENT_COLUMNS, MAPPABLE, TIME_LIMIT
from najma.journeys._sources import ROW

pa = lazy_module("pyarrow")  # loaded at first use, so opening a store does not load Arrow
pc = lazy_module("pyarrow.compute")
np = lazy_module("numpy")

__all__ = ["Normaliser", "STAGE_COLUMNS", "check_time_format", "check_zone", "clean_text", "with_clean_text", "source_text",
           "attributes_json", "time_range_problems", "parse_time"]

#: Columns of the staging table: the canonical ones (but event_seq, batch_id) and the row.
STAGE_COLUMNS: tuple[str, ...] = (*MAPPABLE, "attributes", ROW)


def _fn(name: str, *args: Expression) -> Expression:
    return FunctionExpression(name, *args)


def _const(value: object) -> Expression:
    return ConstantExpression(value)


def _null(sql_type: str) -> Expression:
    return ConstantExpression(None).cast(sql_type)


def _is_text(arrow_type: pa.DataType) -> bool:
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def _cleaned_name(source: str) -> str:
    return f"{ROW}.clean.{source}"


#: Bytes that may be, or begin or end, a character Arrow trims as whitespace: ASCII controls and
#: space, and every byte of a non-ASCII character (U+0085, U+00A0, U+2000 ... are whitespace).
_MAYBE_SPACE_BELOW, _MAYBE_SPACE_FROM = 0x21, 0x80


def _may_need_cleaning(values: pa.Array) -> np.ndarray:
    """True for each value that is empty or whose first or last byte may be whitespace; False for nulls.

    Read from the array's offsets and bytes alone, without decoding the text: a value that is
    False here is left as it is by trimming, and is not blank.
    """
    offset_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    _, offsets_buffer, data_buffer = values.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=offset_type)[values.offset: values.offset + len(values) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None and data_buffer.size else np.zeros(1, np.uint8)
    starts, ends = offsets[:-1], offsets[1:]
    empty = ends <= starts
    edges = np.concatenate((data[np.where(empty, 0, starts)], data[np.where(empty, 0, ends - 1)])).reshape(2, -1)
    suspect = empty | ((edges < _MAYBE_SPACE_BELOW) | (edges >= _MAYBE_SPACE_FROM)).any(axis=0)
    if values.null_count:
        suspect &= values.is_valid().to_numpy(zero_copy_only=False)
    return suspect


def _clean_array(values: pa.Array) -> pa.Array:
    """:func:`clean_text` of one array: only the values that may change are trimmed (most often none)."""
    suspect = _may_need_cleaning(values)
    if not suspect.any():
        return values
    mask = pa.array(suspect)
    trimmed = pc.utf8_trim_whitespace(values.filter(mask))
    return pc.replace_with_mask(values, mask, pc.if_else(pc.equal(trimmed, ""), None, trimmed))


def clean_text(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Return text `values` trimmed of whitespace (as Arrow's ``utf8_trim_whitespace``), with blank text as null.

    Examples
    --------
    >>> clean_text(pa.array([" a ", "b", "\\u00a0", "", None, "\\u3000c\\t"])).to_pylist()
    ['a', 'b', None, None, None, 'c']
    """
    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array([_clean_array(chunk) for chunk in values.chunks], values.type)
    return _clean_array(values)


def with_clean_text(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Append to `batch` a cleaned copy of each text column: trimmed, blank text as null.

    Arrow's kernels do this several times faster than SQL string functions; the original
    columns stay as they were, for the record of a quarantined row.
    """
    for name in list(batch.schema.names):
        column = batch.column(name)
        if name != ROW and _is_text(column.type):
            batch = batch.append_column(_cleaned_name(name), clean_text(column))
    return batch


def source_text(source: str, arrow_type: pa.DataType) -> Expression:
    """The source column as trimmed text, blank text as NULL (see :func:`with_clean_text`)."""
    if _is_text(arrow_type):
        return ColumnExpression(_cleaned_name(source))
    return ColumnExpression(source).cast("VARCHAR")


def _absent(source: str, arrow_type: pa.DataType) -> Expression:
    """True where the source has no value: NULL, or blank text."""
    return source_text(source, arrow_type).isnull()


def attributes_json(unmapped: list[str], types: Mapping[str, pa.DataType]) -> Expression:
    """The `unmapped` columns as one canonical JSON object, or NULL when none has a value.

    Canonical, so that an event's identity does not depend on how its file was read (the order
    of the columns, which attributes a chunk of an XES file holds, CSV quoting): the keys are
    sorted, every value is text, trimmed as mapped columns are, and blank or missing values are
    left out (a JSON merge patch drops the keys whose value is null).
    """
    if not unmapped:
        return _null("JSON")
    pairs = _fn("json_object", *[e for n in sorted(unmapped) for e in (_const(n), source_text(n, types[n]))])
    merged = _fn("json_merge_patch", _const("{}"), pairs).cast("VARCHAR")
    return _fn("nullif", merged, _const("{}")).cast("JSON")


@lru_cache(maxsize=32)
def check_time_format(time_format: str) -> None:
    """Raise :class:`InvalidEventLogError` if DuckDB's ``strptime`` does not accept `time_format`.

    Examples
    --------
    >>> check_time_format("%d/%m/%Y %H:%M")
    >>> try:
    ...     check_time_format("%Q")
    ... except InvalidEventLogError as error:
    ...     print(error.parameter)
    time_format
    """
    try:
        with duckdb.connect() as engine:
            engine.execute("SELECT try_strptime('', ?)", [time_format])
    except duckdb.Error as exc:
        problem = str(exc).partition("Error: ")[2] or str(exc)
        raise InvalidEventLogError(
            f"the time format {time_format!r} is not a strptime format ({problem}); write it as in '%d/%m/%Y %H:%M'",
            parameter="time_format",
        ) from None


def check_zone(tz: str) -> None:
    """Raise :class:`InvalidEventLogError` if `tz` is not a time zone DuckDB knows (an IANA name).

    Examples
    --------
    >>> check_zone("Asia/Dubai")
    >>> try:
    ...     check_zone("Mars/Olympus")
    ... except InvalidEventLogError as error:
    ...     print(error.parameter)
    tz
    """
    with duckdb.connect() as engine:
        known = engine.execute("SELECT count(*) FROM pg_timezone_names() WHERE name = ?", [tz]).fetchall()[0][0]
    if not known:
        raise InvalidEventLogError(f"unknown time zone {tz!r}; use an IANA name such as 'Asia/Dubai' or 'UTC'", parameter="tz")


def time_range_problems(name: str, source: str, parsed: Expression) -> list[tuple[Expression, str, Expression]]:
    """The problems of a parsed time outside [:data:`EARLIEST_TIME`, :data:`TIME_LIMIT`), the time shown in UTC."""
    shown = _fn("strftime", _fn("timezone", _const("UTC"), parsed), _const("%Y-%m-%d %H:%M"))
    earliest = _const(EARLIEST_TIME.isoformat()).cast("TIMESTAMPTZ")
    limit = _const(TIME_LIMIT.isoformat()).cast("TIMESTAMPTZ")
    return [
        (parsed < earliest, source, _fn("concat", _const(f"{name} "), shown, _const(f" is before {EARLIEST_TIME:%Y-%m-%d}"))),
        (parsed >= limit, source, _fn("concat", _const(f"{name} "), shown, _const(f" is not before {TIME_LIMIT:%Y-%m-%d}"))),
    ]


def parse_time(source: str, arrow_type: pa.DataType, tz: str, time_format: str | None) -> tuple[Expression, Expression]:
    """Return (parsed time, raw text) for a time column `source` of type `arrow_type`.

    Parameters
    ----------
    source : str
        The source column.
    arrow_type : pyarrow.DataType
        Its type: a timestamp, a date, or anything read as text.
    tz : str
        The time zone of times written without an offset.
    time_format : str or None
        A strptime format for times given as text; None accepts ISO 8601 and dates.

    Returns
    -------
    tuple of Expression
        The time as ``TIMESTAMPTZ`` (NULL where it does not parse), and the value as given
        (NULL where it is missing).
    """
    raw = source_text(source, arrow_type)
    if pa.types.is_timestamp(arrow_type):
        column = ColumnExpression(source)
        parsed = column.cast("TIMESTAMPTZ") if arrow_type.tz else _fn("timezone", _const(tz), column)
        return parsed, column
    if pa.types.is_date(arrow_type):
        column = ColumnExpression(source)
        return _fn("timezone", _const(tz), column.cast("TIMESTAMP")), column
    if time_format:
        parsed = _fn("try_strptime", raw, _const(time_format))
        if "%z" not in time_format and "%Z" not in time_format:
            parsed = _fn("timezone", _const(tz), parsed)
        return parsed, raw
    # Text without an offset is read in the session's zone, which the store sets to `tz`.
    return raw.try_cast("TIMESTAMPTZ"), raw


@dataclass(frozen=True)
class Normaliser:
    """Build the canonical columns and the quarantine reason for batches of one source.

    Parameters
    ----------
    mapping : mapping of str to str
        Canonical column -> source column, as resolved by :class:`najma.journeys.ColumnMapping`.
    service : str or None
        The service given to every event (overrides a mapped column); None keeps the column.
    default_service : str
        The service of events that have none.
    tz : str
        The time zone of times written without an offset.
    time_format : str or None
        A strptime format for times given as text; None accepts ISO 8601 and dates.
    """

    mapping: Mapping[str, str]
    service: str | None
    default_service: str
    tz: str
    time_format: str | None

    def time(self, source: str, arrow_type: pa.DataType) -> tuple[Expression, Expression]:
        """Return (parsed time, raw text) for a time column of type `arrow_type` (:func:`parse_time`)."""
        return parse_time(source, arrow_type, self.tz, self.time_format)

    def select(self, schema: pa.Schema) -> list[Expression]:
        """Return the expressions that turn a batch with `schema` into staged rows.

        The result has the columns of :data:`STAGE_COLUMNS`, then ``_column`` and ``_reason``
        (both NULL for a good row) and ``_record`` (the source row as JSON, for bad rows only).
        """
        types = {name: schema.field(name).type for name in schema.names}
        values: dict[str, Expression] = {}
        problems: list[tuple[Expression, str, Expression]] = []
        for spec in EVENT_COLUMNS:
            if spec.kind == "internal":
                continue
            source = self.mapping.get(spec.name)
            if source is None or source not in types:
                values[spec.name] = _null(spec.sql_type)
                if spec.required:
                    problems.append((_const(True), spec.name, _const(f"no {spec.name} column in this part of the file")))
                continue
            if spec.kind == "time":
                parsed, raw = self.time(source, types[source])
                values[spec.name] = parsed
                if spec.required:
                    problems.append((raw.isnull(), source, _const(f"missing {spec.name}")))
                shown = self.time_format or "ISO 8601"
                problems.append(
                    (
                        raw.isnotnull() & parsed.isnull(),
                        source,
                        _fn("concat", _const(f"{spec.name} '"), raw, _const(f"' does not parse as a time ({shown})")),
                    )
                )
                problems.extend(time_range_problems(spec.name, source, parsed))
            elif spec.kind == "number" and (pa.types.is_floating(types[source]) or pa.types.is_integer(types[source])):
                values[spec.name] = ColumnExpression(source).cast("DOUBLE")
            elif spec.kind == "number":
                raw = source_text(source, types[source])
                parsed = raw.try_cast("DOUBLE")
                values[spec.name] = parsed
                problems.append(
                    (
                        raw.isnotnull() & parsed.isnull(),
                        source,
                        _fn("concat", _const(f"{spec.name} '"), raw, _const("' is not a number")),
                    )
                )
            else:
                value = source_text(source, types[source])
                if spec.name == "actor":
                    value = _fn("lower", value)
                    problems.append(
                        (
                            value.isnotnull() & ~value.isin(*[_const(a) for a in ACTORS]),
                            source,
                            _fn("concat", _const("actor '"), value, _const(f"' is not one of {', '.join(ACTORS)}")),
                        )
                    )
                values[spec.name] = value
                if spec.required:
                    problems.append((value.isnull(), source, _const(f"missing {spec.name}")))
        service = _const(self.service) if self.service else CoalesceOperator(values["service"], _const(self.default_service))
        values["service"] = service.cast("VARCHAR")

        data_columns = [n for n in schema.names if n != ROW]
        values["attributes"] = attributes_json([n for n in data_columns if n not in self.mapping.values()], types)

        empty = _const(True)
        for name in data_columns:
            empty = empty & _absent(name, types[name])
        problems.insert(0, (empty, "", _const("empty record: no value in any column")))

        column_case: Expression = CaseExpression(problems[0][0], _const(problems[0][1]))
        reason_case: Expression = CaseExpression(problems[0][0], problems[0][2])
        for condition, column, reason in problems[1:]:
            column_case = column_case.when(condition, _const(column))
            reason_case = reason_case.when(condition, reason)
        record = _fn("json_object", *[e for n in data_columns for e in (_const(n), ColumnExpression(n))])
        return [
            *(values[name].alias(name) for name in MAPPABLE),
            values["attributes"].cast("JSON").alias("attributes"),
            ColumnExpression(ROW).cast("BIGINT").alias(ROW),
            column_case.cast("VARCHAR").alias("_column"),
            reason_case.cast("VARCHAR").alias("_reason"),
            CaseExpression(reason_case.isnotnull(), record).cast("JSON").alias("_record"),
        ]
