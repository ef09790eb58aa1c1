"""Documents: which a submission supplies, the ones asked again in a journey and across agencies, and draft entries."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from najma.errors import CatalogueError
from najma.journeys import Store, build_journeys, parse_catalogue, register_catalogue
from najma.journeys._catalogue import draft_catalogue
from najma.journeys._life_events import life_event_journeys, linked_cases
from najma.sample import SAMPLE_TRUTH

DAY = pd.Timestamp("2025-01-05 09:00", tz="UTC")
SERVICE = """
[services.{key}]
name_en = "{key}"
name_ar = "{key}"
agency = "{agency}"
sla_hours = 24
{extra}
[services.{key}.activities]
Apply = ["customer_step", "application"]
Upload = ["customer_step", "document_submission"]
Resubmit = ["customer_step", "document_submission", "rework"]
"Sign lease" = ["customer_step", "document_submission"]
Done = ["system_step", "approval"]
"""
LICENCE_DOCUMENTS = """
[services.licence.documents]
Upload = ["passport copy", "photo"]
"Sign lease" = ["tenancy contract"]
Resubmit = ["photo"]
"""


def _catalogue(services: dict[str, str], documents: str = "", draft: str = "", life_event: str = "") -> str:
    text = "version = 1\n" + "".join(SERVICE.format(key=key, agency=agency, extra=draft) for key, agency in services.items())
    return text + documents + life_event


def _case(case_id: str, service: str, steps: list[str], *, days: float = 0, customer: str = "784-1",
          agency: str | None = None) -> list[dict]:
    """A case of `steps` an hour apart, starting `days` after DAY."""
    return [{"case_id": case_id, "service": service, "activity": step, "customer_id": customer, "agency": agency,
             "timestamp": DAY + pd.Timedelta(days=days, hours=hour)} for hour, step in enumerate(steps)]


def _build(store: Store, rows: list[dict], catalogue: str) -> pd.DataFrame:
    """Load `rows` in a shuffled order, register `catalogue`, build; return the journeys by case id."""
    store.ingest_frame(pd.DataFrame(rows).sample(frac=1, random_state=5))
    register_catalogue(store, parse_catalogue(catalogue))
    build_journeys(store)
    return store.backend.table("journeys").to_pandas().set_index("case_id")


def test_different_documents_are_not_asked_again_and_a_document_supplied_again_is(store: Store):
    rows = [
        *_case("three", "licence", ["Apply", "Upload", "Sign lease", "Done"]),  # passport copy, photo, tenancy contract
        *_case("again", "licence", ["Apply", "Upload", "Sign lease", "Resubmit", "Done"]),  # the photo again
        *_case("twice", "licence", ["Apply", "Upload", "Resubmit", "Resubmit", "Done"]),  # the photo twice again
        *_case("late", "licence", ["Apply", "Resubmit", "Sign lease", "Done"]),  # the photo first comes with Resubmit
        *_case("none", "licence", ["Apply", "Done"]),
    ]
    journeys = _build(store, rows, _catalogue({"licence": "Economy"}, LICENCE_DOCUMENTS))
    asked = journeys["documents_asked_again"]
    assert asked[["three", "again", "twice", "late", "none"]].tolist() == [0, 1, 2, 0, 0]
    assert journeys.loc["three", "document_submissions"] == 2  # two submissions, three documents, none again


def test_without_a_documents_table_a_submission_supplies_a_document_named_after_its_activity(store: Store):
    rows = [
        *_case("same", "permit", ["Apply", "Upload", "Upload", "Done"]),
        *_case("different", "permit", ["Apply", "Upload", "Sign lease", "Done"]),
        *_case("three", "permit", ["Apply", "Upload", "Resubmit", "Upload", "Upload", "Done"]),
    ]
    journeys = _build(store, rows, _catalogue({"permit": "Municipality"}))
    assert journeys.loc[["same", "different", "three"], "documents_asked_again"].tolist() == [1, 0, 2]


def test_an_activity_the_documents_table_leaves_out_supplies_a_document_named_after_it(store: Store):
    documents = '[services.licence.documents]\nUpload = ["passport copy"]\n'
    rows = [*_case("a", "licence", ["Apply", "Upload", "Sign lease", "Sign lease", "Resubmit", "Done"])]
    journeys = _build(store, rows, _catalogue({"licence": "Economy"}, documents))
    assert journeys.loc["a", "documents_asked_again"] == 1  # "Sign lease" twice; Resubmit is a document of its own


NEWBORN = """
[life_events.newborn]
name_en = "A newborn"
name_ar = "مولود جديد"
services = ["birth", "identity", "insurance"]
window_days = 60

