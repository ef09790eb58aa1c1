"""Who may open the dashboard: nobody needs to sign in on loopback; elsewhere a token or a user and password.

Users are kept in a TOML file of user names and password hashes (werkzeug's salted scrypt); the
password itself is never stored. ``najma dashboard-user NAME`` prints the line to add.

A browser sends its user and password with every request (HTTP Basic), and scrypt is slow on
purpose (about a quarter of a second), so a sign-in once verified is remembered for the life of
the server as a keyed digest (HMAC-SHA256 under a key drawn when the server starts; never the
password): later requests cost one HMAC. A name that is not a user is checked against a hash no
password matches, so a wrong password takes as long for a stranger as for a user, and timing does
not tell which names are users.

Examples
--------
>>> access = Access(users={"amal": hash_password("s3cret!")})
>>> access.allows(user="amal", password="s3cret!"), access.allows(user="amal", password="guess")
(True, False)
>>> Access(token="t0ken").allows(token="t0ken")
True
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from flask import Flask, Response, request
from werkzeug.security import check_password_hash, generate_password_hash

from najma.errors import AccessError

__all__ = ["Access", "hash_password", "load_users", "is_loopback", "check_exposure", "protect"]


def hash_password(password: str) -> str:
    """A salted scrypt hash of `password`, to keep in the users file."""
    return generate_password_hash(password, method="scrypt")


def load_users(path: str | Path) -> dict[str, str]:
    """Read a users file: a TOML table ``[users]`` of name = password hash."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AccessError(f"{path}: cannot read the users file: {exc}") from None
    users = raw.get("users")
    if not isinstance(users, dict) or not users or not all(isinstance(v, str) and ":" in v for v in users.values()):
        raise AccessError(f"{path}: expected a [users] table of name = \"password hash\" lines "
                          "(hashes made by najma.dashboards.hash_password)", parameter="users")
    return users


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback address or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, protected: bool) -> None:
    """Refuse to serve on an address other than loopback without credentials.

    Examples
    --------
    >>> check_exposure("127.0.0.1", protected=False)
    >>> check_exposure("0.0.0.0", protected=False)
    Traceback (most recent call last):
    ...
    najma.errors.AccessError: the dashboard would be open to anyone who can reach 0.0.0.0; give a token or users (or bind to 127.0.0.1)
    """
    if not is_loopback(host) and not protected:
        raise AccessError(f"the dashboard would be open to anyone who can reach {host}; give a token or users "
                          "(or bind to 127.0.0.1)", parameter="token")


#: Verified sign-ins remembered at most (the memory is emptied when full: the next requests verify again).
REMEMBERED = 10_000


@cache
def _nobody() -> str:
    """A hash that no password matches, checked for a name that is not a user (made once, when first needed)."""
    return hash_password(secrets.token_hex(32))


@dataclass(frozen=True)
class Access:
    """The credentials the dashboard accepts: a shared token, users with password hashes, or both."""

    token: str | None = None
    users: Mapping[str, str] = field(default_factory=dict)
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False, compare=False)
    _verified: set[bytes] = field(default_factory=set, repr=False, compare=False)

    @property
    def required(self) -> bool:
        """Whether any credential is configured."""
        return bool(self.token or self.users)

    def allows(self, *, user: str | None = None, password: str | None = None, token: str | None = None) -> bool:
        """Whether the credentials given are accepted."""
        if self.token and token is not None and hmac.compare_digest(token.encode(), self.token.encode()):
            return True
        if not self.users or user is None or password is None:
            return False
        digest = hmac.new(self._key, f"{user}\x1f{password}".encode(), "sha256").digest()
        if digest in self._verified:
            return True
        stored = self.users.get(user)
        if not check_password_hash(stored or _nobody(), password) or stored is None:
            return False
        if len(self._verified) >= REMEMBERED:
            self._verified.clear()
        self._verified.add(digest)
        return True


def protect(server: Flask, access: Access) -> None:
    """Ask every request to `server` for credentials: HTTP Basic (a user, or any name with the token as password),
    a ``Bearer`` token, or ``?token=`` once (then kept in an HTTP-only cookie)."""
    cookie = "najma_token"

    @server.before_request
    def check() -> Response | None:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else request.args.get("token") or request.cookies.get(cookie)
        basic = request.authorization
        if access.allows(token=token) or (
            basic is not None and (access.allows(user=basic.username, password=basic.password)
                                   or access.allows(token=basic.password))):
            return None
        return Response("najma: sign in to see the dashboard", 401, {"WWW-Authenticate": 'Basic realm="najma"'})

    @server.after_request
    def remember(response: Response) -> Response:
        if access.token and request.args.get("token") and access.allows(token=request.args["token"]):
            response.set_cookie(cookie, access.token, httponly=True, samesite="Strict")
        return response
