from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from supportgym.services.launch import ServerProcess, running_server


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """A real ``supportgym serve`` on a free loopback port; always stopped afterwards."""
    with running_server(warm="7/tiny", max_episodes=64) as srv:
        yield srv


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c
        # Leave no episode behind for the next test.
        for e in c.get("/episodes").json()["episodes"]:
            c.delete(f"/episodes/{e['episode_id']}")


@pytest.fixture
def app_client() -> Iterator[object]:
    """The app in process (no socket), for fast protocol tests."""
    from fastapi.testclient import TestClient

    from supportgym.services.app import create_app
    from supportgym.services.settings import Settings

    app = create_app(Settings(warm_worlds=["7/tiny"], max_episodes=4, reap_interval_s=0.05, idle_ttl_s=3600))
    with TestClient(app) as c:
        yield c
