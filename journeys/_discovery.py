"""What bundle and proactive discovery share: their parameters' checks and the cases of real customers they read.

Both :func:`najma.journeys.discover_bundles` and :func:`najma.journeys.discover_proactive` look at a
customer's cases across services, so both read only the cases of real customers: a case without a
customer is its own customer, named ``service/case_id`` by the journey pipeline
(:func:`najma.journeys._pipeline.journeys_expr`), and cannot show what else its customer needed.

Both measure their candidates with figures that a log may not support: a figure is missing (NaN),
never 0, when one of the services it is measured on lacks what it needs (:data:`NEEDS`):

- ``agency``: an agency column (the service's events hold an agency);
- ``steps``: customer and staff steps, the catalogue's step roles (customer, staff or system step) or, for a
  service the catalogue does not describe, the events' actor (as :func:`najma.journeys._pipeline.with_roles` gives
  them). A service the catalogue describes with no step role (only decisions or rework, say) has none: its
  steps are all 0 because nothing says which they are, not because there were none;
- ``catalogue``: the service described by the catalogue (a role only it gives: a visit, a document
  handed in, a proactive start).

Examples
--------
>>> from najma.journeys._discovery import is_whole
>>> is_whole(3, least=1), is_whole(True, least=1), is_whole(2.5, least=1)
(True, False, False)
>>> held = HeldColumns({"permit": frozenset({"actor"}), "visa": frozenset({"actor"}), "id": frozenset()})
>>> evidence = Evidence(held, described=frozenset({"visa", "id"}), stepped=frozenset({"id"}))
>>> evidence.lacking("steps", ["permit", "visa", "id"])
('visa',)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from numbers import Integral, Real

import pandas as pd
from ibis.expr.types import Table

from najma.errors import InvalidParameterError
from najma.journeys._columns import HeldColumns, held_columns
from najma.journeys._filters import CaseFilter
from najma.journeys._store import Store
from najma.journeys._tables import require_journeys
from najma.journeys._variants import journey_table

__all__ = ["is_whole", "is_share", "refuse_first", "real_cases", "utc_period", "NEEDS", "Evidence", "evidence",
           "unsupported"]

#: What a figure may need of each service it is measured on (see the module docstring).
NEEDS = ("agency", "steps", "catalogue")
#: The catalogue's roles that make an activity a step of a journey: the ``steps`` need asks for one of them.
STEP_ROLES = ("customer_step", "staff_step", "system_step")


@dataclass(frozen=True)
class Evidence:
    """What a store can support, service by service: the optional columns each holds and the services described.

    Parameters
    ----------
    held : HeldColumns
        The optional columns each service's events hold.
    described : frozenset of str
        The services the catalogue describes (those with a row in ``activity_roles``).
    stepped : frozenset of str
        The services to some of whose activities the catalogue gives a step role (:data:`STEP_ROLES`).
    """

    held: HeldColumns
    described: frozenset[str]
    stepped: frozenset[str]

    def supports(self, need: str, service: str) -> bool:
        """Whether `service` has what `need` (one of :data:`NEEDS`) asks for."""
        if need == "agency":
            return "agency" in self.held.of(service)
        if need == "steps":
            return service in self.stepped or (service not in self.described and "actor" in self.held.of(service))
        return service in self.described

    def lacking(self, need: str, services: Iterable[str]) -> tuple[str, ...]:
        """The `services` without what `need` asks for, sorted and once each."""
        return tuple(sorted({s for s in services if not self.supports(need, s)}))


def evidence(store: Store) -> Evidence:
    """What `store` can support: its events' optional columns per service and the services its catalogue describes."""
    roles = store.backend.table("activity_roles")
    found = roles.group_by("service").aggregate(stepped=roles.role.isin(STEP_ROLES).any()).to_pyarrow().to_pylist()
    return Evidence(held_columns(store), frozenset(row["service"] for row in found),
                    frozenset(row["service"] for row in found if row["stepped"]))


def unsupported(table: pd.DataFrame, services: pd.Series, figures: Mapping[str, tuple[str, ...]],
                held: Evidence) -> tuple[pd.DataFrame, dict[str, tuple[str, ...]]]:
    """`table` with each figure missing (NaN) in the rows whose `services` (one collection per row) lack, by what the
    store `held`, one of its needs (`figures`: figure -> some of :data:`NEEDS`); and the services lacking each need,
    by need (those needs only that some row lacks).
    """
    table = table.copy()
    lacking: dict[str, set[str]] = {}
    for index, row_services in services.items():
        for figure, needs in figures.items():
            missing = {need: held.lacking(need, row_services) for need in needs}
            missing = {need: found for need, found in missing.items() if found}
            if missing:
                table.loc[index, figure] = float("nan")
            for need, found in missing.items():
                lacking.setdefault(need, set()).update(found)
    return table, {need: tuple(sorted(lacking[need])) for need in NEEDS if need in lacking}


def is_whole(value: object, *, least: int) -> bool:
    """Whether `value` is an integer (not a bool) of at least `least`."""
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= least


def is_share(value: object) -> bool:
    """Whether `value` is a real number (not a bool) in (0, 1]."""
    return isinstance(value, Real) and not isinstance(value, bool) and 0 < value <= 1


def refuse_first(function: str, checks: Iterable[tuple[str, object, bool, str]]) -> None:
    """Raise InvalidParameterError for the first of `checks` (name, value, whether it is good, what was expected)
    that fails, naming `function` and the parameter.

    Raises
    ------
    InvalidParameterError
        Its ``parameter`` is the name of the first parameter out of its range.
    """
    for name, value, good, expected in checks:
        if not good:
            raise InvalidParameterError(f"The {name!r} parameter of {function} must be {expected}. Got {value!r} "
                                        "instead.", parameter=name)


def real_cases(store: Store, where: CaseFilter | None) -> Table:
    """The journeys (one row per case) that pass `where` and have a real customer (see the module docstring).

    Raises
    ------
    StoreError
        When the store's journeys are not built.
    """
    require_journeys(store)
    journeys = journey_table(store, where)
    return journeys.filter(journeys.customer_id != journeys.service.concat("/", journeys.case_id))


def utc_period(first: object, last: object) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The period from `first` to `last` (instants of the store, UTC), or None when there is none (no cases)."""
    if first is None or pd.isna(first):
        return None
    return pd.Timestamp(first).tz_convert("UTC"), pd.Timestamp(last).tz_convert("UTC")
