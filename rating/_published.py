"""The published record, read: what was published, each revision's ratings, and how a revision differs.

The record is written by :func:`najma.rating.publish` (see :mod:`najma.rating._publish`) and only
read here, so that the rating itself (:func:`najma.rating.rate_quarter`), the cards, the report and
the dashboard can read what was published without importing what publishes it.

Why a revision differs
----------------------
:func:`revision_changes` lists the services whose published rating differs from the revision
before (numbers compared up to the last bits of a floating-point sum), with the KPIs whose values
moved and why: "events changed" when the digest of the service's events changed, "new catalogue"
when the registered catalogue did, "new model" when the model version, configuration, najma's
version or the bootstrap draws did, and "later cut-off" (or "earlier cut-off") when the service's
events did not change but the cut-off did (an undecided case may then be judged abandoned).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from najma.errors import InvalidParameterError
from najma.journeys import Store, previous_quarter, quarter_name
from najma.rating._kpis import KPIS

__all__ = ["publications", "published_ratings", "published_before", "revision_changes", "MODEL_FIELDS", "latest_revision",
           "publication_record", "published_rows", "same_values"]

#: What the model of a publication is: a change of any of them is "new model".
MODEL_FIELDS = ("model_version", "config_hash", "najma_version", "draws")
#: Keys of a published row that name the model rather than describe the rating.
_MODEL_KEYS = ("model_version", "config_hash")


def publications(store: Store) -> pd.DataFrame:
    """Every publication, by quarter and revision, with ``batches_since``: the import batches loaded after it."""
    listed = store.backend.table("publications")
    frame = listed.drop("model").order_by(["quarter", "revision"]).to_pandas()
    loaded = np.array(sorted(batch.batch_id for batch in store.batches()))
    frame["batches_since"] = [int((loaded > (-1 if pd.isna(b) else b)).sum()) for b in frame["last_batch"]]
    return frame


def published_ratings(store: Store, quarter: str | None = None, revision: int | None = None) -> pd.DataFrame:
    """The published ratings: of `quarter` (all quarters by default), at `revision` (the latest by default).

    Returns
    -------
    DataFrame
        ``quarter``, ``revision``, then the columns of :func:`najma.rating.rate`'s rows as published
        (service, cases, status, stars, score, pillars, each star's probability, missing KPIs, model,
        KPI values); empty when nothing was published.

    Raises
    ------
    InvalidParameterError
        If `revision` is given without `quarter`, or the quarter has no such revision.
    """
    if revision is not None and quarter is None:
        raise InvalidParameterError("a revision belongs to one quarter; give the quarter too", parameter="revision")
    rows = _rows(store, None if quarter is None else quarter_name(quarter), revision)
    if rows.empty:
        return pd.DataFrame(columns=["quarter", "revision", "service"])
    frame = pd.DataFrame([json.loads(text) for text in rows["rating"]])
    frame = frame.drop(columns=["quarter", "revision"], errors="ignore")
    frame.insert(0, "quarter", rows["quarter"].to_numpy())
    frame.insert(1, "revision", rows["revision"].astype(int).to_numpy())
    for column in frame.columns[frame.dtypes == object]:
        if frame[column].isna().all():
            frame[column] = np.nan  # a value without data in every row: NaN, as rate() gives it
    frame["stars"] = frame["stars"].astype("Int64")
    return frame


def published_before(store: Store, quarter: str) -> pd.DataFrame | None:
    """The published ratings (latest revision) of the quarter before `quarter`, or None if it was never published.

    "Change since last quarter" reads these when they exist, so that a card compares with what was
    published, not with the earlier quarter re-rated on today's data.
    """
    before = published_ratings(store, previous_quarter(quarter_name(quarter)))
    return None if before.empty else before


def revision_changes(store: Store, quarter: str, revision: int) -> pd.DataFrame:
    """How revision `revision` of `quarter` differs from the revision before, service by service.

    Returns
    -------
    DataFrame
        One row per service whose published rating differs (every service for revision 1):
        ``service``, ``status_before``, ``status``, ``stars_before``, ``stars``, ``score_before``,
        ``score``, ``score_delta``, ``kpis_moved`` (a list of (KPI, before, now)) and ``why``.

    Raises
    ------
    InvalidParameterError
        If the quarter has no such revision.
    """
    quarter = quarter_name(quarter)
    now = published_rows(store, quarter, revision)
    before = published_rows(store, quarter, revision - 1) if revision > 1 else {}
    causes = _causes(store, quarter, revision) if before else []
    changes = []
    for service in sorted(set(now) | set(before)):
        old, new = before.get(service), now.get(service)
        if old is not None and new is not None and same_values(_rating_part(old[1]), _rating_part(new[1])):
            continue
        moved = _kpis_moved({} if old is None else old[1], {} if new is None else new[1])
        reasons = ["first publication"] if not before else _why(old, new, causes)
        changes.append({
            "service": service, **_side(old, "_before"), **_side(new, ""), "kpis_moved": moved, "why": ", ".join(reasons),
        })
    frame = pd.DataFrame(changes, columns=["service", "status_before", "stars_before", "score_before", "status", "stars",
                                           "score", "kpis_moved", "why"])
    frame["score_delta"] = pd.to_numeric(frame["score"]) - pd.to_numeric(frame["score_before"])
    for column in ("stars", "stars_before"):
        frame[column] = frame[column].astype("Int64")
    return frame[["service", "status_before", "status", "stars_before", "stars", "score_before", "score", "score_delta",
                  "kpis_moved", "why"]]


def latest_revision(store: Store, quarter: str) -> int:
    """The latest revision of `quarter`, 0 when it was never published."""
    listed = store.backend.table("publications")
    latest = listed.filter(listed.quarter == quarter).revision.max().to_pyarrow().as_py()
    return int(latest or 0)


def publication_record(store: Store, quarter: str, revision: int) -> dict[str, object]:
    """The ``publications`` row of one revision (without its model), or {} when there is none."""
    listed = store.backend.table("publications")
    found = listed.filter((listed.quarter == quarter) & (listed.revision == revision)).drop("model").to_pandas()
    return {} if found.empty else found.iloc[0].to_dict()


def _rows(store: Store, quarter: str | None, revision: int | None) -> pd.DataFrame:
    """The raw ``published_ratings`` rows of `quarter` (all) at `revision` (each quarter's latest), by quarter and service."""
    table = store.backend.table("published_ratings")
    if quarter is not None:
        table = table.filter(table.quarter == quarter)
    if revision is None:
        table = table.filter(table.revision == table.revision.max().over(group_by="quarter"))
    else:
        table = table.filter(table.revision == revision)
    rows = table.mutate(rating=table.rating.cast("string")).order_by(["quarter", "service"]).to_pandas()
    if revision is not None and rows.empty:
        listed = store.backend.table("publications")
        made = sorted(listed.filter(listed.quarter == quarter).revision.to_pandas().tolist())
        raise InvalidParameterError(f"{quarter} has no published revision {revision}; its revisions are "
                                    + (", ".join(map(str, made)) or "none (it was never published)"), parameter="revision")
    return rows


def published_rows(store: Store, quarter: str, revision: int) -> dict[str, tuple[str, dict[str, object]]]:
    """Per service of one revision: its data digest and its rating row."""
    rows = _rows(store, quarter, revision)
    return {row.service: (row.data_fingerprint, json.loads(row.rating)) for row in rows.itertuples()}


def same_values(a: object, b: object) -> bool:
    """Whether two published values are the same, numbers up to the last bits of a floating-point sum.

    DuckDB sums in parallel, so a case's cost or a mean can differ in its last bit from one run to
    the next on the same events; that is not a change of the rating.
    """
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same_values(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_values(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


# -- explaining a revision -----------------------------------------------------------------------


def _causes(store: Store, quarter: str, revision: int) -> list[str]:
    """What changed for every service between the revision before and `revision`: catalogue, model, cut-off."""
    old, new = publication_record(store, quarter, revision - 1), publication_record(store, quarter, revision)
    causes = []
    if old["catalogue_fingerprint"] != new["catalogue_fingerprint"]:
        causes.append("new catalogue")
    if any(old[k] != new[k] for k in MODEL_FIELDS):
        causes.append("new model")
    if old["cutoff"] != new["cutoff"]:
        causes.append("later cut-off" if new["cutoff"] > old["cutoff"] else "earlier cut-off")
    return causes


def _why(old: tuple[str, dict] | None, new: tuple[str, dict] | None, causes: list[str]) -> list[str]:
    """Why one service's published rating changed: its events, then the causes shared by every service.

    A moved cut-off is named only when the service's events did not change.
    """
    events_changed = old is None or new is None or old[0] != new[0]
    shared = [c for c in causes if not (events_changed and c.endswith("cut-off"))]
    return (["events changed"] if events_changed else []) + shared


def _rating_part(row: Mapping[str, object]) -> dict[str, object]:
    """A published row without the keys that name its model."""
    return {k: v for k, v in row.items() if k not in _MODEL_KEYS}


def _kpis_moved(old: Mapping[str, object], new: Mapping[str, object]) -> list[tuple[str, object, object]]:
    """The KPIs whose published value differs: (KPI, before, now)."""
    return [(kpi, old.get(kpi), new.get(kpi)) for kpi in KPIS if not same_values(old.get(kpi), new.get(kpi))]


def _side(side: tuple[str, dict] | None, suffix: str) -> dict[str, object]:
    """Status, stars and score of one side of a change (empty for a service absent from it)."""
    rating = {} if side is None else side[1]
    return {f"status{suffix}": rating.get("status"), f"stars{suffix}": rating.get("stars"),
            f"score{suffix}": rating.get("score")}
