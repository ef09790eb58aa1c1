"""The layered layout of process maps, and the static maps drawn with it.

Unit tests lay out hand-made maps (a loop, a self-loop, a long edge, an activity on its own); the
static maps are drawn to test-artifacts/maps/ and checked for boxes that overlap or text cut off: by
default a few sample services in English and Arabic and every shared real log at 90%; with ``-m heavy``
every service and every real log at 100, 90 and 50%, in English and Arabic.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from PIL import Image
from typer.testing import CliRunner

from najma.dashboards._data import DashboardData
from najma.dashboards._figures import _units, map_elements, process_map_figure
from najma.dashboards._map_layout import END, START, Box, MapLayout, map_layout, text_width
from najma.dashboards.cli import app
from najma.journeys import CaseFilter, ProcessMap, Store, process_map
from tests.conftest import REAL
from tests.journeys.test_process_map_abstraction import _paths_ok

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "maps"
SHARES = (1.0, 0.9, 0.5)


def _graph(activities: dict[str, int], edges: list[tuple[str, str, int]], starts: dict[str, int],
           ends: dict[str, int]) -> ProcessMap:
    frame = pd.DataFrame({"activity": list(activities), "frequency": list(activities.values()),
                          "cases": list(activities.values())})
    rows = pd.DataFrame([{"source": s, "target": t, "frequency": f, "cases": f, "median_seconds": 600.0 * f}
                         for s, t, f in edges], columns=["source", "target", "frequency", "cases", "median_seconds"])
    return ProcessMap(frame, rows, starts, ends)


HAND_MADE = {
    "loop": _graph({"Apply": 10, "Check documents": 14, "Resubmit documents": 4, "Pay the fee": 10},
                   [("Apply", "Check documents", 10), ("Check documents", "Resubmit documents", 4),
                    ("Resubmit documents", "Check documents", 4), ("Check documents", "Pay the fee", 10)],
                   {"Apply": 10}, {"Pay the fee": 10}),
    "self_loop": _graph({"Apply": 10, "Ask a question": 25, "Close": 10},
                        [("Apply", "Ask a question", 10), ("Ask a question", "Ask a question", 15),
                         ("Ask a question", "Close", 10)], {"Apply": 10}, {"Close": 10}),
    "long_edge": _graph({"A": 10, "Determine necessity of stop advice": 6, "C": 6, "D": 6, "E": 10},
                        [("A", "Determine necessity of stop advice", 6), ("Determine necessity of stop advice", "C", 6),
                         ("C", "D", 6), ("D", "E", 6), ("A", "E", 4)], {"A": 10}, {"E": 10}),
    "on_its_own": _graph({"Apply": 10, "Pay": 10, "Call the centre": 3},
                         [("Apply", "Pay", 10)], {"Apply": 10}, {"Pay": 10}),
}


def _all_boxes(layout: MapLayout) -> list[tuple[str, Box]]:
    return [*layout.nodes.items(), *((f"label {link.source}→{link.target}", link.label) for link in layout.links)]


def assert_readable(layout: MapLayout) -> None:
    """No two boxes (activities, start, end, edge labels) overlap; start on top, end at the bottom."""
    for (one, a), (other, b) in itertools.combinations(_all_boxes(layout), 2):
        assert not a.overlaps(b), f"{one!r} {a} overlaps {other!r} {b}"
    boxes = list(layout.nodes.values())
    if START in layout.nodes:
        assert layout.nodes[START].y <= min(box.y for box in boxes)
    if END in layout.nodes:  # below every activity that leads to it
        leading, grown = {END}, True
        while grown:
            before = len(leading)
            leading |= {link.source for link in layout.links if link.target in leading}
            grown = len(leading) > before
        assert layout.nodes[END].y >= max(layout.nodes[node].y for node in leading)


def assert_inside(figure: object, layout: MapLayout) -> None:
    """Every box lies inside the figure's ranges, drawn at no less than a pixel per layout pixel."""
    (x0, x1), (y1, y0) = figure.layout.xaxis.range, figure.layout.yaxis.range
    for name, box in _all_boxes(layout):
        assert x0 <= box.left and box.right <= x1 and y0 <= box.top and box.bottom <= y1, f"{name} {box} is cut"
    margin = figure.layout.margin
    assert figure.layout.width - margin.l - margin.r >= (x1 - x0) - 1
    assert figure.layout.height - margin.t - margin.b >= (y1 - y0) - 1


@pytest.mark.parametrize("name", sorted(HAND_MADE))
def test_hand_made_maps_are_laid_out_without_overlaps(name: str):
    graph = HAND_MADE[name]
    layout = map_layout(graph)
    assert set(layout.nodes) == {*graph.activities["activity"], START, END}
    assert_readable(layout)
    assert_inside(process_map_figure(graph), layout)
    assert layout == map_layout(graph)  # the same picture every time


