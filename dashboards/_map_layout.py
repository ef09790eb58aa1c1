"""One layered layout of a process map, shared by the interactive map and the static pictures.

A process map is a directed graph with loops. It is drawn as Disco and Graphviz's ``dot`` draw
such graphs: the Sugiyama way. Cycles are broken by turning a few edges around, activities are put
in layers from the start down to the end, long edges pass through dummy points (one per layer they
cross) so they bend around the boxes in between, the order within each layer is chosen to cross
few edges, and the boxes are placed side by side at their own width. Every edge gets a label
point half way, sized to its count or its time, so a count sits beside its own line, never
under an arrowhead or over another box. A start node heads the map and an end node closes it.

The layout is computed here, in Python, so the Cytoscape map of the dashboard (preset positions)
and the plotly pictures (SVG, PNG, PDF) show the same picture. It is drawn by `grandalf`
(pure Python, BSD): a Sugiyama layout with dummy vertices for long edges, boxes of any width
and height, Brandes and Köpf's coordinates and edge paths through the dummies. The alternatives
weighed: Graphviz ``dot`` draws the best maps, but pydot and pygraphviz need the system Graphviz
(a plain ``pip install`` must be enough); igraph's ``layout_sugiyama`` is compiled and places
points, not boxes of a label's width, so long labels overlap; networkx has no layered layout
with sizes or routing; ogdf-python needs the OGDF C++ library built; and dash-cytoscape's dagre,
klay and elk run in the browser, which the static pictures could not share.

Sizes are in pixels at the fonts :data:`FONT_SIZE` and :data:`LABEL_FONT_SIZE`, estimated from the
characters of each label (Latin and Arabic), since no browser measures them here.

Examples
--------
>>> import pandas as pd
>>> from najma.journeys import ProcessMap
>>> graph = ProcessMap(
...     pd.DataFrame({"activity": ["Apply", "Pay"], "frequency": [10, 8], "cases": [10, 8]}),
...     pd.DataFrame({"source": ["Apply"], "target": ["Pay"], "frequency": [8], "cases": [8],
...                   "median_seconds": [60.0]}),
...     {"Apply": 10}, {"Pay": 8, "Apply": 2})
>>> layout = map_layout(graph)
>>> [node for node, box in sorted(layout.nodes.items(), key=lambda item: item[1].y)] == [START, "Apply", "Pay", END]
True
"""

from __future__ import annotations

import math
import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from grandalf.graphs import Edge, Graph, Vertex
from grandalf.layouts import SugiyamaLayout

from najma.journeys import ProcessMap

__all__ = ["map_layout", "MapLayout", "Box", "Link", "START", "END", "FONT_SIZE", "LABEL_FONT_SIZE", "text_width",
           "duration_text", "edge_text", "UNITS"]

#: The node of the start and of the end (names no activity can have).
START, END = "\x02start", "\x03end"
#: The font size of an activity's name and count, and of an edge's label, in pixels.
FONT_SIZE, LABEL_FONT_SIZE = 12, 11
#: The height of a line of text, in font sizes.
LINE_HEIGHT = 1.3
#: The characters per line of an activity's name before it wraps.
WRAP = 26
_PAD_X, _PAD_Y = 12, 7
_TERMINAL = 28.0
_X_GAP, _Y_GAP = 26.0, 22.0
_LABEL_GAP = 6.0
#: The units of a duration on a map, in English: seconds, minutes, hours, days (see :func:`duration_text`).
UNITS = ("s", "min", "h", "d")
#: How far a self-loop reaches out from its box's right side.
LOOP_REACH = 22.0

# Advance widths in font sizes, near those of DejaVu Sans and Noto (the fonts of Debian's Chromium).
_NARROW = frozenset("fijlrtI.,:;'!|()[]{}/\\- ")
_WIDE = frozenset("mwMW@%&")


def text_width(text: str, font_size: float) -> float:
    """The width in pixels of one line of `text` at `font_size`, estimated from its characters.

    Wide letters, capitals and digits count more than narrow ones; Arabic letters count as wide
    as Latin ones of a sans font; combining marks (Arabic vowel signs) take no room.

    Examples
    --------
    >>> text_width("Pay", 10) < text_width("Resubmit documents", 10)
    True
    """
    return font_size * sum(_advance(character) for character in text)


