"""EventLog: the events of a store as an Ibis table, with small verbs named for what they return."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import datetime

import ibis
import pandas as pd
from ibis.expr.types import Table

from najma.journeys._formats import open_source
from najma.journeys._mapping import ColumnMapping
from najma.journeys._store import ServiceSummary, Store

__all__ = ["EventLog"]


class EventLog:
    """The events of a store, optionally narrowed to some services.

    Parameters
    ----------
    store : Store
        The store to read.
    services : sequence of str, optional
        Keep only these services.

    Examples
    --------
    >>> import os, pandas as pd
    >>> os.environ["NAJMA_PSEUDONYM_KEY"] = "example-key"
    >>> frame = pd.DataFrame({"case_id": ["a", "a", "b"], "activity": ["Apply", "Pay", "Apply"],
    ...                       "timestamp": ["2025-01-05 09:00", "2025-01-05 09:30", "2025-02-01"]})
    >>> log = EventLog.from_frame(frame, service="Trade licence")
    >>> log.n_cases(), log.n_events(), log.activities()
    (2, 3, ['Apply', 'Pay'])
    """

    def __init__(self, store: Store, services: Sequence[str] | None = None) -> None:
        self.store = store
        self._services = None if services is None else list(services)
        self._backend = store.backend
        table = self._backend.table("events")
        if services is not None:
            table = table.filter(table.service.isin(list(services)))
        self.events: Table = table

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, mapping: ColumnMapping | None = None, **options: object) -> EventLog:
        """Load a pandas frame into an in-memory store and return its log."""
        store = Store(":memory:")
        store.ingest_frame(frame, mapping=mapping, **options)
        return cls(store)

    @classmethod
    def read(
        cls, path: str | os.PathLike[str], *, sep: str | None = None, encoding: str = "utf-8", **options: object
    ) -> EventLog:
        """Load a CSV, Parquet (file or folder), XES or XES.gz file into an in-memory store.

        Options are those of :meth:`najma.journeys.Store.ingest` (mapping, service, tz, time_format).
        """
        store = Store(":memory:")
        store.ingest(open_source(path, sep=sep, encoding=encoding), **options)
        return cls(store)

    # -- verbs -------------------------------------------------------------------------------

    def n_events(self) -> int:
        """The number of events."""
        return int(self.events.count().execute())

    def n_cases(self) -> int:
        """The number of distinct cases."""
        return int(self.events.case_id.nunique().execute())

    def activities(self) -> list[str]:
        """The distinct activities, sorted."""
        return sorted(self.events.select("activity").distinct().to_pandas()["activity"].tolist())

    def services(self) -> list[str]:
        """The distinct services, sorted."""
        return sorted(self.events.select("service").distinct().to_pandas()["service"].dropna().tolist())

    def activities_by_service(self) -> dict[str, set[str]]:
        """The distinct activities of each service."""
        pairs = self.events.select("service", "activity").distinct().to_pandas()
        return {service: set(group["activity"]) for service, group in pairs.groupby("service")}

    def time_span(self) -> tuple[datetime, datetime] | None:
        """The first and last timestamp (UTC), or None for an empty log."""
        row = self.events.aggregate(first=self.events.timestamp.min(), last=self.events.timestamp.max()).to_pandas()
        if row.empty or pd.isna(row.loc[0, "first"]):
            return None
        return row.loc[0, "first"].to_pydatetime(), row.loc[0, "last"].to_pydatetime()

    def summary(self) -> pd.DataFrame:
        """One row per service: cases, events, activities, first and last timestamp."""
        rows = [asdict(row) for row in self.store.service_summary(self._services)]
        return pd.DataFrame(rows, columns=[f.name for f in fields(ServiceSummary)])

    def to_pandas(self) -> pd.DataFrame:
        """The events as a pandas frame, ordered by case, timestamp and event_seq."""
        return self.events.order_by(["case_id", "timestamp", "event_seq"]).to_pandas()

    def activity_profile(self) -> dict[str, dict[str, dict[str, object]]]:
        """Facts per service and activity, for drafting a catalogue.

        Returns
        -------
        dict
            service -> activity -> ``actor`` and ``agency`` (most frequent, or None), ``share``
            (of the service's cases that have it), ``first`` (share of its cases it starts),
            ``repeats`` (share of its cases with it more than once) and ``position`` (its median
            position in a case, ordered by timestamp then event_seq).
        """
        t = self.events
        position = ibis.row_number().over(group_by=t.case_id, order_by=[t.timestamp, t.event_seq])
        ranked = t.mutate(position=position)
        per_case = ranked.group_by(["service", "activity", "case_id"]).aggregate(
            times=ranked.count(), first=(ranked.position == 0).any(), position=ranked.position.min()
        )
        cases = t.group_by("service").aggregate(service_cases=t.case_id.nunique())
        facts = (
            per_case.group_by(["service", "activity"])
            .aggregate(
                cases=per_case.count(),
                first_cases=per_case.first.sum(),
                repeated=(per_case.times > 1).sum(),
                position=per_case.position.median(),
            )
            .join(cases, "service")
        )
        modes = t.group_by(["service", "activity"]).aggregate(actor=t.actor.mode(), agency=t.agency.mode())
        frame = facts.join(modes, ["service", "activity"]).to_pandas()
        profile: dict[str, dict[str, dict[str, object]]] = {}
        for row in frame.itertuples(index=False):
            profile.setdefault(row.service, {})[row.activity] = {
                "actor": row.actor if isinstance(row.actor, str) else None,
                "agency": row.agency if isinstance(row.agency, str) else None,
                "share": row.cases / row.service_cases,
                "first": row.first_cases / row.cases,
                "repeats": row.repeated / row.cases,
                "position": float(row.position),
            }
        return profile
