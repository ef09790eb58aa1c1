"""Ingest done in the engine keeps every guarantee: the same pseudonyms, cleaned text and quarantine.

Facts are pinned (a known pseudonym under a known key, counts, quarantine places and reasons), so
that a faster ingest that changed what a store holds would fail here.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from najma.journeys import Store, open_source, parse_mapping
from najma.journeys._normalise import clean_text
from najma.journeys._pseudonym import Pseudonymiser
from najma.sample import SAMPLE_EVENTS

KEY = "test-ingest-key"
#: HMAC-SHA256 of "784-1990-1234567-1" under KEY, first 128 bits in hex (RFC 2104; pinned, not recomputed).
KNOWN_PSEUDONYM = "c7c8dfe96fadc38edc14af5444f68c7f"
#: Characters Arrow trims as whitespace, a few that it does not, and ASCII.
_PIECES = ["", " ", "\t", "\n", "\r\n", "\x1f", "\x85", "\u00a0", "\u2003", "\u3000", "\u200b", "a", "Z", "é", "مرحبا", "-", "~"]


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAJMA_PSEUDONYM_KEY", KEY)


def _rows(store: Store, sql: str) -> list[tuple]:
    return store.backend.raw_sql(sql).fetchall()


def _arrow_trim(values: pa.Array) -> list[str | None]:
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(trimmed, ""), None, trimmed).to_pylist()


@pytest.mark.parametrize("text_type", [pa.string(), pa.large_string()])
def test_clean_text_equals_arrows_trim_on_any_text(text_type: pa.DataType):
    chooser = random.Random(23)
    texts = [None if chooser.random() < 0.1 else "".join(chooser.choices(_PIECES, k=chooser.randint(0, 4)))
             for _ in range(5000)]
    values = pa.array(texts, text_type)
    assert clean_text(values).to_pylist() == _arrow_trim(values)
    part = values.slice(1234, 2000)  # an array that starts inside its buffers
    assert clean_text(part).to_pylist() == _arrow_trim(part)
    chunked = pa.chunked_array([values.slice(0, 10), values.slice(10)])
    assert clean_text(chunked).to_pylist() == _arrow_trim(values)


def test_clean_text_leaves_clean_text_as_it_is():
    values = pa.array(["Apply", "Pay fee", None, "x"])
    assert clean_text(values) is values  # nothing copied when nothing changes
    assert clean_text(pa.array(["", " ", "a "])).to_pylist() == [None, None, "a"]


def test_a_known_id_has_its_known_pseudonym_in_bulk_and_alone():
    pseudonymiser = Pseudonymiser(KEY.encode())
    assert pseudonymiser.pseudonym("784-1990-1234567-1") == KNOWN_PSEUDONYM
    bulk = pseudonymiser.ids(pa.array([" 784-1990-1234567-1\u00a0", "784-1990-1234567-1", "", None]))
    assert bulk.to_pylist() == [KNOWN_PSEUDONYM, KNOWN_PSEUDONYM, None, None]


@pytest.mark.usefixtures("keyed")
def test_the_sample_loads_whole_with_its_ids_pseudonymised(store: Store):
    result = store.ingest(open_source(SAMPLE_EVENTS), build=False)
    assert (result.read, result.loaded, result.quarantined, result.repeated) == (204900, 204900, 0, 0)
    raw = pq.read_table(SAMPLE_EVENTS, columns=["customer_id"]).column(0)
    expected = Pseudonymiser(KEY.encode())
    wanted = sorted({expected.pseudonym(v) for v in pc.unique(raw).to_pylist() if v and v.strip()})
    stored = [row[0] for row in _rows(store, "SELECT DISTINCT customer_id FROM events WHERE customer_id IS NOT NULL ORDER BY 1")]
    assert stored == wanted
    assert all(re.fullmatch("[0-9a-f]{32}", p) for p in stored)


@pytest.mark.usefixtures("keyed")
@pytest.mark.parametrize(
    ("name", "options", "mapping", "events"),
    [
        ("receipt.xes.gz", {}, None, 8577),
        ("roadtraffic100traces.xes", {}, None, 390),
        ("running-example.xes", {}, None, 42),
        ("BPI2016_Clicks_NOT_Logged_In_sample1000.csv", {"sep": ";"}, "case=SessionID,activity=PAGE_NAME,timestamp=TIMESTAMP",
         1000),
    ],
)
def test_every_real_log_loads_whole(real: Path, store: Store, name, options, mapping, events):
    result = store.ingest(open_source(real / name, **options), mapping=parse_mapping(mapping) if mapping else None,
                          build=False)
    assert (result.read, result.loaded, result.quarantined) == (events, events, 0)
    assert store.n_rows("events") == events
    untrimmed = _rows(store, "SELECT count(*) FROM events WHERE activity <> trim(activity) OR case_id = ''")
    assert untrimmed == [(0,)]


BAD_CSV = (
    "case_id,activity,timestamp,customer_id,actor,cost\n"
    "c1, Apply ,2025-01-05 09:00, 784-1990-1234567-1 ,Customer,10\n"   # line 2: good, trimmed, actor lowered
    "c1,\u00a0Pay\u3000,2025-01-05 09:30,,staff,\n"                    # line 3: good, Unicode spaces trimmed
    "c2,   ,2025-01-05 10:00,,,\n"                                     # line 4: blank activity
    "c2,Apply,yesterday,,,\n"                                          # line 5: a time that does not parse
    "c3,Apply,2025-01-05 10:00,,robot,\n"                              # line 6: an unknown actor
    "c3,Apply,2025-01-05 10:00,,,abc\n"                                # line 7: a cost that is not a number
    "c4,Apply,2025-01-05 10:00,a,b,c,d\n"                              # line 8: a field too many
    ",,,\t,,\n"                                                        # line 9: nothing in any column
    "c5,Apply,1850-01-01 00:00,,,\n"                                   # line 10: before the earliest time (Dubai then kept local mean time, +3:41)
)


@pytest.mark.usefixtures("keyed")
def test_a_bad_csv_is_quarantined_row_by_row_with_its_reasons(store: Store, tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    result = store.ingest(open_source(path), service="Trade licence", tz="Asia/Dubai", build=False)
    assert (result.read, result.loaded, result.quarantined) == (9, 2, 7)
    events = _rows(store, "SELECT case_id, activity, timestamp AT TIME ZONE 'UTC', customer_id, actor, cost "
                           "FROM events ORDER BY event_seq")
    assert [(e[0], e[1], str(e[2]), e[3], e[4], e[5]) for e in events] == [
        ("c1", "Apply", "2025-01-05 05:00:00", KNOWN_PSEUDONYM, "customer", 10.0),
        ("c1", "Pay", "2025-01-05 05:30:00", None, "staff", None),
    ]
    quarantined = _rows(store, 'SELECT row, unit, "column", reason FROM quarantine ORDER BY row')
    assert quarantined == [
        (4, "line", "activity", "missing activity"),
        (5, "line", "timestamp", "timestamp 'yesterday' does not parse as a time (ISO 8601)"),
        (6, "line", "actor", "actor 'robot' is not one of customer, staff, system"),
        (7, "line", "cost", "cost 'abc' is not a number"),
        (8, "line", None, "the line has 7 fields, expected 6"),
        (9, "line", "", "empty record: no value in any column"),
        (10, "line", "timestamp", "timestamp 1849-12-31 20:18 is before 1900-01-01"),
    ]
