"""The dashboard's quick projection gives the rows of the slow one: today's rating from the features the
dashboard holds, the projected journeys read once before their features."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from najma.dashboards._data import DashboardData
from najma.journeys import CaseFilter, MergeActivities, RemoveActivity, Store, project_journeys
from najma.journeys._redesign import Transform
from najma.rating import what_if
from najma.rating._kpis import case_features
from najma.rating._ratings import rate_features
from tests.dashboards.conftest import DRAWS  # the shared data's bootstrap, so that its draws are compared too

PLANS = {
    "remove": (RemoveActivity("Visit service centre"),),
    "remove and merge": (RemoveActivity("Visit service centre"),
                         MergeActivities(["Submit application", "Upload documents"], "Apply online")),
}


def _slow(store: Store, service: str, plan: tuple[Transform, ...], quarter: str, data: DashboardData) -> pd.DataFrame:
    """The projection as it was first written: every feature read from the store, the projected journeys
    inlined in the features' query."""
    def rated(features: pd.DataFrame) -> pd.DataFrame:
        return rate_features(features[features["quarter"] == quarter], config=data.config, draws=DRAWS)

    satisfied_at = data.config.satisfied_at
    today = rated(case_features(store, where=CaseFilter(service=service), satisfied_at=satisfied_at))
    projected = rated(case_features(store, satisfied_at=satisfied_at, journeys=project_journeys(store, service, plan)))
    table = pd.concat([today.assign(scenario="today"), projected.assign(scenario="redesign")], ignore_index=True)
    return table[["scenario", *[c for c in table.columns if c != "scenario"]]]


@pytest.mark.parametrize("name", PLANS)
def test_the_quick_projection_equals_the_slow_one(drawn_data: DashboardData, built_sample: Path, name: str) -> None:
    data = drawn_data
    quarter = data.quarters[0]
    quick = data.redesign("passport", PLANS[name], quarter)
    with Store(built_sample, read_only=True) as store:
        slow = _slow(store, "passport", PLANS[name], quarter, data)
        from_the_store = what_if(store, "passport", list(PLANS[name]), quarter=quarter, config=data.config, draws=DRAWS)
    assert quick.loc[1, "stars"] != quick.loc[0, "stars"] or name != "remove"  # the plan moves the stars
    pd.testing.assert_frame_equal(quick, slow)
    pd.testing.assert_frame_equal(quick, from_the_store)  # what_if without the dashboard's features
