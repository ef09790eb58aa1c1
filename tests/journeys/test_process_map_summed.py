"""The map of a list of services, summed from the maps the build kept, equals the map worked out from the steps."""

from __future__ import annotations

import pandas as pd
import pytest

from najma.journeys import CaseFilter, Store, process_map
from najma.journeys._process_map import _kept_map


@pytest.mark.parametrize("services", [["passport"], ["passport", "trade_licence"], ["trade_licence", "nowhere"]])
@pytest.mark.parametrize(("quarter", "tz", "summed"), [(None, None, True), ("2025Q1", None, True),
                                                       ("2025Q2", "Asia/Dubai", True), ("2025Q1", "UTC", False)])
def test_a_list_of_services_sums_their_kept_maps_to_the_map_of_their_steps(
    sample_journeys: Store, services: list[str], quarter: str | None, tz: str | None, summed: bool,
) -> None:
    """Counts and cases per edge are summed from each service's kept rows, times are worked out from the steps;
    a quarter in a zone the build did not keep is worked out. A criterion that keeps every case (a duration of
    0 s or more) makes the same question be worked out from the steps alone."""
    where = CaseFilter(service=services, quarter=quarter, tz=tz)
    assert (_kept_map(sample_journeys, where) is not None) == summed
    read = process_map(sample_journeys, where)
    worked_out = process_map(sample_journeys, CaseFilter(service=services, quarter=quarter, tz=tz, min_seconds=0))
    assert len(read.edges) > 5
    pd.testing.assert_frame_equal(read.edges, worked_out.edges, check_exact=True)
    pd.testing.assert_frame_equal(read.activities, worked_out.activities, check_exact=True)
    assert (read.start_activities, read.end_activities) == (worked_out.start_activities, worked_out.end_activities)
