"""Survey answers as their own input: a file of answers for part of the sample, keyed by case or by customer, linked to
journeys that it leaves as they were; unlinked answers reported and kept, bad rows quarantined with their place."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest.mock import patch

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from najma.dashboards.cli import app, main
from najma.dashboards.cli._options import out
from najma.errors import InvalidParameterError, SourceReadError, StoreError
from najma.journeys import CaseFilter, ColumnMapping, Store, build_journeys, load_survey, open_source, survey_links, survey_summary
from najma.journeys._pseudonym import Pseudonymiser
from najma.journeys._surveys import LINK_WINDOW_DAYS, UNLINKED_REASONS
from najma.sample import SAMPLE_EVENTS

WINDOW = pd.Timedelta(days=LINK_WINDOW_DAYS)
#: The bad rows appended to the file: (the row's fields, the column named, a word of the reason).
BAD_ROWS = [
    ({"case_id": "birth_certificate-0000001", "score": "9"}, "score", "outside the scale 1-5"),
    ({"case_id": "birth_certificate-0000001", "score": "great"}, "score", "is not a number"),
    ({"score": "3", "comment": "no key"}, "case_id", "missing case_id and customer_id"),
    ({"customer_id": "784-1990-0000001", "score": "4"}, "answered_at", "missing answered_at"),
    ({"case_id": "birth_certificate-0000001", "answered_at": "yesterday", "score": "4"}, "answered_at", "does not parse"),
    ({"case_id": "birth_certificate-0000001", "score": ""}, "score", "missing score"),
]
COLUMNS = ["case_id", "customer_id", "answered_at", "score", "question", "comment"]


@dataclass
class Surveyed:
    """A copy of the built sample before and after a survey file was loaded into it."""

    path: Path
    file: Path
    answers: pd.DataFrame  # the good answers written, with the customer's pseudonym
    journeys: pd.DataFrame  # service, case_id, customer_id, start, end
    before: dict[str, pd.DataFrame]
    result: object


def _tables(store: Store) -> dict[str, pd.DataFrame]:
    """The journeys, steps and events as a build left them, in a fixed order."""
    return {name: store.backend.table(name).to_pandas().drop(columns=["attributes"], errors="ignore")
            .sort_values(keys).reset_index(drop=True)
            for name, keys in (("journeys", ["service", "case_id"]), ("steps", ["service", "case_id", "event_seq"]),
                               ("events", ["event_seq"]))}


def _answers(journeys: pd.DataFrame, raw_customers: pd.Series, pseudonym: Pseudonymiser) -> pd.DataFrame:
    """Answers for every 25th journey: the first half by case id, the rest by customer; then three that link to nothing."""
    part = journeys.sort_values(["service", "case_id"]).iloc[::25].reset_index(drop=True)
    half = len(part) // 2
    rows = [{"case_id": r.case_id, "answered_at": r.end + pd.Timedelta(days=1), "score": 1 + i % 5, "question": "overall",
             "comment": f"comment {i}"} for i, r in part.iloc[:half].iterrows()]
    rows += [{"customer_id": raw_customers[r.case_id], "answered_at": r.end + pd.Timedelta(days=1 + i % 40),
              "score": 1 + i % 5, "question": "overall"} for i, r in part.iloc[half:].iterrows()]
    lonely = part.iloc[-1]
    last_end = journeys.loc[journeys.customer_id == pseudonym.pseudonym(raw_customers[lonely.case_id]), "end"].max()
    rows += [
        {"case_id": "no-such-case", "answered_at": lonely.end, "score": 2},
        {"customer_id": "784-0000-0000000-0", "answered_at": lonely.end, "score": 3},
        {"customer_id": raw_customers[lonely.case_id], "answered_at": last_end + WINDOW * 3, "score": 4},
    ]
    answers = pd.DataFrame(rows, columns=COLUMNS)
    answers["answered_at"] = answers["answered_at"].map(lambda t: t.isoformat())
    return answers


@pytest.fixture(scope="module")
def surveyed(built_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Surveyed]:
    folder = tmp_path_factory.mktemp("surveyed")
    path = Path(shutil.copy(built_sample, folder / "sample.duckdb"))
    key = built_sample.with_suffix(".key")
    pseudonym = Pseudonymiser(key.read_text().strip().encode())
    raw = pq.read_table(SAMPLE_EVENTS, columns=["case_id", "customer_id"]).to_pandas().drop_duplicates("case_id")
    with pytest.MonkeyPatch.context() as patch_env:
        patch_env.setenv("NAJMA_KEY_FILE", str(key))
        patch_env.delenv("NAJMA_PSEUDONYM_KEY", raising=False)  # the key file is the sample's key
        with Store(path) as store:
            journeys = store.backend.table("journeys").select("service", "case_id", "customer_id", "start", "end").to_pandas()
            answers = _answers(journeys, raw.set_index("case_id")["customer_id"], pseudonym)
            file = folder / "answers.csv"
            answers.to_csv(file, index=False)
            with file.open("a") as handle:
                for fields, _, _ in BAD_ROWS:
                    handle.write(",".join(str(fields.get(c, "")) for c in COLUMNS) + "\n")
                handle.write("a,b,c,d,e,f,g,h\n")  # a line of more fields than the header: cannot be split into columns
            before = _tables(store)
            result = load_survey(store, open_source(file))
    answers["customer_id"] = answers["customer_id"].map(lambda c: pseudonym.pseudonym(c) if isinstance(c, str) else None)
    yield Surveyed(path, file, answers, journeys, before, result)


@pytest.fixture
def reading(surveyed: Surveyed) -> Iterator[Store]:
    with Store(surveyed.path, read_only=True) as opened:
        yield opened


def test_loading_answers_leaves_the_journeys_their_variants_and_durations(surveyed: Surveyed, reading: Store):
    after = _tables(reading)
    for name, table in surveyed.before.items():
        pd.testing.assert_frame_equal(after[name], table, check_like=True)
    assert reading.journeys_stale() is None  # answers are not events: nothing to rebuild


def test_read_is_loaded_plus_quarantined_and_bad_rows_name_file_row_and_column(surveyed: Surveyed, reading: Store):
    result = surveyed.result
    good = len(surveyed.answers)
    assert (result.read, result.loaded, result.quarantined) == (good + len(BAD_ROWS) + 1, good, len(BAD_ROWS) + 1)
    assert reading.n_rows("survey_answers") == good
    quarantined = reading.backend.table("survey_quarantine").to_pandas().sort_values("row").reset_index(drop=True)
    assert set(quarantined.source) == {str(surveyed.file)} and set(quarantined.unit) == {"line"}
    first_bad = good + 2  # the header is line 1
    assert quarantined.row.tolist() == list(range(first_bad, first_bad + len(BAD_ROWS) + 1))
    for (_, column, words), row in zip(BAD_ROWS, quarantined.itertuples(), strict=False):
        assert row.column == column and words in row.reason, row
    assert pd.isna(quarantined.column.iloc[-1]) and "the line has 8 fields, expected 6" in quarantined.reason.iloc[-1]
    # The bad customer-keyed row keeps its customer pseudonymised, never in the clear.
    assert "784-1990-0000001" not in str(quarantined.record.tolist())


def test_loading_the_same_file_again_adds_nothing(surveyed: Surveyed, tmp_path: Path):
    path = Path(shutil.copy(surveyed.path, tmp_path / "again.duckdb"))
    with pytest.MonkeyPatch.context() as patch_env:
        patch_env.setenv("NAJMA_PSEUDONYM_KEY", "another key")
        with Store(path) as store, pytest.raises(StoreError, match="pseudonymisation key differs"):
            load_survey(store, open_source(surveyed.file), scale=(0, 10))  # another load: its ids need the store's key
    with Store(path) as store:
        again = load_survey(store, open_source(surveyed.file))
        assert again.skipped and again.batch_id == surveyed.result.batch_id and store.n_rows("survey_answers") == again.loaded


def _linked_by_hand(answers: pd.DataFrame, journeys: pd.DataFrame) -> pd.DataFrame:
    """The module's linking rule, computed answer by answer in pandas."""
    found = []
    for answer in answers.itertuples():
        at = pd.Timestamp(answer.answered_at)
        if isinstance(answer.case_id, str):
            match = journeys[journeys.case_id == answer.case_id]
            found.append((match.case_id.iloc[0], None) if len(match) == 1 else (None, "no_case"))
            continue
        own = journeys[journeys.customer_id == answer.customer_id]
        holding = own[(own.start <= at) & (at <= own.end)].sort_values(["start", "service", "case_id"],
                                                                        ascending=[False, True, True])
        after = own[(own.end < at) & (at <= own.end + WINDOW)].sort_values(["end", "service", "case_id"],
                                                                          ascending=[False, True, True])
        if len(holding):
            found.append((holding.case_id.iloc[0], None))
        elif len(after):
            found.append((after.case_id.iloc[0], None))
        else:
            found.append((None, "out_of_window" if len(own) else "no_customer"))
    return pd.DataFrame(found, columns=["linked_case_id", "reason"])