def _advance(character: str) -> float:
    if unicodedata.combining(character) or unicodedata.category(character) in ("Mn", "Cf"):
        return 0.0
    if character in _NARROW:
        return 0.36
    if character in _WIDE:
        return 0.92
    if "\u0600" <= character <= "\u06ff" or "\ufb50" <= character <= "\ufeff":
        return 0.66
    if character.isupper():
        return 0.72
    return 0.62


def duration_text(seconds: float, units: Sequence[str] = UNITS) -> str:
    """A duration as a map shows it: seconds below a minute, minutes below an hour, hours below two days, else days.

    Parameters
    ----------
    seconds : float
        The duration.
    units : sequence of four str, default :data:`UNITS`
        The names of a second, a minute, an hour and a day, in the reader's language.

    Examples
    --------
    >>> duration_text(12), duration_text(90), duration_text(5400), duration_text(3 * 86400)
    ('12 s', '2 min', '1.5 h', '3.0 d')
    """
    second, minute, hour, day = units
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:,.1f} {day}"
    if seconds >= 3600:
        return f"{seconds / 3600:,.1f} {hour}"
    return f"{seconds / 60:,.0f} {minute}" if seconds >= 59.5 else f"{seconds:,.0f} {second}"


def edge_text(frequency: int, median_seconds: float | None, measure: str, units: Sequence[str] = UNITS) -> str:
    """The label of an edge: its count, or its median time in `units` (an edge from the start or to the end has
    none)."""
    if measure == "frequency":
        return f"{frequency:,}"
    return "" if median_seconds is None or math.isnan(median_seconds) else duration_text(median_seconds, units)


@dataclass(frozen=True)
class Box:
    """A rectangle by its centre and size, in pixels, y growing downwards."""

    x: float
    y: float
    width: float
    height: float

    @property
    def left(self) -> float:
        return self.x - self.width / 2

    @property
    def right(self) -> float:
        return self.x + self.width / 2

    @property
    def top(self) -> float:
        return self.y - self.height / 2

    @property
    def bottom(self) -> float:
        return self.y + self.height / 2

    def overlaps(self, other: Box) -> bool:
        """Whether the two rectangles share some area (touching edges do not count)."""
        return (self.left < other.right - 1e-6 and other.left < self.right - 1e-6
                and self.top < other.bottom - 1e-6 and other.top < self.bottom - 1e-6)


@dataclass(frozen=True)
class Link:
    """An edge of the map, from the start, between two activities or to the end.

    Attributes
    ----------
    source, target : str
        Activities, or :data:`START` and :data:`END`.
    frequency : int
        Times it was followed.
    median_seconds : float or None
        The median time between its two steps; None from the start and to the end.
    points : tuple of (x, y)
        Its line, from the source's border through its bends to the target's border; a
        self-loop's points go out of its box's right side and back.
    label : Box
        Where its label goes: beside the line, half way.
    """

    source: str
    target: str
    frequency: int
    median_seconds: float | None
    points: tuple[tuple[float, float], ...]
    label: Box


@dataclass(frozen=True)
class MapLayout:
    """Where everything of a process map goes.

    Attributes
    ----------
    nodes : dict of str to Box
        The box of each activity, and of :data:`START` and :data:`END` when the map has them.
    lines : dict of str to tuple of str
        The text in each activity's box: its name wrapped, then its count.
    links : tuple of Link
        Every edge, start and end edges included, most frequent first.
    bounds : Box
        The rectangle that holds every box, line and label.
    """

    nodes: dict[str, Box]
    lines: dict[str, tuple[str, ...]]
    links: tuple[Link, ...]
    bounds: Box


class _View:
    """What grandalf reads and writes of a vertex or an edge: its size, its place, its path."""

    def __init__(self, width: float = 0.0, height: float = 0.0) -> None:
        self.w, self.h = width, height
        self.xy = (0.0, 0.0)
        self.path: list[tuple[float, float]] = []

    def setpath(self, points: list[tuple[float, float]]) -> None:
        self.path = list(points)