[services.birth.documents]
Upload = ["parents' ids", "hospital record"]
[services.identity.documents]
Upload = ["parents' ids", "photo"]
Resubmit = ["photo"]
[services.insurance.documents]
Upload = ["salary certificate"]
Resubmit = ["photo"]
"""
AGENCIES = {"birth": "Health", "identity": "Identity", "insurance": "Insurance"}


def _linked(store: Store, rows: list[dict]) -> pd.DataFrame:
    _build(store, rows, _catalogue(AGENCIES, life_event=NEWBORN))
    return linked_cases(store).to_pandas().set_index("case_id")


def test_ask_once_fails_only_for_a_document_another_agency_already_had(store: Store):
    rows = [
        # Customer 1: parents' ids to Health, then to Identity (a failure); insurance asks a new document.
        *_case("B1", "birth", ["Apply", "Upload", "Done"], days=0, customer="c1", agency="Health"),
        *_case("I1", "identity", ["Apply", "Upload", "Resubmit", "Done"], days=5, customer="c1", agency="Identity"),
        *_case("N1", "insurance", ["Apply", "Upload", "Done"], days=9, customer="c1", agency="Insurance"),
        # Customer 2: insurance asks for the photo Identity already had (a failure), not Health's documents.
        *_case("B2", "birth", ["Apply", "Done"], days=0, customer="c2", agency="Health"),
        *_case("I2", "identity", ["Apply", "Resubmit", "Done"], days=3, customer="c2", agency="Identity"),
        *_case("N2", "insurance", ["Apply", "Upload", "Resubmit", "Done"], days=6, customer="c2", agency="Insurance"),
        # Customer 3: Identity asks again what it had itself (asked again in its journey, not across agencies),
        # and a case of a later journey (beyond the window) is not compared with the first.
        *_case("I3", "identity", ["Apply", "Upload", "Done"], days=0, customer="c3", agency="Identity"),
        *_case("J3", "identity", ["Apply", "Upload", "Done"], days=4, customer="c3", agency="Identity"),
        *_case("B3", "birth", ["Apply", "Upload", "Done"], days=200, customer="c3", agency="Health"),
    ]
    cases = _linked(store, rows)
    assert sorted(cases.index[cases.ask_once_failure]) == ["I1", "N2"]
    assert cases.documents_asked_again_across_agencies[["I1", "N2", "N1", "J3", "B3"]].tolist() == [1, 1, 0, 0, 0]
    journeys = life_event_journeys(store).to_pandas()
    assert len(journeys) == 4  # customer 3's birth case starts a journey of its own
    by_customer = journeys.groupby("customer_id")[["ask_once_failures", "documents_asked_again_across_agencies"]].sum()
    assert sorted(by_customer.sum(axis=1).tolist()) == [0, 2, 2]  # customer ids are pseudonymised: any order


def test_ask_once_orders_supplies_by_time_not_by_rows(store: Store):
    # The identity case comes first in time although its rows come last; the birth case, later, fails.
    rows = [
        *_case("B1", "birth", ["Apply", "Upload", "Done"], days=5, customer="c1", agency="Health"),
        *_case("I1", "identity", ["Apply", "Upload", "Done"], days=0, customer="c1", agency="Identity"),
    ]
    cases = _linked(store, rows)
    assert cases.ask_once_failure.to_dict() == {"B1": True, "I1": False}


def test_a_draft_entry_is_kept_in_the_store_and_a_drafted_catalogue_says_so(store: Store):
    text = ("version = 1\n" + SERVICE.format(key="licence", agency="Economy", extra="draft = true")
            + SERVICE.format(key="permit", agency="Municipality", extra=""))
    catalogue = parse_catalogue(text)
    assert (catalogue.services["licence"].draft, catalogue.services["permit"].draft) == (True, False)
    store.ingest_frame(pd.DataFrame(_case("a", "licence", ["Apply", "Done"])))
    register_catalogue(store, catalogue)
    settings = store.backend.table("service_settings").to_pandas().set_index("service")["draft"]
    assert settings.to_dict() == {"licence": True, "permit": False}
    drafted = draft_catalogue({"licence": {"Apply": {"actor": "customer", "first": 1.0, "share": 1.0, "position": 1}}})
    assert "draft = true" in drafted and "Remove that line once you" in drafted
    assert parse_catalogue(drafted).services["licence"].draft is True


def test_an_older_store_gains_the_documents_table_and_the_draft_column(tmp_path: Path):
    path = tmp_path / "old.duckdb"
    with Store(path):
        pass
    with duckdb.connect(str(path)) as con:  # a store of version 3, as the najma before these tables left it
        con.execute("DROP TABLE activity_documents")
        con.execute("ALTER TABLE service_settings DROP COLUMN draft")
        con.execute("INSERT INTO service_settings (service, name_en) VALUES ('old', 'Old')")
        con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    with Store(path) as store:
        assert store.has_table("activity_documents")
        assert store.backend.table("service_settings").to_pandas()["draft"].tolist() == [False]


@pytest.mark.parametrize(("documents", "message"), [
    ('Pay = ["receipt"]', "[services.licence.documents] names 'Pay', which is not among the service's activities"),
    ('Done = ["receipt"]', "[services.licence.documents] names 'Done', which lacks the role document_submission"),
    ("Upload = []", "[services.licence.documents] 'Upload' must be a non-empty list of document names, got []"),
    ('Upload = "photo"', "[services.licence.documents] 'Upload' must be a non-empty list of document names, got 'photo'"),
    ('Upload = ["photo", " ", 3]', "'Upload': document names must be non-empty strings, got ' ', 3"),
])
def test_a_wrong_documents_table_is_named(documents: str, message: str):
    text = _catalogue({"licence": "Economy"}, f"[services.licence.documents]\n{documents}\n")
    with pytest.raises(CatalogueError) as info:
        parse_catalogue(text, "services.toml")
    assert str(info.value).startswith("services.toml: ") and message in str(info.value)


def test_every_documents_problem_is_reported_at_once():
    documents = '[services.licence.documents]\nPay = ["receipt"]\nDone = ["receipt"]\nUpload = []\n'
    text = _catalogue({"licence": "Economy"}, documents, draft='draft = "yes"')
    with pytest.raises(CatalogueError) as info:
        parse_catalogue(text)
    message = str(info.value)
    for part in ("'Pay', which is not among", "'Done', which lacks the role", "'Upload' must be a non-empty list",
                 "[services.licence] draft must be true or false, got 'yes'"):
        assert part in message


def test_the_sample_counts_the_documents_its_generator_asked_again(sample_journeys: Store):
    journeys = sample_journeys.backend.table("journeys").select("service", "case_id", "documents_asked_again").to_pandas()
    truth = pd.read_parquet(SAMPLE_TRUTH)[["service", "case_id", "documents_asked_again"]]
    merged = truth.merge(journeys, on=["service", "case_id"], suffixes=("_true", ""))
    assert len(merged) == len(truth) == len(journeys)
    assert (merged["documents_asked_again"] == merged["documents_asked_again_true"]).all()
    assert merged.groupby("service")["documents_asked_again"].sum().gt(0).all()
