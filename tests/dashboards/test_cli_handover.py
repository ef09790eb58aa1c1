"""``najma handover``: the library's pairs of the filtered cases, small pairs left out on screen and in the CSV, as
pairs or as a matrix; a bad option is one line naming it."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import patch

import pandas as pd
from typer.testing import CliRunner

from najma.dashboards.cli import app
from najma.dashboards.cli._options import out
from najma.journeys import CaseFilter, Store, handover_matrix, handovers
from najma.rating._suppression import MIN_GROUP, kept_groups


def _cli(*args: str) -> str:
    with patch.object(out, "_width", 250):
        result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    return result.output


def test_pairs_csv_is_the_librarys_without_the_small_pairs(built_sample: Path, tmp_path: Path):
    written = tmp_path / "pairs.csv"
    said = _cli("handover", "--store", str(built_sample), "--by", "resource", "--quarter", "2025Q3", "--csv", str(written))
    with Store(built_sample, read_only=True) as store:
        where = CaseFilter(quarter="2025Q3").in_zone_of(store)
        kept, hidden = kept_groups(handovers(store, "resource", where), MIN_GROUP)
    assert hidden > 0 and f"{hidden:,} pairs of fewer than {MIN_GROUP} customers are not shown" in said
    shown = pd.read_csv(written)
    assert shown["customers"].min() >= MIN_GROUP
    pd.testing.assert_frame_equal(shown, kept.astype({"source": object, "target": object}), check_dtype=False)


def test_service_matrix_csv(built_sample: Path, tmp_path: Path):
    written = tmp_path / "matrix.csv"
    said = _cli("handover", "--store", str(built_sample), "--by", "service", "--matrix", "--min-group", "50",
                "--csv", str(written))
    with Store(built_sample, read_only=True) as store:
        kept, _ = kept_groups(handovers(store, "service"), 50)
    expected = handover_matrix(kept)
    shown = pd.read_csv(written, index_col="source")
    assert shown.to_dict("index") == expected.to_dict("index") and expected.to_numpy().sum() > 0
    assert "Hand-overs between service values" in said


def test_a_bad_level_is_one_line(built_sample: Path):
    result = CliRunner().invoke(app, ["handover", "--store", str(built_sample), "--by", "case"])
    assert result.exit_code == 2 and "--by" in result.output


def test_a_log_without_agencies_says_no_data_rather_than_no_hand_over(tmp_path: Path, monkeypatch):
    from najma.journeys import build_journeys

    monkeypatch.setenv("NAJMA_PSEUDONYM_KEY", "test")
    rows = pd.DataFrame({"case_id": ["a", "a", "b", "b"], "activity": ["Apply", "Pay", "Apply", "Pay"],
                         "timestamp": pd.to_datetime(["2025-01-01 08:00", "2025-01-01 09:00", "2025-01-02 08:00",
                                                      "2025-01-02 10:00"], utc=True),
                         "resource": ["r1", "r2", "r1", "r1"]})
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        store.ingest_frame(rows, service="permit")
        build_journeys(store)
    by_agency = CliRunner().invoke(app, ["handover", "--store", str(path), "--by", "agency", "--min-group", "1"])
    assert by_agency.exit_code == 0, by_agency.output
    assert "no data: the events have no agency column" in " ".join(by_agency.output.split())
    by_resource = CliRunner().invoke(app, ["handover", "--store", str(path), "--by", "resource", "--min-group", "1"])
    assert "no data" not in by_resource.output and "r1" in by_resource.output  # the column is there: counted
