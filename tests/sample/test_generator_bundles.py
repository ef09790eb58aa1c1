"""The generator's life events: the newborn bundle by default (the committed sample, unchanged), others when planted."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from najma.errors import InvalidParameterError
from najma.sample import SAMPLE_EVENTS, SAMPLE_TRUTH, generate
from najma.sample._generator import LIFE_EVENT_SHARE
from najma.sample._services import LIFE_EVENTS, SERVICES, Service, Step

PLANTED = {
    "move": ("residence_visa_renewal", "driving_licence_renewal"),
    "family": ("birth_certificate", "national_id", "passport", "health_insurance"),
}
N_CASES = 6000


@pytest.fixture(scope="module")
def planted():
    return generate(N_CASES, seed=3, life_events=PLANTED)


def _journeys(sample) -> pd.DataFrame:
    """Per life-event case: its instance, bundle name, service, customer and first event's time."""
    events = sample.events.select(["case_id", "timestamp", "customer_id"]).to_pandas()
    cases = events.groupby("case_id").agg(start=("timestamp", "min"), customer=("customer_id", "first"))
    truth = sample.truth[sample.truth["life_event"].notna()].set_index("case_id")
    return truth[["life_event", "service", "proactive"]].join(cases).assign(
        bundle=lambda frame: frame["life_event"].str.rsplit("-", n=1).str[0])


def test_the_default_generation_is_the_committed_sample():
    sample = generate()
    assert sample.events.equals(pq.read_table(SAMPLE_EVENTS))
    truth = pa.Table.from_pandas(sample.truth, preserve_index=False)
    assert truth.cast(pq.read_schema(SAMPLE_TRUTH)).equals(pq.read_table(SAMPLE_TRUTH))
    assert sample.bundles == {"newborn": LIFE_EVENTS["newborn"]}


def test_planting_the_newborn_bundle_by_name_is_the_default():
    default = generate(1500, seed=5)
    named = generate(1500, seed=5, life_events={"newborn": list(LIFE_EVENTS["newborn"])})
    assert named.events.equals(default.events)
    pd.testing.assert_frame_equal(named.truth, default.truth)
    assert named.bundles == default.bundles


def test_planted_bundles_are_the_ground_truth_and_no_newborn_is_left(planted):
    assert planted.bundles == PLANTED
    journeys = _journeys(planted)
    assert set(journeys["bundle"]) == set(PLANTED)
    assert "birth_notification" not in set(planted.truth["service"])


def test_each_bundle_gets_an_equal_share_of_the_life_event_cases(planted):
    cases = _journeys(planted).groupby("bundle").size()
    for name, services in PLANTED.items():
        expected = int(N_CASES * LIFE_EVENT_SHARE / len(PLANTED)) // len(services) * len(services)
        assert expected - len(services) * 5 <= cases[name] <= expected, name  # a few cut by the end of the period


def test_an_instance_is_one_customer_taking_its_services_in_order_days_apart(planted):
    journeys = _journeys(planted).sort_values(["life_event", "start"])
    instances = journeys.groupby("life_event")
    assert (instances["customer"].nunique() == 1).all()
    assert journeys["customer"].groupby(journeys["life_event"]).first().is_unique
    taken = instances["service"].agg(tuple)
    bundle = instances["bundle"].first()
    assert all(services == PLANTED[name][:len(services)] for services, name in zip(taken, bundle, strict=True))
    complete = taken.str.len() == bundle.map(lambda name: len(PLANTED[name]))
    assert complete.mean() > 0.95
    gaps = instances["start"].diff().dropna()
    assert (gaps > pd.Timedelta(0)).all()
    assert pd.Timedelta(days=3) < gaps.median() < pd.Timedelta(days=8)


def test_proactive_starts_only_where_a_service_has_a_proactive_start_step(planted):
    journeys = _journeys(planted)
    able = {s.key for s in SERVICES if any("proactive_start" in step.roles for step in s.steps)}
    proactive = journeys.groupby("service")["proactive"].mean()
    assert (proactive[list(set(proactive.index) - able)] == 0).all()
    assert (proactive[["birth_certificate", "national_id", "passport", "health_insurance"]] > 0.15).all()
    single = planted.truth[planted.truth["life_event"].isna()]
    assert not single["proactive"].any()


def test_planting_no_bundle_leaves_every_case_single():
    sample = generate(800, seed=2, life_events={})
    assert sample.bundles == {}
    assert sample.truth["life_event"].isna().all()
    assert len(sample.truth) <= 800


@pytest.mark.parametrize(("life_events", "problem"), [
    ({"x": ("passport", "moon_landing")}, r"unknown services \['moon_landing'\] in bundle 'x'"),
    ({"x": ("passport",)}, r"bundle 'x' at least two services"),
    ({"x": ()}, r"bundle 'x' at least two services"),
    ({"x": ("passport", "trade_licence"), "y": ("trade_licence", "building_permit")},
     r"service 'trade_licence' in bundle 'x' and again in bundle 'y'"),
    ({"x": ("passport", "passport")}, r"service 'passport' in bundle 'x' and again in bundle 'x'"),
    ({"x": "passport"}, r"bundle 'x' a sequence of service keys"),
    ({"": ("passport", "national_id")}, r"name each bundle with a non-empty string"),
    ([("passport", "national_id")], r"must map a name to service keys"),
])
def test_a_bad_bundle_is_refused_naming_the_parameter(life_events, problem):
    with pytest.raises(InvalidParameterError, match=r"'life_events' parameter of generate .*" + problem) as caught:
        generate(100, life_events=life_events)
    assert caught.value.parameter == "life_events"


def test_a_service_cannot_start_proactively_without_a_proactive_start_step():
    with pytest.raises(ValueError, match="'lone' has a p_proactive but a journey without a proactive start step"):
        Service("lone", "Lone", "وحيد", "Municipality", 10, (Step("Submit application", "customer", 0),), p_proactive=0.2)
