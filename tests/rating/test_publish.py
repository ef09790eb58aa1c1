"""A published quarter is a record: frozen at a data cut-off, never rewritten, revised with its differences explained."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from najma.dashboards.cli import app
from najma.errors import InvalidParameterError
from najma.journeys import CaseFilter, Store, journey_table, open_source
from najma.journeys._store_schema import SCHEMA_VERSION, TABLES
from najma.rating import case_features, rate, rating_history, record_ratings
from najma.rating._publish import Publication, publish
from najma.rating._published import publications, published_before, published_ratings, revision_changes

QUARTER = "2025Q3"
DRAWS = 20
#: The services whose 2025Q3 cases get later events: every other completed case asks for documents again.
TOUCHED = ("building_permit", "trade_licence")


def _revision_bytes(store: Store, quarter: str, revision: int) -> str:
    """The SHA-256 of one revision's rows as stored (its publication and its ratings), as Arrow IPC bytes."""
    digest = hashlib.sha256()
    for name, order in (("publications", ["quarter"]), ("published_ratings", ["service"])):
        table = store.backend.table(name)
        rows = table.filter((table.quarter == quarter) & (table.revision == revision)).order_by(order).to_pyarrow()
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, rows.schema) as writer:
            writer.write_table(rows)
        digest.update(sink.getvalue().to_pybytes())
    return digest.hexdigest()


def _later_events(store: Store, after: pd.Timestamp, path: Path) -> Path:
    """Write a CSV of events dated after `after` for existing 2025Q3 cases: documents requested and resubmitted."""
    journeys = journey_table(store, CaseFilter(quarter=QUARTER, service=list(TOUCHED)))
    cases = journeys.filter(journeys.outcome == "completed").select("service", "case_id").to_pandas()
    cases = cases.sort_values(["service", "case_id"]).iloc[::2].reset_index(drop=True)
    rows = []
    for number, case in enumerate(cases.itertuples()):
        when = after + pd.Timedelta(days=3, minutes=number)
        rows += [(case.service, case.case_id, "Request additional documents", when),
                 (case.service, case.case_id, "Resubmit documents", when + pd.Timedelta(days=2))]
    frame = pd.DataFrame(rows, columns=["service", "case_id", "activity", "timestamp"])
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    frame.to_csv(path, index=False)
    return path


@dataclass
class Story:
    """A store published, given later events, published again; what each step returned."""

    path: Path
    first: Publication
    same_again: Publication
    first_bytes: str
    first_rows: pd.DataFrame
    rated_at_cutoff: pd.DataFrame
    quarter_cases: int
    loaded: int
    second: Publication
    first_bytes_after: str
    second_again: Publication
    rolled_back: Publication
    first_bytes_at_end: str