def map_layout(graph: ProcessMap, labels: Mapping[str, str] | None = None, units: Sequence[str] = UNITS) -> MapLayout:
    """Lay out `graph` in layers from a start node at the top to an end node at the bottom.

    Parameters
    ----------
    graph : ProcessMap
        The map; its activities, edges, start and end activities are all drawn.
    labels : mapping of str to str, optional
        The name to show for an activity (for example in Arabic); by default its own.
    units : sequence of three str, default :data:`UNITS`
        The units of the edges' times (see :func:`duration_text`): each label gets room for its count and its time.

    Returns
    -------
    MapLayout
        The same for the same map and labels, every time: ties go by frequency, then name.
    """
    names = labels or {}
    frequency = {a: int(f) for a, f in zip(graph.activities["activity"], graph.activities["frequency"], strict=True)}
    order = sorted(frequency, key=lambda a: (-frequency[a], a))
    lines = {a: (*_wrapped(names.get(a, a)), f"{frequency[a]:,}") for a in order}
    sizes = {a: _box_size(lines[a]) for a in order}
    links = _links(graph, frequency, units)
    if graph.start_activities:
        sizes = {START: (_TERMINAL, _TERMINAL), **sizes}
    if graph.end_activities:
        sizes[END] = (_TERMINAL, _TERMINAL)
    loops = {link.source: link for link in links if link.source == link.target}
    between = [link for link in links if link.source != link.target]
    centres, paths = _place(sizes, between, loops)
    nodes = {node: Box(*centres[node], *sizes[node]) for node in sizes}
    routes = dict(zip(map(id, between), paths, strict=True))
    placed = tuple(_routed(link, nodes, routes.get(id(link))) for link in links)
    return MapLayout(nodes, lines, placed, _bounds([*nodes.values(), *(link.label for link in placed)], placed))


def _wrapped(name: str) -> list[str]:
    return textwrap.wrap(name, WRAP, break_long_words=True, break_on_hyphens=False) or [name or " "]


def _box_size(lines: tuple[str, ...]) -> tuple[float, float]:
    width = max(text_width(line, FONT_SIZE) for line in lines) + 2 * _PAD_X
    return math.ceil(width), math.ceil(len(lines) * LINE_HEIGHT * FONT_SIZE + 2 * _PAD_Y)


def _label_size(frequency: int, median_seconds: float | None, units: Sequence[str]) -> tuple[float, float]:
    width = max(text_width(edge_text(frequency, median_seconds, m, units), LABEL_FONT_SIZE)
                for m in ("frequency", "performance"))
    return math.ceil(width + _LABEL_GAP + 2), math.ceil(LINE_HEIGHT * LABEL_FONT_SIZE + 2)


def _links(graph: ProcessMap, frequency: Mapping[str, int], units: Sequence[str]) -> list[_Edge]:
    """Every edge, start and end edges included, most frequent first, then by names, with its label's size."""
    found = [(START, a, int(n), None) for a, n in graph.start_activities.items() if a in frequency]
    found += [(str(e.source), str(e.target), int(e.frequency), float(e.median_seconds))
              for e in graph.edges.itertuples(index=False) if e.source in frequency and e.target in frequency]
    found += [(a, END, int(n), None) for a, n in graph.end_activities.items() if a in frequency]
    return [_Edge(*edge, _label_size(*edge[2:], units)) for edge in sorted(found, key=lambda e: (-e[2], e[0], e[1]))]


@dataclass(frozen=True)
class _Edge:
    source: str
    target: str
    frequency: int
    median_seconds: float | None
    label: tuple[float, float]  # the width and height of its label


@dataclass(frozen=True)
class _Path:
    """An edge's bends before its label point, the label point (a box of the label's size) and the bends after."""

    before: list[tuple[float, float]]
    middle: Box
    after: list[tuple[float, float]]


