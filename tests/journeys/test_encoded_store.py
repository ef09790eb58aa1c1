"""The store's codes change how fast a build runs, never what it builds.

A store built on its codes (an integer key per case, dictionary codes of the text it compares) gives
the same steps and journeys as the same events put in order on their text, the way every build ran
before the codes: on the sample and on every real log. The codes decode to the events' text, a later
load never renumbers them, and a store of version 4 is coded when it is brought up to date.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from najma.journeys import JourneyPipeline, Store, build_journeys, open_source, parse_mapping
from najma.journeys._codes import CODE_COLUMNS, CODE_TABLES, CODED
from najma.journeys._pipeline import STEPS_KEPT
from najma.journeys._store_schema import SCHEMA_VERSION

STEP_ORDER = ["service", "case_id", "event_seq"]
REAL_LOGS = [
    ("receipt.xes.gz", {}, None),
    ("roadtraffic100traces.xes", {}, None),
    ("running-example.xes", {}, None),
    ("BPI2016_Clicks_NOT_Logged_In_sample1000.csv", {"sep": ";"}, "case=SessionID,activity=PAGE_NAME,timestamp=TIMESTAMP"),
]


def _by_text(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The steps and journeys of the store's events put in order on their text (no codes), as every build ran before."""
    backend = store.backend
    events = backend.table("events").drop(*CODE_COLUMNS)
    pipeline = dataclasses.replace(JourneyPipeline.of(store), codes=None)
    as_of = events.timestamp.max().to_pyarrow().as_py()
    # Written as the build writes its tables (read back, not as Ibis would type the expression).
    store.replace_table("_text_steps", pipeline.steps(events), temporary=True)
    steps = backend.table("_text_steps")
    store.replace_table("_text_journeys", pipeline.outcome(pipeline.journeys(steps), as_of, None), temporary=True)
    return steps.select(*STEPS_KEPT).to_pandas(), backend.table("_text_journeys").to_pandas()


def _same_but_keys(ours: pd.DataFrame, theirs: pd.DataFrame, order: list[str], keys: pd.Series) -> None:
    """`ours` equals `theirs` row for row (both sorted by `order`), their case keys matched through `keys`."""
    ours = ours.sort_values(order).reset_index(drop=True)
    theirs = theirs[ours.columns].sort_values(order).reset_index(drop=True)
    assert ours.case_key.map(keys).tolist() == theirs.case_key.tolist()
    pd.testing.assert_frame_equal(ours.drop(columns="case_key").convert_dtypes(), theirs.drop(columns="case_key").convert_dtypes(),
                                  check_dtype=False)


def _assert_built_as_by_text(store: Store) -> None:
    steps, journeys = (store.backend.table(name).to_pandas() for name in ("steps", "journeys"))
    text_steps, text_journeys = _by_text(store)
    assert len(steps) == store.n_rows("events") and len(journeys) > 0
    # A case's key by text is the event_seq of its first event; the store's is its code: one to one.
    case = ["service", "case_id"]
    pairs = steps[[*case, "case_key"]].drop_duplicates().merge(text_steps[[*case, "case_key"]].drop_duplicates(), on=case)
    assert len(pairs) == journeys.shape[0] and pairs.case_key_x.is_unique and pairs.case_key_y.is_unique
    keys = pairs.set_index("case_key_x").case_key_y
    _same_but_keys(steps, text_steps, STEP_ORDER, keys)
    _same_but_keys(journeys.drop(columns="working_seconds"), text_journeys.drop(columns="working_seconds"),
                   ["service", "case_id"], keys)


def test_the_sample_builds_the_same_on_its_codes(sample_journeys: Store):
    _assert_built_as_by_text(sample_journeys)


@pytest.mark.parametrize(("name", "options", "mapping"), REAL_LOGS, ids=[log[0] for log in REAL_LOGS])
def test_every_real_log_builds_the_same_on_its_codes(real: Path, store: Store, name: str, options: dict, mapping: str | None):
    store.ingest(open_source(real / name, **options), mapping=parse_mapping(mapping) if mapping else None)
    _assert_built_as_by_text(store)


def _decoded(store: Store) -> pd.DataFrame:
    """Every event's coded text and its codes decoded through the store's tables."""
    labels = store.backend.table("labels").to_pandas()
    events = store.backend.table("events").to_pandas()
    cases = store.backend.table("case_keys").to_pandas().set_index("case_key")
    for column, code in CODED.items():
        names = labels[labels.kind == column].set_index("code").label
        events[f"{column}_decoded"] = events[code].map(names)
    events["service_decoded"] = events.case_key.map(cases.service)
    events["case_id_decoded"] = events.case_key.map(cases.case_id)
    return events


def _assert_decoded(events: pd.DataFrame) -> None:
    """Each coded column of `events` equals its codes decoded (missing where its text is missing)."""
    for column in [*CODED, "service", "case_id"]:
        decoded, text = (events[name].astype(object).where(events[name].notna(), None) for name in (f"{column}_decoded", column))
        assert decoded.tolist() == text.tolist(), column


