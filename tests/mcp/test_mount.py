"""The wiring the service uses: the MCP app mounted at /mcp in a FastAPI app, its session
manager run by the FastAPI lifespan, episodes made by the service's EpisodeManager."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

# MCP is the optional extra supportgym[mcp] (part of .[dev]): without it these tests cannot run.
pytest.importorskip("mcp", reason="the MCP SDK is not installed: pip install 'supportgym[mcp]'")
import httpx2  # noqa: E402  (comes with mcp)
from fastapi import FastAPI  # noqa: E402
from mcp.client import Client  # noqa: E402

from supportgym.services.episode import SUBMIT_TOOL  # noqa: E402
from supportgym.services.manager import EpisodeManager  # noqa: E402
from supportgym.services.mcp_server import create_mcp_asgi_app  # noqa: E402

from .conftest import freed, serve_in_thread, stop  # noqa: E402

pytestmark = pytest.mark.slow


async def test_mounted_in_fastapi() -> None:
    manager = EpisodeManager(max_episodes=8)
    mcp_app = create_mcp_asgi_app(manager)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with mcp_app.state.mcp.run():
            yield
        manager.close_all()

    app = FastAPI(lifespan=lifespan)

    @app.get("/episodes/{episode_id}")
    def read(episode_id: str) -> dict:
        return manager.get(episode_id).describe()

    app.mount("/mcp", mcp_app)
    server, thread, port = serve_in_thread(app)
    base = f"http://127.0.0.1:{port}"
    try:
        # Both spellings reach it ("/mcp" is redirected to "/mcp/", query string kept).
        for url in (f"{base}/mcp/?scale=tiny", f"{base}/mcp?scale=tiny&seed=3"):
            async with Client(url) as client:
                found = await client.call_tool("search_orders", {"status": "paid"})
                assert not found.is_error
                done = await client.call_tool(SUBMIT_TOOL, {"response": "Checked the paid orders."})
                episode_id = done.structured_content["episode_id"]
                async with httpx2.AsyncClient() as http:
                    described = (await http.get(f"{base}/episodes/{episode_id}")).json()
                assert described["status"] == "submitted" and described["steps"] == 2
                seed = manager.get(episode_id).config.seed
            assert await freed(manager)  # the session's end freed its episode
        assert seed == 3
    finally:
        stop(server, thread)
