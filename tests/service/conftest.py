from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from supportgym.env.http_auth import EpisodeAuth
from supportgym.services.launch import ServerProcess, running_server

# The operator's token: these tests drive the service as its operator (see tests/security for
# what episode capabilities alone may do).
SERVICE_TOKEN = "test-service-token-0123456789"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """A real ``supportgym serve`` on a free loopback port; always stopped afterwards."""
    with running_server(warm="7/tiny", max_episodes=64, token=SERVICE_TOKEN) as srv:
        yield srv


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with EpisodeAuth(server.token).attach(httpx.Client(base_url=server.url, timeout=30)) as c:
        yield c
        # Leave no episode behind for the next test.
        for e in c.get("/episodes").json()["episodes"]:
            c.delete(f"/episodes/{e['episode_id']}")


@pytest.fixture
def app_client() -> Iterator[object]:
    """The app in process (no socket), for fast protocol tests."""
    from fastapi.testclient import TestClient

    from supportgym.services.settings import Settings
    from supportgym.tasks.service import create_service

    app = create_service(Settings(warm_worlds=["7/tiny"], max_episodes=4, reap_interval_s=0.05, idle_ttl_s=3600))
    with TestClient(app) as c:
        EpisodeAuth(from_env=False).attach(c)
        yield c
