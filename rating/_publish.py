"""Publication: a quarter's ratings frozen as a record that is never overwritten.

:func:`publish` rates a quarter from the events up to a *data cut-off* and keeps the result in the
store's ``publications`` (one row per revision: cut-off, last import batch, model, fingerprints,
when and by whom) and ``published_ratings`` (one row per service: its keys, stars and scores, and
the whole rating row as JSON). Those rows are only ever added: publishing the quarter again with
other data or another model makes the next revision, whose differences :func:`najma.rating.revision_changes`
explains; publishing it again with the same data, model and result changes nothing and says so.

The cut-off
-----------
The cut-off is an instant (UTC; by default the store's last event) and it is honoured exactly:
the quarter's journeys are rebuilt, for the publication only, from the events at or before it
(:class:`najma.journeys.JourneyPipeline`, the same description the store's build runs), and a case
still undecided is judged open or abandoned at the cut-off. Events after the cut-off, whenever
they were loaded, are not used. This costs one journey build of the quarter's cases (not the
store's): on the sample's 2025Q3 (2,673 cases, 26,681 events) rating from the rebuilt journeys
takes 3.0 s against 0.8 s from the stored ones, and a publication with 200 draws 7.5 s in all. It
is what makes a publication repeatable: publishing again at the same cut-off, after events
timestamped later arrived, gives the same ratings (the store's own journeys would carry them).
Late events dated *before* the cut-off are used: they change the data fingerprint and make a new
revision, which names them ("events changed"). A cut-off after the store's last event is refused,
since it would claim events the store has not yet received. The last import batch the store held is recorded too, and
:func:`najma.rating.publications` counts the batches loaded since each publication.

Fingerprints
------------
The data fingerprint is a SHA-256 computed by the store's engine, independent of row order: each
event used (every column but its place in the store, ``event_seq`` and ``batch_id``) is hashed
(MD5 of its JSON form), the hashes of a service are sorted and hashed together, and the services'
digests are hashed in the order of their names. Each published row keeps its service's digest,
so a revision names the services whose events changed. The catalogue's tables are fingerprinted
the same way, since roles, SLAs and the calendar change journeys and KPIs. The model is its
version, its configuration's hash (and the configuration itself, kept as JSON), najma's version
and the bootstrap draws.

How a revision differs from the one before is read by :func:`najma.rating.revision_changes`
(see :mod:`najma.rating._published`).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import ibis
import numpy as np
import pandas as pd
from ibis.expr.types import Table

from najma import __version__
from najma.errors import InvalidParameterError, StoreError
from najma.journeys import CaseFilter, JourneyPipeline, Store, quarter_name
from najma.journeys._schema import EVENT_COLUMNS
from najma.journeys._store_schema import CATALOGUE_TABLES
from najma.rating._config import PILLARS, RatingConfig, default_config
from najma.rating._history import last_batch
from najma.rating._kpis import case_features
from najma.rating._published import MODEL_FIELDS, latest_revision, publication_record, published_rows, revision_changes, same_values
from najma.rating._ratings import rate_features

__all__ = ["Publication", "publish"]

#: The event columns a fingerprint reads: every one but the event's place in the store.
_CONTENT = [c.name for c in EVENT_COLUMNS if c.name not in ("event_seq", "batch_id")]


@dataclass(frozen=True, eq=False)
class Publication:
    """What :func:`publish` did: the revision made (or found), its record and its changes.

    Attributes
    ----------
    quarter : str
        The quarter published.
    revision : int
        The revision made, or, when nothing was made, the revision that already holds these ratings.
    made : bool
        Whether a new revision was made.
    record : dict
        Its row of :func:`publications` (cut-off, last batch, model, fingerprints, events, cases,
        when and by whom, note).
    changes : DataFrame
        :func:`revision_changes` of the revision; for a first revision, every service.
    """

    quarter: str
    revision: int
    made: bool
    record: Mapping[str, object]
    changes: pd.DataFrame

    @property
    def summary(self) -> str:
        """One sentence saying what was published, or why nothing was."""
        if not self.made:
            return (f"{self.quarter} revision {self.revision} already holds these ratings (same events, catalogue, "
                    "model and result); nothing was published")
        services = f"{len(self.changes)} service" + ("" if len(self.changes) == 1 else "s")
        if self.revision == 1:
            return f"published {self.quarter} revision 1: {services}, cut-off {self.record['cutoff']}"
        return (f"published {self.quarter} revision {self.revision}: {services} changed since revision "
                f"{self.revision - 1}, cut-off {self.record['cutoff']}")


def publish(
    store: Store, quarter: str, *, config: RatingConfig | None = None, cutoff: object = None, by: str | None = None,
    draws: int = 200, note: str = "",
) -> Publication:
    """Freeze the ratings of `quarter` as a new revision of its published record.

    Parameters
    ----------
    store : Store
        A store opened for writing.
    quarter : str
        The quarter, e.g. ``"2025Q3"``.
    config : RatingConfig, optional
        The model; the shipped default by default.
    cutoff : datetime-like, optional
        The data cut-off: only events at or before it are used (UTC when it names no zone). By
        default the store's last event; never after it.
    by : str, optional
        Who publishes; by default the user running najma.
    draws : int, default 200
        Bootstrap draws per service.
    note : str, default ""
        Kept with the record, e.g. why the quarter is published again.

    Returns
    -------
    Publication
        The revision made, or the revision that already holds the same ratings (``made`` False).

    Raises
    ------
    InvalidParameterError
        If the cut-off is not a time or is after the store's last event, or no case of `quarter`
        started by the cut-off.

    Examples
    --------
    >>> from najma.journeys import Store
    >>> store = Store(sample_path)  # a store holding the sample: Store(path), then najma.sample.load_sample(store)
    >>> first = publish(store, "2025Q3", draws=20, by="analyst")
    >>> first.revision, first.made, int(first.record["cases"]) > 0
    (1, True, True)
    >>> again = publish(store, "2025Q3", draws=20, by="analyst")
    >>> again.revision, again.made
    (1, False)
    """
    config = config or default_config()
    quarter = quarter_name(quarter)
    cutoff = _cutoff(store, cutoff)
    events = _events_used(store, quarter, cutoff)
    digests = _service_digests(events)
    if digests.empty:
        raise InvalidParameterError(f"no case of {quarter} started by the cut-off {cutoff}; nothing to publish",
                                    parameter="quarter")
    ratings = _rate(store, events, quarter, cutoff, config, draws)
    record = {
        "quarter": quarter, "model_version": config.version, "config_hash": config.config_hash,
        "najma_version": __version__, "draws": draws, "cutoff": cutoff, "last_batch": last_batch(store),
        "data_fingerprint": _combined(digests.set_index("service")["fingerprint"]),
        "catalogue_fingerprint": _catalogue_fingerprint(store), "events": int(digests["events"].sum()),
        "cases": int(digests["cases"].sum()), "published_at": pd.Timestamp.now(tz="UTC"),
        "published_by": by or _user(), "note": note, "model": json.dumps(config.as_dict(), sort_keys=True),
    }
    rows = _published_rows(ratings, digests.set_index("service")["fingerprint"])
    with store.transaction():
        latest = latest_revision(store, quarter)
        if latest and _same(store, quarter, latest, record, rows):
            return Publication(quarter, latest, False, publication_record(store, quarter, latest), revision_changes(store, quarter, latest))
        revision = latest + 1
        store.append("publications", pd.DataFrame([{**record, "revision": revision}]))
        store.append("published_ratings", rows.assign(quarter=quarter, revision=revision))
    return Publication(quarter, revision, True, publication_record(store, quarter, revision), revision_changes(store, quarter, revision))


# -- what is rated -------------------------------------------------------------------------------


def _cutoff(store: Store, cutoff: object) -> pd.Timestamp:
    """The cut-off as a UTC instant: the store's last event by default, never after it."""
    events = store.backend.table("events")
    last = events.timestamp.max().to_pyarrow().as_py()
    if last is None:
        raise StoreError(f"{store.path} holds no events; nothing to publish", parameter="store")
    last = pd.Timestamp(last).tz_convert("UTC")
    if cutoff is None:
        return last
    try:
        instant = pd.Timestamp(cutoff)
    except (TypeError, ValueError):
        instant = pd.NaT
    if not isinstance(cutoff, str | datetime) or pd.isna(instant):
        raise InvalidParameterError(f"The 'cutoff' parameter of publish must be a time such as '2025-10-15 00:00'. "
                                    f"Got {cutoff!r} instead.", parameter="cutoff")
    instant = instant.tz_localize("UTC") if instant.tzinfo is None else instant.tz_convert("UTC")
    if instant > last:
        raise InvalidParameterError(
            f"the cut-off {instant} is after the store's last event ({last}): a publication cannot claim events the "
            "store has not received", parameter="cutoff")
    return instant


