"""Ratings of the sample services: complete, moved by the redesign, blind to row order and reloads."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from najma.journeys import AutomateActivity, RemoveActivity, Store, build_journeys, load_catalogue, open_source, register_catalogue
from najma.rating import RATED, default_config, kpi_table, rate, rating_history, record_ratings, star_columns, what_if
from najma.sample import SAMPLE_CATALOGUE, SAMPLE_EVENTS
from najma.sample._services import REDESIGN_DATE, SERVICES

RATING_COLUMNS = ["service", "quarter", "cases", "status", "stars", "score", *star_columns(default_config())]


@pytest.fixture(scope="module")
def sample_ratings(built_sample: Path) -> pd.DataFrame:
    with Store(built_sample, read_only=True) as store:
        return rate(store)


def test_every_sample_service_is_rated_in_every_quarter(sample_ratings: pd.DataFrame):
    assert set(sample_ratings["service"]) == {s.key for s in SERVICES}
    assert sample_ratings.groupby("service")["quarter"].nunique().eq(8).all()
    assert (sample_ratings["status"] == RATED).all()
    assert sample_ratings["stars"].between(2, 7).all()
    assert sample_ratings["stars"].nunique() >= 4  # the model tells the services apart
    probabilities = sample_ratings[star_columns(default_config())]
    assert probabilities.sum(axis=1).round(9).eq(1).all()


def test_the_redesigned_service_gains_at_least_one_star_after_its_redesign(sample_ratings: pd.DataFrame):
    trade = sample_ratings[sample_ratings["service"] == "trade_licence"]
    redesign = pd.Timestamp(REDESIGN_DATE)
    before = trade[trade["quarter"] < f"{redesign.year}Q1"]["stars"]
    after = trade[trade["quarter"] >= f"{redesign.year}Q1"]["stars"]
    assert len(before) == len(after) == 4
    assert after.min() >= before.max() + 1


def _store_of(path: Path, frames: list[pd.DataFrame]) -> Path:
    with Store(path) as store:
        for index, frame in enumerate(frames):
            file = path.with_name(f"{path.stem}-{index}.parquet")
            frame.to_parquet(file)
            store.ingest(open_source(file), tz="Asia/Dubai")
        register_catalogue(store, load_catalogue(SAMPLE_CATALOGUE))
        build_journeys(store)
    return path


def test_ratings_do_not_change_when_rows_are_shuffled_or_a_file_is_loaded_twice(sample_ratings, tmp_path: Path):
    events = pq.read_table(SAMPLE_EVENTS).to_pandas()
    # One store: the rows shuffled, then the same events in their own order (matched as already loaded), then that
    # file again (the same bytes). One build, so one rating, checks the three.
    shuffled = events.sample(frac=1, random_state=11).reset_index(drop=True)
    with Store(_store_of(tmp_path / "shuffled.duckdb", [shuffled, events, events]), read_only=True) as store:
        assert store.n_rows("events") == len(events)
        again = rate(store)
    pd.testing.assert_frame_equal(again[RATING_COLUMNS], sample_ratings[RATING_COLUMNS])


def test_what_if_rates_the_projection_beside_today(sample_journeys: Store):
    unchanged = what_if(sample_journeys, "trade_licence", [], quarter="2024Q4", draws=0)
    today, projected = unchanged.iloc[0], unchanged.iloc[1]
    assert (today.scenario, projected.scenario) == ("today", "redesign")
    assert today.stars == projected.stars and today.score == pytest.approx(projected.score)
    redesign = [RemoveActivity("Visit service centre"), AutomateActivity("Initial approval")]
    changed = what_if(sample_journeys, "trade_licence", redesign, quarter="2024Q4", draws=0)
    today, projected = changed.iloc[0], changed.iloc[1]
    assert today.visits > 1 and projected.visits < today.visits
    assert projected.median_customer_steps < today.median_customer_steps
    assert projected.score > today.score and projected.stars >= today.stars


def test_rating_history_keeps_every_run_and_the_latest_per_service_quarter_and_model(built_sample: Path, tmp_path: Path):
    copy = tmp_path / "history.duckdb"
    copy.write_bytes(built_sample.read_bytes())
    with Store(copy) as store:
        ratings = rate(store, quarters=["2025Q4"], draws=0)
        record_ratings(store, ratings)
        record_ratings(store, ratings)
        assert len(rating_history(store)) == 2 * len(SERVICES)  # a run never overwrites another
        assert len(rating_history(store, latest=True)) == len(SERVICES)
        newer = replace(default_config(), version="2027.1")
        record_ratings(store, rate(store, quarters=["2025Q4"], config=newer, draws=0))
        history = rating_history(store, service="passport", latest=True)
    assert history["model_version"].tolist() == ["2026.2", "2027.1"]
    assert history["stars"].iloc[0] == ratings.set_index("service").loc["passport", "stars"]


def test_kpis_split_by_channel_or_agency_add_up_to_the_service(sample_journeys: Store):
    whole = kpi_table(sample_journeys, quarters=["2025Q3"]).set_index("service")["cases"]
    for by, column in (("channel", "channel"), ("agency", "first_agency")):
        split = kpi_table(sample_journeys, quarters=["2025Q3"], by=by)
        assert column in split
        pd.testing.assert_series_equal(split.groupby("service")["cases"].sum(), whole, check_names=False)
    rated = rate(sample_journeys, quarters=["2025Q3"], by="channel", draws=20)
    assert "mixed" in set(rated["channel"])  # cases served on more than one channel
    assert set(rated["status"]) <= {"rated", "insufficient data", "insufficient evidence"}
    assert (rated.loc[rated["cases"] < default_config().min_cases, "status"] == "insufficient data").all()
    done = rated[rated["status"] == "rated"]
    assert len(done) and done[star_columns(default_config())].sum(axis=1).round(9).eq(1).all()
