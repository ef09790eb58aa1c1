"""The service catalogue: validated with clear errors, drafted from a log."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from najma.errors import CatalogueError
from najma.journeys import Store, open_source
from najma.journeys._catalogue import (
    ROLES,
    LifeEvent,
    add_life_event,
    draft_catalogue,
    load_catalogue,
    parse_catalogue,
)
from najma.journeys._eventlog import EventLog
from najma.sample import SAMPLE_CATALOGUE, SAMPLE_EVENTS

SERVICE = """
[services.trade_licence]
name_en = "Trade licence"
name_ar = "الرخصة التجارية"
agency = "Economic Development Department"
sla_hours = 240
designed_journey = ["Submit application", "Pay fees"]

[services.trade_licence.activities]
"Submit application" = ["customer_step", "application"]
"Pay fees" = ["customer_step", "{role}"]
"""


def test_the_sample_catalogue_is_valid_and_matches_the_sample_log(store: Store):
    catalogue = load_catalogue(SAMPLE_CATALOGUE)
    assert len(catalogue.services) == 9
    assert catalogue.life_events["newborn"].services[0] == "birth_notification"
    store.ingest(open_source(SAMPLE_EVENTS))
    present = {}
    for service, activity in store.con.execute("SELECT DISTINCT service, activity FROM events").fetchall():
        present.setdefault(service, set()).add(activity)
    catalogue.check_against(present)


def test_an_unknown_role_is_named_with_the_roles_allowed():
    with pytest.raises(CatalogueError, match=r"activity 'Pay fees': unknown role 'paymnt'; roles are customer_step"):
        parse_catalogue(SERVICE.format(role="paymnt"), "services.toml")


def test_an_activity_not_in_the_log_is_named():
    catalogue = parse_catalogue(SERVICE.format(role="payment"))
    with pytest.raises(CatalogueError, match="service 'trade_licence': activity 'Pay fees' is not in the log"):
        catalogue.check_against({"trade_licence": {"Submit application"}})


def test_a_duplicate_service_is_refused_with_its_place():
    text = SERVICE.format(role="payment") + SERVICE.format(role="payment").split("[services.trade_licence.activities]")[0]
    with pytest.raises(CatalogueError, match="declared twice"):
        parse_catalogue(text, "services.toml")


def test_missing_fields_are_all_reported_at_once():
    with pytest.raises(CatalogueError) as info:
        parse_catalogue("[services.x]\nname_en = 'X'\nsla_hours = -1\n")
    message = str(info.value)
    assert "name_ar must be a non-empty string" in message
    assert "agency must be a non-empty string" in message
    assert "sla_hours must be a positive number" in message


def test_a_draft_from_the_sample_log_is_a_valid_catalogue_that_fits_the_log(store: Store):
    store.ingest(open_source(SAMPLE_EVENTS))
    profile = EventLog(store).activity_profile()
    draft = parse_catalogue(draft_catalogue(profile))
    assert set(draft.services) == set(profile)
    licence = draft.services["trade_licence"]
    assert "customer_step" in licence.activities["Pay fees"]
    assert "rework" in licence.activities["Request additional documents"]
    assert licence.designed_journey[0] == "Submit application"


def test_every_role_is_a_bit_of_a_steps_roles():
    """A step's roles are one int32, a bit per role (see najma.journeys._pipeline.has_role)."""
    assert len(ROLES) <= 31


@pytest.fixture
def catalogue_copy(tmp_path: Path) -> Path:
    """A copy of the sample catalogue, comments and all, in a folder of its own."""
    return Path(shutil.copy(SAMPLE_CATALOGUE, tmp_path / "services.toml"))


PARENTS = LifeEvent("new_parents", "New parents", "والدان جديدان", ("birth_certificate", "passport"), 45)


def test_a_life_event_is_appended_and_everything_else_is_kept(catalogue_copy: Path):
    before = catalogue_copy.read_text(encoding="utf-8")
    added = add_life_event(catalogue_copy, PARENTS)
    after = catalogue_copy.read_text(encoding="utf-8")
    assert after.startswith(before) and "[life_events.new_parents]" in after[len(before):]
    assert after.startswith("# Service catalogue of the najma sample services")
    assert added.life_events["new_parents"] == PARENTS
    assert load_catalogue(catalogue_copy).life_events == added.life_events
    assert set(added.life_events) == {"newborn", "new_parents"}
    assert [p.name for p in catalogue_copy.parent.iterdir()] == ["services.toml"]  # no temporary file is left


def test_a_file_with_windows_line_ends_keeps_them(catalogue_copy: Path):
    catalogue_copy.write_bytes(catalogue_copy.read_bytes().replace(b"\n", b"\r\n"))
    add_life_event(catalogue_copy, PARENTS)
    written = catalogue_copy.read_bytes()
    assert b"[life_events.new_parents]\r\n" in written and written.count(b"\n") == written.count(b"\r\n")


@pytest.mark.parametrize(("life_event", "message"), [
    (replace(PARENTS, key="newborn"), r"\[life_events.newborn\] exists already"),
    (replace(PARENTS, services=("birth_certificate", "pasport")), "names the service 'pasport', which the catalogue does not"),
    (replace(PARENTS, services=("passport",)), "must name at least two services, got 1"),
    (replace(PARENTS, services=("passport", "passport")), "names the service 'passport' more than once"),
    (replace(PARENTS, window_days=0), "window_days must be a whole number of days, at least 1, got 0"),
    (replace(PARENTS, key="new parents"), "a life event's key must be letters, digits, '_' or '-', got 'new parents'"),
    (replace(PARENTS, name_ar=""), r"\[life_events.new_parents\] name_ar must be a non-empty string"),
])
def test_a_bad_life_event_is_refused_and_the_file_is_untouched(catalogue_copy: Path, life_event: LifeEvent, message: str):
    before = catalogue_copy.read_bytes()
    with pytest.raises(CatalogueError, match=message) as refused:
        add_life_event(catalogue_copy, life_event)
    assert str(refused.value).startswith(f"{catalogue_copy}: ")
    assert catalogue_copy.read_bytes() == before
    assert [p.name for p in catalogue_copy.parent.iterdir()] == ["services.toml"]


def test_a_failed_write_leaves_the_file_as_it_was(catalogue_copy: Path, monkeypatch: pytest.MonkeyPatch):
    before = catalogue_copy.read_bytes()

    def refuse(source: object, target: object) -> None:
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(CatalogueError, match="cannot be written .*Permission denied"):
        add_life_event(catalogue_copy, PARENTS)
    assert catalogue_copy.read_bytes() == before
    assert [p.name for p in catalogue_copy.parent.iterdir()] == ["services.toml"]


@pytest.mark.parametrize(("table", "message"), [
    ('services = ["trade_licence", "trade_licence"]\nwindow_days = "a month"',
     "window_days must be a whole number of days, at least 1, got 'a month'"),
    ('services = "trade_licence"', "services must be a list of service keys, got 'trade_licence'"),
])
def test_a_life_event_table_of_the_wrong_types_is_named_not_crashed_on(table: str, message: str):
    text = SERVICE.format(role="payment") + f'\n[life_events.x]\nname_en = "X"\nname_ar = "س"\n{table}\n'
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(text, "services.toml")
