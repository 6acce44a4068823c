"""The service in process (TestClient: no socket) with and without a service token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from supportgym.services.settings import Settings
from supportgym.tasks.service import create_service

SERVICE_TOKEN = "security-test-token-0123456789"
TINY = {"seed": 7, "scale": "tiny"}


def bearer(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


def make_client(**settings: Any) -> TestClient:
    values: dict[str, Any] = {"warm_worlds": ["7/tiny"], "max_episodes": 16, **settings}
    return TestClient(create_service(Settings(**values)))


@pytest.fixture
def open_client() -> Iterator[TestClient]:
    """No service token (the loopback default): episodes are guarded by their capabilities."""
    with make_client() as c:
        yield c


@pytest.fixture
def token_client() -> Iterator[TestClient]:
    """A service token is set: nothing works without a credential."""
    with make_client(token=SERVICE_TOKEN) as c:
        yield c


def create(c: TestClient, headers: dict[str, str] | None = None, **config: Any) -> tuple[str, str]:
    """A new episode's id and capability."""
    r = c.post("/episodes", json=config or TINY, headers=headers or {})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["episode_token"].startswith("cap-")
    return body["episode_id"], body["episode_token"]
