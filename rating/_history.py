"""Rating history: every rating kept in the store per service, quarter and model version.

Recording the same ratings again replaces them (a quarter re-rated with the same model version
keeps one row per group), so history is idempotent; a new model version adds rows beside the old.
"""

from __future__ import annotations

import pandas as pd

from najma.errors import InvalidParameterError
from najma.journeys import Store
from najma.journeys._store_schema import HISTORY_COLUMNS

__all__ = ["record_ratings", "rating_history", "HISTORY_COLUMNS"]


def record_ratings(store: Store, ratings: pd.DataFrame) -> int:
    """Keep the ratings of :func:`najma.rating.rate` (by service and quarter) in the store; return the rows kept."""
    if "channel" in ratings or "first_channel" in ratings or "first_agency" in ratings:
        raise InvalidParameterError("record_ratings keeps ratings per service and quarter; got ratings split further.")
    frame = ratings[[c for c in HISTORY_COLUMNS if c != "rated_at"]].copy()
    frame["stars"] = frame["stars"].astype("Int32")
    frame["rated_at"] = pd.Timestamp.now(tz="UTC")
    with store.transaction():
        store.delete_matching("rating_history", frame, ["service", "quarter", "model_version"])
        store.append("rating_history", frame)
    return len(frame)


def rating_history(store: Store, service: str | None = None) -> pd.DataFrame:
    """The kept ratings, oldest quarter first; of one `service` if given."""
    history = store.backend.table("rating_history")
    if service is not None:
        history = history.filter(history.service == service)
    return history.order_by(["service", "quarter", "model_version"]).to_pandas()
