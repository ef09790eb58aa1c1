"""``najma discover``: bundles and proactive candidates listed with their period, selection and thresholds, and a
bundle adopted as a life event with the very command the listing prints, measured from then on."""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from pathlib import Path
from unittest.mock import patch

import pandas as pd
import pytest
from typer.testing import CliRunner

from najma.dashboards.cli import app, main
from najma.dashboards.cli._options import out
from najma.journeys import Store, discover_bundles, discover_proactive, life_event_journeys, load_catalogue
from najma.sample import SAMPLE_CATALOGUE

NEWBORN = load_catalogue(SAMPLE_CATALOGUE).life_events["newborn"]
PROACTIVE_TITLE = "Proactive candidates (lags in days after the trigger's end)"


def _cli(*args: str) -> str:
    """The output of a command that must succeed, wide enough that no cell or line is wrapped."""
    with patch.object(out, "_width", 250):
        result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    return result.output


def _rows(output: str, title: str) -> list[list[str]]:
    """The cells of the rows of the table titled `title` in `output`."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == title)
    end = next(i for i, line in enumerate(lines) if i > start and line.startswith("└"))
    return [[cell.strip() for cell in line.strip("│").split("│")] for line in lines[start:end] if line.startswith("│")]


def test_bundles_lists_the_newborn_bundle_with_its_period_selection_and_thresholds(built_sample: Path):
    said = _cli("discover", "bundles", "--store", str(built_sample))
    rows = _rows(said, "Bundles")
    assert rows[0][:2] == ["1", " → ".join(NEWBORN.services)]
    with Store(built_sample, read_only=True) as store:
        found = discover_bundles(store)
    first, last = found.period
    assert f"period: {first:%Y-%m-%d} to {last:%Y-%m-%d} (UTC); selection: all cases" in said
    assert (f"{found.episodes:,} episodes of {found.customers:,} customers; a bundle needs a support of at least 1.0% "
            "and 20 episodes") in said
    assert [row[3] for row in rows] == [f"{n:,}" for n in found.table.customers]
    assert "1. already the catalogue's life event 'newborn'" in said  # adopting it again would measure it twice


def test_proactive_lists_the_newborn_followers_and_writes_them_all_to_csv(built_sample: Path, tmp_path: Path):
    written = tmp_path / "proactive.csv"
    said = _cli("discover", "proactive", "--store", str(built_sample), "--csv", str(written))
    pairs = [tuple(row[1].split(" → ")) for row in _rows(said, PROACTIVE_TITLE)]
    followers = {follower for _, follower in pairs}
    assert set(NEWBORN.services[1:]) <= followers  # each service after the birth notification follows another
    assert all(trigger in NEWBORN.services for trigger, follower in pairs if follower in NEWBORN.services)
    assert "a follower needs a share of at least 50% of a trigger's customers, and the trigger 20 customers" in said
    with Store(built_sample, read_only=True) as store:
        found = discover_proactive(store)
    csv = pd.read_csv(written)
    assert list(csv.columns) == list(found.table.columns)
    assert list(zip(csv.trigger, csv.follower, strict=True)) == list(zip(found.table.trigger, found.table.follower, strict=True))
    assert csv.lag_histogram.str.split().map(lambda days: sum(map(int, days))).tolist() == found.table.followed.tolist()


def test_a_selection_is_printed_and_applied(built_sample: Path):
    said = _cli("discover", "proactive", "--store", str(built_sample), "--quarter", "2025Q1", "--service", "passport",
                "--service", "health_insurance")
    assert "selection: service passport, health_insurance; quarter 2025Q1" in said
    assert [row[1] for row in _rows(said, PROACTIVE_TITLE)] == ["passport → health_insurance"]


@pytest.mark.parametrize(("args", "advice"), [
    (["bundles", "--min-support", "1"], "no bundle reaches these thresholds; try a lower --min-support"),
    (["proactive", "--min-share", "1"], "no service follows another this regularly; try a lower --min-share"),
])
def test_nothing_found_is_said_plainly_with_a_lower_threshold_to_try(built_sample: Path, args: list[str], advice: str):
    said = _cli("discover", *args, "--store", str(built_sample))
    assert advice in said and "┏" not in said


@pytest.fixture
def without_newborn(built_sample: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the built sample and of its catalogue (comments and all) without the newborn life event, registered."""
    store = Path(shutil.copy(built_sample, tmp_path / "sample.duckdb"))
    text = SAMPLE_CATALOGUE.read_text(encoding="utf-8")
    catalogue = tmp_path / "services.toml"
    catalogue.write_text(text[:text.index("[life_events.newborn]")], encoding="utf-8")
    _cli("catalogue", "use", str(catalogue), "--store", str(store))
    return store, catalogue


