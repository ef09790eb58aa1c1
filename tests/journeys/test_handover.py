"""Hand-over of work: the matrix equals an independent pandas computation (the sample, real logs) and pm4py's
handover network where the definitions agree; hand-made cases pin ties, one-event cases and missing values."""

from __future__ import annotations

import pandas as pd
import pm4py
import pytest

from najma.errors import InvalidParameterError
from najma.journeys import CaseFilter, Store, build_journeys, handover_matrix, handover_network, handovers, journey_table
from najma.journeys._handover import HANDOVER_COLUMNS, HANDOVER_EPISODE_DAYS

T0 = pd.Timestamp("2025-02-02 08:00", tz="UTC")


def _events(store: Store, where: CaseFilter | None = None) -> pd.DataFrame:
    """The events of the cases that pass `where`, with their journey's customer and start (read by pandas)."""
    cases = journey_table(store, where).select("case_key", "customer_id", "start").to_pandas()
    events = store.backend.table("events").select(
        "case_key", "event_seq", "timestamp", "service", "agency", "resource").to_pandas()
    return events.merge(cases, on="case_key")


def _episodes(events: pd.DataFrame, window_days: int) -> pd.Series:
    """Each event's run of its customer's cases: cases by start (then service, case key), a new run after a gap of
    more than `window_days` from the case before."""
    cases = events.drop_duplicates("case_key").sort_values(["customer_id", "start", "service", "case_key"])
    gap = cases.groupby("customer_id")["start"].diff().dt.total_seconds() / 86400
    run = (gap.isna() | (gap > window_days)).groupby(cases["customer_id"]).cumsum()
    runs = dict(zip(cases["case_key"], cases["customer_id"] + ":" + run.astype(str), strict=True))
    return events["case_key"].map(runs)


def _oracle(events: pd.DataFrame, by: str, trace: str = "case_key") -> pd.DataFrame:
    """The hand-overs computed on their own: each trace's events by time then event_seq, next value, kept when
    both are known and differ."""
    ordered = events.sort_values([trace, "timestamp", "event_seq"], kind="stable")
    after = ordered.groupby(trace)[[by, "timestamp"]].shift(-1)
    handed = ordered[by].notna() & after[by].notna() & (ordered[by] != after[by])
    rows = pd.DataFrame({
        "source": ordered.loc[handed, by], "target": after.loc[handed, by], "trace": ordered.loc[handed, trace],
        "customer": ordered.loc[handed, "customer_id"],
        "seconds": (after.loc[handed, "timestamp"] - ordered.loc[handed, "timestamp"]).dt.total_seconds(),
    })
    found = rows.groupby(["source", "target"]).agg(
        handovers=("trace", "size"), cases=("trace", "nunique"), customers=("customer", "nunique"),
        median_seconds=("seconds", "median")).reset_index()
    return found


def _pm4py_counts(log: pd.DataFrame, case: str, key: str) -> dict[tuple[str, str], int]:
    """pm4py's handover network (beta 0) of `log` (in case order, ties in our event_seq order) as counts of
    pairs of two different `key` values: pm4py divides each count by every succession of the log, the same
    value twice included, so the shares times that number are the counts."""
    network = pm4py.discover_handover_of_work_network(log, beta=0, resource_key=key, case_id_key=case)
    successions = len(log) - log[case].nunique()
    return {pair: round(share * successions) for pair, share in network.connections.items() if pair[0] != pair[1]}


def _as_counts(ours: pd.DataFrame) -> dict[tuple[str, str], int]:
    return dict(zip(zip(ours["source"], ours["target"], strict=True), ours["handovers"], strict=True))


