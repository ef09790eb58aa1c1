"""The satisfaction KPIs read survey answers linked to journeys: a case's answers (mapped onto 1-5) in place of the
satisfaction its events carry, and the event column for the other cases; equal to a computation by hand in pandas."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from najma.journeys import ColumnMapping, Store, load_survey, open_source, quarter_of, quarter_zone
from najma.rating import kpi_table

SATISFACTION = ["satisfaction_mean", "satisfied_share", "response_rate"]
MIN_ANSWERS = 30


def _answers_for(journeys: pd.DataFrame, every: int) -> pd.DataFrame:
    """Answers on a scale of 0 to 10 for every `every`-th journey, by case id; some cases answer twice."""
    part = journeys.sort_values(["service", "case_id"]).iloc[::every].reset_index(drop=True)
    first = pd.DataFrame({"Ref": part.case_id, "When": part.end.map(lambda t: (t + pd.Timedelta(hours=5)).isoformat()),
                          "Rating": [i % 11 for i in range(len(part))]})
    second = first.iloc[::7].assign(Rating=lambda f: 10 - f.Rating)
    return pd.concat([first, second], ignore_index=True)


def _by_hand(journeys: pd.DataFrame, answers: pd.DataFrame, zone: str) -> pd.DataFrame:
    """Satisfaction per case (answers on 1-5 when the case has any, else its events'), then the KPIs per service and quarter."""
    on_scale = answers.assign(score=1 + answers.Rating / 10 * 4).groupby("Ref").score.mean()
    cases = journeys.assign(quarter=quarter_of(journeys.start, zone))
    cases["satisfaction"] = cases.case_id.map(on_scale).fillna(cases.satisfaction)
    rows = []
    for (service, quarter), group in cases.groupby(["service", "quarter"]):
        answered = group.satisfaction.dropna()
        enough = len(answered) >= MIN_ANSWERS
        rows.append({"service": service, "quarter": quarter,
                     "satisfaction_mean": answered.mean() if enough else np.nan,
                     "satisfied_share": (answered >= 4).mean() if enough else np.nan,
                     "response_rate": len(answered) / len(group)})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def surveyed(built_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("survey_kpis")
    path = Path(shutil.copy(built_sample, folder / "sample.duckdb"))
    with pytest.MonkeyPatch.context() as patch_env:
        patch_env.setenv("NAJMA_KEY_FILE", str(built_sample.with_suffix(".key")))
        patch_env.delenv("NAJMA_PSEUDONYM_KEY", raising=False)  # the key file is the sample's key
        with Store(path) as store:
            journeys = store.backend.table("journeys").select("service", "case_id", "start", "end", "satisfaction").to_pandas()
            answers = _answers_for(journeys, 6)
            answers.to_parquet(folder / "answers.parquet")
            result = load_survey(store, open_source(folder / "answers.parquet"), scale=(0, 10),
                                 mapping=ColumnMapping({"case": "Ref", "timestamp": "When", "satisfaction": "Rating"}))
            assert (result.read, result.loaded, result.quarantined) == (len(answers), len(answers), 0)
    return path, journeys, answers


def test_satisfaction_kpis_read_the_answers_as_computed_by_hand(surveyed, built_sample: Path):
    path, journeys, answers = surveyed
    with Store(path, read_only=True) as store:
        computed = kpi_table(store, min_answers=MIN_ANSWERS)
        zone = quarter_zone(store)
    expected = _by_hand(journeys, answers, zone)
    merged = computed.merge(expected, on=["service", "quarter"], suffixes=("", "_hand"))
    assert len(merged) == len(computed) == len(expected)
    for kpi in SATISFACTION:
        np.testing.assert_allclose(merged[kpi].to_numpy(float), merged[f"{kpi}_hand"].to_numpy(float), rtol=1e-9, err_msg=kpi)
    # The answers moved the numbers: the KPIs read without them differ, and no other KPI does.
    with Store(built_sample, read_only=True) as plain:
        without = kpi_table(plain, min_answers=MIN_ANSWERS)
    assert not np.allclose(without.response_rate.to_numpy(float), computed.response_rate.to_numpy(float))
    others = [c for c in computed.columns if c not in SATISFACTION]
    pd.testing.assert_frame_equal(computed[others], without[others])


def test_a_service_whose_events_carry_no_satisfaction_has_data_from_its_answers(store: Store, tmp_path: Path):
    starts = pd.date_range("2025-01-06 08:00", periods=40, freq="D", tz="UTC")
    events = pd.DataFrame({
        "case_id": [f"c{i}" for i in range(40) for _ in range(2)],
        "activity": ["Apply", "Issue"] * 40,
        "timestamp": [t + pd.Timedelta(hours=h) for t in starts for h in (0, 2)],
        "customer_id": [f"784-{i}" for i in range(40) for _ in range(2)],
    })
    store.ingest_frame(events, service="permit")
    before = kpi_table(store, min_answers=5)
    assert before[SATISFACTION].isna().all().all()  # no satisfaction column: no data, never 0
    # Answers by customer, an hour after the journey ended, for 30 of the 40 customers (scale 1-5).
    answers = pd.DataFrame({"customer_id": [f"784-{i}" for i in range(30)],
                            "answered_at": [(t + pd.Timedelta(hours=3)).isoformat() for t in starts[:30]],
                            "score": [1 + i % 5 for i in range(30)]})
    answers.to_csv(tmp_path / "answers.csv", index=False)
    load_survey(store, open_source(tmp_path / "answers.csv"))
    after = kpi_table(store, min_answers=5)
    cases = pd.DataFrame({"start": starts, "answer": answers.score.reindex(range(40)).to_numpy()})
    cases["quarter"] = quarter_of(cases.start, quarter_zone(store))
    for quarter, group in cases.groupby("quarter"):
        row = after[after.quarter == quarter].iloc[0]
        answered = group.answer.dropna()
        assert row.response_rate == pytest.approx(len(answered) / len(group))
        assert row.satisfaction_mean == pytest.approx(answered.mean())
        assert row.satisfied_share == pytest.approx((answered >= 4).mean())
