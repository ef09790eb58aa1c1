"""One import name: najma installs the package ``najma`` and nothing else at the top level, its
facade serves every name it lists, and the command line starts without the heavy libraries."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import types
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

import najma

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["najma", "najma.journeys", "najma.rating", "najma.dashboards", "najma.sample", "najma.spark", "najma.errors"]
#: What the command line must not import before a command asks for it.
HEAVY = ("pandas", "numpy", "pyarrow", "duckdb", "ibis", "sklearn", "scipy", "pm4py", "plotly", "dash", "pyspark")


def test_the_wheel_holds_one_top_level_import_name_najma(tmp_path: Path):
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the working tree
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "test-artifacts",
                                                                 "__pycache__", "*.duckdb", "notebooks", "docs"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path), str(source)],
                   check=True, capture_output=True)
    [wheel] = tmp_path.glob("najma-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        top = {name.split("/")[0] for name in archive.namelist()}
        names = set(archive.namelist())
    assert {name for name in top if not name.endswith(".dist-info")} == {"najma"}
    assert {"najma/journeys/_store.py", "najma/rating/default_rating.toml", "najma/sample/events.parquet",
            "najma/dashboards/templates/report.html.j2", "najma/dashboards/cli/__init__.py", "najma/spark/__init__.py"} <= names


def test_the_installed_distribution_provides_only_najma():
    provided = {name for name, distributions in packages_distributions().items() if "najma" in distributions}
    assert provided == {"najma"}


@pytest.mark.parametrize("old", ["journeys", "rating", "dashboards", "najma_sample"])
def test_the_old_generic_names_are_not_importable(old: str, tmp_path: Path):
    done = subprocess.run([sys.executable, "-c", f"import importlib.util; print(importlib.util.find_spec({old!r}))"],
                          cwd=tmp_path, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "None"


@pytest.mark.parametrize("package", PACKAGES)
def test_every_listed_name_is_served_and_none_is_a_stray_module(package: str):
    module = __import__(package, fromlist=["__all__"])
    submodules = {"errors", "journeys", "rating", "dashboards", "sample", "spark"} if package == "najma" else set()
    for name in module.__all__:
        value = getattr(module, name)
        assert name in submodules or not isinstance(value, types.ModuleType), f"{package}.{name} is a module"
    assert set(module.__all__) <= set(dir(module))


def test_the_facade_serves_what_the_readme_teaches():
    readme = (ROOT / "README.md").read_text()
    used = {name for name in najma.__all__ if f"najma.{name}" in readme or f" {name}" in readme}
    assert {"Store", "open_source", "CaseFilter", "process_map", "rate", "what_if", "StarRater", "create_app"} <= used


def test_every_error_is_a_najma_error_and_a_builtin():
    from najma import errors

    for name in errors.__all__:
        error = getattr(errors, name)
        assert issubclass(error, errors.NajmaError)
        if error is not errors.NajmaError:
            assert any(base.__module__ == "builtins" and base is not Exception for base in error.__mro__[1:-2]), name


def test_no_library_error_names_a_command_line_option():
    library = [path for folder in ("journeys", "rating", "najma", "data/sample") for path in (ROOT / folder).rglob("*.py")]
    library += list((ROOT / "dashboards").glob("*.py")) + list((ROOT / "dashboards" / "pages").glob("*.py"))
    offenders = []
    for path in library:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise):
                texts = [part.value for part in ast.walk(node) if isinstance(part, ast.Constant) and isinstance(part.value, str)]
                offenders += [f"{path.relative_to(ROOT)}:{node.lineno}: {text}" for text in texts if re.search(r"(?<![\w-])--[a-z]", text)]
    assert offenders == []


@pytest.mark.parametrize("args", [["--help"], ["rate", "--help"], ["catalogue", "--help"]])
def test_the_command_line_answers_help_without_the_heavy_libraries(args: list[str]):
    code = ("import runpy, sys\n"
            f"sys.argv = ['najma', *{args!r}]\n"
            "try:\n    runpy.run_module('najma', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            f"print(sorted(name for name in {HEAVY!r} if name in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_command_line_works_outside_the_repository(built_sample: Path, tmp_path: Path):
    """Run from elsewhere, najma finds its own files (model, templates) through najma's packages, not the folders."""
    done = subprocess.run([sys.executable, "-m", "najma", "report", "--store", str(built_sample), "--quarter", "2025Q4",
                           "--out", str(tmp_path), "--draws", "0", "--no-pdf"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "rating-report-2025Q4-en.html").exists()