def test_answers_link_by_case_else_by_customer_and_time_as_computed_by_hand(surveyed: Surveyed, reading: Store):
    links = survey_links(reading).to_pandas().sort_values("row").reset_index(drop=True)
    expected = _linked_by_hand(surveyed.answers, surveyed.journeys)
    assert links.linked_case_id.tolist() == expected.linked_case_id.tolist()
    reasons = expected.reason.map(lambda r: UNLINKED_REASONS.get(r) if isinstance(r, str) else None)
    assert links.unlinked.tolist() == reasons.tolist()
    assert set(expected.reason.dropna()) == {"no_case", "no_customer", "out_of_window"}  # each kind is met
    assert {"case", "customer during", "customer after"} <= set(links.linked_by.dropna())


def test_response_and_link_rates_equal_a_count_by_hand(surveyed: Surveyed, reading: Store):
    expected = _linked_by_hand(surveyed.answers, surveyed.journeys)
    summary = survey_summary(reading)
    answered = expected.linked_case_id.dropna().nunique()
    assert (summary.answers, summary.linked) == (len(expected), expected.linked_case_id.notna().sum())
    assert summary.unlinked == {UNLINKED_REASONS[r]: n for r, n in expected.reason.value_counts().items()}
    assert summary.link_rate == pytest.approx(expected.linked_case_id.notna().mean())
    assert summary.response_rate == pytest.approx(answered / len(surveyed.journeys))
    service = "passport"
    in_service = surveyed.journeys[surveyed.journeys.service == service]
    one = survey_summary(reading, where=CaseFilter(service=service))
    assert one.journeys == len(in_service) and one.customers == in_service.customer_id.nunique()
    answered_here = expected.linked_case_id[expected.linked_case_id.isin(in_service.case_id)].nunique()
    assert answered_here and one.answered == answered_here
    assert one.response_rate == pytest.approx(answered_here / len(in_service))


