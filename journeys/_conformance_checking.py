"""Conformance: how far observed journeys stray from each service's designed journey, and what it costs.

The designed journey of a service comes from its catalogue (``designed_journey``: a strict
sequence, a process tree with choices, optional and unordered steps, or a BPMN file; see
:mod:`najma.journeys._designed`), registered in the store with the catalogue (:func:`najma.journeys.register_catalogue`, from :func:`designed_rows`).
Each distinct variant is aligned once against it (:func:`najma.journeys._designed.align`, the same
optimum and fitness as pm4py's alignments, which the tests check) and weighted by its number of
cases, so the work grows with the variants, not with the cases. A variant *fits* when its
alignment costs nothing: it is one of the journeys the design allows.

The store keeps a design in the ``designed_journeys`` table: its activities at positions 0, 1, ...
(left to right, as the list of a strict sequence always was), and, for a design that is not a
strict sequence, its tree in the notation at position -1 (:data:`TREE_POSITION`).

Deviations
----------
Each is counted once per step of the case:

skipped
    A designed step the case never took (a move on the model only).
inserted
    A step the design does not allow (a move on the log only), of an activity the case had not taken before.
repeated
    Such a step whose activity the case had already taken: rework.
moved
    A step the design has, taken out of its order: the alignment skips it where the design puts it
    and inserts it where the case took it; that pair counts as one deviation, not as a skip and an insert.

Cost in time
------------
A deviation's seconds are the wait before the step (from the case's previous step to it), summed
over the cases, for inserted, repeated and moved steps; a skipped step costs no time in the case
itself (empty). Per service, ``extra_days`` is the median duration of the cases that deviate minus
that of the cases that fit, in days (empty when either group is empty).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ibis
import pandas as pd
from ibis.expr.types import Table

from najma.errors import InvalidEventLogError
from najma.journeys._catalogue import Catalogue
from najma.journeys._designed import Tree, align, automaton, fewest_steps, parse_tree, sequence_tree
from najma.journeys._filters import CaseFilter
from najma.journeys._store import Store
from najma.journeys._tables import JourneyTables
from najma.journeys._variants import journey_table, variant_activities

__all__ = ["Conformance", "conformance", "designed_journeys", "designed_rows",
           "designed_steps", "DEVIATION_KINDS", "TREE_POSITION"]

DEVIATION_KINDS = ("skipped", "inserted", "repeated", "moved")
#: The position at which the ``designed_journeys`` table keeps a design's tree (its activities are at 0, 1, ...).
TREE_POSITION = -1


@dataclass(frozen=True)
class Conformance:
    """Observed journeys against designed ones.

    Attributes
    ----------
    variants : pandas.DataFrame
        service, variant, cases, fits (the design allows the variant), fitness (pm4py's alignment
        fitness, 1 = fits), cost (steps on one side only of the alignment), skipped, inserted,
        repeated, moved (deviations in one case of the variant; a moved step counts once).
    services : pandas.DataFrame
        service, cases, variants, fitness (mean over cases), fitting_share (cases that fit),
        extra_days (median days of the cases that deviate minus that of the cases that fit).
    deviations : pandas.DataFrame
        service, kind (skipped, inserted, repeated, moved), activity, cases (with the deviation),
        occurrences, seconds (the waits before the steps, summed; empty for skipped) and
        mean_seconds (per occurrence); most frequent first.
    cases : ibis Table
        service, case_id, variant, fitness: one row per case.
    """

    variants: pd.DataFrame
    services: pd.DataFrame
    deviations: pd.DataFrame
    cases: Table


def designed_rows(catalogue: Catalogue) -> pd.DataFrame:
    """The rows of the store's ``designed_journeys`` table for `catalogue`: service, position, activity.

    A strict sequence is its activities at positions 0, 1, ...; any other design adds its tree at
    :data:`TREE_POSITION`, so that an old catalogue's rows are what they always were.
    """
    rows = [(key, position, activity) for key, spec in catalogue.services.items()
            for position, activity in enumerate(spec.designed_journey)]
    rows += [(key, TREE_POSITION, str(spec.designed_model)) for key, spec in catalogue.services.items()
             if spec.designed_model is not None and not spec.designed_model.is_sequence()]
    return pd.DataFrame(rows, columns=["service", "position", "activity"]).astype(
        {"service": "string", "position": "int64", "activity": "string"})


def designed_journeys(store: JourneyTables) -> dict[str, Tree]:
    """The designed journey of each service, as registered from the catalogue, as a process tree."""
    rows = store.backend.table("designed_journeys").to_pyarrow().to_pylist()
    trees = {row["service"]: parse_tree(row["activity"], f"the designed journey of {row['service']}")
             for row in rows if row["position"] == TREE_POSITION}
    listed: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        if row["position"] != TREE_POSITION:
            listed.setdefault(row["service"], []).append((row["position"], row["activity"]))
    return {service: trees.get(service) or sequence_tree([a for _, a in sorted(steps)])
            for service, steps in sorted(listed.items())}


def designed_steps(store: JourneyTables, role: str = "customer_step") -> pd.DataFrame:
    """service, designed_steps: the fewest steps of `role` on a journey each service's design allows.

    A choice counts its branch with the fewest such steps, an optional step none, steps in any
    order all of theirs, a loop one pass; for a strict sequence it is the number of its activities
    that have the role, as before.
    """
    roles = store.backend.table("activity_roles")
    holding = roles.filter(roles.role == role).select("service", "activity").to_pyarrow().to_pylist()
    having: dict[str, set[str]] = {}
    for row in holding:
        having.setdefault(row["service"], set()).add(row["activity"])
    rows = [(service, fewest_steps(automaton(tree), having.get(service, set()).__contains__))
            for service, tree in designed_journeys(store).items()]
    return pd.DataFrame(rows, columns=["service", "designed_steps"]).astype(
        {"service": "string", "designed_steps": "int64"})


def _deviations(moves: Sequence[tuple[str | None, str | None]]) -> list[tuple[str, str, int | None]]:
    """(kind, activity, position in the case or None) of each deviation in an alignment.

    Equal-cost alignments may leave a different occurrence of a repeated activity unmatched. So
    that the answer does not depend on it, the unmatched occurrences of an activity are taken to be
    its last ones: the first occurrence of an activity is the step, and later ones are repeats. An
    unmatched occurrence of an activity the alignment also skips is that step out of its order
    (moved), paired with one skip of it.
    """
    observed = [activity for activity, _ in moves if activity is not None]
    unmatched = Counter(activity for activity, modelled in moves if activity is not None and modelled is None)
    unplaced = Counter(modelled for activity, modelled in moves if activity is None)
    remaining = Counter(observed)
    found: list[tuple[str, str, int | None]] = []
    for position, activity in enumerate(observed):
        if remaining[activity] <= unmatched[activity]:
            if unplaced[activity]:
                unplaced[activity] -= 1
                found.append(("moved", activity, position))
            else:
                first = observed.index(activity) == position
                found.append(("inserted" if first else "repeated", activity, position))
        remaining[activity] -= 1
    return [("skipped", activity, None) for activity in sorted(unplaced.elements())] + found


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
        model = automaton(designed[service])
        shortest = fewest_steps(model)
        for variant, cases in zip(group.variant, group.cases, strict=True):
            result = align(variant_activities(variant), model, shortest)
            deviations = _deviations(result.moves)
            kinds = [kind for kind, _, _ in deviations]
            rows.append({"service": service, "variant": variant, "cases": int(cases), "fits": result.cost == 0,
                         "fitness": result.fitness, "cost": result.cost,
                         **{kind: kinds.count(kind) for kind in DEVIATION_KINDS}})
            found.extend({"service": service, "variant": variant, "cases": int(cases), "kind": kind,
                          "activity": activity, "position": position} for kind, activity, position in deviations)
    variants = pd.DataFrame(rows, columns=["service", "variant", "cases", "fits", "fitness", "cost", *DEVIATION_KINDS])
    verdicts = ibis.memtable(variants[["service", "variant", "fitness", "fits"]].astype(
        {"service": "string", "variant": "string", "fitness": "float64", "fits": "bool"}))
    judged = journeys.select("service", "case_id", "variant", "duration_seconds").join(verdicts, ["service", "variant"])
    return Conformance(variants, _per_service(variants, judged), _priced(store, journeys, found),
                       judged.select("service", "case_id", "variant", "fitness"))


def _per_service(variants: pd.DataFrame, judged: Table) -> pd.DataFrame:
    """Cases, variants, mean fitness, fitting share and extra days (the engine's medians) per service."""
    weighted = variants.assign(_weighted=variants.fitness * variants.cases, _fits=variants.cases * variants.fits)
    grouped = weighted.groupby("service", as_index=False).agg(
        cases=("cases", "sum"), variants=("variant", "count"), _weighted=("_weighted", "sum"), _fits=("_fits", "sum")
    )
    medians = judged.group_by(["service", "fits"]).aggregate(days=judged.duration_seconds.median() / 86400).to_pandas()
    wide = medians.pivot(index="service", columns="fits", values="days").reindex(columns=[False, True])
    extra = (wide[False] - wide[True]).rename("extra_days").astype("float64")
    summary = grouped.assign(fitness=grouped._weighted / grouped.cases, fitting_share=grouped._fits / grouped.cases)
    return summary.merge(extra, left_on="service", right_index=True, how="left")[
        ["service", "cases", "variants", "fitness", "fitting_share", "extra_days"]
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