@pytest.fixture(scope="module")
def story(built_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Story:
    folder = tmp_path_factory.mktemp("publish")
    path = folder / "store.duckdb"
    path.write_bytes(built_sample.read_bytes())
    with pytest.MonkeyPatch.context() as patch, Store(path) as store:
        patch.setenv("NAJMA_KEY_FILE", str(built_sample.with_suffix(".key")))
        first = publish(store, QUARTER, draws=DRAWS, by="tester", note="quarter close")
        same_again = publish(store, QUARTER, draws=DRAWS, by="someone else")
        first_bytes = _revision_bytes(store, QUARTER, 1)
        first_rows = published_ratings(store, QUARTER)
        rated_at_cutoff = rate(store, quarters=[QUARTER], draws=DRAWS)
        quarter_cases = len(case_features(store).query("quarter == @QUARTER"))
        extra = _later_events(store, first.record["cutoff"], folder / "late.csv")
        loaded = store.ingest(open_source(extra), tz="UTC").loaded
        second = publish(store, QUARTER, draws=DRAWS, by="tester", note="late events")
        first_bytes_after = _revision_bytes(store, QUARTER, 1)
        second_again = publish(store, QUARTER, draws=DRAWS, by="tester")
        rolled_back = publish(store, QUARTER, draws=DRAWS, by="tester", cutoff=first.record["cutoff"].isoformat())
        first_bytes_at_end = _revision_bytes(store, QUARTER, 1)
    return Story(path, first, same_again, first_bytes, first_rows, rated_at_cutoff, quarter_cases, loaded, second,
                 first_bytes_after, second_again, rolled_back, first_bytes_at_end)


def test_a_first_publication_records_the_quarter_rated_up_to_the_store_s_last_event(story: Story):
    first = story.first
    assert (first.revision, first.made) == (1, True)
    record = first.record
    assert record["published_by"] == "tester" and record["note"] == "quarter close"
    assert record["last_batch"] == 1 and record["cases"] == story.quarter_cases and record["events"] > record["cases"]
    assert len(record["data_fingerprint"]) == 64 and len(record["catalogue_fingerprint"]) == 64
    assert set(first.changes["why"]) == {"first publication"} and len(first.changes) == len(story.first_rows)
    # The cut-off is the store's last event, so the record equals the quarter rated on the store's own journeys.
    published = story.first_rows.drop(columns=["revision"])[story.rated_at_cutoff.columns]
    pd.testing.assert_frame_equal(published.sort_values("service").reset_index(drop=True),
                                  story.rated_at_cutoff.sort_values("service").reset_index(drop=True), check_dtype=False)


def test_publishing_the_same_data_and_model_again_is_a_no_op_that_says_so(story: Story):
    for again in (story.same_again, story.second_again):
        assert not again.made
        assert "nothing was published" in again.summary
    assert story.same_again.revision == 1 and story.same_again.record["published_by"] == "tester"
    assert story.second_again.revision == 2


def test_later_events_make_a_new_revision_and_leave_the_published_one_byte_for_byte_unchanged(story: Story):
    assert story.loaded > 0
    assert story.first_bytes == story.first_bytes_after == story.first_bytes_at_end
    second = story.second
    assert (second.revision, second.made) == (2, True)
    assert second.record["last_batch"] == 2 and second.record["cutoff"] > story.first.record["cutoff"]
    assert second.record["data_fingerprint"] != story.first.record["data_fingerprint"]
    changes = second.changes.set_index("service")
    assert set(TOUCHED) <= set(changes.index)
    for service in TOUCHED:
        change = changes.loc[service]
        assert change["why"].startswith("events changed")
        moved = {kpi for kpi, _, _ in change["kpis_moved"]}
        assert {"documents_asked_again", "first_time_right"} & moved
        assert change["score_delta"] == pytest.approx(change["score"] - change["score_before"])
    untouched = changes.drop(index=list(TOUCHED))
    assert not untouched["why"].str.contains("events changed").any()  # their events are the same: only the cut-off moved


def test_events_after_the_cut_off_are_not_used(story: Story):
    back = story.rolled_back
    assert (back.revision, back.made) == (3, True)
    assert back.record["data_fingerprint"] == story.first.record["data_fingerprint"]
    with Store(story.path, read_only=True) as store:
        third = published_ratings(store, QUARTER).drop(columns=["revision"])
        first = published_ratings(store, QUARTER, 1).drop(columns=["revision"])
        pd.testing.assert_frame_equal(third, first)
        assert published_ratings(store, QUARTER)["revision"].eq(3).all()
        assert revision_changes(store, QUARTER, 3).set_index("service").loc[list(TOUCHED), "why"].str.contains("events changed").all()


def test_publications_list_every_revision_and_the_batches_loaded_since(story: Story):
    with Store(story.path, read_only=True) as store:
        listed = publications(store)
        assert listed[["quarter", "revision"]].values.tolist() == [[QUARTER, 1], [QUARTER, 2], [QUARTER, 3]]
        assert listed["batches_since"].tolist() == [1, 0, 0]
        assert listed["note"].tolist() == ["quarter close", "late events", ""]
        pd.testing.assert_frame_equal(revision_changes(store, QUARTER, 2), story.second.changes)


def test_change_since_last_quarter_reads_the_previous_published_quarter(story: Story):
    with Store(story.path, read_only=True) as store:
        before = published_before(store, "2025Q4")
        assert before is not None and before["quarter"].eq(QUARTER).all() and before["revision"].eq(3).all()
        assert published_before(store, QUARTER) is None  # 2025Q2 was never published


@pytest.mark.parametrize(("cutoff", "says"), [("2099-01-01", "after the store's last event"), ("soon", "must be a time")])
def test_a_cut_off_after_the_last_event_or_not_a_time_is_refused(sample_journeys: Store, cutoff: str, says: str):
    with pytest.raises(InvalidParameterError, match=says) as refused:
        publish(sample_journeys, QUARTER, cutoff=cutoff, draws=0)
    assert refused.value.parameter == "cutoff" and "--" not in str(refused.value)


def test_an_unknown_revision_is_refused_naming_those_there_are(story: Story):
    with Store(story.path, read_only=True) as store, pytest.raises(InvalidParameterError, match="revisions are 1, 2, 3"):
        published_ratings(store, QUARTER, 7)


def test_a_version_3_store_gains_the_publication_tables(tmp_path: Path):
    path = tmp_path / "old.duckdb"
    frame = pd.DataFrame({"case_id": ["1", "1", "2"], "activity": ["Apply", "Pay", "Apply"],
                          "timestamp": ["2025-01-05 09:00", "2025-01-05 10:00", "2025-01-06 10:00"]})
    with Store(path) as store:
        store.ingest_frame(frame, service="s")
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
        con.execute("DROP TABLE publications")
        con.execute("DROP TABLE published_ratings")
        con.execute("ALTER TABLE rating_history DROP COLUMN last_batch")
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.has_table("publications") and store.has_table("published_ratings")
        assert set(TABLES["rating_history"]) == set(store.backend.table("rating_history").columns)
        done = publish(store, "2025Q1", draws=0, by="tester")
        assert done.revision == 1 and published_ratings(store, "2025Q1")["status"].tolist() == ["insufficient data"]


def test_each_rating_run_is_kept_beside_the_earlier_ones(built_sample: Path, tmp_path: Path):
    path = tmp_path / "history.duckdb"
    path.write_bytes(built_sample.read_bytes())
    with Store(path) as store:
        ratings = rate(store, quarters=["2025Q4"], draws=0)
        record_ratings(store, ratings)
        record_ratings(store, ratings.assign(score=ratings["score"] - 1))
        every = rating_history(store)
        latest = rating_history(store, latest=True)
    assert len(every) == 2 * len(ratings) and every["rated_at"].nunique() == 2 and every["last_batch"].eq(1).all()
    assert len(latest) == len(ratings)
    newest = latest.set_index("service")["score"]
    pd.testing.assert_series_equal(newest, ratings.set_index("service")["score"] - 1, check_names=False)


def test_the_command_line_publishes_and_lists_publications(built_sample: Path, tmp_path: Path):
    path = tmp_path / "cli.duckdb"
    path.write_bytes(built_sample.read_bytes())
    arguments = ["publish", "--quarter", QUARTER, "--store", str(path), "--draws", "0", "--by", "office", "--note", "close"]
    made = CliRunner().invoke(app, arguments)
    assert made.exit_code == 0, made.output
    assert f"published {QUARTER} revision 1" in made.output and "by office" in made.output
    again = CliRunner().invoke(app, arguments)
    assert again.exit_code == 0 and "already holds these ratings" in again.output
    listed = CliRunner().invoke(app, ["publications", "--store", str(path)])
    assert listed.exit_code == 0 and QUARTER in listed.output and "office" in listed.output
