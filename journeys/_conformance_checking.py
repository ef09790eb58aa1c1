"""Conformance: how far observed journeys stray from each service's designed journey, and what it costs.

The designed journey of a service comes from its catalogue (``designed_journey``, registered in
the store by :func:`najma.journeys.register_catalogue`). Each distinct variant is aligned once against
it through pm4py (:mod:`najma.journeys._pm4py_adapter`) and weighted by its number of cases, so the work
grows with the variants, not with the cases.

Deviations
----------
skipped
    A designed step the case never took (a move on the model only).
inserted
    A step the design does not have, or has elsewhere (a move on the log only).
repeated
    An inserted step whose activity the case had already taken: rework.

The time an inserted or repeated step costs is the wait before it: the seconds from the case's
previous step to it, summed over the cases. A skipped step costs no time in the case itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ibis
import pandas as pd
from ibis.expr.types import Table

from najma.errors import InvalidEventLogError
from najma.journeys._filters import CaseFilter
from najma.journeys._pm4py_adapter import SKIP, align_variants, sequence_model
from najma.journeys._store import Store
from najma.journeys._variants import journey_table, variant_activities

__all__ = ["Conformance", "conformance", "designed_journeys", "DEVIATION_KINDS"]

DEVIATION_KINDS = ("skipped", "inserted", "repeated")


@dataclass(frozen=True)
class Conformance:
    """Observed journeys against designed ones.

    Attributes
    ----------
    variants : pandas.DataFrame
        service, variant, cases, fitness (pm4py's alignment fitness, 1 = fits the design), cost
        (of the alignment), skipped, inserted, repeated (deviations in one case of the variant).
    services : pandas.DataFrame
        service, cases, variants, fitness (mean over cases), fitting_share (cases that fit).
    deviations : pandas.DataFrame
        service, kind (skipped, inserted, repeated), activity, cases (with the deviation),
        occurrences, seconds (the waits before the steps, summed; empty for skipped) and
        mean_seconds (per occurrence); most frequent first.
    cases : ibis Table
        service, case_id, variant, fitness: one row per case.
    """

    variants: pd.DataFrame
    services: pd.DataFrame
    deviations: pd.DataFrame
    cases: Table


def designed_journeys(store: Store) -> dict[str, tuple[str, ...]]:
    """The designed journey of each service, as registered from the catalogue."""
    designed = store.backend.table("designed_journeys")
    rows = designed.order_by(["service", "position"]).select("service", "activity").to_pyarrow().to_pylist()
    found: dict[str, tuple[str, ...]] = {}
    for row in rows:
        found[row["service"]] = (*found.get(row["service"], ()), row["activity"])
    return found


def _deviations(moves: Sequence[tuple[str, str]]) -> list[tuple[str, str, int | None]]:
    """(kind, activity, position in the case or None) of each deviation in an alignment.

    Equal-cost alignments may leave a different occurrence of a repeated activity unmatched
    (pm4py breaks such ties by hash order). So that the answer does not depend on it, the
    unmatched occurrences of an activity are taken to be its last ones: the first occurrence of
    an activity is the step, and later ones are repeats.
    """
    skipped = [("skipped", modelled, None) for observed, modelled in moves if observed == SKIP and modelled is not None]
    observed = [activity for activity, _ in moves if activity != SKIP]
    unmatched = Counter(activity for activity, modelled in moves if activity != SKIP and modelled == SKIP)
    remaining = Counter(observed)
    found: list[tuple[str, str, int | None]] = []
    for position, activity in enumerate(observed):
        if remaining[activity] <= unmatched[activity]:
            first = observed.index(activity) == position
            found.append(("inserted" if first else "repeated", activity, position))
        remaining[activity] -= 1
    return skipped + found


def conformance(
    store: Store, where: CaseFilter | None = None, *, progress: Callable[[str], None] | None = None
) -> Conformance:
    """Align the journeys that pass `where` with their services' designed journeys.

    Parameters
    ----------
    store : Store
        A store whose journeys were built, with a catalogue that has designed journeys.
    where : CaseFilter, optional
        Which cases; by default all. Services without a designed journey are left out.
    progress : callable, optional
        Called with each service's name before its variants are aligned.

    Raises
    ------
    InvalidEventLogError
        When no registered service has a designed journey.
    """
    designed = designed_journeys(store)
    if not designed:
        raise InvalidEventLogError(
            f"The store {store.path} has no designed journeys: register a catalogue whose services have a "
            "designed_journey (najma.register_catalogue)."
        )
    journeys = journey_table(store, where)
    journeys = journeys.filter(journeys.service.isin(list(designed)))
    counts = journeys.group_by(["service", "variant"]).aggregate(cases=journeys.count()).order_by(["service", "variant"])
    rows, found = [], []
    for service, group in counts.to_pandas().groupby("service", sort=True):
        if progress:
            progress(service)
        results = align_variants([variant_activities(v) for v in group.variant], sequence_model(designed[service]))
        for variant, cases, result in zip(group.variant, group.cases, results, strict=True):
            deviations = _deviations(result["moves"])
            kinds = [kind for kind, _, _ in deviations]
            rows.append({"service": service, "variant": variant, "cases": int(cases), "fitness": result["fitness"],
                         "cost": result["cost"], **{kind: kinds.count(kind) for kind in DEVIATION_KINDS}})
            found.extend({"service": service, "variant": variant, "cases": int(cases), "kind": kind,
                          "activity": activity, "position": position} for kind, activity, position in deviations)
    variants = pd.DataFrame(rows, columns=["service", "variant", "cases", "fitness", "cost", *DEVIATION_KINDS])
    fitness = ibis.memtable(variants[["service", "variant", "fitness"]].astype({"service": "string", "variant": "string"}))
    cases = journeys.select("service", "case_id", "variant").join(fitness, ["service", "variant"])
    return Conformance(variants, _per_service(variants), _priced(store, journeys, found), cases)


def _per_service(variants: pd.DataFrame) -> pd.DataFrame:
    weighted = variants.assign(_weighted=variants.fitness * variants.cases, _fits=variants.cases * (variants.fitness >= 1))
    grouped = weighted.groupby("service", as_index=False).agg(
        cases=("cases", "sum"), variants=("variant", "count"), _weighted=("_weighted", "sum"), _fits=("_fits", "sum")
    )
    return grouped.assign(fitness=grouped._weighted / grouped.cases, fitting_share=grouped._fits / grouped.cases)[
        ["service", "cases", "variants", "fitness", "fitting_share"]
    ]


def _priced(store: Store, journeys: Table, found: list[dict[str, object]]) -> pd.DataFrame:
    """Count the deviations over cases and price the inserted and repeated ones in the engine."""
    columns = ["service", "kind", "activity", "cases", "occurrences", "seconds", "mean_seconds"]
    if not found:
        return pd.DataFrame(columns=columns)
    deviations = pd.DataFrame(found)
    keys = ["service", "kind", "activity"]
    occurrences = deviations.groupby(keys, as_index=False).cases.sum().rename(columns={"cases": "occurrences"})
    affected = deviations.drop_duplicates([*keys, "variant"]).groupby(keys, as_index=False).cases.sum()
    counted = affected.merge(occurrences, on=keys)
    placed = deviations.dropna(subset=["position"]).query("position > 0")
    if placed.empty:
        priced = pd.DataFrame(columns=[*keys, "seconds"])
    else:
        positions = ibis.memtable(
            placed[["service", "variant", "kind", "activity", "position"]].astype(
                {"service": "string", "variant": "string", "kind": "string", "activity": "string", "position": "int64"})
        )
        steps = store.backend.table("steps")  # joined with the filtered cases below
        at = journeys.select("service", "case_id", "variant").join(positions, ["service", "variant"])
        waits = at.join(
            steps, [at.service == steps.service, at.case_id == steps.case_id, steps.position == at.position - 1]
        ).select(at.service, at.kind, at.activity, wait=steps.seconds_to_next)
        priced = waits.group_by(keys).aggregate(seconds=waits.wait.sum().cast("float64")).to_pandas()
    result = counted.merge(priced, on=keys, how="left")
    timed = result.kind != "skipped"  # an inserted step at the very start of a case has no wait before it
    result.loc[timed, "seconds"] = result.loc[timed, "seconds"].fillna(0.0)
    result["mean_seconds"] = result.seconds / result.occurrences
    return result.sort_values(["occurrences", "service", "kind", "activity"], ascending=[False, True, True, True],
                              ignore_index=True)[columns]
