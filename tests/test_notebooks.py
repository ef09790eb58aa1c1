"""The notebooks run from top to bottom on the sample and the real logs, and are kept in git without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = sorted(path.name for path in NOTEBOOKS.glob("*.ipynb"))


def test_there_are_the_three_notebooks():
    assert NAMES == ["01_from_a_raw_log_to_star_ratings.ipynb", "02_redesign_a_journey.ipynb",
                     "03_a_quarter_in_review.ipynb"]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_kept_without_outputs_and_checks_its_results(name: str):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code), f"{name}: clear its outputs"
    assert any("assert " in cell.source for cell in code), f"{name} checks nothing about its results"
    imported = [line for cell in code for line in cell.source.splitlines() if line.startswith(("from ", "import "))]
    assert not [line for line in imported if "pm4py" in line or "._" in line], "notebooks use the public API only"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_without_error(name: str, built_sample: Path, real: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NAJMA_STORE", str(built_sample))  # notebooks 2 and 3 read the built sample
    monkeypatch.setenv("NAJMA_NOTEBOOK_STORE", str(tmp_path / "raw_log.duckdb"))  # notebook 1 loads a real log
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    stores_before = set(NOTEBOOKS.glob("*.duckdb"))
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}})
    try:
        client.execute()
    except CellExecutionError as error:
        pytest.fail(f"{name} failed:\n{error}")
    assert all(output.get("output_type") != "error" for cell in notebook.cells for output in cell.get("outputs", []))
    assert set(NOTEBOOKS.glob("*.duckdb")) == stores_before, "a notebook wrote a store beside itself"
