"""The journey map as Chromium draws it: sample services at 100, 90 and 50%, read from Cytoscape itself.

By default a few services (those test_map_layout draws: a loop of rework, a long one, a short one); with
``-m heavy`` every service. The layout of every service at every share is checked without a browser by
test_map_layout's ``test_every_sample_map_is_laid_out_readably_at_every_share``.

For each service the page is loaded once; the share is then changed on the slider, as an analyst does.
After each change the test waits for the sign that the map the server sent is the one drawn (Cytoscape's
nodes stand where the answer put them), then reads Cytoscape's rendered boxes and graph: no two boxes
(activities with their labels, start, end, edge labels) overlap, every activity lies on a path from the
start and on a path to the end, and each segment edge bends through the points its weights and distances
say, on the side the layout meant. The map is kept in test-artifacts/maps/browser-<service>-<share>.png.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest

from najma.dashboards._i18n import display_names
from najma.journeys import Store
from tests.dashboards.conftest import ARTIFACTS
from tests.dashboards.test_map_layout import SOME_SERVICES

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

MAPS = ARTIFACTS.parent / "maps"
SHARES = (1.0, 0.9, 0.5)
#: How far apart two rendered boxes may reach into each other, and a drawn bend from its intended point, in pixels.
TOLERANCE = 0.5
BEND_TOLERANCE = 1.5

#: What Cytoscape draws of the map: node boxes with their labels, the graph, and each segment edge's bends.
_READ_MAP = """() => {
  const cy = window.cy;
  const boxes = cy.nodes().map(n => {
    const b = n.renderedBoundingBox({includeLabels: true, includeOverlays: false});
    return {id: n.id(), kind: n.classes()[0], x1: b.x1, x2: b.x2, y1: b.y1, y2: b.y2};
  });
  const edges = cy.edges().map(e => ({source: e.source().id(), target: e.target().id()}));
  const bends = cy.edges('.segments').map(e => ({
    id: e.id(), source: e.source().position(), target: e.target().position(),
    weights: e.data('weights'), distances: e.data('distances'), drawn: e.segmentPoints() || []}));
  return {boxes, edges, bends, inside: document.getElementById('sv-map').contains(cy.container())};
}"""

#: True once Cytoscape shows exactly the nodes of `expected` (id to position) where it says.
_SHOWN = """(expected) => {
  const cy = window.cy;
  if (!cy || cy.nodes().length !== Object.keys(expected).length) return false;
  return cy.nodes().every(n => {
    const want = expected[n.id()], at = n.position();
    return want !== undefined && Math.abs(at.x - want.x) < 0.01 && Math.abs(at.y - want.y) < 0.01;
  });
}"""


@pytest.fixture(scope="module")
def services(built_sample: Path) -> list[str]:
    with Store(built_sample, read_only=True) as store:
        return sorted(display_names(store, "en")["service"])


def _answers_map(response: object) -> bool:
    return "_dash-update-component" in response.url and "sv-map.elements" in (response.request.post_data or "")


def _wait_for_map(page: object, response: object) -> list[dict[str, object]]:
    """The elements the server sent, once Cytoscape draws them (the sign that the new map is shown)."""
    elements = json.loads(response.text())["response"]["sv-map"]["elements"]
    expected = {e["data"]["id"]: e["position"] for e in elements if "position" in e}
    assert expected, "the server sent an empty map"
    page.wait_for_function(_SHOWN, arg=expected)
    return elements


def _check_boxes(boxes: list[dict[str, object]], where: str) -> None:
    for a, b in itertools.combinations(boxes, 2):
        overlap_x = min(a["x2"], b["x2"]) - max(a["x1"], b["x1"])
        overlap_y = min(a["y2"], b["y2"]) - max(a["y1"], b["y1"])
        assert overlap_x <= TOLERANCE or overlap_y <= TOLERANCE, f"{where}: {a} overlaps {b}"


def _check_paths(boxes: list[dict[str, object]], edges: list[dict[str, str]], where: str) -> None:
    activities = {box["id"] for box in boxes if box["kind"] == "activity"}
    for root, there, back in (("start", "source", "target"), ("end", "target", "source")):
        seen, todo = {root}, [root]
        while todo:
            node = todo.pop()
            for edge in edges:
                if edge[there] == node and edge[back] not in seen:
                    seen.add(edge[back])
                    todo.append(edge[back])
        assert activities <= seen, f"{where}: {sorted(activities - seen)} not on a path from the {root}"


def _intended(bend: dict[str, object]) -> list[tuple[float, float]]:
    """The points the layout meant: a weight along the line from source to target, a distance to its left
    as the screen shows it (y grows downwards), that is along (-dy, dx)."""
    (sx, sy), (tx, ty) = (bend["source"]["x"], bend["source"]["y"]), (bend["target"]["x"], bend["target"]["y"])
    dx, dy = tx - sx, ty - sy
    length = math.hypot(dx, dy) or 1.0
    return [(sx + w * dx - d * dy / length, sy + w * dy + d * dx / length)
            for w, d in zip(map(float, bend["weights"].split()), map(float, bend["distances"].split()), strict=True)]


def _check_bends(bends: list[dict[str, object]], where: str) -> None:
    for bend in bends:
        drawn = [(p["x"], p["y"]) for p in bend["drawn"]]
        intended = _intended(bend)
        assert len(drawn) == len(intended), f"{where} {bend['id']}: {drawn} drawn for {intended}"
        for (x, y), (ix, iy) in zip(drawn, intended, strict=True):
            assert math.hypot(x - ix, y - iy) <= BEND_TOLERANCE, f"{where} {bend['id']}: bends at {drawn}, not {intended}"


@pytest.mark.parametrize("every", [False, pytest.param(True, marks=pytest.mark.heavy)], ids=["some", "every"])
def test_services_maps_are_drawn_readable_and_connected(page: object, dashboard_url: str, services: list[str],
                                                         every: bool):
    MAPS.mkdir(parents=True, exist_ok=True)
    assert len(services) >= 9 and set(SOME_SERVICES) <= set(services)
    for service in services if every else SOME_SERVICES:
        with page.expect_response(_answers_map) as answer:
            page.goto(f"{dashboard_url}/service?service={service}&coverage=1")
        for share in SHARES:
            if share != 1.0:
                with page.expect_response(_answers_map) as answer:
                    page.evaluate("share => window.dash_clientside.set_props('sv-coverage', {value: share})", share)
            elements = _wait_for_map(page, answer.value)
            drawn = page.evaluate(_READ_MAP)
            where = f"{service} at {share:.0%}"
            assert drawn["inside"], "window.cy is not the map's Cytoscape"
            assert len(drawn["boxes"]) == sum("position" in e for e in elements)
            _check_boxes(drawn["boxes"], where)
            _check_paths(drawn["boxes"], drawn["edges"], where)
            _check_bends(drawn["bends"], where)
            page.locator("#sv-map").screenshot(path=str(MAPS / f"browser-{service}-{share:.0%}.png".replace("%", "pc")))
