"""Who is calling: the service (admin) token, an episode's capability, or nobody.

Two kinds of secret, both sent as ``Authorization: Bearer <secret>``:

* the **service token** (``--token`` / ``SUPPORTGYM_TOKEN``; without one, a random token made per
  process): the operator's. It reaches every episode and the author's view (rubrics, references,
  trajectories, full grades under ``/ui``). The web debugger keeps it in a ``SameSite=Strict``
  cookie after ``/ui?token=...``.
* an **episode capability**, returned once by ``POST /episodes`` as ``episode_token``: it reaches
  that episode only (step, read, grade, delete), and sees grades without rubric text or evidence.

See docs/security.md for the threat model.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Protocol

ADMIN_COOKIE = "supportgym_admin"
CAPABILITY_PREFIX = "cap-"


class CapabilityTable(Protocol):
    def episode_of(self, capability: str) -> str | None: ...


@dataclass(frozen=True)
class Caller:
    """The credentials of one request. ``episode_id``: the episode its capability opens."""

    admin: bool = False
    capability: str | None = None
    episode_id: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.admin or self.episode_id is not None

    def may_use(self, episode_id: str) -> bool:
        return self.admin or (self.episode_id is not None and self.episode_id == episode_id)


INTERNAL = Caller(admin=True)  # the service's own parts (MCP sessions, the reaper)


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(24)


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (None otherwise)."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def cookie_value(cookie_header: str | None, name: str = ADMIN_COOKIE) -> str | None:
    if not cookie_header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header)
    except CookieError:  # a malformed cookie header is no credential
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def same_secret(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def identify(authorization: str | None, cookie_header: str | None, admin_token: str, table: CapabilityTable) -> Caller:
    """The caller behind these headers: admin, an episode's holder, or anonymous."""
    token = bearer(authorization)
    if same_secret(token, admin_token) or same_secret(cookie_value(cookie_header), admin_token):
        return Caller(admin=True)
    if token and token.startswith(CAPABILITY_PREFIX):
        episode_id = table.episode_of(token)
        if episode_id is not None:
            return Caller(capability=token, episode_id=episode_id)
    return Caller()
