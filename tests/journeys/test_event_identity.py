"""Event identity at ingest: repeats within a file are kept, events loaded before are not loaded again.

A file's events are matched, as a multiset, against the events the store holds for the same cases:
k copies in the file and m stored add max(0, k - m). Identity does not depend on how a file was read
(XES attribute order and chunks, CSV quoting, blank or missing values).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from najma.dashboards.cli import app
from najma.errors import InvalidParameterError
from najma.journeys import Store, load_catalogue, open_source, register_catalogue
from najma.journeys._codes import CODE_COLUMNS
from najma.journeys._store_schema import SCHEMA_VERSION
from najma.rating import rate
from najma.sample import SAMPLE_CATALOGUE, SAMPLE_TZ, generate

EVENT = {"case_id": "c1", "activity": "Apply", "timestamp": "2025-01-05 09:00", "channel": "web"}
OTHER = {"case_id": "c1", "activity": "Pay", "timestamp": "2025-01-05 10:00", "channel": "web"}


def _copies(k: int, *others: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame([EVENT] * k + list(others))


def _reasons(store: Store, batch_id: int) -> list[str]:
    return sorted(store.quarantined(batch_id).reason.to_pandas().tolist())


def _events(store: Store) -> pd.DataFrame:
    """The events as a multiset: every column but their place (event_seq, batch_id) and the store's codes
    (numbered in load order), sorted."""
    frame = store.backend.table("events").drop("event_seq", "batch_id", *CODE_COLUMNS).to_pandas()
    frame["attributes"] = frame["attributes"].astype(str)
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


# -- the multiset rule ---------------------------------------------------------------------------------


def test_identical_events_within_one_file_are_kept_and_counted(store: Store):
    result = store.ingest_frame(_copies(3, OTHER), service="s")
    assert (result.read, result.loaded, result.quarantined, result.repeated) == (4, 4, 0, 2)
    assert store.batches()[0].rows_repeated == 2


def test_k_copies_after_m_stored_add_k_minus_m(store: Store):
    first = store.ingest_frame(_copies(1, OTHER), service="s", name="first")
    more = store.ingest_frame(_copies(3), service="s", name="more")
    assert (more.read, more.loaded, more.quarantined, more.repeated) == (3, 2, 1, 2)
    assert _reasons(store, more.batch_id) == [f"already loaded in batch {first.batch_id}"]
    assert store.n_rows("events") == 4  # OTHER and three copies of EVENT


def test_k_copies_after_more_stored_add_nothing_and_name_each_copy_s_batch(store: Store):
    one = store.ingest_frame(_copies(1), service="s", name="one")
    three = store.ingest_frame(_copies(3, OTHER), service="s", name="three")  # adds two copies and OTHER
    assert three.loaded == 3
    again = store.ingest_frame(_copies(4, OTHER), service="s", name="four")  # adds the fourth copy only
    assert (again.loaded, again.quarantined) == (1, 4)
    assert _reasons(store, again.batch_id) == [f"already loaded in batch {one.batch_id}"] + [
        f"already loaded in batch {three.batch_id}"] * 3
    late = store.ingest_frame(_copies(3), service="s", name="late")
    assert (late.read, late.loaded, late.quarantined) == (3, 0, 3)
    assert late.read == late.loaded + late.quarantined
    assert store.n_rows("events") == 5


def test_only_equal_events_of_the_same_case_and_service_match(store: Store):
    store.ingest_frame(_copies(1), service="s", name="first")
    other_case = store.ingest_frame(_copies(1).assign(case_id="c2"), service="s", name="case")
    other_service = store.ingest_frame(_copies(1), service="t", name="service")
    later = store.ingest_frame(_copies(1).assign(timestamp="2025-01-05 09:00:01"), service="s", name="time")
    assert [r.loaded for r in (other_case, other_service, later)] == [1, 1, 1]


def test_repeats_quarantine_keeps_the_first_copy_and_names_its_line(store: Store, tmp_path: Path):
    path = tmp_path / "export.csv"
    lines = ["case_id,activity,timestamp", "c1,Apply,2025-01-05 09:00", "c1,Pay,2025-01-05 10:00",
             "c1,Apply,2025-01-05 09:00", "c2,Apply,2025-01-05 09:00", "c1,Apply,2025-01-05 09:00"]
    path.write_text("\n".join(lines) + "\n")
    result = store.ingest(open_source(path), service="s", repeats="quarantine")
    assert (result.read, result.loaded, result.quarantined, result.repeated) == (5, 3, 2, 2)
    rows = store.quarantined(result.batch_id).to_pandas()
    assert rows.row.tolist() == [4, 6]
    assert rows.reason.tolist() == ["repeat of line 2 of the same file"] * 2
    assert store.batches()[0].rows_repeated == 2


def test_repeats_quarantine_then_matches_the_one_copy_left_against_the_store(store: Store):
    first = store.ingest_frame(_copies(2), service="s", name="first")
    again = store.ingest_frame(_copies(3, OTHER), service="s", name="again", repeats="quarantine")
    assert (again.loaded, again.quarantined, again.repeated) == (1, 3, 2)
    assert _reasons(store, again.batch_id) == [f"already loaded in batch {first.batch_id}",
                                                "repeat of row 1 of the same file", "repeat of row 1 of the same file"]


def test_an_unknown_repeats_choice_is_refused_naming_the_parameter(store: Store):
    with pytest.raises(InvalidParameterError, match="'repeats' parameter of Store.ingest.*'drop'") as refused:
        store.ingest_frame(_copies(1), repeats="drop")
    assert refused.value.parameter == "repeats" and store.n_rows("batches") == 0


# -- identity does not depend on how a file was read ----------------------------------------------------


def _xes(traces: list[tuple[list[tuple[str, str]], list[list[tuple[str, str]]]]], indent: str) -> str:
    """An XES document; each trace is (its attributes, its events), each attribute a (key, value) in written order."""
    def attributes(pairs: list[tuple[str, str]], depth: int) -> str:
        return "".join(f'{indent * depth}<{"date" if k == "time:timestamp" else "string"} key="{k}" value="{v}"/>\n'
                       for k, v in pairs)

    body = "".join(
        f"{indent}<trace>\n{attributes(case, 2)}"
        + "".join(f"{indent * 2}<event>\n{attributes(event, 3)}{indent * 2}</event>\n" for event in events)
        + f"{indent}</trace>\n"
        for case, events in traces)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">\n{body}</log>\n'


def _event(activity: str, minute: int, **more: str) -> list[tuple[str, str]]:
    return [("concept:name", activity), ("time:timestamp", f"2025-03-02T10:{minute:02d}:00+04:00"),
            ("org:resource", "clerk"), *more.items()]


# Case c1 is written as two traces; its "Check" at 10:05 is in both, far apart in the file.
CHECK = _event("Check", 5, desk="3", note="ok")
TRACES = [
    ([("concept:name", "c1"), ("channel", "centre")], [_event("Apply", 0, note="first"), CHECK]),
    ([("concept:name", "c2"), ("channel", "web")], [_event("Apply", 1), _event("Pay", 2, desk="1")]),
    ([("concept:name", "c3"), ("channel", "web")], [_event("Apply", 3, extra="x")]),
    ([("concept:name", "c1"), ("channel", "centre")], [_event("Pay", 9), CHECK]),
]


def _rewritten(traces):  # noqa: ANN001, ANN202 - the test's own data
    """The same events, written otherwise: traces in another order, every attribute list reversed."""
    return [(list(reversed(case)), [list(reversed(event)) for event in reversed(events)]) for case, events in reversed(traces)]


def test_xes_events_in_other_chunks_and_attribute_orders_are_the_same_events(store: Store, tmp_path: Path, monkeypatch):
    monkeypatch.setattr("najma.journeys._xes.XES_BATCH_EVENTS", 2)
    first, second = tmp_path / "one.xes", tmp_path / "two.xes"
    first.write_text(_xes(TRACES, "  "))
    second.write_text(_xes(_rewritten(TRACES), "\t"))
    loaded = store.ingest(open_source(first), service="s")
    assert (loaded.read, loaded.loaded, loaded.repeated) == (7, 7, 1)  # the two copies of CHECK, in other chunks
    again = store.ingest(open_source(second), service="s")
    assert (again.read, again.loaded, again.quarantined, again.repeated) == (7, 0, 7, 1)
    assert set(_reasons(store, again.batch_id)) == {f"already loaded in batch {loaded.batch_id}"}
    stored = store.con.execute("SELECT DISTINCT attributes::VARCHAR FROM events WHERE activity = 'Check'").fetchall()
    assert stored == [('{"case:channel":"centre","desk":"3","note":"ok"}',)]  # keys sorted, the mapped ones left out


def test_csv_quoting_blank_and_missing_values_do_not_change_an_event(store: Store, tmp_path: Path):
    quoted, plain = tmp_path / "quoted.csv", tmp_path / "plain.csv"
    quoted.write_text('"case_id","activity","timestamp","channel","note","extra"\n'
                      '"c1","Apply","2025-01-05 09:00",""," kept ",""\n'
                      '"c1"," Pay ","2025-01-05 10:00","web","  ",\n')
    plain.write_text("note,timestamp,activity,channel,case_id\n"  # no column extra; others in another order
                     "kept,2025-01-05 09:00,Apply,,c1\n"
                     ",2025-01-05 10:00,Pay,web,c1\n"
                     ",2025-01-05 10:00,Pay,web,c1\n")  # Pay twice here, once in the store: one more copy
    first = store.ingest(open_source(quoted), service="s")
    again = store.ingest(open_source(plain), service="s")
    assert (again.read, again.loaded, again.quarantined, again.repeated) == (3, 1, 2, 1)
    assert _reasons(store, again.batch_id) == [f"already loaded in batch {first.batch_id}"] * 2
    stored = store.con.execute("SELECT activity, channel, attributes::VARCHAR FROM events ORDER BY event_seq").fetchall()
    assert stored == [("Apply", None, '{"note":"kept"}'), ("Pay", "web", None), ("Pay", "web", None)]


def test_numbers_and_text_of_a_frame_are_kept_as_text(store: Store):
    frame = pd.DataFrame({**{k: [v] for k, v in EVENT.items()}, "amount": [12.5], "code": ["  A1 "]})
    store.ingest_frame(frame, service="s")
    assert store.con.execute("SELECT attributes::VARCHAR FROM events").fetchall() == [('{"amount":"12.5","code":"A1"}',)]


# -- overlapping extracts load as their union ------------------------------------------------------------


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small generated log, with every 40th event written twice (a genuine repeat), as one file and as two
    extracts overlapping by a month (January 2025); each file's rows shuffled."""
    events = generate(1500, seed=5).events.to_pandas()
    events = pd.concat([events, events.iloc[::40]], ignore_index=True)
    january = pd.Timestamp("2025-01-01", tz="UTC")
    parts = {"whole": events, "early": events[events.timestamp < january + pd.DateOffset(months=1)],
             "late": events[events.timestamp >= january]}
    folder = tmp_path_factory.mktemp("extracts")
    paths = {}
    for seed, (name, part) in enumerate(parts.items()):
        paths[name] = folder / f"{name}.parquet"
        part.sample(frac=1.0, random_state=seed).to_parquet(paths[name], index=False)
    overlap = events[(events.timestamp >= january) & (events.timestamp < january + pd.DateOffset(months=1))]
    assert 0 < len(overlap) and len(parts["early"]) + len(parts["late"]) == len(events) + len(overlap)
    return paths


