"""Survey answers as their own input: loaded beside the events, linked to journeys without changing them.

A survey file (CSV or Parquet, read as event logs are: see :func:`najma.journeys.open_source`) holds
one answer a row: the case it answers (``case_id``) or the customer who gave it (``customer_id``),
when it was given (``answered_at``), its ``score`` on a stated scale (1 to 5 by default), and
optionally the ``service``, ``channel``, ``question`` and a free-text ``comment``. Every other column
is kept as an attribute. Columns are mapped as event columns are (:class:`najma.journeys.ColumnMapping`),
in the canonical names of their twins among the event columns: the answer's time is ``timestamp``,
its score ``satisfaction`` and its question ``activity``; a file whose columns are called
``answered_at``, ``score`` and ``question`` needs no mapping for them. The comment is read from
the column ``comment`` (or the one named). Customer ids are pseudonymised with the store's key, as
the events' are, so that an answer finds its customer's journeys.

Bad rows are quarantined with their place, column and reason, as events are (``survey_quarantine``):
no case and no customer; a score that is missing, not a number or outside the scale; a time that
does not parse or lies outside the years events may have; no time on an answer keyed by customer,
which is linked by its time. Read = loaded + quarantined. A file is loaded once: loading it again
with the same options adds nothing.

Linking
-------
The answers are kept as loaded; their link to a journey is read from the journeys as they stand
(:func:`survey_links`), so a rebuild of the journeys relinks them and no journey is ever changed.

- An answer with a case id answers that case: the journey with that case id (in the answer's
  service, when it names one). A case id held by journeys of several services links nothing
  unless the answer names its service.
- An answer with only a customer answers that customer's journey (in the answer's service, when it
  names one) whose span, first to last event, holds the answer's time (of several, the one that
  started last); else the one that ended last before the answer, if it ended at most
  ``window_days`` (:data:`LINK_WINDOW_DAYS`, 30 by default) before it. A survey is sent after a
  service is delivered and answered within weeks; an answer given later is not read as a verdict
  on a journey long over. Ties go to the service and case id in text order.

An answer that links to nothing keeps its row, with the reason (:data:`UNLINKED_REASONS`); it is
counted in :func:`survey_summary`, never dropped.

Satisfaction
------------
The satisfaction KPIs (:mod:`najma.rating._kpis`) read a case's linked answers, their scores mapped
linearly from their scale onto the events' scale of 1 to 5 (:data:`SATISFACTION_SCALE`), and
averaged per case. A case with linked answers is read from them alone; a case without keeps the
satisfaction its events carry. So an answer loaded both as an event column and as a survey counts
once, and a survey never mixes with the event column within one case.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb
import ibis
from duckdb import CaseExpression, ColumnExpression, ConstantExpression, Expression, FunctionExpression
from ibis.expr.types import Table

from najma._lazy import lazy_module
from najma.errors import InvalidParameterError
from najma.journeys._filters import CaseFilter
from najma.journeys._mapping import ColumnMapping
from najma.journeys._normalise import (
    attributes_json,
    check_time_format,
    parse_time,
    source_text,
    time_range_problems,
    with_clean_text,
)
from najma.journeys._pseudonym import Pseudonymiser, reject_rows
from najma.journeys._sources import ROW, Source
from najma.journeys._store import Store
from najma.journeys._tables import JourneyTables, require_journeys
from najma.journeys._variants import journey_table

pa = lazy_module("pyarrow")
pc = lazy_module("pyarrow.compute")

__all__ = ["SurveyLoad", "SurveySummary", "load_survey", "survey_links", "case_satisfaction", "survey_summary",
           "has_answers", "LINK_WINDOW_DAYS", "SATISFACTION_SCALE", "SURVEY_DEFAULTS", "UNLINKED_REASONS"]

#: The longest time, in days, after the end of a customer's journey in which an answer given by
#: the customer (without a case id) is still linked to it.
LINK_WINDOW_DAYS = 30
#: The scale of the events' satisfaction column, onto which survey scores are mapped for the KPIs.
SATISFACTION_SCALE: tuple[float, float] = (1.0, 5.0)
#: The survey's columns read by their own name when the mapping does not name them: canonical name -> column.
SURVEY_DEFAULTS = ColumnMapping({"timestamp": "answered_at", "satisfaction": "score", "activity": "question"})
#: The canonical columns a survey answer is read from, and the answer's column each fills.
_FIELDS: dict[str, str] = {"case_id": "case_id", "customer_id": "customer_id", "service": "service", "channel": "channel",
                           "timestamp": "answered_at", "satisfaction": "score", "activity": "question"}
#: Why an answer links to no journey.
UNLINKED_REASONS: dict[str, str] = {
    "no_case": "no journey has the answer's case id",
    "ambiguous_case": "the case id is a case of more than one service; give the answer's service",
    "no_customer": "no journey of the answer's customer",
    "out_of_window": "no journey of the customer holds the answer's time or ended within the window before it",
}
_KEY = ("batch_id", "row")


@dataclass(frozen=True)
class SurveyLoad:
    """What a survey load did: its batch, the rows read, loaded and quarantined, and whether it was loaded before."""

    batch_id: int
    source: str
    read: int
    loaded: int
    quarantined: int
    skipped: bool


@dataclass(frozen=True)
class SurveySummary:
    """The answers and their link to journeys, and the response rate of the journeys selected.

    Attributes
    ----------
    answers, linked : int
        The answers counted (those linked to the journeys selected, and the unlinked ones of the
        service or, without a service, all unlinked ones) and of them those linked.
    unlinked : dict of str to int
        The unlinked answers by reason (the texts of :data:`UNLINKED_REASONS`).
    journeys, answered : int
        The journeys selected, and those with at least one linked answer.
    customers : int
        The distinct customers of the journeys selected (for the small-group rule of what shows the summary).
    """

    answers: int
    linked: int
    unlinked: dict[str, int]
    journeys: int
    answered: int
    customers: int

    @property
    def link_rate(self) -> float:
        """Linked answers / answers; NaN without answers."""
        return self.linked / self.answers if self.answers else math.nan

    @property
    def response_rate(self) -> float:
        """Answered journeys / journeys selected; NaN without journeys."""
        return self.answered / self.journeys if self.journeys else math.nan


def load_survey(
    store: Store, source: Source, *, mapping: ColumnMapping | None = None, comment: str | None = None,
    scale: tuple[float, float] = SATISFACTION_SCALE, service: str | None = None, tz: str = "UTC",
    time_format: str | None = None,
) -> SurveyLoad:
    """Load the survey answers of `source` into `store`, quarantining its bad rows; the journeys are not touched.

    Parameters
    ----------
    store : Store
        The store of the journeys the answers are about.
    source : Source
        The survey file (see :func:`najma.journeys.open_source`).
    mapping : ColumnMapping, optional
        Source columns onto the canonical names: case_id, customer_id, service, channel, timestamp
        (when the answer was given), satisfaction (its score), activity (its question).
    comment : str, optional
        The column of free-text comments; by default ``comment`` when the file has one.
    scale : (float, float), default (1, 5)
        The lowest and highest score; a score outside it is quarantined.
    service : str, optional
        The service of every answer (overrides a mapped column).
    tz : str, default "UTC"
        The zone of times written without an offset.
    time_format : str, optional
        A strptime format of the times; by default ISO 8601.

    Raises
    ------
    InvalidParameterError
        If `scale` is not a low and a higher finite number.
    SourceReadError
        If a mapped column is missing, or the file has neither a case nor a customer column, or no score.
    """
    low, high = _checked_scale(scale)
    if time_format is not None:
        check_time_format(time_format)
    mapping = mapping or ColumnMapping()
    fingerprint = hashlib.sha256(json.dumps([source.fingerprint(), mapping.columns, comment, [low, high], service, tz,
                                             time_format], sort_keys=True).encode()).hexdigest()
    batches = store.backend.table("survey_batches")
    previous = batches.filter(batches.fingerprint == fingerprint).select(
        "batch_id", "rows_read", "rows_loaded", "rows_quarantined").to_pyarrow().to_pylist()
    if previous:
        done = previous[0]
        return SurveyLoad(done["batch_id"], source.name, done["rows_read"], done["rows_loaded"], done["rows_quarantined"], True)
    batch_id = int(batches.batch_id.max().fill_null(0).execute()) + 1
    reader = _Reader(source, mapping, comment, (low, high), service, tz, time_format)
    with store.transaction(), duckdb.connect() as engine:
        engine.execute("SET TimeZone = ?", [tz])  # text without an offset is read in this zone
        loaded = quarantined = 0
        pseudonymiser: Pseudonymiser | None = None
        for batch in source.batches():
            reader.resolve(batch.schema.names)  # a file its mapping does not fit is refused before any id is hashed
            pseudonymiser = pseudonymiser or store.pseudonymiser()
            good, bad = reader.normalised(engine, batch, pseudonymiser)
            loaded, quarantined = loaded + good.num_rows, quarantined + bad.num_rows
            _write(store, "survey_answers", good, batch_id)
            _write(store, "survey_quarantine", bad, batch_id)
        rejects = reject_rows(engine, source, pseudonymiser or store.pseudonymiser()).to_arrow_table()
        _write(store, "survey_quarantine", rejects, batch_id)
        quarantined += rejects.num_rows
        store.append("survey_batches", pa.table({
            "batch_id": [batch_id], "source": [source.name], "kind": [source.kind], "fingerprint": [fingerprint],
            "mapping": [json.dumps(mapping.columns)], "tz": [tz], "time_format": pa.array([time_format], pa.string()),
            "scale_min": [low], "scale_max": [high], "rows_read": [loaded + quarantined], "rows_loaded": [loaded],
            "rows_quarantined": [quarantined], "loaded_at": pa.array([None], pa.timestamp("us", "UTC"))}))
    return SurveyLoad(batch_id, source.name, loaded + quarantined, loaded, quarantined, False)


def _checked_scale(scale: Sequence[float]) -> tuple[float, float]:
    try:
        low, high = (float(value) for value in scale)
    except (TypeError, ValueError):
        low = high = math.nan
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise InvalidParameterError(f"The 'scale' parameter of load_survey must be a lowest and a higher highest score, "
                                    f"e.g. (1, 5). Got {scale!r} instead.", parameter="scale")
    return low, high


def _write(store: Store, table: str, rows: pa.Table, batch_id: int) -> None:
    if rows.num_rows:
        store.append(table, rows.append_column("batch_id", pa.array([batch_id] * rows.num_rows, pa.int32())))


@dataclass(frozen=True)
class _Reader:
    """Turn the Arrow batches of one survey source into answers and quarantined rows."""

    source: Source
    mapping: ColumnMapping
    comment: str | None
    scale: tuple[float, float]
    service: str | None
    tz: str
    time_format: str | None

    def resolve(self, names: Sequence[str]) -> dict[str, str]:
        """Canonical name -> source column: the mapping's, then :data:`SURVEY_DEFAULTS`, then columns of the canonical name."""
        data = [name for name in names if name != ROW]
        taken = set(self.mapping.columns.values())
        defaults = {name: column for name, column in SURVEY_DEFAULTS.columns.items() if column in data and column not in taken}
        resolved = {**defaults, **self.mapping.columns}
        for name in _FIELDS:
            if name not in resolved and name in data and name not in taken:
                resolved[name] = name
        missing = sorted(column for column in resolved.values() if column not in data)
        if self.comment is not None and self.comment not in data:
            missing.append(self.comment)
        if missing:
            raise self.source.fail(f"the survey column {missing[0]!r} is missing; columns available: {', '.join(data)}")
        if "case_id" not in resolved and "customer_id" not in resolved:
            raise self.source.fail(f"no case_id or customer_id column: map one, e.g. case=COLUMN; columns available: {', '.join(data)}")
        if "satisfaction" not in resolved:
            raise self.source.fail(f"no score column: map one, e.g. satisfaction=COLUMN; columns available: {', '.join(data)}")
        return {name: column for name, column in resolved.items() if name in _FIELDS}

    def normalised(self, engine: duckdb.DuckDBPyConnection, batch: pa.RecordBatch,
                   pseudonymiser: Pseudonymiser) -> tuple[pa.Table, pa.Table]:
        """The batch's good rows as answers, and its bad rows as quarantined rows (without the batch id)."""
        resolved = self.resolve(batch.schema.names)
        if "customer_id" in resolved:
            batch = pseudonymiser.in_batch(batch, resolved["customer_id"])
        rows = engine.from_arrow(pa.Table.from_batches([with_clean_text(batch)])).select(*self.select(batch.schema, resolved))
        table = rows.to_arrow_table()
        bad = pc.is_valid(table.column("_reason"))
        answers = table.filter(pc.invert(bad)).drop_columns(["_column", "_reason", "_record"]).rename_columns(
            {ROW: "row"} | {name: _FIELDS.get(name, name) for name in table.column_names if name in _FIELDS})
        quarantined = table.filter(bad).select([ROW, "_column", "_reason", "_record"]).rename_columns(
            ["row", "column", "reason", "record"])
        quarantined = quarantined.append_column("source", pa.array([self.source.name] * quarantined.num_rows, pa.string()))
        return answers, quarantined.append_column("unit", pa.array([self.source.unit] * quarantined.num_rows, pa.string()))

    def select(self, schema: pa.Schema, resolved: Mapping[str, str]) -> list[Expression]:
        """The expressions that turn a batch with `schema` into an answer with ``_column``, ``_reason`` and ``_record``."""
        types = {name: schema.field(name).type for name in schema.names}
        values: dict[str, Expression] = {name: source_text(column, types[column]) for name, column in resolved.items()
                                         if name not in ("timestamp", "satisfaction")}
        for name in _FIELDS:
            values.setdefault(name, ConstantExpression(None).cast("VARCHAR"))
        if self.service is not None:
            values["service"] = ConstantExpression(self.service).cast("VARCHAR")
        keyless = values["case_id"].isnull() & values["customer_id"].isnull()
        problems: list[tuple[Expression, str, Expression]] = [
            (keyless, resolved.get("case_id") or resolved["customer_id"], ConstantExpression("missing case_id and customer_id")),
        ]
        score, score_problems = self._score(resolved["satisfaction"], types[resolved["satisfaction"]])
        values["satisfaction"] = score
        problems.extend(score_problems)
        values["timestamp"] = ConstantExpression(None).cast("TIMESTAMPTZ")
        if "timestamp" in resolved:
            problems.extend(self.time(resolved["timestamp"], types[resolved["timestamp"]], values))
        elif "customer_id" in resolved:
            problems.append((values["case_id"].isnull(), resolved["customer_id"],
                             ConstantExpression("no answered_at column: an answer by customer is linked by its time")))
        data = [name for name in schema.names if name != ROW]
        unmapped = [name for name in data if name not in resolved.values() and name != self._comment(data)]
        empty = ConstantExpression(True)
        for name in data:
            empty = empty & source_text(name, types[name]).isnull()
        problems.insert(0, (empty, "", ConstantExpression("empty record: no value in any column")))
        column_case: Expression = CaseExpression(problems[0][0], ConstantExpression(problems[0][1]))
        reason_case: Expression = CaseExpression(problems[0][0], problems[0][2])
        for condition, column, reason in problems[1:]:
            column_case = column_case.when(condition, ConstantExpression(column))
            reason_case = reason_case.when(condition, reason)
        record = FunctionExpression("json_object", *[e for n in data for e in (ConstantExpression(n), ColumnExpression(n))])
        comment = self._comment(data)
        return [
            *(values[name].alias(name) for name in _FIELDS),
            ConstantExpression(self.scale[0]).cast("DOUBLE").alias("scale_min"),
            ConstantExpression(self.scale[1]).cast("DOUBLE").alias("scale_max"),
            (source_text(comment, types[comment]) if comment else ConstantExpression(None).cast("VARCHAR")).alias("comment"),
            attributes_json(unmapped, types).cast("JSON").alias("attributes"),
            ColumnExpression(ROW).cast("BIGINT").alias(ROW),
            column_case.cast("VARCHAR").alias("_column"),
            reason_case.cast("VARCHAR").alias("_reason"),
            CaseExpression(reason_case.isnotnull(), record).cast("JSON").alias("_record"),
        ]

    def _comment(self, data: Sequence[str]) -> str | None:
        if self.comment is not None:
            return self.comment
        return "comment" if "comment" in data and "comment" not in self.mapping.columns.values() else None

    def _score(self, column: str, arrow_type: pa.DataType) -> tuple[Expression, list[tuple[Expression, str, Expression]]]:
        """The score as a number, and its problems: missing, not a number, outside the scale."""
        raw = source_text(column, arrow_type)
        numeric = pa.types.is_floating(arrow_type) or pa.types.is_integer(arrow_type)
        score = ColumnExpression(column).cast("DOUBLE") if numeric else raw.try_cast("DOUBLE")
        low, high = self.scale
        shown = f"{low:g}-{high:g}"
        return score, [
            (raw.isnull(), column, ConstantExpression("missing score")),
            (score.isnull(), column, FunctionExpression("concat", ConstantExpression("score '"), raw,
                                                        ConstantExpression("' is not a number"))),
            ((score < low) | (score > high) | FunctionExpression("isnan", score), column,
             FunctionExpression("concat", ConstantExpression("score "), raw, ConstantExpression(f" is outside the scale {shown}"))),
        ]

    def time(self, column: str, arrow_type: pa.DataType, values: dict[str, Expression]) -> list[tuple[Expression, str, Expression]]:
        """Parse the answer's time as event times are parsed, into ``values``; return its problems."""
        parsed, raw = parse_time(column, arrow_type, self.tz, self.time_format)
        values["timestamp"] = parsed
        shown = self.time_format or "ISO 8601"
        return [
            (values["case_id"].isnull() & raw.isnull(), column,
             ConstantExpression("missing answered_at: an answer by customer is linked by its time")),
            (raw.isnotnull() & parsed.isnull(), column,
             FunctionExpression("concat", ConstantExpression("answered_at '"), raw.cast("VARCHAR"),
                                ConstantExpression(f"' does not parse as a time ({shown})"))),
            *time_range_problems("answered_at", column, parsed),
        ]


