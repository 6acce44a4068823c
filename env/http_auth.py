"""Credentials for raw HTTP clients of ``supportgym serve`` (httpx), carried transparently.

    with EpisodeAuth().attach(httpx.Client(base_url=url)) as c:    # or EpisodeAuth(token=...)
        eid = c.post("/episodes", json={...}).json()["episode_id"]
        c.post(f"/episodes/{eid}/step", json=...)                 # carries that episode's capability

It remembers the ``episode_token`` of every episode it saw created (a response hook) and sends it
(``Authorization: Bearer``) on that episode's routes. With the service token (given, or in
``SUPPORTGYM_TOKEN``) it sends that instead, everywhere. It is duck-typed (a request callable plus
a response hook) so it works on any httpx-compatible client, Starlette's TestClient included.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any, TypeVar

TOKEN_ENV = "SUPPORTGYM_TOKEN"
_EPISODE_PATH = re.compile(r"/episodes/([^/?#]+)")
C = TypeVar("C")


class EpisodeAuth:
    """The service token if given (or in ``SUPPORTGYM_TOKEN``), else episode capabilities."""

    def __init__(self, token: str | None = None, *, from_env: bool = True) -> None:
        self.token = token or ((os.environ.get(TOKEN_ENV) or None) if from_env else None)
        self.capabilities: dict[str, str] = {}
        self._lock = threading.Lock()

    def attach(self, client: C) -> C:
        """Install on an httpx(-compatible) client: returns the client."""
        client.auth = self  # type: ignore[attr-defined]
        client.event_hooks["response"].append(self.remember)  # type: ignore[attr-defined]
        return client

    def secret_for(self, path: str) -> str | None:
        if self.token is not None:
            return self.token
        found = _EPISODE_PATH.search(path)
        with self._lock:
            return self.capabilities.get(found.group(1)) if found else None

    def __call__(self, request: Any) -> Any:
        if "authorization" not in request.headers:
            secret = self.secret_for(request.url.path)
            if secret is not None:
                request.headers["authorization"] = f"Bearer {secret}"
        return request

    def remember(self, response: Any) -> None:
        """Response hook: keep the capability of an episode just created."""
        request = response.request
        if request.method != "POST" or not request.url.path.rstrip("/").endswith("/episodes"):
            return
        if response.status_code != 201:
            return
        try:
            response.read()
            body = response.json()
            with self._lock:
                self.capabilities[str(body["episode_id"])] = str(body["episode_token"])
        except (ValueError, KeyError, TypeError):
            pass  # not a creation answer: nothing to remember