def test_the_printed_adopt_command_writes_the_bundle_and_it_is_measured_from_then_on(without_newborn: tuple[Path, Path]):
    store, catalogue = without_newborn
    before = catalogue.read_text(encoding="utf-8")
    written = store.with_suffix(".csv")
    listed = _cli("discover", "bundles", "--store", str(store), "--catalogue", str(catalogue), "--csv", str(written))
    command = re.search(r"^  1\. (najma discover adopt .*)$", listed, re.MULTILINE)[1]
    assert pd.read_csv(written).adopt.iloc[0] == command
    words = shlex.split(command)
    key = words[words.index("--as") + 1]
    assert words[words.index("--services") + 1] == ",".join(NEWBORN.services)
    with Store(store, read_only=True) as opened:
        episodes = int(discover_bundles(opened).table.episodes.iloc[0])

    said = _cli(*words[1:])

    assert f"{catalogue}: added the life event {key!r}" in said and "journeys rebuilt" in said
    after = catalogue.read_text(encoding="utf-8")
    assert after.startswith(before) and before.startswith("# Service catalogue")  # the comments and all else kept
    assert load_catalogue(catalogue).life_events[key].services == NEWBORN.services
    with Store(store, read_only=True) as opened:
        assert not opened.journeys_stale()
        journeys = life_event_journeys(opened, key).to_pandas()
    whole = int((journeys.services == len(NEWBORN.services)).sum())
    assert 0.99 * episodes <= whole <= episodes  # the bundle's episodes, now measured as the life event's journeys
    assert f"1. already the catalogue's life event {key!r}" in _cli("discover", "bundles", "--store", str(store))


@pytest.mark.parametrize(("args", "message"), [
    (["adopt", "--services", "birth_certificate,pasport", "--as", "parents"],
     "[life_events.parents] names the service 'pasport', which the catalogue does not describe"),
    (["adopt", "--services", "birth_certificate,passport", "--as", "newborn"],
     "[life_events.newborn] exists already; choose another key (see --as)"),
    (["adopt", "--services", "passport", "--as", "parents"], "must name at least two services, got 1"),
    (["adopt", "--services", "birth_certificate,passport", "--as", "parents", "--window-days", "0"],
     "window_days must be a whole number of days, at least 1, got 0"),
    (["bundles", "--min-support", "0"], "The 'min_support' parameter of discover_bundles must be a share in (0, 1]. "
                                        "Got 0.0 instead. (see --min-support)"),
    (["proactive", "--within-days", "0"], "(see --within-days)"),
    (["proactive", "--min-share", "1.5"], "(see --min-share)"),
])
def test_bad_input_is_one_line_and_changes_nothing(args: list[str], message: str, built_sample: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """The command line's own entry point, in this process; on copies, which a refusal must leave as they were."""
    store = Path(shutil.copy(built_sample, tmp_path / "sample.duckdb"))
    catalogue = Path(shutil.copy(SAMPLE_CATALOGUE, tmp_path / "services.toml"))
    before = catalogue.read_bytes(), store.read_bytes()
    options = ["--catalogue", str(catalogue)] if args[0] == "adopt" else []
    monkeypatch.setattr(sys, "argv", ["najma", "discover", *args, *options, "--store", str(store)])
    with pytest.raises(SystemExit) as ended:
        main()
    said = capsys.readouterr().err
    assert ended.value.code == 2, said
    assert said.startswith("najma: error: ") and said.count("\n") == 1 and message in said
    assert (catalogue.read_bytes(), store.read_bytes()) == before


def bare_clicks(customers: int = 12) -> pd.DataFrame:
    """Clicks as a web log has them: customers and services, no agency, actor or catalogue. Each customer visits the
    portal (three clicks a minute apart), then the forms site two hours after the portal's first click."""
    day = pd.Timestamp("2025-02-03 10:00", tz="UTC")
    return pd.DataFrame([{"case_id": f"{service}-{n}", "service": service, "customer_id": f"k{n}", "activity": activity,
                          "timestamp": day + pd.Timedelta(days=n, hours=hours, minutes=minute)}
                         for n in range(customers) for service, hours in (("portal", 0), ("forms", 2))
                         for minute, activity in enumerate(["home", "search", "page"])])


@pytest.fixture(scope="module")
def bare_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of :func:`bare_clicks`, its journeys built."""
    from najma.journeys import build_journeys

    path = tmp_path_factory.mktemp("bare") / "bare.duckdb"
    with Store(path) as store:
        store.ingest_frame(bare_clicks())
        build_journeys(store)
    return path


def test_figures_a_bare_log_cannot_support_say_no_data_and_what_they_need(bare_store: Path):
    said = _cli("discover", "bundles", "--store", str(bare_store), "--min-episodes", "2")
    (row,) = _rows(said, "Today → in one window (means per episode; days: the median)")
    # agencies, visits, customer steps, steps saved, visits saved, documents asked again: no data; days measured; score
    assert row[1:7] == ["no data"] * 6 and row[7] != "no data" and row[8] == "no data"
    lines = [line for line in said.splitlines() if line.startswith("no data for")]
    assert lines == ["no data for agencies, documents asked again: needs an agency column (forms, portal); no data for "
                     "customer steps, steps saved, score: needs an actor column or the service in the catalogue (forms, "
                     "portal); no data for visits, visits saved, documents asked again: needs the service in the "
                     "catalogue (forms, portal)"]
    said = _cli("discover", "proactive", "--store", str(bare_store), "--min-customers", "2")
    (row,) = _rows(said, "What a proactive start saves (per followed case)")
    assert row[2:5] == ["no data"] * 3 and row[5] == "0.1" and row[6] == "no data"  # days saved: about 2 hours
    assert [line for line in said.splitlines() if line.startswith("no data for")] == [
        "no data for application steps, score: needs an actor column or the service in the catalogue (forms); no data "
        "for already proactive, visits: needs the service in the catalogue (forms)"]