def _same(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    assert list(ours.columns) == list(HANDOVER_COLUMNS)
    key = ["source", "target"]
    left = ours.astype({"source": object, "target": object}).sort_values(key).reset_index(drop=True)
    right = theirs.sort_values(key).reset_index(drop=True)[list(HANDOVER_COLUMNS)]
    pd.testing.assert_frame_equal(left, right, check_dtype=False)


@pytest.mark.parametrize("by", ["agency", "resource"])
def test_sample_matrix_equals_pandas(sample_journeys: Store, by: str):
    ours = handovers(sample_journeys, by)
    assert len(ours) > 3
    _same(ours, _oracle(_events(sample_journeys), by))


def test_sample_agency_matrix_sums_to_the_journeys_hand_offs_and_equals_pm4py(sample_journeys: Store):
    ours = handovers(sample_journeys, "agency")
    counted = journey_table(sample_journeys).agency_handoffs.sum().execute()
    assert ours["handovers"].sum() == counted > 0
    events = _events(sample_journeys).sort_values(["case_key", "timestamp", "event_seq"])
    log = events.rename(columns={"timestamp": "time:timestamp"}).astype({"case_key": str})
    assert _as_counts(ours) == _pm4py_counts(log, "case_key", "agency")


def test_sample_services_are_handed_over_within_a_customers_linked_cases(sample_journeys: Store):
    events = _events(sample_journeys)
    events["run"] = _episodes(events, HANDOVER_EPISODE_DAYS)
    ours = handovers(sample_journeys, "service")
    assert len(ours) > 3
    _same(ours, _oracle(events, "service", "run"))
    shorter = handovers(sample_journeys, "service", window_days=7)
    events["run"] = _episodes(events, 7)
    _same(shorter, _oracle(events, "service", "run"))
    assert shorter["handovers"].sum() < ours["handovers"].sum()


def test_filtered_like_every_view(sample_journeys: Store):
    where = CaseFilter(quarter="2025Q2", channel="smart app", present=["Pay fees"])
    ours = handovers(sample_journeys, "agency", where)
    whole = handovers(sample_journeys, "agency")
    assert 0 < ours["handovers"].sum() < whole["handovers"].sum()
    _same(ours, _oracle(_events(sample_journeys, where.in_zone_of(sample_journeys)), "agency"))


@pytest.fixture(scope="module")
def receipt(tmp_path_factory: pytest.TempPathFactory, real) -> Store:
    from najma.journeys import open_source

    with Store(tmp_path_factory.mktemp("receipt") / "r.duckdb") as store:
        store.ingest(open_source(real / "receipt.xes.gz"))
        yield store


def test_receipt_resources_equal_pandas_and_pm4pys_handover_network(receipt: Store, real):
    ours = handovers(receipt, "resource")
    _same(ours, _oracle(_events(receipt), "resource"))
    log = pm4py.read_xes(str(real / "receipt.xes.gz"), return_legacy_log_object=False)
    log = log.sort_values(["case:concept:name", "time:timestamp"], kind="stable")  # ties in file order: our event_seq
    assert _as_counts(ours) == _pm4py_counts(log, "case:concept:name", "org:resource")
    # the same resource twice, which pm4py counts and we do not, is the rest of its successions
    network = pm4py.discover_handover_of_work_network(log, beta=0)
    successions = len(log) - log["case:concept:name"].nunique()
    assert round(sum(s for (a, b), s in network.connections.items() if a == b) * successions) == \
        successions - ours["handovers"].sum() > 0


def test_road_traffic_missing_resources_are_no_hand_over(store: Store, real):
    from najma.journeys import open_source

    store.ingest(open_source(real / "roadtraffic100traces.xes"))
    events = _events(store)
    assert events["resource"].isna().sum() == 290
    ours = handovers(store, "resource")
    _same(ours, _oracle(events, "resource"))


def _frame(rows: list[tuple[str, int, str | None, str | None]], service: str = "permit", customer: str = "c1") -> list[dict]:
    return [{"case_id": case, "service": service, "customer_id": customer, "activity": f"step {i}",
             "timestamp": T0 + pd.Timedelta(minutes=minutes), "agency": agency, "resource": resource}
            for i, (case, minutes, agency, resource) in enumerate(rows)]


def test_hand_made_ties_one_event_cases_and_missing_agencies(store: Store):
    rows = _frame([
        # a tie at minute 10: C was loaded before B, so C comes first whatever the time sort meets first
        ("tie", 10, "C", "r3"), ("tie", 0, "A", "r1"), ("tie", 10, "B", "r2"),
        ("one", 5, "A", "r1"),  # one event: nothing handed over
        ("gap", 0, "A", "r1"), ("gap", 30, None, None), ("gap", 60, "B", "r2"),  # unknown in between: no A -> B
        ("back", 0, "A", "r1"), ("back", 90, "B", "r1"), ("back", 100, "A", "r2"), ("back", 200, "A", "r2"),
    ])
    store.ingest_frame(pd.DataFrame(rows))
    agencies = handovers(store, "agency")
    assert agencies[["source", "target", "handovers", "cases", "median_seconds"]].values.tolist() == [
        ["A", "B", 1, 1, 5400.0], ["A", "C", 1, 1, 600.0], ["B", "A", 1, 1, 600.0], ["C", "B", 1, 1, 0.0]]
    resources = handovers(store, "resource")
    assert resources[["source", "target", "handovers"]].values.tolist() == [
        ["r1", "r2", 1], ["r1", "r3", 1], ["r3", "r2", 1]]
    assert handovers(store, "service").empty  # one service: nothing handed over between services
    matrix = handover_matrix(agencies)
    assert matrix.loc["A", "B"] == 1 and matrix.loc["B", "C"] == 0 and list(matrix.columns) == ["A", "B", "C"]
    assert pd.isna(handover_matrix(agencies, "median_seconds").loc["B", "C"])


def test_hand_made_services_link_a_customers_cases_within_the_window(store: Store):
    rows = [
        *_frame([("p1", 0, "X", "r"), ("p1", 60, "X", "r")], service="passport", customer="c1"),
        *_frame([("i1", 30, "Y", "r"), ("i1", 24 * 60, "Y", "r")], service="id", customer="c1"),  # interleaved
        *_frame([("p3", 100 * 24 * 60, "X", "r")], service="passport", customer="c1"),  # a run of its own
        *_frame([("p2", 0, "X", "r")], service="passport", customer="c2"),
    ]
    store.ingest_frame(pd.DataFrame(rows))
    build_journeys(store)
    services = handovers(store, "service")
    # c1's run: passport 0', id 30', passport 60', id 1440'; each change of service is one hand-over
    assert services[["source", "target", "handovers", "cases", "customers", "median_seconds"]].values.tolist() == [
        ["passport", "id", 2, 1, 1, (30 + 1380) * 60 / 2], ["id", "passport", 1, 1, 1, 1800.0]]
    longer = handovers(store, "service", window_days=200)  # p3 joins the run: id -> passport once more
    assert longer.set_index(["source", "target"])["handovers"].to_dict() == {("passport", "id"): 2, ("id", "passport"): 2}
    assert handovers(store, "service", CaseFilter(service="passport")).empty


def test_network_has_the_pairs_as_edges_and_no_start_or_end():
    pairs = pd.DataFrame({"source": ["A", "B"], "target": ["B", "C"], "handovers": [4, 1], "cases": [3, 1],
                          "customers": [3, 1], "median_seconds": [60.0, 30.0]})
    network = handover_network(pairs)
    assert network.activities.set_index("activity")["frequency"].to_dict() == {"B": 5, "A": 4, "C": 1}
    assert network.dfg == {("A", "B"): 4, ("B", "C"): 1}
    assert network.start_activities == network.end_activities == {}


@pytest.mark.parametrize(("by", "window", "parameter"), [("case", HANDOVER_EPISODE_DAYS, "by"), ("agency", 0, "window_days"),
                                                          ("agency", 1.5, "window_days")])
def test_bad_parameters_are_named(sample_journeys: Store, by: str, window: object, parameter: str):
    with pytest.raises(InvalidParameterError) as raised:
        handovers(sample_journeys, by, window_days=window)
    assert raised.value.parameter == parameter