# -- linking ---------------------------------------------------------------------------------------


def survey_links(store: JourneyTables, *, window_days: float = LINK_WINDOW_DAYS) -> Table:
    """Every answer with the journey it links to, or the reason it links to none (see the module's rules).

    Parameters
    ----------
    store : Store
        A store with survey answers and built journeys.
    window_days : float, default :data:`LINK_WINDOW_DAYS`
        How long after a journey's end an answer by its customer still links to it.

    Returns
    -------
    ibis Table
        The answers' columns, with ``linked_service``, ``linked_case_id``, ``linked_by`` (``case``,
        ``customer during`` or ``customer after``) and ``unlinked`` (the reason, None when linked).
    """
    if not (isinstance(window_days, int | float) and math.isfinite(window_days) and window_days >= 0):
        raise InvalidParameterError(f"The 'window_days' parameter of survey_links must be a number of days, 0 or more. "
                                    f"Got {window_days!r} instead.", parameter="window_days")
    answers = store.backend.table("survey_answers")
    require_journeys(store)
    j = store.backend.table("journeys").select(
        j_service="service", j_case_id="case_id", j_customer_id="customer_id", j_start="start", j_end="end")
    same_service = answers.service.isnull() | (answers.service == j.j_service)
    by_case = answers.filter(answers.case_id.notnull()).join(j, [answers.case_id == j.j_case_id, same_service])
    by_case = by_case.select(*_KEY, "j_service", "j_case_id", "j_start", "j_end", rank=ibis.literal(0),
                             linked_by=ibis.literal("case"), candidates=ibis._.j_case_id.count().over(group_by=list(_KEY)))
    window = ibis.interval(seconds=int(window_days * 86400))
    by_customer = answers.filter(answers.case_id.isnull()).join(j, [answers.customer_id == j.j_customer_id, same_service])
    holds = by_customer.answered_at <= by_customer.j_end
    by_customer = by_customer.filter((by_customer.j_start <= by_customer.answered_at)
                                     & (by_customer.answered_at <= by_customer.j_end + window))
    by_customer = by_customer.select(*_KEY, "j_service", "j_case_id", "j_start", "j_end", rank=ibis.ifelse(holds, 1, 2),
                                     linked_by=ibis.ifelse(holds, "customer during", "customer after"),
                                     candidates=ibis.literal(1).cast("int64"))
    candidates = by_case.union(by_customer)
    order = [candidates["rank"], ibis.desc(ibis.ifelse(candidates["rank"] == 1, candidates.j_start, candidates.j_end)),
             candidates.j_service, candidates.j_case_id]
    chosen = candidates.mutate(n=ibis.row_number().over(group_by=list(_KEY), order_by=order))
    chosen = chosen.filter((chosen.n == 0) & (chosen.candidates == 1)).select(
        *_KEY, linked_service="j_service", linked_case_id="j_case_id", linked_by="linked_by")
    customers = j.select(customer_id="j_customer_id").distinct()
    known = answers.left_join(chosen, list(_KEY)).select(answers, chosen.linked_service, chosen.linked_case_id, chosen.linked_by)
    known = known.left_join(customers, "customer_id").select(known, has_journeys=customers.customer_id.notnull())
    ambiguous = by_case.filter(by_case.candidates > 1).select(*_KEY).distinct().mutate(ambiguous=ibis.literal(True))
    linked = known.left_join(ambiguous, list(_KEY)).select(known, ambiguous.ambiguous)
    reason = ibis.cases(
        (linked.linked_case_id.notnull(), ibis.null("string")),
        (linked.ambiguous.notnull(), ibis.literal(UNLINKED_REASONS["ambiguous_case"])),
        (linked.case_id.notnull(), ibis.literal(UNLINKED_REASONS["no_case"])),
        (~linked.has_journeys, ibis.literal(UNLINKED_REASONS["no_customer"])),
        else_=ibis.literal(UNLINKED_REASONS["out_of_window"]),
    )
    return linked.mutate(unlinked=reason).drop("has_journeys", "ambiguous")