def _feedback(nodes: list[str], edges: list[_Edge]) -> set[int]:
    """The edges (by index) to turn around so the map has no cycle: those a depth-first search from the
    start (then from each node not yet seen, most frequent first) finds going back to a node on its path."""
    following: dict[str, list[tuple[int, str]]] = {node: [] for node in nodes}
    for index, edge in enumerate(edges):
        following[edge.source].append((index, edge.target))
    state: dict[str, bool] = {}  # True while on the search's path, False once left
    back = set()
    for root in nodes:
        if root in state:
            continue
        state[root] = True
        stack = [(root, iter(following[root]))]
        while stack:
            node, todo = stack[-1]
            step = next(todo, None)
            if step is None:
                state[node] = False
                stack.pop()
            elif step[1] not in state:
                state[step[1]] = True
                stack.append((step[1], iter(following[step[1]])))
            elif state[step[1]]:
                back.add(step[0])
    return back


def _place(sizes: Mapping[str, tuple[float, float]], edges: list[_Edge], loops: Mapping[str, _Edge],
           ) -> tuple[dict[str, tuple[float, float]], list[_Path]]:
    """Centres of the nodes and the path of each edge of `edges`, by grandalf.

    Each edge passes through a vertex of its label's size, so labels get room of their own; a node with a
    self-loop is widened on both sides by the loop's reach and label, so the loop never meets a neighbour.
    Components of the map are laid out one by one, left to right.
    """
    vertices = {}
    for node, (width, height) in sizes.items():
        vertex = Vertex(node)
        loop = loops.get(node)
        extra = 0.0 if loop is None else LOOP_REACH + loop.label[0]
        vertex.view = _View(width + 2 * extra, height)
        vertices[node] = vertex
    halves: list[tuple[Edge, Edge]] = []
    middles_of: list[Vertex] = []
    for index, edge in enumerate(edges):
        middle = Vertex(index)
        middles_of.append(middle)
        middle.view = _View(*edge.label)
        halves.append((Edge(vertices[edge.source], middle), Edge(middle, vertices[edge.target])))
        halves[-1][0].view, halves[-1][1].view = _View(), _View()
    back = _feedback(list(sizes), edges)
    inverted = {half for index in back for half in halves[index]}
    whole = Graph([*vertices.values(), *middles_of], [*(half for pair in halves for half in pair),
                                                      *_terminal_ties(vertices, edges, back)])
    offset = 0.0
    centres: dict[str, tuple[float, float]] = {}
    middles: dict[int, tuple[float, float]] = {}
    shifts: dict[int, float] = {}
    for component in whole.C:
        placed = _layered(component, [e for e in component.sE if e in inverted])
        left = min(x - w / 2 for (x, _), (w, _) in placed.values())
        right = max(x + w / 2 for (x, _), (w, _) in placed.values())
        for vertex, ((x, y), _) in placed.items():
            shifted = (x - left + offset, y)
            if isinstance(vertex.data, int):
                middles[vertex.data] = shifted
                shifts[vertex.data] = offset - left
            else:
                centres[vertex.data] = shifted
        offset += right - left + 2 * _X_GAP
    paths = []
    for index, (first, second) in enumerate(halves):
        x, y = middles[index]
        moved = [[(px + shifts[index], py) for px, py in half.view.path[1:-1]] for half in (first, second)]
        paths.append(_Path(moved[0], Box(x, y, *edges[index].label),
                           moved[1]))
    return centres, paths


def _terminal_ties(vertices: Mapping[str, Vertex], edges: list[_Edge], back: set[int]) -> list[Edge]:
    """Edges that are not drawn, from the start to each node nothing leads to once the `back` edges are turned around,
    and from each node that leads nowhere to the end: so the start heads the map and the end closes it, even when an
    activity reaches the end only through a loop back up."""
    into: dict[str, int] = dict.fromkeys(vertices, 0)
    out: dict[str, int] = dict.fromkeys(vertices, 0)
    for index, edge in enumerate(edges):
        source, target = (edge.target, edge.source) if index in back else (edge.source, edge.target)
        out[source] += 1
        into[target] += 1
    ties = []
    for node, vertex in vertices.items():
        if node in (START, END) or not into[node] + out[node]:  # an activity on its own stays on its own
            continue
        if not out[node] and END in vertices:
            ties.append(Edge(vertex, vertices[END]))
        if not into[node] and START in vertices:
            ties.append(Edge(vertices[START], vertex))
    for tie in ties:
        tie.view = _View()
    return ties