def _events_used(store: Store, quarter: str, cutoff: pd.Timestamp) -> Table:
    """The events of the cases that started in `quarter`, at or before `cutoff` (later events are not used)."""
    events = store.backend.table("events")
    events = events.filter(events.timestamp <= ibis.literal(cutoff))
    starts = events.group_by(["service", "case_id"]).aggregate(start=events.timestamp.min())
    cases = starts.filter(CaseFilter(quarter=quarter).in_zone_of(store).span_predicates(starts, starts.start))
    return events.semi_join(cases.select("service", "case_id"), ["service", "case_id"])


def _rate(store: Store, events: Table, quarter: str, cutoff: pd.Timestamp, config: RatingConfig, draws: int) -> pd.DataFrame:
    """Rate the quarter's cases from `events` alone, their journeys built as they stood at the cut-off."""
    span = events.aggregate(first=events.timestamp.min(), last=events.timestamp.max()).to_pyarrow().to_pylist()[0]
    journeys = JourneyPipeline.of(store).run(events, cutoff, span["first"], span["last"])
    features = case_features(store, satisfied_at=config.satisfied_at, journeys=journeys)
    return rate_features(features[features["quarter"] == quarter], config=config, draws=draws)


# -- fingerprints --------------------------------------------------------------------------------


def _row_hashes(table: Table, columns: list[str]) -> Table:
    """One MD5 per row of `table`, over `columns` in their JSON form (the store's session is in UTC)."""
    return table.mutate(row_hash=ibis.struct({c: table[c] for c in columns}).cast("json").cast("string").hexdigest("md5"))


