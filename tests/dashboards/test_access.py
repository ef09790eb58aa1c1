"""Signing in to the dashboard: a verified sign-in is remembered, and a stranger costs what a user costs."""

from __future__ import annotations

import pytest

from najma.dashboards import _access
from najma.dashboards._access import Access, hash_password

USERS = {"amal": hash_password("pa55word"), "badr": hash_password("other")}


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hashes scrypt is asked to check, in order (each check is the slow part of a sign-in)."""
    seen: list[str] = []
    real = _access.check_password_hash

    def counted(stored: str, password: str) -> bool:
        seen.append(stored)
        return real(stored, password)

    monkeypatch.setattr(_access, "check_password_hash", counted)
    return seen


def test_a_verified_sign_in_is_remembered_so_later_requests_skip_scrypt(checks: list[str]) -> None:
    access = Access(users=USERS)
    assert all(access.allows(user="amal", password="pa55word") for _ in range(5))
    assert checks == [USERS["amal"]]
    assert not access.allows(user="amal", password="guess")  # the memory is of the password too
    assert checks == [USERS["amal"]] * 2


def test_a_name_that_is_not_a_user_is_checked_against_a_hash_as_a_user_is(checks: list[str]) -> None:
    access = Access(users=USERS)
    assert not access.allows(user="stranger", password="pa55word")
    assert not access.allows(user="amal", password="guess")
    assert len(checks) == 2 and checks[0] not in USERS.values() and checks[1] == USERS["amal"]
    assert checks[0].split("$")[0] == USERS["amal"].split("$")[0]  # the same method and cost as a user's hash


def test_the_memory_of_sign_ins_is_bounded(checks: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_access, "REMEMBERED", 1)
    access = Access(users=USERS)
    for user, password in (("amal", "pa55word"), ("badr", "other"), ("amal", "pa55word")):
        assert access.allows(user=user, password=password)
    assert len(checks) == 3  # amal was forgotten when badr came, and verified again
