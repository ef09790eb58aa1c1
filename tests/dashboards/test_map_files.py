"""``najma map --out``: the process map written as a table, an interactive page, pictures and BPMN."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from najma.dashboards._map_layout import END, START, map_layout
from najma.dashboards.cli import app
from najma.journeys import CaseFilter, Store, process_map

ACTIVITIES = {"Submit application", "Reserve trade name", "Review application"}


def _map(built_sample: Path, out: Path, *extra: str) -> str:
    result = CliRunner().invoke(app, ["map", "--store", str(built_sample), "--service", "trade_licence",
                                      "--coverage", "0.9", "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def test_html_map_is_self_contained_and_names_the_activities(built_sample: Path, tmp_path: Path):
    out = tmp_path / "map.html"
    assert "wrote the map" in _map(built_sample, out, "--measure", "performance")
    page = out.read_text(encoding="utf-8")
    assert "<script src=\"http" not in page  # plotly.js is inside: the page works offline
    assert all(activity in page for activity in ACTIVITIES)


def test_an_arabic_map_names_the_service_and_activities_in_arabic(built_sample: Path, tmp_path: Path):
    out = tmp_path / "map.svg"
    _map(built_sample, out, "--lang", "ar")
    texts = {node.text for node in ET.parse(out).iter() if node.tag.endswith(("text", "tspan"))}
    assert {"تقديم الطلب", "حجز الاسم التجاري", "مراجعة الطلب", "الرخصة التجارية"} <= texts
    assert not ACTIVITIES & texts


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_pictures_are_drawn_by_chromium(built_sample: Path, tmp_path: Path, suffix: str):
    out = tmp_path / f"map{suffix}"
    _map(built_sample, out)
    if suffix == ".svg":
        texts = {node.text for node in ET.parse(out).iter() if node.tag.endswith(("text", "tspan"))}
        assert ACTIVITIES <= texts
    else:
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20_000


def test_bpmn_map_holds_a_task_per_activity(built_sample: Path, tmp_path: Path):
    out = tmp_path / "map.bpmn"
    _map(built_sample, out)
    tasks = {node.get("name") for node in ET.parse(out).iter() if node.tag.endswith("task")}
    with Store(built_sample, read_only=True) as store:
        expected = set(process_map(store, CaseFilter(service="trade_licence"), coverage=0.9).activities.activity)
    assert tasks == expected


def test_an_unknown_suffix_lists_the_formats(built_sample: Path, tmp_path: Path):
    result = CliRunner().invoke(app, ["map", "--store", str(built_sample), "--out", str(tmp_path / "map.gif")])
    assert result.exit_code == 2
    assert ".html" in result.output and ".bpmn" in result.output


def test_the_layout_runs_from_the_start_down_to_the_end(built_sample: Path):
    with Store(built_sample, read_only=True) as store:
        graph = process_map(store, CaseFilter(service="trade_licence"))
    layout = map_layout(graph)
    assert set(layout.nodes) == {*graph.activities.activity, START, END}
    assert all(layout.nodes[START].y < layout.nodes[a].y < layout.nodes[END].y for a in graph.activities.activity)
    assert layout == map_layout(graph)


def test_journeys_built_by_an_earlier_najma_are_rebuilt_by_the_next_command_that_reads_them(built_sample: Path,
                                                                                           tmp_path: Path):
    old = tmp_path / "old.duckdb"
    old.write_bytes(built_sample.read_bytes())
    with duckdb.connect(str(old)) as con:  # as a najma of store version 1 left it
        con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
        con.execute("DELETE FROM meta WHERE key = 'journeys_version'")
        con.execute("ALTER TABLE steps DROP COLUMN case_key")
    drawn = subprocess.run([sys.executable, "-m", "najma", "map", "--store", str(old), "--out", str(tmp_path / "map.html")],
                           capture_output=True, text=True, env={**os.environ, "NAJMA_KEY_FILE": str(built_sample.with_suffix(".key"))})
    assert drawn.returncode == 0 and "Traceback" not in drawn.stderr, drawn.stderr
    assert f"built the journeys of {old} first: it was written by an earlier najma" in drawn.stderr
    assert (tmp_path / "map.html").exists()
    with Store(old, read_only=True) as rebuilt, Store(built_sample, read_only=True) as original:
        assert rebuilt.journeys_stale() is None
        assert process_map(rebuilt).dfg == process_map(original).dfg
