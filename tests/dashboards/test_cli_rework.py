"""``najma rework``: the rework of the cases chosen as the other views choose them (service, quarter, channel, agency,
attribute) per service, activity or case, as the library counts it, its period and selection in the title, rows of too
few customers left out, the rows shown written to CSV, and a bad option one line naming it."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import patch

import pandas as pd
from typer.testing import CliRunner

from najma.dashboards.cli import app
from najma.dashboards.cli._options import out
from najma.journeys import CaseFilter, Store, rework


def _run(*args: str) -> tuple[int, str]:
    """The exit code and output of a command, wide enough that no cell is wrapped."""
    with patch.object(out, "_width", 250):
        result = CliRunner().invoke(app, ["rework", *args], env={"COLUMNS": "250"})
    return result.exit_code, result.output


def _cells(output: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("│").split("│")] for line in output.splitlines() if line.startswith("│")]


def test_rework_per_activity_shows_and_writes_the_library_counts(built_sample: Path, tmp_path: Path) -> None:
    written = tmp_path / "rework.csv"
    code, output = _run("--store", str(built_sample), "--service", "passport", "--quarter", "2025Q1",
                        "--by", "activity", "--csv", str(written))
    assert code == 0, output
    assert "Rework per activity · passport · cases started in 2025Q1" in output
    with Store(built_sample, read_only=True) as store:
        expected = rework(store, CaseFilter(service="passport", quarter="2025Q1"), by="activity")
    kept = expected[expected.customers >= 10].reset_index(drop=True)
    assert len(kept) < len(expected)  # some activities are done by fewer than 10 customers: left out, and said
    assert f"{len(expected) - len(kept):,} rows of fewer than 10 customers are not shown" in output
    pd.testing.assert_frame_equal(pd.read_csv(written), kept, check_dtype=False)
    rows = {row[1]: row for row in _cells(output)}
    assert set(rows) == set(kept.activity)
    for row in kept.itertuples(index=False):
        assert rows[row.activity][-2:] == [
            f"{row.self_loops:,}: {row.self_loops_repeat:,} / {row.self_loops_redo:,} / {row.self_loops_unknown:,}",
            f"{row.repetitions:,}: {row.repetitions_repeat:,} / {row.repetitions_redo:,} / {row.repetitions_unknown:,}"]
    assert kept.repetitions_redo.sum() > 0 and kept.repetitions_repeat.sum() > 0


def test_cases_are_listed_only_of_a_selection_of_enough_customers(built_sample: Path) -> None:
    code, output = _run("--store", str(built_sample), "--service", "passport", "--quarter", "2025Q1", "--by", "case")
    assert code == 0, output
    assert len(_cells(output)) > 100
    code, output = _run("--store", str(built_sample), "--service", "passport", "--quarter", "2025Q1", "--by", "case",
                        "--min-group", "100000")
    assert code == 0, output
    assert not _cells(output)
    assert "rows of fewer than 100000 customers are not shown" in output


def test_an_unknown_level_ends_with_one_line_and_code_2(built_sample: Path) -> None:
    code, output = _run("--store", str(built_sample), "--by", "resource")
    assert code == 2
    assert "--by" in output


def test_channel_agency_and_attribute_choose_the_cases_as_the_other_views_do(built_sample: Path, tmp_path: Path) -> None:
    written, whole = tmp_path / "chosen.csv", tmp_path / "whole.csv"
    code, output = _run("--store", str(built_sample), "--quarter", "2025Q1", "--channel", "smart app",
                        "--agency", "Identity and Citizenship Authority", "--attribute", "resource=PAS-E15",
                        "--min-group", "1", "--csv", str(written))
    assert code == 0, output
    assert ("Rework per service · every service · cases started in 2025Q1 · channel smart app; "
            "agency Identity and Citizenship Authority; attribute resource=PAS-E15") in " ".join(output.split())  # a title wraps
    where = CaseFilter(quarter="2025Q1", channel="smart app", agency="Identity and Citizenship Authority",
                       attribute=("resource", "PAS-E15"))
    with Store(built_sample, read_only=True) as store:
        expected = rework(store, where, by="service")
    chosen = pd.read_csv(written)
    assert not chosen.empty
    pd.testing.assert_frame_equal(chosen, expected, check_dtype=False)
    assert _run("--store", str(built_sample), "--quarter", "2025Q1", "--min-group", "1", "--csv", str(whole))[0] == 0
    assert chosen.cases.sum() < pd.read_csv(whole).cases.sum()  # the filter chose fewer cases


def test_a_bad_attribute_ends_with_one_line_naming_it(built_sample: Path) -> None:
    code, output = _run("--store", str(built_sample), "--attribute", "resource")
    assert code == 2
    assert "--attribute" in output and "'resource' is not name=value" in output and "Traceback" not in output