def test_a_rebuild_of_the_journeys_keeps_every_link(surveyed: Surveyed, tmp_path: Path):
    path = Path(shutil.copy(surveyed.path, tmp_path / "rebuilt.duckdb"))
    with Store(path) as store:
        before = survey_links(store).to_pandas().sort_values("row").reset_index(drop=True)
        build_journeys(store)
        after = survey_links(store).to_pandas().sort_values("row").reset_index(drop=True)
    pd.testing.assert_frame_equal(after, before)


def test_a_bad_scale_or_missing_column_is_refused_before_the_store_is_touched(surveyed: Surveyed, store: Store):
    with pytest.raises(InvalidParameterError, match="scale") as refused:
        load_survey(store, open_source(surveyed.file), scale=(5, 1))
    assert refused.value.parameter == "scale"
    with pytest.raises(SourceReadError, match=r"answers\.csv.*'Rating' .*missing"):
        load_survey(store, open_source(surveyed.file), mapping=ColumnMapping({"satisfaction": "Rating"}))
    assert store.n_rows("survey_answers") == store.n_rows("survey_batches") == 0


def test_the_command_line_loads_a_file_and_names_each_bad_row(surveyed: Surveyed, built_sample: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch):
    path = Path(shutil.copy(built_sample, tmp_path / "cli.duckdb"))
    monkeypatch.setenv("NAJMA_KEY_FILE", str(built_sample.with_suffix(".key")))
    monkeypatch.delenv("NAJMA_PSEUDONYM_KEY", raising=False)
    with patch.object(out, "_width", 250):
        loaded = CliRunner().invoke(app, ["surveys", "load", str(surveyed.file), "--store", str(path)], env={"COLUMNS": "250"})
        info = CliRunner().invoke(app, ["surveys", "info", "--store", str(path)], env={"COLUMNS": "250"})
    assert loaded.exit_code == 0, loaded.output
    good = len(surveyed.answers)
    assert f"│ {good + len(BAD_ROWS) + 1:,}" in loaded.output
    assert f"answers.csv line {good + 2}, column score: score 9 is outside the scale 1-5" in loaded.output
    assert info.exit_code == 0, info.output
    summary_line = next(line for line in info.output.splitlines() if "all services" in line)
    assert f"{len(surveyed.journeys):,}" in summary_line and "unlinked: 1 answers: no journey of the answer's customer" in info.output


