"""Write a generated sample: the log (Parquet, or CSV), its ground truth and its service catalogue."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import tomli_w

from najma.errors import InvalidParameterError
from najma.sample._generator import OPEN_DAYS, Sample
from najma.sample._services import (
    ACTIVITY_NAMES_AR,
    AGENCIES,
    CHANNELS,
    LIFE_EVENTS,
    MAX_REWORK,
    SERVICES,
    WORK_CALENDAR,
    Step,
)

__all__ = ["write_sample", "catalogue_toml", "plain_table"]


def _roles(step: Step) -> list[str]:
    return [f"{step.actor}_step", *step.roles]


def _designed(steps: tuple[Step, ...]) -> list[str]:
    """The designed journey: the steps every case should take, in order, with no rework."""
    return [s.activity for s in steps if s.part in ("intake", "decision", "approved") and s.p >= 0.5
            and "proactive_start" not in s.roles]


def catalogue_toml() -> str:
    """Return the sample's service catalogue as TOML text.

    The trade licence's designed journey is its redesigned one: the to-be journey that the
    redesign of :data:`najma.sample._services.REDESIGN_DATE` put in place.
    """
    services = {}
    for service in SERVICES:
        activities: dict[str, list[str]] = {}
        for step in (*service.steps, *(service.redesigned or ())):
            roles = activities.setdefault(step.activity, [])
            roles.extend(r for r in _roles(step) if r not in roles)
        services[service.key] = {
            "name_en": service.name_en,
            "name_ar": service.name_ar,
            "agency": service.agency,
            "sla_hours": service.sla_hours,
            "open_days": OPEN_DAYS,
            "designed_journey": _designed(service.redesigned or service.steps),
            "activities": activities,
            **({"documents": {activity: list(names) for activity, names in service.documents.items()}}
               if service.documents else {}),
        }
    document = {
        "version": 1,
        "agencies": {name: {"name_ar": ar} for name, ar in AGENCIES.items()},
        "channels": {name: {"name_ar": ar, "digital": name in ("website", "smart app")} for name, ar in CHANNELS.items()},
        "activities": {name: {"name_ar": ar} for name, ar in ACTIVITY_NAMES_AR.items()},
        "calendar": WORK_CALENDAR,
        "services": services,
        "life_events": {
            "newborn": {"name_en": "A newborn", "name_ar": "مولود جديد", "services": list(LIFE_EVENTS["newborn"]),
                        "window_days": 180},
        },
    }
    header = (
        "# Service catalogue of the najma sample services (generated; see najma.sample._services).\n"
        f"# Rework repeats at most {MAX_REWORK} times in the sample.\n"
    )
    return header + tomli_w.dumps(document)


def plain_table(table: pa.Table) -> pa.Table:
    """Return `table` with its dictionary-encoded columns decoded, as CSV writers need."""
    return pa.table({
        name: pc.cast(column, column.type.value_type) if pa.types.is_dictionary(column.type) else column
        for name, column in zip(table.column_names, table.columns, strict=True)
    })


def _write_head(events: pa.Table, path: Path, n_cases: int = 12) -> None:
    """Write the events of one case per service (at most `n_cases`), in time order.

    The cases are chosen on the Arrow table, so only their events are converted.
    """
    firsts = events.group_by("service", use_threads=False).aggregate([("case_id", "first")])
    chosen = firsts.column("case_id_first").slice(0, n_cases)
    head = events.filter(pc.is_in(events.column("case_id"), value_set=chosen.combine_chunks()))
    head.to_pandas().sort_values(["case_id", "timestamp"], kind="stable").to_csv(path, index=False)


def write_sample(sample: Sample, out: str | Path, *, fmt: str = "parquet", catalogue: bool = True) -> list[Path]:
    """Write `sample` to `out`: events, a readable CSV head of them, ground truth, catalogue.

    Parameters
    ----------
    sample : Sample
        From :func:`najma.sample.generate`.
    out : str or Path
        The folder; created if missing.
    fmt : {"parquet", "csv"}
        The format of the events file.
    catalogue : bool, default True
        Also write ``services.toml``.

    Returns
    -------
    list of Path
        The files written.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    events = folder / f"events.{fmt}"
    if fmt == "parquet":
        pq.write_table(sample.events, events, compression="zstd", row_group_size=1 << 20)
    elif fmt == "csv":
        pacsv.write_csv(plain_table(sample.events), events)
    else:
        raise InvalidParameterError(f"The 'fmt' parameter of write_sample must be 'parquet' or 'csv'. Got {fmt!r} instead.")
    written.append(events)
    head = folder / "events_head.csv"
    _write_head(sample.events, head)
    written.append(head)
    truth = folder / "truth.parquet"
    sample.truth.to_parquet(truth, index=False)
    written.append(truth)
    if catalogue:
        path = folder / "services.toml"
        path.write_text(catalogue_toml(), encoding="utf-8")
        written.append(path)
    return written
