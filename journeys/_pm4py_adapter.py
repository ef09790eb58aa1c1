"""The one door to pm4py: discovery and alignments, fed from engine-side aggregates.

pm4py is licensed under the AGPL-3.0; najma (Apache-2.0) calls it only from this module, so that
a deployment that must avoid it knows exactly what it loses (discovery and conformance) and where.
Nothing here sees raw events: discovery starts from a :class:`~najma.journeys.ProcessMap`
(the engine's DFG) and alignments from the distinct variants, one trace each.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pm4py
from pm4py.algo.conformance.alignments.petri_net import algorithm as alignments
from pm4py.objects.bpmn.obj import BPMN
from pm4py.objects.dfg.obj import DFG
from pm4py.objects.log.obj import Event, EventLog, Trace
from pm4py.objects.petri_net.obj import Marking, PetriNet
from pm4py.objects.process_tree.obj import Operator, ProcessTree

from najma.errors import InvalidParameterError
from najma.journeys._process_map import ProcessMap

__all__ = [
    "PetriNetModel", "discover_process_tree", "to_petri_net", "to_bpmn", "write_bpmn", "sequence_model",
    "align_variants", "SKIP",
]

#: pm4py's mark for "no move" on one side of an alignment step.
SKIP = ">>"
PetriNetModel = tuple[PetriNet, Marking, Marking]


def discover_process_tree(process_map: ProcessMap, noise_threshold: float = 0.0) -> ProcessTree:
    """Discover a process tree with the inductive miner (pm4py's IMd) from the engine's DFG.

    Parameters
    ----------
    process_map : ProcessMap
        The directly-follows graph, with its start and end activities.
    noise_threshold : float, default 0.0
        Share of the behaviour the miner may treat as noise, in [0, 1).
    """
    if not 0 <= noise_threshold < 1:
        raise InvalidParameterError(
            f"The 'noise_threshold' parameter of discover_process_tree must be in [0, 1). Got {noise_threshold!r} instead."
        )
    if not process_map.start_activities:
        raise InvalidParameterError("The process map is empty: no case passed the filter, so there is nothing to discover.")
    dfg = DFG(process_map.dfg, process_map.start_activities, process_map.end_activities)
    return pm4py.discover_process_tree_inductive(dfg, noise_threshold=noise_threshold, multi_processing=False)


def to_petri_net(tree: ProcessTree) -> PetriNetModel:
    """Return the Petri net of a process tree with its initial and final markings."""
    return pm4py.convert_to_petri_net(tree)


def to_bpmn(tree: ProcessTree) -> BPMN:
    """Return the BPMN diagram of a process tree."""
    return pm4py.convert_to_bpmn(tree)


def write_bpmn(diagram: BPMN, path: str | Path) -> Path:
    """Write a BPMN diagram as a ``.bpmn`` XML file and return its path.

    The file carries no diagram layout (pm4py lays out with the Graphviz program, which an
    analyst's machine need not have); BPMN modellers such as Camunda Modeler lay it out on opening.
    """
    path = Path(path)
    pm4py.write_bpmn(diagram, str(path), auto_layout=False)
    return path


def sequence_model(activities: Sequence[str]) -> PetriNetModel:
    """The Petri net of a designed journey: its activities once each, in order."""
    if not activities:
        raise InvalidParameterError("The designed journey is empty: name its activities in the catalogue's designed_journey.")
    root = ProcessTree(operator=Operator.SEQUENCE)
    for activity in activities:
        root.children.append(ProcessTree(label=activity, parent=root))
    return to_petri_net(root)


def align_variants(variants: Sequence[Sequence[str]], model: PetriNetModel) -> list[dict[str, Any]]:
    """Align each variant once against `model` (A* over the state equation, standard costs).

    Parameters
    ----------
    variants : sequence of sequences of str
        The distinct variants, each as its activities in order.
    model : (PetriNet, Marking, Marking)
        The net and its initial and final markings.

    Returns
    -------
    list of dict
        One per variant, in order: ``fitness`` (pm4py's: 1 minus the cost over the worst cost),
        ``cost`` and ``moves``, a list of (observed activity or :data:`SKIP`, model activity or
        :data:`SKIP`) pairs; moves of silent transitions are left out.
    """
    log = EventLog([Trace([Event({"concept:name": activity}) for activity in variant]) for variant in variants])
    net, initial, final = model
    results = alignments.apply_log(
        log, net, initial, final, parameters={alignments.Parameters.SHOW_PROGRESS_BAR: False}
    )
    return [
        {
            "fitness": float(result["fitness"]),
            "cost": int(result["cost"]),
            "moves": [(observed, modelled) for observed, modelled in result["alignment"] if modelled is not None],
        }
        for result in results
    ]