def test_a_missing_column_on_the_command_line_is_one_line_naming_file_and_column(
        surveyed: Surveyed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    path = Path(shutil.copy(surveyed.path, tmp_path / "refused.duckdb"))
    before = path.read_bytes()
    monkeypatch.setenv("NAJMA_KEY_FILE", str(surveyed.path.parent / "other.key"))  # refused before the key is even read
    monkeypatch.setattr(sys, "argv", ["najma", "surveys", "load", str(surveyed.file), "--map", "satisfaction=Rating",
                                      "--store", str(path)])
    with pytest.raises(SystemExit) as ended:
        main()
    said = capsys.readouterr().err
    assert ended.value.code == 2 and said.count("\n") == 1, said
    assert said.startswith("najma: error: ") and "answers.csv" in said and "'Rating'" in said
    assert path.read_bytes() == before


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_service_page_shows_the_rates_of_its_selection_as_counted_by_hand(surveyed: Surveyed, built_sample: Path,
                                                                               lang: str):
    from najma.dashboards._data import DashboardData
    from najma.dashboards.pages import service

    expected = _linked_by_hand(surveyed.answers, surveyed.journeys)
    in_service = surveyed.journeys[surveyed.journeys.service == "passport"]
    answered = expected.linked_case_id[expected.linked_case_id.isin(in_service.case_id)].nunique()
    for path, shown in ((surveyed.path, True), (built_sample, False)):
        data = DashboardData(path, draws=20)
        try:
            lines = service._survey_note(data, data.where("passport", None), lang)
            again = service._survey_note(data, data.where("passport", None), lang)
            kept = data.survey_summary.cache_info()
        finally:
            data.close()
        assert repr(again) == repr(lines) and (kept.misses, kept.hits) == (1, 1)  # asked again: answered from what was kept
        if not shown:  # a store without answers says nothing of them
            assert lines == []
            continue
        [line] = lines
        assert line.id == "sv-survey-rates"
        assert f"{answered:,}" in line.children and f"{len(in_service):,}" in line.children
        assert f"{answered / len(in_service):.1%}" in line.children