def test_a_loop_goes_back_up_and_a_self_loop_leaves_its_box_on_the_right():
    loop = map_layout(HAND_MADE["loop"])
    back = next(link for link in loop.links if link.source == "Resubmit documents")
    assert back.points[0][1] > back.points[-1][1]
    itself = next(link for link in map_layout(HAND_MADE["self_loop"]).links if link.source == link.target)
    box = map_layout(HAND_MADE["self_loop"]).nodes["Ask a question"]
    assert all(x >= box.right for x, _ in itself.points) and itself.label.left > box.right


def test_a_long_edge_bends_around_the_boxes_it_passes():
    layout = map_layout(HAND_MADE["long_edge"])
    long = next(link for link in layout.links if (link.source, link.target) == ("A", "E"))
    assert len(long.points) > 4  # it passes through a point in each layer it crosses
    for activity in ("Determine necessity of stop advice", "C", "D"):
        box = layout.nodes[activity]
        assert not any(box.left < x < box.right and box.top < y < box.bottom for x, y in long.points)


def test_start_and_end_edges_carry_their_counts():
    elements = map_elements(HAND_MADE["loop"], "frequency")
    edges = {(e["data"]["source"], e["data"]["target"]): e["data"]["label"] for e in elements if "source" in e["data"]}
    ids = {e["data"]["activity"]: e["data"]["id"] for e in elements if "activity" in e["data"]}
    assert edges[("start", ids["Apply"])] == "10" and edges[(ids["Pay the fee"], "end")] == "10"


def test_arabic_labels_are_measured_as_wide_as_they_are_drawn():
    assert text_width("تقديم الطلب", 12) > 50  # 11 letters of a sans font
    assert text_width("\u064e\u064f", 12) == 0  # vowel marks take no room


def test_an_arabic_map_says_its_times_and_its_scale_in_arabic():
    figure = process_map_figure(HAND_MADE["loop"], "performance", lang="ar")
    labels = [a.text for a in figure.layout.annotations if a.xanchor == "left"]  # the edges' labels
    assert labels and all(("ساعة" in label or "دقيقة" in label) for label in labels)
    scale = next(trace.marker.colorbar for trace in figure.data if trace.marker.colorbar.ticktext)
    assert scale.title.text == "الزمن الوسيط"
    assert not any(unit in " ".join([*labels, *scale.ticktext]) for unit in (" min", " h", " d"))


def test_the_colour_scale_gets_the_room_its_title_needs():
    graph = HAND_MADE["loop"]
    short, long = (process_map_figure(graph, scale_title=title) for title in ("time", "median time between the steps"))
    assert long.layout.margin.r > short.layout.margin.r
    assert long.layout.margin.r >= text_width("median time between the steps", 11) + 20


def _check_png(path: Path) -> None:
    """Nothing is drawn on the picture's outermost pixels: no label runs off its edge."""
    with Image.open(path) as image:
        pixels = image.convert("L")
        width, height = pixels.size
        border = [pixels.getpixel((x, y)) for x in range(width) for y in (0, 1, height - 2, height - 1)]
        border += [pixels.getpixel((x, y)) for y in range(height) for x in (0, 1, width - 2, width - 1)]
    assert min(border) > 240, f"{path.name}: something is drawn up to the picture's edge"


Picture = tuple[go.Figure, Path]


def _pictures(graph: ProcessMap, name: str, shares: tuple[float, ...], lang: str = "en",
              labels: dict[str, str] | None = None) -> list[Picture]:
    """The static map of `graph` at each share (performance at 90%, else frequency), its layout checked for
    overlaps and its figure for boxes outside its ranges; each with the file it is drawn to."""
    pictures = []
    for share in shares:
        shown = graph.abstract(share)
        assert_readable(map_layout(shown, labels, _units(lang)))
        figure = process_map_figure(shown, "frequency" if share != 0.9 else "performance", title=f"{name} {share:.0%}",
                                    labels=labels, lang=lang)
        assert_inside(figure, map_layout(shown, labels, _units(lang)))
        pictures.append((figure, ARTIFACTS / f"{name}-{lang}-{share:.0%}.png".replace("%", "pc")))
    return pictures