def _store_of(path: Path, files: list[Path]) -> Store:
    store = Store(path)
    register_catalogue(store, load_catalogue(SAMPLE_CATALOGUE))
    for file in files:
        store.ingest(open_source(file), tz=SAMPLE_TZ)
    return store


def test_overlapping_extracts_load_as_exactly_their_union(extracts: dict[str, Path], tmp_path: Path):
    with _store_of(tmp_path / "whole.duckdb", [extracts["whole"]]) as whole, \
            _store_of(tmp_path / "split.duckdb", [extracts["early"], extracts["late"]]) as split:
        read = pd.read_parquet(extracts["whole"])
        assert whole.n_rows("events") == len(read) and whole.batches()[0].rows_repeated == len(read) - len(read.drop_duplicates())
        late = split.batches()[1]
        overlap = len(pd.read_parquet(extracts["early"])) + late.rows_read - len(read)
        assert (late.rows_quarantined, late.rows_loaded + late.rows_quarantined) == (overlap, late.rows_read)
        assert set(split.quarantined(late.batch_id).reason.to_pandas()) == {"already loaded in batch 1"}
        pd.testing.assert_frame_equal(_events(split), _events(whole))
        keys = ["service", "case_id"]
        journeys = [s.backend.table("journeys").drop("case_key").to_pandas().sort_values(keys).reset_index(drop=True)
                    for s in (whole, split)]  # case_key: the build's own integer code of a case, given in load order
        assert len(journeys[0]) == read.case_id.nunique()
        pd.testing.assert_frame_equal(*journeys)
        pd.testing.assert_frame_equal(rate(split, draws=0), rate(whole, draws=0))


