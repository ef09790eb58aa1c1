"""Designed journeys with choices, optional steps and steps in any order: a process tree, its parsing and alignment.

A designed (to-be) journey is a *process tree*. In the catalogue it is written in a small
notation, the one pm4py prints::

    designed_journey = "->(Apply, Upload documents, X(Deliver, Collect), ?Notify, +(Pay fees, Book visit))"

=================  ==========================================================================
``->(a, b, ...)``  sequence: its parts one after the other
``X(a, b, ...)``   exclusive choice: exactly one of its parts (deliver OR collect)
``+(a, b, ...)``   any order: every part, in any order, interleaved (parallel)
``*(a, b)``        loop: ``a``, then any number of times ``b`` and ``a`` again
``?a``             optional: ``a`` or nothing (short for ``X(tau, a)``)
``tau``            nothing: a silent step
``Name``           an activity; quote it (``'Pay (online)'``) when it holds ``( ) , ' "``,
                   starts with ``?`` or is ``tau``; spaces inside a name need no quotes
=================  ==========================================================================

A list (``designed_journey = ["Apply", "Pay", "Issue"]``) is still a strict sequence, as before,
and a table ``designed_journey = { bpmn = "passport.bpmn" }`` reads the journey from a BPMN
file (path relative to the catalogue's file): its tasks, exclusive and parallel gateways and
events, block-structured (each split gateway closed by one join gateway of its kind; a loop in a
BPMN diagram is not read: write it with ``*``). The XML is read without DTDs, entities or network.

Alignment
---------
:func:`align` aligns a variant with a tree the way pm4py's alignments do (standard costs: a step
on one side only costs 1, a shared step 0, a silent step nothing) and gives pm4py's fitness:
``1 - cost / (len(variant) + fewest steps the design allows)``, 1 when the cost is 0. It runs a
Dijkstra search over (position in the variant, state of the tree's automaton); the automaton
(:func:`automaton`) is small because designed journeys are, so each of a service's few variants is
aligned in microseconds, and pm4py is not needed at run time.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from najma.errors import CatalogueError

__all__ = ["Tree", "TAU", "parse_tree", "sequence_tree", "read_bpmn", "Automaton", "automaton", "Alignment", "align",
           "fewest_steps"]

OPERATORS = ("->", "X", "+", "*")


@dataclass(frozen=True)
class Tree:
    """A process tree: an activity (``label``), a silent step (no label, no operator) or an operator over children."""

    operator: str | None = None
    children: tuple[Tree, ...] = ()
    label: str | None = None

    def leaves(self) -> tuple[str, ...]:
        """The activities of the tree, left to right (an activity written twice is listed twice)."""
        if self.operator is None:
            return () if self.label is None else (self.label,)
        return tuple(leaf for child in self.children for leaf in child.leaves())

    def is_sequence(self) -> bool:
        """Whether the tree is a strict sequence of activities (what a list in the catalogue says)."""
        return self.operator == "->" and all(c.operator is None and c.label is not None for c in self.children)

    def __str__(self) -> str:
        if self.operator is None:
            return "tau" if self.label is None else _quoted(self.label)
        if self.operator == "X" and len(self.children) == 2 and self.children[0] == TAU:
            return "?" + str(self.children[1])
        return f"{self.operator}({', '.join(map(str, self.children))})"


TAU = Tree()
_PLAIN = re.compile(r"[^()',\"?\s](?:[^()',\"]*[^()',\"\s])?")


def _quoted(label: str) -> str:
    if _PLAIN.fullmatch(label) and label != "tau" and label not in OPERATORS:
        return label
    quote = "'" if "'" not in label else '"'
    if quote in label:
        raise CatalogueError(f"the activity {label!r} holds both quote marks, so a designed journey cannot name it")
    return f"{quote}{label}{quote}"


def sequence_tree(activities: Sequence[str]) -> Tree:
    """The tree of a strict sequence of `activities` (a designed journey written as a list)."""
    return Tree("->", tuple(Tree(label=a) for a in activities))


_TOKEN = re.compile(r"\s*(?:(->|[X+*](?=\s*\())|(\?)|(\()|(\))|(,)|'([^']*)'|\"([^\"]*)\"|([^()',\"]+))")


def parse_tree(text: str, where: str = "designed_journey") -> Tree:
    """Parse a process tree written in the notation of the module docstring.

    Raises
    ------
    CatalogueError
        Naming `where` and the character at which the text stops making sense.

    Examples
    --------
    >>> tree = parse_tree("->(Apply, X(Deliver, Collect), ?Notify)")
    >>> tree.leaves(), str(tree)
    (('Apply', 'Deliver', 'Collect', 'Notify'), '->(Apply, X(Deliver, Collect), ?Notify)')
    """
    tokens = _tokens(text, where)
    tree, at = _parse(tokens, 0, text, where)
    if at != len(tokens):
        raise CatalogueError(f"{where}: unexpected {tokens[at][1]!r} at character {tokens[at][2] + 1} of {text!r}")
    return tree


def _tokens(text: str, where: str) -> list[tuple[str, str, int]]:
    """(kind, text, offset) of each token: op, opt, open, close, comma, name."""
    found, at = [], 0
    while text[at:].strip():
        match = _TOKEN.match(text, at)
        if match is None:
            raise CatalogueError(f"{where}: cannot read {text[at:].strip()!r} at character {at + 1} of {text!r}")
        kind = ("op", "opt", "open", "close", "comma", "name", "name", "bare")[match.lastindex - 1]
        value = match.group(match.lastindex)
        found.append(("name" if kind == "bare" else kind, value.strip() if kind == "bare" else value,
                      match.start(match.lastindex)))
        if kind == "bare" and value.strip() == "tau":
            found[-1] = ("tau", "tau", found[-1][2])
        at = match.end()
    return found


def _parse(tokens: list[tuple[str, str, int]], at: int, text: str, where: str) -> tuple[Tree, int]:
    if at >= len(tokens):
        raise CatalogueError(f"{where}: {text!r} ends too early: a step or a closing ')' is missing")
    kind, value, offset = tokens[at]
    if kind == "name":
        return Tree(label=value), at + 1
    if kind == "tau":
        return TAU, at + 1
    if kind == "opt":
        child, at = _parse(tokens, at + 1, text, where)
        return Tree("X", (TAU, child)), at
    if kind != "op":
        raise CatalogueError(f"{where}: expected a step at character {offset + 1} of {text!r}, found {value!r}")
    children, at = [], at + 2  # the operator and its "(" (the token pattern checks that "(" follows)
    while True:
        child, at = _parse(tokens, at, text, where)
        children.append(child)
        if at < len(tokens) and tokens[at][0] == "comma":
            at += 1
            continue
        if at < len(tokens) and tokens[at][0] == "close":
            break
        if at >= len(tokens):
            raise CatalogueError(f"{where}: {text!r} ends too early: a closing ')' of {value}( is missing")
        raise CatalogueError(f"{where}: expected ',' or ')' after a step of {value}( in {text!r}")
    if value == "*" and len(children) != 2:
        raise CatalogueError(f"{where}: a loop *(do, redo) has two parts, got {len(children)} in {text!r}")
    return Tree(value, tuple(children)), at + 1


# -- the automaton of a tree -------------------------------------------------------------------------

@dataclass
class Automaton:
    """A finite automaton whose edges carry an activity or None (a silent step); the language of a design."""

    edges: list[list[tuple[str | None, int]]] = field(default_factory=list)
    start: int = 0
    end: int = 0

    def state(self) -> int:
        """Add a state and return it."""
        self.edges.append([])
        return len(self.edges) - 1

    def edge(self, source: int, label: str | None, target: int) -> None:
        """Add an edge."""
        self.edges[source].append((label, target))

    def embed(self, other: Automaton) -> tuple[int, int]:
        """Copy `other` in; return its start and end here."""
        offset = len(self.edges)
        self.edges.extend([(label, target + offset) for label, target in out] for out in other.edges)
        return other.start + offset, other.end + offset


#: The most states an automaton may have (a design with many steps in any order grows fast).
MAX_STATES = 200_000


def automaton(tree: Tree) -> Automaton:
    """The automaton whose accepted words are the journeys `tree` allows (silent edges for tau and the operators)."""
    made = Automaton()
    made.start, made.end = _build(tree, made)
    return made


def _build(tree: Tree, into: Automaton) -> tuple[int, int]:
    if tree.operator == "+":
        return into.embed(_product([automaton(child) for child in tree.children]))
    start, end = into.state(), into.state()
    if tree.operator is None:
        into.edge(start, tree.label, end)
        return start, end
    parts = [_build(child, into) for child in tree.children]
    if tree.operator == "->":
        for (_, before), (after, _) in zip([(None, start), *parts], [*parts, (end, None)], strict=True):
            into.edge(before, None, after)
    elif tree.operator == "X":
        for first, last in parts:
            into.edge(start, None, first)
            into.edge(last, None, end)
    else:  # "*": do, then (redo, do)*
        (do_first, do_last), (redo_first, redo_last) = parts
        into.edge(start, None, do_first)
        into.edge(do_last, None, end)
        into.edge(do_last, None, redo_first)
        into.edge(redo_last, None, do_first)
    return start, end


def _product(parts: list[Automaton]) -> Automaton:
    """The interleaving of `parts`: each step moves one of them."""
    made, index = Automaton(), {}
    first = tuple(part.start for part in parts)
    todo = [first]
    index[first] = made.state()
    while todo:
        states = todo.pop()
        for i, part in enumerate(parts):
            for label, target in part.edges[states[i]]:
                moved = (*states[:i], target, *states[i + 1:])
                if moved not in index:
                    if len(index) >= MAX_STATES:
                        raise CatalogueError(f"a designed journey's steps in any order allow more than {MAX_STATES} "
                                             "states: split the +( ... ) block into smaller ones")
                    index[moved] = made.state()
                    todo.append(moved)
                made.edge(index[states], label, index[moved])
    made.start, made.end = index[first], index[tuple(part.end for part in parts)]
    return made


def fewest_steps(model: Automaton, counted: Callable[[str], bool] = lambda _: True) -> int:
    """The fewest `counted` activities on a journey the design allows (a 0-1 breadth-first search).

    With the default, the length of the shortest journey the design allows; with ``counted`` the
    customer's activities, the fewest customer steps (a choice counts its cheapest branch, an
    optional step nothing, a loop its first pass).
    """
    best = {model.start: 0}
    queue = [(0, model.start)]
    while queue:
        cost, state = heapq.heappop(queue)
        if state == model.end:
            return cost
        if cost > best[state]:
            continue
        for label, target in model.edges[state]:
            step = cost + (label is not None and counted(label))
            if step < best.get(target, step + 1):
                best[target] = step
                heapq.heappush(queue, (step, target))
    raise CatalogueError("a designed journey allows no journey at all")


@dataclass(frozen=True)
class Alignment:
    """An optimal alignment of a variant with a design.

    Attributes
    ----------
    moves : list of (str or None, str or None)
        (observed activity or None, designed activity or None) per step: both for a shared step,
        observed only for a step the design does not allow there, designed only for a step the
        variant skipped; silent steps are left out.
    cost : int
        The steps on one side only.
    fitness : float
        pm4py's: 1 - cost / (len(variant) + fewest steps of the design); 1 when the cost is 0.
    """

    moves: list[tuple[str | None, str | None]]
    cost: int
    fitness: float


def align(variant: Sequence[str], model: Automaton, shortest: int | None = None) -> Alignment:
    """Align `variant` with `model` (Dijkstra over (position, state); ties broken the same way every time).

    Parameters
    ----------
    variant : sequence of str
        The activities of a variant, in order.
    model : Automaton
        The design's automaton (:func:`automaton`).
    shortest : int, optional
        :func:`fewest_steps` of `model`, when known (it is the same for every variant).
    """
    n, order = len(variant), itertools.count()
    best: dict[tuple[int, int], int] = {(0, model.start): 0}
    back: dict[tuple[int, int], tuple[tuple[int, int], str | None, str | None]] = {}
    queue = [(0, 0, next(order), 0, model.start)]
    while queue:
        cost, _, _, at, state = heapq.heappop(queue)
        if cost > best[(at, state)]:
            continue
        if at == n and state == model.end:
            break
        steps = [(at + 1, state, variant[at], None, 1)] if at < n else []
        for label, target in model.edges[state]:
            if label is None:
                steps.append((at, target, None, None, 0))
            else:
                steps.append((at, target, None, label, 1))
                if at < n and variant[at] == label:
                    steps.append((at + 1, target, label, label, 0))
        for next_at, target, observed, modelled, price in steps:
            key = (next_at, target)
            if cost + price < best.get(key, cost + price + 1):
                best[key], back[key] = cost + price, ((at, state), observed, modelled)
                heapq.heappush(queue, (cost + price, -next_at, next(order), next_at, target))
    key, moves = (n, model.end), []
    cost = best[key]
    while key in back:
        key, observed, modelled = back[key]
        if observed is not None or modelled is not None:
            moves.append((observed, modelled))
    moves.reverse()
    shortest = fewest_steps(model) if shortest is None else shortest
    return Alignment(moves, cost, 1.0 if cost == 0 else 1 - cost / (n + shortest))


# -- BPMN ------------------------------------------------------------------------------------------

_TASKS = {"task", "userTask", "serviceTask", "manualTask", "sendTask", "receiveTask", "scriptTask", "businessRuleTask",
          "callActivity"}
_PASS = {"startEvent", "intermediateCatchEvent", "intermediateThrowEvent"}
_GATEWAYS = {"exclusiveGateway": "X", "parallelGateway": "+"}


def read_bpmn(path: str | Path) -> Tree:
    """The process tree of the block-structured BPMN diagram at `path` (see the module docstring).

    Raises
    ------
    CatalogueError
        If the file cannot be read safely, or the diagram is not block-structured, naming the file and the node.
    """
    path = Path(path)
    graph = _bpmn_graph(path)
    starts = [node for node, kind in graph.kinds.items() if kind == "startEvent"]
    if len(starts) != 1:
        raise CatalogueError(f"{path}: a designed journey's BPMN diagram needs one start event, found {len(starts)}")
    items, stop = _block(graph, starts[0], path)
    if stop is not None:
        raise CatalogueError(f"{path}: the gateway {stop!r} joins flows that no gateway split (a loop, or not "
                             "block-structured); write such a journey in the catalogue's notation, e.g. with *(do, redo)")
    return items[0] if len(items) == 1 and items[0].operator == "->" else Tree("->", tuple(items))


@dataclass
class _Graph:
    kinds: dict[str, str]
    names: dict[str, str]
    outgoing: dict[str, list[str]]
    incoming: dict[str, int]


def _bpmn_graph(path: Path) -> _Graph:
    from lxml import etree  # read lazily: only a catalogue that names a BPMN file needs it

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False)
    try:
        document = etree.parse(str(path), parser)
    except (OSError, etree.XMLSyntaxError) as exc:
        raise CatalogueError(f"{path}: cannot be read as BPMN XML ({exc})") from None
    if document.docinfo.doctype:
        raise CatalogueError(f"{path}: a BPMN file with a DOCTYPE is refused (DTDs and entities are not read)")
    processes = [p for p in document.getroot().iter() if etree.QName(p).localname == "process"]
    if not processes:
        raise CatalogueError(f"{path}: no <process> element")
    graph = _Graph({}, {}, {}, {})
    for element in processes[0]:
        if not isinstance(element.tag, str):
            continue
        kind, node = etree.QName(element).localname, element.get("id")
        if kind == "sequenceFlow":
            graph.outgoing.setdefault(element.get("sourceRef"), []).append(element.get("targetRef"))
            graph.incoming[element.get("targetRef")] = graph.incoming.get(element.get("targetRef"), 0) + 1
        elif kind in _TASKS | _PASS | set(_GATEWAYS) | {"endEvent"}:
            graph.kinds[node] = kind
            graph.names[node] = (element.get("name") or "").strip()
        elif kind not in {"laneSet", "documentation", "extensionElements", "textAnnotation", "association",
                          "dataObject", "dataObjectReference", "dataStoreReference"}:
            raise CatalogueError(f"{path}: the element <{kind}> (id {node!r}) is not read in a designed journey")
    return graph


def _block(graph: _Graph, node: str, path: Path) -> tuple[list[Tree], str | None]:
    """The trees from `node` up to the end event (stop None) or to the join gateway that closes the block (its id)."""
    items: list[Tree] = []
    while True:
        kind, after = graph.kinds.get(node), graph.outgoing.get(node, [])
        if kind is None:
            raise CatalogueError(f"{path}: a sequence flow leads to {node!r}, which is not a task, event or gateway")
        if kind == "endEvent":
            return items, None
        if kind in _GATEWAYS and graph.incoming.get(node, 0) > 1:
            return items, node
        if kind in _TASKS:
            if not graph.names[node]:
                raise CatalogueError(f"{path}: the task {node!r} has no name (the name is the activity)")
            items.append(Tree(label=graph.names[node]))
        if kind in _GATEWAYS and len(after) > 1:
            block, node = _split(graph, node, after, path)
            items.append(block)
            after = graph.outgoing.get(node, [])
        if len(after) != 1:
            raise CatalogueError(f"{path}: {node!r} needs one outgoing sequence flow, has {len(after)}")
        node = after[0]


def _split(graph: _Graph, gateway: str, after: list[str], path: Path) -> tuple[Tree, str]:
    """The block a split gateway opens, and the join gateway that closes it."""
    branches = [_block(graph, target, path) for target in after]
    joins = {stop for _, stop in branches}
    if len(joins) != 1 or None in joins:
        raise CatalogueError(f"{path}: the branches of gateway {gateway!r} do not meet again at one gateway")
    join = joins.pop()
    if graph.kinds[join] != graph.kinds[gateway]:
        raise CatalogueError(f"{path}: gateway {gateway!r} ({graph.kinds[gateway]}) is closed by {join!r} "
                             f"({graph.kinds[join]})")
    parts = tuple(TAU if not items else items[0] if len(items) == 1 else Tree("->", tuple(items))
                  for items, _ in branches)
    return Tree(_GATEWAYS[graph.kinds[gateway]], parts), join
