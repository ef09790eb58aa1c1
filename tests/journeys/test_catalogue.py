"""The service catalogue: validated with clear errors, drafted from a log."""

from __future__ import annotations

import pytest

from najma.errors import CatalogueError
from najma.journeys import Store, open_source
from najma.journeys._catalogue import ROLES, draft_catalogue, load_catalogue, parse_catalogue
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