def _layered(component: object, inverted: list[Edge]) -> dict[Vertex, tuple[tuple[float, float], tuple[float, float]]]:
    """Centre and size of each vertex of one connected component, after grandalf's Sugiyama layout with the
    `inverted` edges turned around, the boxes of each layer pushed apart where they came closer than the gap."""
    layout = SugiyamaLayout(component)
    layout.xspace, layout.yspace = _X_GAP, _Y_GAP
    vertices = list(component.sV)
    layout.init_all(roots=[v for v in vertices if v.data == START], inverted_edges=inverted)
    layout.draw(N=8)
    for layer in layout.layers:
        _spread(sorted(layer, key=lambda v: v.view.xy[0]))
    for edge in component.sE:
        ends = [edge.v[0].view.xy, edge.v[1].view.xy]
        if edge in layout.ctrls:  # the bends follow the spread dummies
            ranks = sorted(layout.ctrls[edge])
            points = [layout.ctrls[edge][r].view.xy for r in ranks]
            ends = points if layout.grx[edge.v[0]].rank == ranks[0] else points[::-1]
        edge.view.setpath(ends)
    return {v: (v.view.xy, (v.view.w, v.view.h)) for v in vertices}


def _spread(layer: list[object]) -> None:
    """Push boxes of one layer (in x order) to the right until neighbours are at least the gap apart."""
    for before, after in zip(layer, layer[1:], strict=False):
        least = before.view.xy[0] + (before.view.w + after.view.w) / 2 + _X_GAP / 2
        if after.view.xy[0] < least:
            after.view.xy = (least, after.view.xy[1])


def _routed(edge: _Edge, nodes: Mapping[str, Box], path: _Path | None) -> Link:
    """The line of an edge, from border to border, and its label's box; a self-loop goes out of its box's right side."""
    source, target = nodes[edge.source], nodes[edge.target]
    label_width, label_height = edge.label
    if path is None:
        reach, top, bottom = source.right + LOOP_REACH, source.y - source.height / 4, source.y + source.height / 4
        points = ((source.right, top), (reach, top), (reach, bottom), (source.right, bottom))
        width = label_width - _LABEL_GAP
        return Link(edge.source, edge.target, edge.frequency, edge.median_seconds, points,
                    Box(reach + _LABEL_GAP / 2 + width / 2, source.y, width, label_height))
    middle = path.middle
    line = middle.left + 1
    beside = [(line, middle.top), (line, middle.bottom)]
    if source.y > target.y:  # an edge going back up passes its label from below
        beside.reverse()
    bends = [*path.before, *beside, *path.after]
    points = (_clip(source, (source.x, source.y), bends[0]), *bends, _clip(target, (target.x, target.y), bends[-1]))
    width = middle.right - (line + _LABEL_GAP)
    return Link(edge.source, edge.target, edge.frequency, edge.median_seconds, points,
                Box(middle.right - width / 2, middle.y, width, middle.height))


def _bounds(boxes: list[Box], links: tuple[Link, ...]) -> Box:
    xs = [x for box in boxes for x in (box.left, box.right)] + [x for link in links for x, _ in link.points]
    ys = [y for box in boxes for y in (box.top, box.bottom)] + [y for link in links for _, y in link.points]
    left, right, top, bottom = min(xs, default=0.0), max(xs, default=0.0), min(ys, default=0.0), max(ys, default=0.0)
    return Box((left + right) / 2, (top + bottom) / 2, right - left, bottom - top)


def _clip(box: Box, inside: tuple[float, float], outside: tuple[float, float]) -> tuple[float, float]:
    """Where the segment from `inside` (the box's centre) to `outside` leaves `box`."""
    (x0, y0), (x1, y1) = inside, outside
    dx, dy = x1 - x0, y1 - y0
    scales = [box.width / 2 / abs(dx) if dx else math.inf, box.height / 2 / abs(dy) if dy else math.inf]
    scale = min(1.0, *scales)
    return x0 + dx * scale, y0 + dy * scale