def case_satisfaction(store: JourneyTables, *, window_days: float = LINK_WINDOW_DAYS) -> Table:
    """Per linked case (service, case_id): its answers (``answers``) and their mean score on :data:`SATISFACTION_SCALE`
    (``survey_satisfaction``), each score mapped linearly from its own scale.

    The answers are linked to the store's journeys as they stand, whichever journeys are read with them
    (a selection, a redesign's projection), so that an answer keeps its journey."""
    links = survey_links(store, window_days=window_days)
    low, high = SATISFACTION_SCALE
    on_scale = low + (links.score - links.scale_min) / (links.scale_max - links.scale_min) * (high - low)
    linked = links.filter(links.linked_case_id.notnull()).mutate(on_scale=on_scale)
    return linked.group_by(service="linked_service", case_id="linked_case_id").aggregate(
        answers=linked.count(), survey_satisfaction=linked.on_scale.mean())


def has_answers(store: JourneyTables) -> bool:
    """Whether the store holds survey answers (tables without the table, e.g. a Spark build's, hold none)."""
    return store.has_table("survey_answers") and bool(store.backend.table("survey_answers").count().execute())


def survey_summary(store: Store, *, where: CaseFilter | None = None, window_days: float = LINK_WINDOW_DAYS) -> SurveySummary:
    """Count the answers, their links and the journeys they answer, for the journeys that pass `where`.

    The answers counted are those linked to the journeys selected, with the unlinked answers of the
    services selected (an unlinked answer naming no service counts only when no service is selected).
    The response rate is answered journeys / journeys selected, the link rate linked / answers.
    """
    journeys = journey_table(store, where)
    selected = journeys.select("service", "case_id")
    links = survey_links(store, window_days=window_days)
    linked = links.join(selected, [links.linked_service == selected.service, links.linked_case_id == selected.case_id])
    unlinked = links.filter(links.unlinked.notnull())
    if where is not None and where.service is not None:
        services = [where.service] if isinstance(where.service, str) else list(where.service)
        unlinked = unlinked.filter(unlinked.service.isin(services))
    reasons = unlinked.group_by("unlinked").aggregate(n=unlinked.count()).to_pyarrow().to_pylist()
    answered = linked.select(linked.linked_service, linked.linked_case_id).distinct().count().execute()
    n_linked = linked.count().execute()
    by_reason = {row["unlinked"]: int(row["n"]) for row in reasons}
    counted = journeys.aggregate(journeys=journeys.count(), customers=journeys.customer_id.nunique()).to_pyarrow().to_pylist()[0]
    return SurveySummary(int(n_linked) + sum(by_reason.values()), int(n_linked), by_reason, int(counted["journeys"]),
                         int(answered), int(counted["customers"]))

