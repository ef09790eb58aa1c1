"""Rating history: every rating kept in the store per service, quarter and model version.

Recording the same ratings again replaces them (a quarter re-rated with the same model version
keeps one row per group), so history is idempotent; a new model version adds rows beside the old.
"""

from __future__ import annotations

import pandas as pd

from najma.journeys import Store
from najma.rating._config import PILLARS

__all__ = ["record_ratings", "rating_history", "HISTORY_COLUMNS"]

#: The columns of the ``rating_history`` table.
HISTORY_COLUMNS: dict[str, str] = {
    "service": "VARCHAR", "quarter": "VARCHAR", "model_version": "VARCHAR", "config_hash": "VARCHAR",
    "cases": "BIGINT", "status": "VARCHAR", "stars": "INTEGER", "score": "DOUBLE",
    **{pillar: "DOUBLE" for pillar in PILLARS}, "rated_at": "TIMESTAMPTZ",
}


def _ensure(store: Store) -> None:
    columns = ", ".join(f"{name} {kind}" for name, kind in HISTORY_COLUMNS.items())  # fixed names, never user text
    store.con.execute(f"CREATE TABLE IF NOT EXISTS rating_history ({columns})")


def record_ratings(store: Store, ratings: pd.DataFrame) -> int:
    """Keep the ratings of :func:`rating.rate` (by service and quarter) in the store; return the rows kept."""
    if "channel" in ratings or "first_channel" in ratings or "first_agency" in ratings:
        raise ValueError("record_ratings keeps ratings per service and quarter; got ratings split further.")
    frame = ratings[[c for c in HISTORY_COLUMNS if c != "rated_at"]].copy()
    frame["stars"] = frame["stars"].astype("Int32")
    frame["rated_at"] = pd.Timestamp.now(tz="UTC")
    _ensure(store)
    with store.transaction():
        store.con.register("_ratings", frame)
        store.con.execute(
            "DELETE FROM rating_history WHERE (service, quarter, model_version) IN "
            "(SELECT service, quarter, model_version FROM _ratings)"
        )
        store.con.execute("INSERT INTO rating_history BY NAME SELECT * FROM _ratings")
        store.con.unregister("_ratings")
    return len(frame)


def rating_history(store: Store, service: str | None = None) -> pd.DataFrame:
    """The kept ratings, oldest quarter first; of one `service` if given."""
    if not store.has_table("rating_history"):
        return pd.DataFrame(columns=list(HISTORY_COLUMNS))
    query = "SELECT * FROM rating_history" + (" WHERE service = ?" if service is not None else "")
    query += " ORDER BY service, quarter, model_version"
    return store.con.execute(query, [] if service is None else [service]).df()
