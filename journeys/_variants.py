"""Variants: the distinct sequences of activities, how many cases follow each, and what they cost."""

from __future__ import annotations

import ibis
import pandas as pd
from ibis.expr.types import Table

from najma.errors import InvalidParameterError
from najma.journeys._filters import CaseFilter
from najma.journeys._pipeline import VARIANT_SEP
from najma.journeys._tables import JourneyTables

__all__ = ["variants", "journey_table", "journey_summary", "variant_activities"]


def journey_table(store: JourneyTables, where: CaseFilter | None = None) -> Table:
    """The journey table (one row per case) of the cases that pass `where`, as an Ibis table."""
    journeys = store.backend.table("journeys")
    if where is None:
        return journeys
    return where.in_zone_of(store).apply(journeys, **{name: store.backend.table(name) for name in where.tables_read})


def variant_activities(variant: str) -> tuple[str, ...]:
    """Split a variant's text form into its activities.

    Examples
    --------
    >>> variant_activities("Apply → Pay → Issue")
    ('Apply', 'Pay', 'Issue')
    """
    return tuple(variant.split(VARIANT_SEP))


def variants(
    store: JourneyTables, where: CaseFilter | None = None, *, top_k: int | None = None, coverage: float | None = None
) -> pd.DataFrame:
    """Return the variants of the cases that pass `where`, most frequent first.

    Parameters
    ----------
    store : Store or SparkTables
        A store whose journeys were built, or the tables of a Spark build.
    where : CaseFilter, optional
        Which cases; by default all.
    top_k : int, optional
        Keep the `top_k` most frequent variants.
    coverage : float, optional
        Keep the most frequent variants until they cover this share of the cases.

    Returns
    -------
    pandas.DataFrame
        variant, cases, customers (distinct), share, cumulative (share of cases covered up to this
        variant), median_duration_seconds, median_customer_steps, events (per case). Ties in
        frequency are ordered by the variant's text, so the order is deterministic.

    Examples
    --------
    >>> import os, pandas as pd
    >>> from najma.journeys import build_journeys
    >>> from najma.journeys._eventlog import EventLog
    >>> os.environ.setdefault("NAJMA_PSEUDONYM_KEY", "example-key")
    '...'
    >>> log = EventLog.from_frame(pd.DataFrame({
    ...     "case_id": ["a", "a", "b", "b", "c"], "activity": ["Apply", "Pay", "Apply", "Pay", "Apply"],
    ...     "timestamp": pd.date_range("2025-01-05", periods=5, freq="h", tz="UTC")}), service="permit")
    >>> _ = build_journeys(log.store)
    >>> table = variants(log.store)
    >>> [(v, int(c), float(s)) for v, c, s in zip(table.variant, table.cases, table.share)]
    [('Apply → Pay', 2, 0.6666666666666666), ('Apply', 1, 0.3333333333333333)]
    """
    if top_k is not None and top_k < 1:
        raise InvalidParameterError(f"The 'top_k' parameter of variants must be a positive integer. Got {top_k!r} instead.")
    if coverage is not None and not 0 < coverage <= 1:
        raise InvalidParameterError(f"The 'coverage' parameter of variants must be in (0, 1]. Got {coverage!r} instead.")
    frame = _per_variant(journey_table(store, where))
    total = frame.cases.sum()
    frame["share"] = frame.cases / total if total else 0.0
    frame["cumulative"] = frame.share.cumsum()
    if coverage is not None:
        frame = frame[(frame.cumulative - frame.share) < coverage - 1e-12]
    if top_k is not None:
        frame = frame.head(top_k)
    columns = ["variant", "cases", "customers", "share", "cumulative", "median_duration_seconds", "median_customer_steps", "events"]
    return frame[columns].reset_index(drop=True)


@ibis.udf.scalar.builtin(name="hash")
def _text_hash(text: str) -> int:
    """The engine's own hash of `text` (64 bits on DuckDB, 32 on Spark), as a key to group on."""


def _per_variant(journeys: Table) -> pd.DataFrame:
    """Per variant of `journeys`, most frequent first (ties by the text): its cases, customers (distinct), median
    duration and customer steps, and events.

    The rows are grouped on the hash of the variant's text, not on the text: a count of distinct customers per group
    keeps a table of (group, customer) pairs, and a hash of a few bytes is cheaper to keep there than a text of a
    hundred (the whole log's variants of 10.4M events: 312 against 431 ms). Two variants that share a hash would fall
    in one group: each group is checked to hold one text, and the rows are grouped on the text when one does not.
    """
    hashed = _variant_aggregate(journeys, _text_hash(journeys.variant), texts=journeys.variant.nunique(),
                                named=journeys.variant.count()).to_pandas()
    if (hashed.texts == 1).all() and (hashed.named == hashed.cases).all():
        return hashed.drop(columns=["texts", "named"])
    return _variant_aggregate(journeys, journeys.variant).to_pandas()


def _variant_aggregate(journeys: Table, key: ibis.Value, **more: ibis.Scalar) -> Table:
    """The columns of :func:`_per_variant` (and `more`) of `journeys` grouped on `key`, most frequent first."""
    grouped = journeys.group_by(key=key).aggregate(
        variant=journeys.variant.arbitrary(),
        cases=journeys.count(),
        customers=journeys.customer_id.nunique(),
        median_duration_seconds=journeys.duration_seconds.median(),
        median_customer_steps=journeys.customer_steps.median(),
        events=journeys.events.max(),
        **more,
    )
    return grouped.drop("key").order_by([ibis.desc("cases"), "variant"])


def journey_summary(store: JourneyTables, where: CaseFilter | None = None) -> pd.DataFrame:
    """Per service, the journeys of the cases that pass `where`: how many, and how they went.

    Returns
    -------
    DataFrame
        One row per service, by name: ``cases``, ``median_customer_steps``, ``visits_per_case``,
        ``median_duration_seconds``, ``rework_share`` (cases asked for a document again),
        ``handoffs_per_case`` (agency hand-offs), ``completed_share`` and ``abandoned_share``
        (NaN for a service whose catalogue gives no outcome).

    Examples
    --------
    >>> import os, pandas as pd
    >>> from najma.journeys import EventLog, build_journeys
    >>> os.environ.setdefault("NAJMA_PSEUDONYM_KEY", "example-key")
    '...'
    >>> log = EventLog.from_frame(pd.DataFrame({"case_id": ["a", "a", "b"], "activity": ["Apply", "Pay", "Apply"],
    ...     "timestamp": pd.date_range("2025-01-05", periods=3, freq="h", tz="UTC")}), service="permit")
    >>> _ = build_journeys(log.store)
    >>> journey_summary(log.store)[["service", "cases", "median_duration_seconds"]].to_dict("records")
    [{'service': 'permit', 'cases': 2, 'median_duration_seconds': 1800.0}]
    """
    cases = journey_table(store, where)
    return cases.group_by("service").aggregate(
        cases=cases.count(),
        median_customer_steps=cases.customer_steps.median(),
        visits_per_case=cases.visits.mean(),
        median_duration_seconds=cases.duration_seconds.median(),
        rework_share=(cases.document_requests > 0).mean(),
        handoffs_per_case=cases.agency_handoffs.mean(),
        completed_share=(cases.outcome == "completed").mean(),
        abandoned_share=(cases.outcome == "abandoned").mean(),
    ).order_by("service").to_pandas()