# -- the store's version, the command line ----------------------------------------------------------------


def test_a_version_2_store_gains_the_repeat_count_and_canonical_attributes(tmp_path: Path):
    path = tmp_path / "old.duckdb"
    with Store(path) as store:
        store.ingest_frame(pd.DataFrame([{**EVENT, "note": "x"}]), service="s", name="old")
    with duckdb.connect(str(path)) as con:  # as version 2 left it: no repeat count, attributes as read
        con.execute("ALTER TABLE batches DROP COLUMN rows_repeated")
        con.execute("""UPDATE events SET attributes = '{"note":" x ","empty":null,"a":""}'""")
        con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION and store.batches()[0].rows_repeated == 0
        assert store.con.execute("SELECT attributes::VARCHAR FROM events").fetchall() == [('{"note":"x"}',)]
        again = store.ingest_frame(pd.DataFrame([{**EVENT, "note": "x "}]), service="s", name="new")
        assert (again.loaded, again.quarantined) == (0, 1)


def test_the_command_line_quarantines_repeats_when_asked_and_info_shows_them(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # short names: the table's row stays on one line
    Path("export.csv").write_text("case_id,activity,timestamp\nc1,Apply,2025-01-05 09:00\nc1,Apply,2025-01-05 09:00\n")
    loaded = CliRunner().invoke(app, ["ingest", "export.csv", "--store", "s.duckdb", "--repeats", "quarantine"])
    assert loaded.exit_code == 0, loaded.output
    info = CliRunner().invoke(app, ["info", "--store", "s.duckdb"])
    assert info.exit_code == 0, info.output
    header = next(line for line in info.output.splitlines() if "quarantined" in line)
    row = next(line for line in info.output.splitlines() if "export.csv" in line)
    assert "repeats" in header
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells[2:6] == ["2", "1", "1", "1"]  # read, loaded, quarantined, repeats
    refused = CliRunner().invoke(app, ["ingest", "export.csv", "--store", "s.duckdb", "--repeats", "drop"])
    assert refused.exit_code != 0


def test_extracts_without_a_service_are_told_to_name_one(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("jan.csv").write_text("case_id,activity,timestamp\na,x,2025-01-01\na,y,2025-01-02\nb,x,2025-01-03\n")
    Path("feb.csv").write_text("case_id,activity,timestamp\na,y,2025-01-02\nb,x,2025-01-03\nb,z,2025-02-03\n")
    apart = CliRunner().invoke(app, ["ingest", "jan.csv", "feb.csv", "--store", "apart.duckdb"])
    assert apart.exit_code == 0, apart.output
    assert "note: 2 cases of feb.csv are in the store under another service too" in apart.output
    assert "--service NAME" in apart.output
    together = CliRunner().invoke(app, ["ingest", "jan.csv", "feb.csv", "--store", "one.duckdb", "--service", "permits"])
    assert together.exit_code == 0 and "note:" not in together.output
    with Store("one.duckdb", read_only=True) as store:
        assert [(b.rows_loaded, b.rows_quarantined) for b in store.batches()] == [(3, 0), (1, 2)]
