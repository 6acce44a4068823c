"""Fixtures for the MCP tests: a real uvicorn server on a free loopback port, in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
import uvicorn

from supportgym.services.episode import Episode
from supportgym.services.mcp_server import create_mcp_asgi_app
from supportgym.tasks import open_episode


@dataclass
class Registry:
    """Stands in for the service's episode registry: ``add(episode)``."""

    episodes: list[Episode] = field(default_factory=list)

    def add(self, episode: Episode) -> None:
        self.episodes.append(episode)


@dataclass
class LiveServer:
    url: str
    registry: Registry
    app: Any


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_in_thread(app: Any) -> tuple[uvicorn.Server, threading.Thread, int]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="mcp-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return server, thread, port


def stop(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(timeout=30)
    assert not thread.is_alive(), "uvicorn did not shut down"


@pytest.fixture
def live_mcp() -> Iterator[LiveServer]:
    registry = Registry()
    app = create_mcp_asgi_app(open_episode, on_episode_created=registry)
    server, thread, port = serve_in_thread(app)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}/mcp", registry=registry, app=app)
    finally:
        stop(server, thread)
        for e in registry.episodes:
            e.close()


async def freed(manager: Any, timeout_s: float = 10.0) -> bool:
    """Whether ``manager`` holds no episode within ``timeout_s``: the server ends a session (and
    frees its episode) after the client has gone, on its own event loop."""
    deadline = time.monotonic() + timeout_s
    while len(manager) and time.monotonic() < deadline:
        await anyio.sleep(0.02)
    return len(manager) == 0
