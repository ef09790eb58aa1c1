"""The Spark commands refuse what needs no Spark before Spark starts, and keep Spark's noise off the terminal.

Each refusal runs the command line in this process with ``spark_session`` replaced by a function that fails the
test: a refusal that came after starting Spark would fail it. One real ``najma ingest --engine spark`` runs in a
process of its own, so that its standard error is all a user would see.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from najma.dashboards.cli._main import main
from najma.dashboards.cli._spark import log_path

pytest.importorskip("pyspark")

import najma.spark  # noqa: E402 - needs pyspark

#: What Spark's JVM writes as it starts, which must never reach the user's terminal.
NOISE = ("WARN", "log4j", "Setting default log level", "NativeCodeLoader", "incubator", "setLogLevel")


@pytest.fixture()
def no_spark(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a command starts Spark."""
    def started(*args: object, **kwargs: object) -> None:
        pytest.fail("Spark was started before the refusal")

    monkeypatch.setattr(najma.spark, "spark_session", started)


def _refused(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run `najma ARGS` in this process; it must end with one line on standard error and exit code 2. Returns the line."""
    monkeypatch.setattr(sys, "argv", ["najma", *args])
    with pytest.raises(SystemExit) as ended:
        main()
    captured = capsys.readouterr()
    assert ended.value.code == 2, captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("najma: error: "), captured.err
    return lines[0]


@pytest.fixture(scope="module")
def loaded_store(built_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the built sample: a store holding events that an ingest loaded."""
    copy = tmp_path_factory.mktemp("loaded") / "loaded.duckdb"
    shutil.copy(built_sample, copy)
    return copy


@pytest.mark.parametrize(("args", "fragment"), [
    (["--store", "{loaded}"], "holds events loaded into it"),
    ([], "--engine spark needs --events"),
    (["--conf", "spark.driver.memory"], "--conf takes KEY=VALUE; got spark.driver.memory"),
    (["--events", "{missing}"], "no such Parquet file or folder"),
    (["--events", "{not_parquet}"], "cannot read as Parquet"),
    (["--events", "{raw}"], "no column event_seq"),
    (["--quarter", "2025Q7"], "2025Q7"),
    (["--config", "{missing}"], "missing.parquet"),
])
def test_rate_on_spark_refuses_before_spark_starts(no_spark, monkeypatch, capsys, tmp_path, spark_slice, loaded_store,
                                                    args, fragment):
    not_parquet = tmp_path / "text.parquet"
    not_parquet.write_text("case_id,activity\n")
    raw = Path(__file__).resolve().parents[2] / "data" / "sample" / "events.parquet"
    places = {"{loaded}": str(loaded_store), "{missing}": str(tmp_path / "missing.parquet"),
              "{not_parquet}": str(not_parquet), "{raw}": str(raw)}
    given = [places.get(a, a) for a in args]
    defaults = {"--store": str(spark_slice.parent / "spark.duckdb"), "--events": str(spark_slice), "--quarter": "2025Q4"}
    for option, value in defaults.items():
        if option not in given and not (option == "--events" and not args):
            given += [option, value]
    line = _refused(monkeypatch, capsys, "rate", "--engine", "spark", "--master", "local[1]", *given)
    assert fragment in line


@pytest.mark.parametrize(("args", "fragment"), [
    (["--engine", "spark"], "--engine spark needs --out"),
    (["--engine", "spark", "--out", "{lake}", "--store", "x.duckdb"], "--store: not with --engine spark"),
    (["--engine", "spark", "--out", "{lake}", "--catalogue", "c.toml"], "--catalogue: not with --engine spark"),
    (["--engine", "spark", "--out", "{lake}", "--conf", "=1"], "--conf takes KEY=VALUE"),
    (["--out", "{lake}"], "need --engine spark"),
    (["--engine", "spark", "--out", "{lake}", "--map", "case"], "case"),
    (["--engine", "spark", "--out", "{lake}", "--tz", "Mars/Olympus"], "Mars/Olympus"),
    (["--engine", "spark", "--out", "{lake}", "--format", "%Q"], "%Q"),
])
def test_ingest_on_spark_refuses_before_spark_starts(no_spark, monkeypatch, capsys, tmp_path, args, fragment):
    source = tmp_path / "events.csv"
    source.write_text("case_id,activity,timestamp\nc1,Apply,2025-01-01T00:00:00\n")
    given = [str(tmp_path / "lake") if a == "{lake}" else a for a in args]
    line = _refused(monkeypatch, capsys, "ingest", str(source), *given)
    assert fragment in line
    assert not (tmp_path / "lake").exists()


def test_ingest_on_spark_refuses_a_missing_file_before_spark_starts(no_spark, monkeypatch, capsys, tmp_path):
    line = _refused(monkeypatch, capsys, "ingest", "--engine", "spark", "--out", str(tmp_path / "lake"),
                    str(tmp_path / "nowhere.csv"))
    assert "nowhere.csv" in line


def test_ingest_on_spark_prints_the_summary_and_keeps_spark_noise_off_the_terminal(tmp_path: Path):
    """A real run in a process of its own: its standard error is all a user would see. The JVM's output goes to the
    log the command names (the commands that run on Spark start it the same way, see dashboards/cli/_spark.py)."""
    source = tmp_path / "visits.csv"
    source.write_text("SessionID,PAGE,TIME\ns1,Apply,2025-10-01 09:00\ns1,Pay,2025-10-01 10:00\ns2,Apply,\n"
                      "s2,Apply,2025-11-02 08:00\n")
    lake = tmp_path / "lake"
    done = subprocess.run(
        [sys.executable, "-m", "najma", "ingest", "--engine", "spark", "--out", str(lake), "--master", "local[1]",
         "--map", "case=SessionID,activity=PAGE,timestamp=TIME", "--tz", "Asia/Dubai", str(source)],
        capture_output=True, text=True, env={**os.environ, "NAJMA_PSEUDONYM_KEY": "test", "COLUMNS": "200"}, timeout=300)
    assert done.returncode == 0, done.stderr
    log = log_path(str(lake))
    assert done.stderr.strip().splitlines()[0] == f"Spark: starting; its own messages go to {log}"
    assert not any(noise in done.stderr + done.stdout for noise in NOISE), done.stderr
    assert "Using Spark's default log4j profile" in log.read_text()  # the noise went to the log instead
    row = next(line for line in done.stdout.splitlines() if "visits.csv" in line)
    assert [cell.strip() for cell in row.strip("│ ").split("│")][:6] == ["1", "visits.csv", "4", "3", "1", "0"]
    unwrapped = done.stdout.replace("\n", "")
    assert f"Next: najma rate --engine spark --events {lake / 'events'}" in unwrapped
    assert f"{lake}/quarantine" in unwrapped
