"""Rating history: every rating run kept in the store, per service, quarter and model version.

Each run is added beside the earlier ones, never over them: ``rated_at`` tells the runs apart and
``last_batch`` names the last import batch the store held when it ran, so a quarter whose rating
drifts as late events arrive keeps each value it showed. :func:`rating_history` returns every run,
or with ``latest=True`` the last run of each service, quarter and model version. A rating that is
to stand as the record is published instead (see :func:`najma.rating.publish`).
"""

from __future__ import annotations

import pandas as pd

from najma.errors import InvalidParameterError
from najma.journeys import Store
from najma.journeys._store_schema import HISTORY_COLUMNS

__all__ = ["record_ratings", "rating_history", "last_batch", "HISTORY_COLUMNS"]

#: What one rating run is kept per: a later run of the same key is the latest.
_KEY = ["service", "quarter", "model_version"]


def last_batch(store: Store) -> int | None:
    """The id of the last import batch the store holds (None for a store never loaded)."""
    return max((batch.batch_id for batch in store.batches()), default=None)


def record_ratings(store: Store, ratings: pd.DataFrame) -> int:
    """Add the ratings of :func:`najma.rating.rate` (by service and quarter) to the store's history; return the rows added.

    Raises
    ------
    InvalidParameterError
        If the ratings are split further than service and quarter (per channel or agency).
    """
    if "channel" in ratings or "first_channel" in ratings or "first_agency" in ratings:
        raise InvalidParameterError("record_ratings keeps ratings per service and quarter; got ratings split further.",
                                    parameter="ratings")
    frame = ratings[[c for c in HISTORY_COLUMNS if c not in ("rated_at", "last_batch")]].copy()
    frame["stars"] = frame["stars"].astype("Int32")
    frame["rated_at"] = pd.Timestamp.now(tz="UTC")
    frame["last_batch"] = pd.array([last_batch(store)] * len(frame), dtype="Int32")
    with store.transaction():
        store.append("rating_history", frame)
    return len(frame)


def rating_history(store: Store, service: str | None = None, *, latest: bool = False) -> pd.DataFrame:
    """The recorded rating runs, by service, quarter, model version and time; of one `service` if given.

    Parameters
    ----------
    store : Store
        The store.
    service : str, optional
        Only this service's runs.
    latest : bool, default False
        Only the last run of each service, quarter and model version.

    Examples
    --------
    >>> from najma.journeys import Store
    >>> from najma.rating import rate
    >>> store = Store(sample_path)  # a store holding the sample: Store(path), then najma.sample.load_sample(store)
    >>> ratings = rate(store, quarters=["2025Q4"], draws=0)
    >>> record_ratings(store, ratings), record_ratings(store, ratings)
    (9, 9)
    >>> len(rating_history(store)), len(rating_history(store, latest=True))
    (18, 9)
    """
    history = store.backend.table("rating_history")
    if service is not None:
        history = history.filter(history.service == service)
    if latest:
        newest = history.rated_at.max().over(group_by=_KEY)
        history = history.mutate(_newest=newest).filter(lambda t: t.rated_at == t._newest).drop("_newest")
    return history.order_by([*_KEY, "rated_at"]).to_pandas()