def _digest(hashes: Table) -> ibis.expr.types.StringScalar:
    """The SHA-256 of the sorted row hashes: the same whatever order the rows are in."""
    return hashes.row_hash.group_concat(sep="", order_by=hashes.row_hash).hexdigest("sha256")


def _service_digests(events: Table) -> pd.DataFrame:
    """Per service: the digest of its events used, how many events and how many cases."""
    hashes = _row_hashes(events, _CONTENT)
    return hashes.group_by("service").aggregate(
        fingerprint=_digest(hashes), events=hashes.count(), cases=hashes.case_id.nunique(),
    ).order_by("service").to_pandas()


def _catalogue_fingerprint(store: Store) -> str:
    """The digest of every table of the registered catalogue."""
    backend = store.backend
    digests = {}
    for name in CATALOGUE_TABLES:
        table = backend.table(name)
        hashes = _row_hashes(table, list(table.columns))
        digests[name] = hashes.aggregate(d=_digest(hashes)).to_pyarrow().to_pylist()[0]["d"] or ""
    return _combined(pd.Series(digests))


def _combined(digests: pd.Series) -> str:
    """The SHA-256 of named digests, in the order of their names."""
    text = "\n".join(f"{name}:{digests[name]}" for name in sorted(digests.index))
    return hashlib.sha256(text.encode()).hexdigest()


# -- the record ----------------------------------------------------------------------------------


def _published_rows(ratings: pd.DataFrame, digests: pd.Series) -> pd.DataFrame:
    """The rows of ``published_ratings`` (without quarter and revision) for `ratings`."""
    rows = ratings[["service", "cases", "status", "score", *PILLARS]].copy()
    rows["stars"] = ratings["stars"].astype("Int32")
    rows["data_fingerprint"] = rows["service"].map(digests)
    rows["rating"] = [json.dumps({k: _plain(v) for k, v in row.items()}, allow_nan=False)
                      for row in ratings.to_dict("records")]
    return rows


def _plain(value: object) -> object:
    """`value` as JSON holds it: missing values as null, numpy scalars as Python's."""
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    return value


def _user() -> str:
    """The user running najma, as the operating system names them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a name
        return f"uid {os.getuid()}"


def _same(store: Store, quarter: str, revision: int, record: Mapping[str, object], rows: pd.DataFrame) -> bool:
    """Whether revision `revision` holds the same data, model and ratings as `record` and `rows`."""
    kept = publication_record(store, quarter, revision)
    keys = ("data_fingerprint", "catalogue_fingerprint", *MODEL_FIELDS)
    if any(kept[k] != record[k] for k in keys):
        return False
    published = {service: rating for service, (_, rating) in published_rows(store, quarter, revision).items()}
    return same_values(published, {row["service"]: json.loads(row["rating"]) for _, row in rows.iterrows()})
