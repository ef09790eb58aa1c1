"""The ratings people are shown of a quarter: what was published, else today's rating labelled a draft.

A quarter published under the model in use (same configuration hash) is shown as its latest
published revision, never re-rated: the report and the dashboard then show the figures the
programme office published, whatever events arrived since. A service with cases in the quarter
that the publication does not hold (its log was loaded later, or no case of it had started by the
cut-off) is rated from today's data and named as a draft beside the published ones. A quarter not
published, or published under another model, is rated from today's data and is a *draft*. Either
way the change since last quarter compares with the quarter before as it was published when it was
(:func:`najma.rating.published_before`), else with that quarter re-rated today (a draft too).
:class:`Provenance` says which of these a table is.

Examples
--------
>>> from najma.journeys import Store
>>> from najma.rating import publish
>>> store = Store(sample_path)  # a store holding the sample: Store(path), then najma.sample.load_sample(store)
>>> quarter_ratings(store, "2025Q4", draws=0).provenance.draft
True
>>> _ = publish(store, "2025Q3", draws=0, by="analyst")
>>> shown = quarter_ratings(store, "2025Q3", draws=0).provenance
>>> shown.draft, int(shown.publication["revision"]), shown.rerated
(False, 1, ())
>>> quarter_ratings(store, "2025Q3", draws=0, published=False).provenance.everything_rerated
True
>>> quarter_ratings(store, "2025Q4", draws=0).provenance.before_published
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

__all__ = ["Provenance", "ShownQuarter", "quarter_ratings", "with_published"]


@dataclass(frozen=True)
class Provenance:
    """Where the ratings of a quarter come from.

    Attributes
    ----------
    quarter : str
        The quarter.
    publication : mapping
        The record of its latest publication under the model in use (revision, cut-off, when, by
        whom); empty when it was not published under it.
    rerated : tuple of str
        The services whose rows are rated from today's data although the quarter was published
        (the publication does not hold them); empty when every row is published or none could be.
    everything_rerated : bool
        Whether every row is rated from today's data: the quarter was not published, or its
        publication was set aside (``najma rate``, a per-channel view).
    before_published : bool
        Whether the change compares with the quarter before as it was published.
    """

    quarter: str
    publication: Mapping[str, object]
    rerated: tuple[str, ...]
    everything_rerated: bool
    before_published: bool

    @property
    def draft(self) -> bool:
        """Whether any row shown is today's rating rather than what was published."""
        return self.everything_rerated or bool(self.rerated)


@dataclass(frozen=True, eq=False)
class ShownQuarter:
    """A quarter's ratings as they are shown, and where they come from.

    Attributes
    ----------
    ratings : DataFrame
        The quarter's rows, as :func:`najma.rating.rate_quarter` returns them (with ``stars_before`` and ``change``).
    before : DataFrame
        The rows of the quarter before that the change compares with (empty when it has none).
    provenance : Provenance
        Which rows were published and which are today's.
    """

    ratings: pd.DataFrame
    before: pd.DataFrame
    provenance: Provenance


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
        compares with the published quarter before, and the provenance names the publication set aside.

    Returns
    -------
    ShownQuarter
    """
    config = config or default_config()
    quarter = quarter_name(quarter)
    if features is None:
        features = case_features(store, satisfied_at=config.satisfied_at)
    record = _publication(store, quarter, config)
    kept = published_ratings(store, quarter).drop(columns="revision") if record and published else pd.DataFrame()
    services = set(features.loc[features["quarter"] == quarter, "service"])
    rerated = sorted(services - set(kept.get("service", [])))
    earlier = published_before(store, quarter)
    earlier_ok = earlier is not None and bool((earlier["config_hash"] == config.config_hash).all())
    wanted = [q for q, needed in ((quarter, bool(rerated)), (previous_quarter(quarter), not earlier_ok)) if needed]
    rated = rate_features(features[features["quarter"].isin(wanted)], config=config, draws=draws)
    today = rated[(rated["quarter"] == quarter) & rated["service"].isin(rerated)]
    now = pd.concat([kept, today], ignore_index=True) if len(kept) else today
    before = earlier.drop(columns="revision") if earlier_ok else rated[rated["quarter"] == previous_quarter(quarter)]
    ratings = with_change(now.sort_values("service", kind="stable"), before, quarter, features["quarter"].unique())
    everything = not len(kept)
    provenance = Provenance(quarter, record, () if everything else tuple(rerated), everything, earlier_ok)
    return ShownQuarter(ratings, before.reset_index(drop=True), provenance)


def with_published(store: Store, rated: pd.DataFrame, config: RatingConfig) -> tuple[pd.DataFrame, dict[str, Provenance]]:
    """Ratings of every quarter (rows of :func:`najma.rating.rate_features`) with the rows each quarter published
    under `config` holds put in place of today's; and the provenance of every quarter.

    So a dashboard that rates every quarter at start shows what was published, and its changes since
    last quarter compare with it.
    """
    quarters = sorted(rated["quarter"].dropna().unique())
    records = {quarter: _publication(store, quarter, config) for quarter in quarters}
    published = published_ratings(store)
    published = published[published["quarter"].isin([q for q, r in records.items() if r])].drop(columns="revision")
    replaced = rated.set_index(["quarter", "service"]).index.isin(published.set_index(["quarter", "service"]).index)
    frame = pd.concat([rated[~replaced], published[[c for c in rated.columns if c in published.columns]]],
                      ignore_index=True).sort_values(["service", "quarter"], kind="stable").reset_index(drop=True)
    provenance = {}
    for quarter in quarters:
        held = set(published.loc[published["quarter"] == quarter, "service"])
        rerated = sorted(set(rated.loc[rated["quarter"] == quarter, "service"]) - held)
        provenance[quarter] = Provenance(quarter, records[quarter], tuple(rerated) if held else (), not held,
                                         bool(records.get(previous_quarter(quarter))))
    return frame, provenance


def _publication(store: Store, quarter: str, config: RatingConfig) -> dict[str, object]:
    """The record of the latest revision of `quarter` if it was published under `config`'s numbers, else {}."""
    revision = latest_revision(store, quarter)
    record = publication_record(store, quarter, revision) if revision else {}
    return record if record and record["config_hash"] == config.config_hash else {}
