"""The ratings people are shown of a quarter: what was published, else today's rating labelled a draft.

A quarter published under the model in use (same configuration hash) is shown as its latest
published revision, never re-rated: the report and the dashboard then show the figures the
programme office published, whatever events arrived since. A quarter not published, or
published under another model, is rated from today's data and is a *draft*. Either way the
change since last quarter compares with the quarter before as it was published when it was
(:func:`najma.rating.published_before`), else with that quarter re-rated today (a draft too).

Examples
--------
>>> import os
>>> from najma.journeys import Store
>>> from najma.rating import publish
>>> from najma.sample import load_sample
>>> os.environ.setdefault("NAJMA_PSEUDONYM_KEY", "example-key")
'...'
>>> store = Store(":memory:"); _ = load_sample(store)
>>> quarter_ratings(store, "2025Q4", draws=0).label
'draft: not published'
>>> _ = publish(store, "2025Q3", draws=0, by="analyst")
>>> shown = quarter_ratings(store, "2025Q3", draws=0)
>>> shown.draft, shown.label.startswith("published revision 1, data cut-off ")
(False, True)
>>> quarter_ratings(store, "2025Q4", draws=0).before_published
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from najma.journeys import Store, previous_quarter, quarter_name
from najma.rating._config import RatingConfig, default_config
from najma.rating._kpis import case_features
from najma.rating._published import latest_revision, publication_record, published_before, published_ratings
from najma.rating._ratings import rate_features, with_change

__all__ = ["ShownQuarter", "quarter_ratings", "with_published"]


@dataclass(frozen=True, eq=False)
class ShownQuarter:
    """A quarter's ratings as they are shown, and where they come from.

    Attributes
    ----------
    quarter : str
        The quarter.
    ratings : DataFrame
        Its rows, as :func:`najma.rating.rate_quarter` returns them (with ``stars_before`` and ``change``).
    before : DataFrame
        The rows of the quarter before that the change compares with (empty when it has none).
    publication : mapping
        The publication record of the ratings shown (revision, cut-off, when, by whom); empty for a draft.
    before_published : bool
        Whether the quarter before is its published revision (else it was re-rated today).
    """

    quarter: str
    ratings: pd.DataFrame
    before: pd.DataFrame
    publication: Mapping[str, object]
    before_published: bool

    @property
    def draft(self) -> bool:
        """Whether the ratings are today's, not a publication."""
        return not self.publication

    @property
    def label(self) -> str:
        """What the ratings are, in English, e.g. "published revision 2, data cut-off 2025-10-03 09:00 UTC"."""
        if self.draft:
            return "draft: not published"
        cutoff = pd.Timestamp(self.publication["cutoff"]).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")
        return f"published revision {int(self.publication['revision'])}, data cut-off {cutoff}"


def quarter_ratings(
    store: Store, quarter: str, config: RatingConfig | None = None, draws: int = 200, *,
    features: pd.DataFrame | None = None, published: bool = True,
) -> ShownQuarter:
    """The ratings of `quarter` to show: published if it was (under `config`), else rated today as a draft.

    Parameters
    ----------
    store : Store
        A store whose journeys are built.
    quarter : str
        The quarter, e.g. ``"2025Q4"``.
    config : RatingConfig, optional
        The model; the shipped default by default.
    draws : int, default 200
        Bootstrap draws for what is rated today.
    features : DataFrame, optional
        The store's case features when already read.
    published : bool, default True
        False rates the quarter today even when it was published (``najma rate``); the change still
        compares with the published quarter before.

    Returns
    -------
    ShownQuarter
    """
    config = config or default_config()
    quarter = quarter_name(quarter)
    record = _publication(store, quarter, config) if published else {}
    earlier = published_before(store, quarter)
    earlier_ok = earlier is not None and bool((earlier["config_hash"] == config.config_hash).all())
    wanted = [q for q, needed in ((quarter, not record), (previous_quarter(quarter), not earlier_ok)) if needed]
    rated = pd.DataFrame()
    if wanted:
        if features is None:
            features = case_features(store, satisfied_at=config.satisfied_at)
        rated = rate_features(features[features["quarter"].isin(wanted)], config=config, draws=draws)
        found = features["quarter"].unique()
    else:
        found = [quarter]
    now = published_ratings(store, quarter).drop(columns="revision") if record else rated
    before = earlier.drop(columns="revision") if earlier_ok else rated[rated["quarter"] == previous_quarter(quarter)]
    ratings = with_change(now, before, quarter, found)
    return ShownQuarter(quarter, ratings, before.reset_index(drop=True), record, earlier_ok)


def with_published(store: Store, rated: pd.DataFrame, config: RatingConfig) -> tuple[pd.DataFrame, dict[str, dict]]:
    """Ratings of every quarter (rows of :func:`najma.rating.rate_features`) with each quarter published under
    `config` replaced by its latest published revision; and the publication record of each such quarter.

    So a dashboard that rates every quarter at start shows what was published, and its changes since
    last quarter compare with it.
    """
    records = {quarter: record for quarter in rated["quarter"].unique()
               if (record := _publication(store, quarter, config))}
    if not records:
        return rated, records
    published = published_ratings(store)
    published = published[published["quarter"].isin(list(records))].drop(columns="revision")
    kept = rated[~rated["quarter"].isin(list(records))]
    frame = pd.concat([kept, published[[c for c in rated.columns if c in published.columns]]], ignore_index=True)
    return frame.sort_values(["service", "quarter"], kind="stable").reset_index(drop=True), records


def _publication(store: Store, quarter: str, config: RatingConfig) -> dict[str, object]:
    """The record of the latest revision of `quarter` if it was published under `config`'s numbers, else {}."""
    revision = latest_revision(store, quarter)
    record = publication_record(store, quarter, revision) if revision else {}
    return record if record and record["config_hash"] == config.config_hash else {}