def test_the_codes_decode_to_the_text_and_a_later_load_keeps_them(store: Store, tmp_path: Path):
    first = pd.DataFrame({"case_id": ["a", "a", "b"], "activity": ["Apply", "Pay", "Apply"],
                          "customer_id": ["c1", "c1", None], "channel": ["web", None, "web"],
                          "timestamp": ["2025-01-05 09:00", "2025-01-05 10:00", "2025-01-06 09:00"]})
    store.ingest_frame(first, service="permit")
    before = _decoded(store)
    later = pd.DataFrame({"case_id": ["b", "c"], "activity": ["Appeal", "Apply"], "customer_id": ["c2", "c1"],
                          "channel": ["centre", "web"], "timestamp": ["2025-01-07 09:00", "2025-01-07 10:00"]})
    store.ingest_frame(later, service="permit")
    after = _decoded(store)
    _assert_decoded(after)
    kept = after.set_index("event_seq").loc[before.event_seq, list(CODE_COLUMNS)]
    pd.testing.assert_frame_equal(kept.reset_index(drop=True), before[list(CODE_COLUMNS)])
    assert after.groupby("case_id").case_key.nunique().eq(1).all() and after.case_key.nunique() == 3
    assert store.backend.table("labels").to_pandas().groupby("kind").code.apply(lambda c: c.is_unique).all()
    assert after.loc[after.case_id == "c", "case_key"].item() == 3  # a new case is numbered after the others


def test_a_version_4_store_is_coded_when_brought_up_to_date(store: Store, real: Path):
    store.ingest(open_source(real / "running-example.xes"))
    path = store.path
    store.close()
    with duckdb.connect(str(path)) as con:  # the store as version 4 left it: no codes
        for name in CODE_COLUMNS:
            con.execute(f"ALTER TABLE events DROP COLUMN {name}")
        for name in CODE_TABLES:
            con.execute(f"DROP TABLE {name}")
        con.execute("UPDATE meta SET value = '4' WHERE key IN ('schema_version', 'journeys_version')")
    with Store(path) as again:
        assert again.schema_version == SCHEMA_VERSION and again.journeys_stale() == "its journeys were built by an earlier najma"
        decoded = _decoded(again)
        assert decoded.case_key.notna().all() and decoded.case_key.nunique() == 6
        _assert_decoded(decoded)


#: Cases the sample has none of: a customer named only by a later event, at a tie broken by event_seq (a); a case
#: without channel, agency or customer (b); a service the catalogue does not describe, its roles from its actor (c).
AWKWARD = pd.DataFrame(
    [("permit", "a", "Apply", "2025-01-05 09:00", None, None, None, "customer"),
     ("permit", "a", "Pay", "2025-01-05 09:00", "c2", "web", "A1", "staff"),
     ("permit", "a", "Pay", "2025-01-05 10:00", "c3", "centre", "A2", "staff"),
     ("permit", "b", "Apply", "2025-01-05 09:00", None, None, None, None),
     ("permit", "b", "Submit", "2025-01-05 11:00", None, None, None, None),
     ("other", "c", "Apply", "2025-01-05 09:00", "x", None, "A1", "customer"),
     ("other", "c", "Check", "2025-01-05 09:30", "y", "web", None, "staff"),
     ("other", "c", "Auto", "2025-01-05 09:40", None, "web", None, None),
     ("other", "c", "Apply", "2025-01-05 09:50", None, None, None, "system")],
    columns=["service", "case_id", "activity", "timestamp", "customer_id", "channel", "agency", "actor"])
#: Roles of `permit` only; Apply has two, one of them listed twice.
AWKWARD_ROLES = pd.DataFrame({"service": ["permit"] * 5, "activity": ["Apply", "Apply", "Apply", "Pay", "Submit"],
                              "role": ["customer_step", "visit", "customer_step", "payment", "document_submission"]})


def test_awkward_cases_build_the_same_on_codes_and_on_text_and_as_worked_out_by_hand(store: Store):
    store.ingest_frame(AWKWARD, build=False)
    store.replace_rows("activity_roles", AWKWARD_ROLES.astype("string"))
    build_journeys(store)
    ours = store.backend.table("journeys").to_pandas().set_index("case_id").sort_index()
    _, text = _by_text(store)
    theirs = text.set_index("case_id").sort_index()
    columns = [c for c in ours.columns if c not in ("case_key", "working_seconds")]
    pd.testing.assert_frame_equal(ours[columns].convert_dtypes(), theirs[columns].convert_dtypes(), check_dtype=False)
    # The customer of a case's first event (by time, then event_seq) that names one.
    stored = store.backend.table("events").to_pandas().sort_values(["timestamp", "event_seq"])
    first = stored.dropna(subset=["customer_id"]).groupby("case_id").customer_id.first()
    assert ours.loc["a", "customer_id"] == first["a"] and ours.loc["c", "customer_id"] == first["c"]
    assert ours.loc["b", "customer_id"] == "permit/b"
    assert ours.loc["a", "first_channel"] == "web" and list(ours.loc["a", "channel_list"]) == ["centre", "web"]
    assert pd.isna(ours.loc["b", "first_channel"]) and pd.isna(ours.loc["b", "first_agency"])
    assert ours.loc["b", "channels"] == 0 and ours.loc["b", "agencies"] == 0
    # permit's roles from the catalogue (Apply: one customer step and one visit, however often listed); other's from
    # the actor.
    counted = ["customer_steps", "visits", "payments", "staff_steps", "system_steps"]
    assert ours.loc[["a", "b", "c"], counted].to_numpy().tolist() == [[1, 1, 2, 0, 0], [1, 1, 0, 0, 0], [1, 0, 0, 1, 1]]
    assert ours.loc["b", "document_submissions"] == 1 and ours.loc["c", "customer_repeats"] == 0
