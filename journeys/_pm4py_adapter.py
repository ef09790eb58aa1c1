"""The one door to pm4py: discovery and drawing, fed from engine-side aggregates.

pm4py is licensed under the AGPL-3.0; najma (Apache-2.0) calls it only from this module, so that
a deployment that must avoid it knows exactly what it loses (discovery and BPMN drawing) and where.
Nothing here sees raw events: discovery starts from a :class:`~najma.journeys.ProcessMap`
(the engine's DFG). Conformance does not need pm4py: najma aligns the variants itself
(:mod:`najma.journeys._designed`), and the tests hold it to pm4py's alignments.
"""

from __future__ import annotations

from pathlib import Path

import pm4py
from pm4py.objects.bpmn.obj import BPMN
from pm4py.objects.dfg.obj import DFG
from pm4py.objects.petri_net.obj import Marking, PetriNet
from pm4py.objects.process_tree.obj import Operator, ProcessTree

from najma.errors import InvalidParameterError
from najma.journeys._designed import Tree
from najma.journeys._process_map import ProcessMap

__all__ = [
    "PetriNetModel", "discover_process_tree", "to_petri_net", "to_bpmn", "write_bpmn", "process_tree",
]

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


_OPERATORS = {"->": Operator.SEQUENCE, "X": Operator.XOR, "+": Operator.PARALLEL, "*": Operator.LOOP}


def process_tree(tree: Tree) -> ProcessTree:
    """pm4py's process tree of a designed journey (e.g. to draw it as BPMN with :func:`to_bpmn`)."""
    made = ProcessTree(operator=_OPERATORS[tree.operator] if tree.operator else None, label=tree.label)
    for child in tree.children:
        part = process_tree(child)
        part.parent = made
        made.children.append(part)
    return made


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