def _draw(pictures: list[Picture]) -> None:
    """Draw every picture in one Chromium session of kaleido (one Chromium per picture takes ten times as long),
    each at its own size, and check that nothing runs off its edges."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    figures, paths = [f for f, _ in pictures], [p for _, p in pictures]
    pio.write_images(figures, paths, width=[f.layout.width for f in figures], height=[f.layout.height for f in figures])
    for path in paths:
        _check_png(path)


@pytest.fixture(scope="module")
def sample_maps(built_sample: Path) -> tuple[dict[str, ProcessMap], dict[str, str]]:
    """The whole map of each sample service, and the Arabic names of the activities."""
    from najma.dashboards._i18n import display_names

    with Store(built_sample, read_only=True) as store:
        names = display_names(store, "ar")
        graphs = {s: process_map(store, CaseFilter(service=s)) for s in sorted(names["service"])}
    assert len(graphs) >= 9
    return graphs, dict(names["activity"])


REAL_LOGS = {
    "receipt": ("receipt.xes.gz", None, None),
    "roadtraffic": ("roadtraffic100traces.xes", None, None),
    "running-example": ("running-example.xes", None, None),
    "clicks": ("BPI2016_Clicks_NOT_Logged_In_sample1000.csv", "case=SessionID,activity=PAGE_NAME,timestamp=TIMESTAMP",
               ";"),
}


@pytest.fixture(scope="module")
def real_stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A store of each shared real log, loaded by ``najma ingest``."""
    folder = tmp_path_factory.mktemp("real-maps")
    stores = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAJMA_KEY_FILE", str(folder / "k.key"))
        patch.delenv("NAJMA_STORE", raising=False)
        for name, (file, mapping, sep) in REAL_LOGS.items():
            stores[name] = folder / f"{name}.duckdb"
            loaded = CliRunner().invoke(app, ["ingest", str(REAL / file), "--store", str(stores[name]), "--service", name,
                                              *(["--map", mapping] if mapping else []), *(["--sep", sep] if sep else [])])
            assert loaded.exit_code == 0, loaded.output
    return stores


@pytest.fixture(scope="module")
def real_maps(real_stores: dict[str, Path]) -> dict[str, ProcessMap]:
    maps = {}
    for name, path in real_stores.items():
        with Store(path, read_only=True) as store:
            maps[name] = process_map(store, CaseFilter(service=name))
    return maps


#: The services drawn by the default run (the heavy run draws them all): a loop of rework, a long one, a short one.
SOME_SERVICES = ("birth_certificate", "building_permit", "passport")


@pytest.mark.timeout(300)
def test_static_maps_at_the_default_share(sample_maps: tuple[dict[str, ProcessMap], dict[str, str]],
                                          real_maps: dict[str, ProcessMap]):
    """A few services in both languages and every real log at 90%, and the small running example at every share."""
    graphs, arabic = sample_maps
    pictures = [picture for service in SOME_SERVICES for lang, labels in (("en", None), ("ar", arabic))
                for picture in _pictures(graphs[service], f"sample-{service}", (0.9,), lang, labels)]
    for name, graph in real_maps.items():
        pictures += _pictures(graph, f"real-{name}", SHARES if name == "running-example" else (0.9,))
    _draw(pictures)


def test_every_sample_map_is_laid_out_readably_at_every_share(data: DashboardData):
    """Every sample service's map as the service page shows it (every quarter, no variant ticked) at 100, 90 and 50%,
    checked without drawing it: every activity on a path from a start and to an end, no two boxes overlapping. What
    test_map_browser's heavy run checks in Chromium of every service (its default run, of SOME_SERVICES)."""
    for service in data.services:
        for share in SHARES:
            graph = data.journey_map(service, None, (), share)
            _paths_ok(graph)
            assert_readable(map_layout(graph, None, _units("en")))


@pytest.mark.heavy
@pytest.mark.timeout(1800)
def test_static_maps_of_every_service_and_log_at_every_share(
    sample_maps: tuple[dict[str, ProcessMap], dict[str, str]], real_maps: dict[str, ProcessMap],
    real_stores: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
):
    """Every sample service and every real log at 100, 90 and 50%, in English and Arabic; and each log's map
    written by ``najma map --out``."""
    graphs, arabic = sample_maps
    pictures = [picture for service, graph in graphs.items() for lang, labels in (("en", None), ("ar", arabic))
                for picture in _pictures(graph, f"sample-{service}", SHARES, lang, labels)]
    pictures += [picture for name, graph in real_maps.items() for lang in ("en", "ar")
                 for picture in _pictures(graph, f"real-{name}", SHARES, lang)]
    _draw(pictures)
    monkeypatch.setenv("NAJMA_KEY_FILE", str(next(iter(real_stores.values())).parent / "k.key"))
    for name, store in real_stores.items():
        out = tmp_path / f"{name}.svg"
        drawn = CliRunner().invoke(app, ["map", "--store", str(store), "--service", name, "--out", str(out),
                                         "--min-group", "1"])  # the running example has 6 cases
        assert drawn.exit_code == 0, drawn.output
        assert out.stat().st_size > 1000
