"""Ratings on Spark: the KPIs, bootstrap and stars of every service and quarter of a Spark build.

The case features are the same Ibis expression as on DuckDB (:func:`najma.rating._kpis.case_features_expr`);
a service and quarter may be split further by channel or agency, as on DuckDB (see :func:`najma.rating.rate`).
The quarter of each case is read on the cluster (a chain of comparisons with the quarters' first
instants in the calendar's zone, since Spark and DuckDB convert zones differently). Then each
service and quarter goes to one executor (``groupBy(...).applyInPandas``), which works out its
KPIs and its bootstrap with the same numpy code as on DuckDB (:class:`najma.rating._kpis.GroupStatistics`,
:func:`najma.rating._ratings.star_probabilities`, seeded by the group's name), and returns one row. Only
those rows reach the driver, where they are scored and starred (:func:`najma.rating._ratings.finish_ratings`).

The executors need najma installed (``pip install najma`` on the cluster's Python, or the wheel
through ``spark-submit --py-files``), since they import :mod:`najma.rating`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import ibis
import numpy as np
import pandas as pd

from najma.errors import InvalidEventLogError
from najma.journeys import Store, previous_quarter, quarter_name, quarter_zone
from najma.journeys._quarter import quarter_expr
from najma.rating._config import RatingConfig, default_config
from najma.rating._history import record_ratings
from najma.rating._kpis import KPIS, NOT_APPLICABLE_WITHIN, GroupStatistics, case_features_expr, group_keys, not_applicable
from najma.rating._model import StarRater
from najma.rating._ratings import finish_ratings, quarter_with_change, star_columns, star_probabilities
from najma.spark._engine import SparkBuild, SparkTables, attach_to_store, build_on_spark, ensure_attachable

__all__ = ["rate_on_spark", "rate_quarter_on_spark", "rate_events_on_spark"]



def _rate_group(features: pd.DataFrame, *, by: str | None, config: RatingConfig, draws: int, seed: int) -> pd.DataFrame:
    """One group (a service and quarter, and its channel or agency when split `by` one) on an executor: its keys,
    cases, KPIs and the probability of each star."""
    keys = group_keys(by)
    key = tuple(features[k].iloc[0] for k in keys)
    group = GroupStatistics(features.sort_values("case_id", kind="stable"), config.min_answers,
                            NOT_APPLICABLE_WITHIN.get(by, ()))
    values = group.values()[0]
    rater = StarRater(config).fit(pd.DataFrame([values], columns=list(KPIS)))
    probabilities = star_probabilities(group, key, rater, draws, seed)
    row = [*key, group.cases, not_applicable(group.applicable), group.provisional, *values, *probabilities]
    return pd.DataFrame([row], columns=[*keys, "cases", "not_applicable", "provisional", *KPIS, *star_columns(config)])


def _result_schema(keys: Sequence[str], config: RatingConfig) -> str:
    named = ", ".join(f"`{name}` string" for name in keys)
    numbers = ", ".join(f"`{name}` double" for name in [*KPIS, *star_columns(config)])
    return f"{named}, cases long, not_applicable string, provisional boolean, {numbers}"


def rate_on_spark(
    tables: SparkTables, *, quarters: Sequence[str] | None = None, by: str | None = None, config: RatingConfig | None = None,
    draws: int = 200, seed: int = 0,
) -> pd.DataFrame:
    """Rate every service and quarter of a Spark build (see :func:`najma.rating.rate`, whose table it returns).

    Parameters
    ----------
    tables : SparkTables
        The tables of :func:`najma.spark.build_on_spark`.
    quarters : sequence of str, optional
        Rate only these quarters.
    by : {"channel", "agency"}, optional
        Rate each service and quarter per channel (the one a case was served on wholly, or ``"mixed"``) or per
        agency of the case's first event, as :func:`najma.rating.rate` does.
    config : RatingConfig, optional
        The model; the shipped default by default.
    draws : int, default 200
        Bootstrap draws per group; 0 skips the uncertainty.
    seed : int, default 0
        Seeds the bootstrap, as :func:`najma.rating.rate` does: both engines give the same probabilities.
    """
    config = config or default_config()
    features = _features_with_quarter(tables, config)
    if quarters is not None:
        features = features.filter(features.quarter.isin([quarter_name(q) for q in quarters]))
    keys = group_keys(by)  # refuses an unknown `by` before Spark runs
    rated = (tables.to_spark(features).groupBy(*keys)
             .applyInPandas(partial(_rate_group, by=by, config=config, draws=draws, seed=seed), _result_schema(keys, config))
             .toPandas())
    rated = rated.sort_values(keys).reset_index(drop=True).astype({"cases": "int64", **dict.fromkeys(keys, "object")})
    return finish_ratings(rated, config)


def _features_with_quarter(tables: SparkTables, config: RatingConfig) -> ibis.expr.types.Table:
    features = case_features_expr(tables, satisfied_at=config.satisfied_at)
    # As seconds since 1970: instants collected from Spark would be read in the driver's local zone.
    seconds = features.start.epoch_seconds()
    span = features.aggregate(first=seconds.min(), last=seconds.max()).to_pandas()
    if span.empty or pd.isna(span.loc[0, "first"]):
        raise InvalidEventLogError(f"{tables.path}: the Spark build has no journeys to rate")
    first, last = (pd.Timestamp(int(span.loc[0, name]), unit="s", tz="UTC") for name in ("first", "last"))
    return features.mutate(quarter=quarter_expr(features.start, quarter_zone(tables), first, last))


def rate_quarter_on_spark(
    tables: SparkTables, quarter: str, config: RatingConfig | None = None, draws: int = 200
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rate `quarter` and the quarter before it on Spark, as :func:`najma.rating.rate_quarter` does on DuckDB."""
    config = config or default_config()
    quarter = quarter_name(quarter)
    rated = rate_on_spark(tables, quarters=[previous_quarter(quarter), quarter], config=config, draws=draws)
    found = [] if (rated["quarter"] == quarter).any() else _quarters(tables, config)
    return quarter_with_change(rated, quarter, found)


def _quarters(tables: SparkTables, config: RatingConfig) -> list[str]:
    features = _features_with_quarter(tables, config)
    return list(np.unique(features.select("quarter").distinct().to_pandas()["quarter"]))


def rate_events_on_spark(
    store: Store, session: object, events: Sequence[str], out: str, quarter: str, *, config: RatingConfig | None = None,
    draws: int = 200, record: bool = True, progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, SparkBuild, list[str]]:
    """Build the journeys of Parquet events on Spark, rate `quarter`, and leave the results in `store`.

    The steps and journeys are written as Parquet to `out` and the store reads them from there
    (:func:`najma.spark.attach_to_store`); the ratings join the store's rating history.
    The store's catalogue (``najma catalogue use``) gives the roles, SLAs and calendar.

    Returns
    -------
    (DataFrame, SparkBuild, list of str)
        The ratings as :func:`najma.rating.rate_quarter` returns them (its first table), the build, and
        what the user should know about the store (see :func:`najma.spark.attach_to_store`).
    """
    ensure_attachable(store)
    build = build_on_spark(session, events, store, out, progress=progress)
    if progress:
        progress("ratings")
    ratings, _ = rate_quarter_on_spark(build.tables, quarter, config, draws)
    notes = attach_to_store(store, build)
    if record:
        record_ratings(store, ratings)
    return ratings, build, notes
