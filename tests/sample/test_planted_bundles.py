"""Discovery on a second population, with another bundle than the newborn's planted: it is not tuned to one sample.

The planted bundle is a passport, then health insurance, then a driving licence renewal, for one
customer each, a few days apart (the generator's rule). Its first two services have no cases
outside it, the third has many (the sample's driving licence renewals), so a trigger's regularity
is its own and a follower's customers are mostly not the bundle's. The ground truth of bundle
discovery is :attr:`Sample.bundles`; that of proactive discovery is each service's immediate
predecessor in its bundle. Services that take longer than the gap between starts (a residence visa,
a trade licence) would not do for the second: their followers mostly start before they end, so
their completion cannot be the trigger (see :mod:`najma.journeys._proactive`).
"""

from __future__ import annotations

from itertools import combinations, pairwise
from pathlib import Path

import pytest

from najma.journeys import Store, discover_bundles, discover_proactive, load_catalogue, register_catalogue
from najma.sample import SAMPLE_CATALOGUE, SAMPLE_TZ, generate

PLANTED = {"travel_ready": ("passport", "health_insurance", "driving_licence_renewal")}


@pytest.fixture(scope="module")
def planted():
    return generate(4000, seed=21, life_events=PLANTED)


@pytest.fixture(scope="module")
def planted_store(planted, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the planted population, described by the sample's catalogue, its journeys built."""
    path = tmp_path_factory.mktemp("planted") / "planted.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAJMA_KEY_FILE", str(path.with_suffix(".key")))
        with Store(path) as store, store.transaction():
            register_catalogue(store, load_catalogue(SAMPLE_CATALOGUE))
            store.ingest_frame(planted.events.to_pandas(), name="planted", tz=SAMPLE_TZ)
    return path


@pytest.fixture(scope="module")
def found(planted_store: Path):
    with Store(planted_store, read_only=True) as store:
        return discover_bundles(store), discover_proactive(store)


def _precision_recall(found: set, truth: set, what: str) -> tuple[float, float]:
    hits = len(found & truth)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(truth)
    print(f"{what}: found {sorted(found)}, planted {sorted(truth)}: precision {precision:.2f}, recall {recall:.2f}")
    return precision, recall


def test_the_planted_bundle_is_found_at_rank_one_and_nothing_else(planted, found):
    bundles, _ = found
    table = bundles.table
    assert planted.bundles == PLANTED
    assert list(table["services"]) == [PLANTED["travel_ready"]]  # no spurious bundle above the support threshold
    best = table.iloc[0]
    assert best["rank"] == 1 and best["support"] >= bundles.min_support
    assert best["life_event"] is None  # the sample's catalogue names the newborn only
    found_pairs = {frozenset(pair) for services in table["services"] for pair in combinations(services, 2)}
    truth = {frozenset(pair) for services in planted.bundles.values() for pair in combinations(services, 2)}
    assert _precision_recall(found_pairs, truth, "bundle pairs") == (1.0, 1.0)


def test_the_bundle_counts_the_planted_customers(planted, found):
    bundles, _ = found
    best = bundles.table.iloc[0]
    truth = planted.truth[planted.truth["life_event"].notna()]
    whole = truth.groupby("life_event")["service"].nunique() == len(PLANTED["travel_ready"])
    assert best["customers"] == best["episodes"] == whole.sum()
    assert best["order_share"] > 0.95


def test_the_immediate_triggers_of_the_planted_bundle_are_found(planted, found):
    _, proactive = found
    table = proactive.table
    found_pairs = set(zip(table["trigger"], table["follower"], strict=True))
    truth = {pair for services in planted.bundles.values() for pair in pairwise(services)}
    precision, recall = _precision_recall(found_pairs, truth, "proactive pairs")
    assert (precision, recall) == (1.0, 1.0)
    assert (table["share"] >= proactive.min_share).all()
    assert (table["lag_days_median"] >= 0).all()
    started = table.set_index("follower")["already_proactive"]
    assert started["health_insurance"] > 0.2 and started["driving_licence_renewal"] == 0  # a step it does not have
