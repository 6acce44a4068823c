"""MCP over streamable HTTP against a real uvicorn server, with the SDK's own client."""

from __future__ import annotations

import json
from typing import Any

import pytest

# MCP is the optional extra supportgym[mcp] (part of .[dev]): without it these tests cannot run.
pytest.importorskip("mcp", reason="the MCP SDK is not installed: pip install 'supportgym[mcp]'")
import httpx2  # noqa: E402  (comes with mcp)
from mcp.client import Client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402

from supportgym.db import world_hash  # noqa: E402
from supportgym.services.episode import SUBMIT_TOOL, Episode, EpisodeConfig  # noqa: E402
from supportgym.services.manager import EpisodeManager  # noqa: E402
from supportgym.services.mcp_server import TASK_HEADER, create_mcp_asgi_app  # noqa: E402
from supportgym.services.tools import REGISTRY  # noqa: E402

from .conftest import LiveServer, freed, serve_in_thread, stop  # noqa: E402
from .script import comparable_trail, play, reference  # noqa: E402

pytestmark = pytest.mark.slow


def _hash(episode: Any) -> str:
    with episode.db.session() as s:
        return world_hash(s)


def _caller(client: Client):
    async def call(name: str, args: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        result = await client.call_tool(name, args)
        payload = json.loads(result.content[0].text)
        assert result.structured_content == payload
        return not result.is_error, payload

    return call


async def test_tools_list_and_annotations(live_mcp: LiveServer) -> None:
    async with Client(f"{live_mcp.url}?scale=tiny") as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    offered = [name for name, spec in REGISTRY.items() if not spec.opt_in]
    assert set(tools) == {*offered, SUBMIT_TOOL} and len(tools) == 39  # no opt-in tool in a bare world
    assert tools["get_order"].annotations.read_only_hint is True
    assert tools["get_order"].annotations.destructive_hint is False
    assert tools["issue_refund"].annotations.destructive_hint is True
    assert tools["issue_refund"].annotations.read_only_hint is False
    for name in offered:
        spec = REGISTRY[name]
        assert tools[name].annotations.model_dump(by_alias=True, exclude_none=True) == spec.annotations.to_mcp()
        assert tools[name].input_schema == spec.parameters_schema()


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_episode_matches_in_process_run(live_mcp: LiveServer, mode: str) -> None:
    async with Client(f"{live_mcp.url}?scale=tiny&seed=7", mode=mode) as client:
        assert live_mcp.registry.episodes, "initialize creates and registers the episode"
        episode = live_mcp.registry.episodes[-1]
        assert episode.config.scale == "tiny" and episode.task_id is None
        assert episode.id in (client.instructions or "")
        info = json.loads((await client.read_resource("supportgym://episode")).contents[0].text)
        assert info["episode_id"] == episode.id and info["status"] == "running"
        log = await play(_caller(client))
        # The last call was submit_response: it ends the episode and names it.
        submitted = log[-1][3]
        assert submitted["episode_id"] == episode.id and submitted["status"] == "submitted"
        assert submitted["grade"] is None  # bare world: nothing to grade
        after = await client.call_tool("get_order", {"order_id": "ORD-999999"})
        assert after.is_error and json.loads(after.content[0].text)["error"]["code"] == "episode_ended"
        remote_hash = (await client.read_resource("supportgym://episode/world_hash")).contents[0].text

    ref = reference(log)
    try:
        assert remote_hash == _hash(episode) == _hash(ref)
        assert comparable_trail(episode) == comparable_trail(ref)
        assert episode.net_changes() == ref.net_changes() and episode.net_changes()
        assert episode.reply == ref.reply and episode.status == ref.status
    finally:
        ref.close()


async def test_error_result_shape(live_mcp: LiveServer) -> None:
    async with Client(f"{live_mcp.url}?scale=tiny") as client:
        bad = await client.call_tool("get_order", {"order_id": "ORD-999999"})
        assert bad.is_error
        body = json.loads(bad.content[0].text)
        assert body == bad.structured_content
        assert body["error"]["code"] == "not_found" and body["error"]["field"] == "order_id"
        assert set(body["error"]) >= {"code", "message", "field"}
        unknown = await client.call_tool("no_such_tool", {})
        assert unknown.is_error and unknown.structured_content["error"]["code"]
        assert bad.meta["supportgym/step"] == 1 and unknown.meta["supportgym/step"] == 2


async def test_sessions_are_separate_episodes(live_mcp: LiveServer) -> None:
    async with Client(f"{live_mcp.url}?scale=tiny") as a, Client(f"{live_mcp.url}?scale=tiny") as b:
        found = (await a.call_tool("search_orders", {"status": "paid"})).structured_content
        order_id = found["results"][0]["order_id"]
        done = await a.call_tool("cancel_order", {"order_id": order_id, "reason": "asked"})
        assert not done.is_error
        seen_by_b = (await b.call_tool("get_order", {"order_id": order_id})).structured_content
        assert seen_by_b["status"] == "paid"
        assert (
            done.meta["supportgym/episode_id"]
            != (await b.call_tool("get_order", {"order_id": order_id})).meta["supportgym/episode_id"]
        )
    assert len(live_mcp.registry.episodes) == 2


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


async def test_header_and_query_configure_the_episode() -> None:
    """The task comes from the header or the query string and reaches EpisodeConfig.task_id."""
    seen: list[EpisodeConfig] = []

    def factory(config: EpisodeConfig) -> Episode:
        seen.append(config)
        if config.task_id is not None:  # stands in for the task registry
            raise KeyError(f"unknown task {config.task_id!r}")
        return Episode(config)

    server, thread, port = serve_in_thread(create_mcp_asgi_app(factory))
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        async with httpx2.AsyncClient(headers={TASK_HEADER: "task-from-header"}) as http:
            with pytest.raises(BaseException) as info:
                async with Client(streamable_http_client(f"{url}?seed=11", http_client=http)):
                    pass
        err = _leaf(info.value)
        assert isinstance(err, MCPError), err
        assert err.error.data == {
            "code": "unknown_task",
            "message": "unknown task 'task-from-header'",
            "field": "task_id",
        }
        assert seen[-1].task_id == "task-from-header" and seen[-1].seed == 11
        with pytest.raises(BaseException) as info:
            async with Client(f"{url}?task_id=task-from-query&max_steps=5"):
                pass
        assert "task-from-query" in str(_leaf(info.value))
        assert seen[-1].task_id == "task-from-query" and seen[-1].max_steps == 5
        async with Client(f"{url}?scale=tiny&seed=3&max_steps=4") as client:
            info_text = (await client.read_resource("supportgym://episode")).contents[0].text
        assert seen[-1].task_id is None and seen[-1].scale == "tiny" and json.loads(info_text)["max_steps"] == 4
        # A bad scale is refused before any episode or session is made.
        before = len(seen)
        with pytest.raises(BaseException) as info:
            async with Client(f"{url}?scale=galactic", mode="legacy"):
                pass
        assert "galactic" in str(_leaf(info.value)), _leaf(info.value)
        assert len(seen) == before
    finally:
        stop(server, thread)


async def test_unknown_task_fails_the_handshake(live_mcp: LiveServer) -> None:
    with pytest.raises(BaseException) as info:
        async with Client(f"{live_mcp.url}?task_id=no-such-task-xyz"):
            pass
    assert isinstance(_leaf(info.value), MCPError)
    assert live_mcp.registry.episodes == []


async def test_with_episode_manager() -> None:
    """The service's EpisodeManager creates and registers the episode (readable by id while the
    session lives); the session's end frees it."""
    manager = EpisodeManager(max_episodes=4)
    server, thread, port = serve_in_thread(create_mcp_asgi_app(manager))
    try:
        async with Client(f"http://127.0.0.1:{port}/mcp?scale=tiny") as client:
            result = await client.call_tool(SUBMIT_TOOL, {"response": "Nothing to do."})
            episode_id = result.structured_content["episode_id"]
            episode = manager.get(episode_id)
            assert episode.status.value == "submitted" and episode.reply == "Nothing to do."
            assert [t.name for t in episode.trail] == [SUBMIT_TOOL]
        assert await freed(manager) and episode.closed
    finally:
        stop(server, thread)
        manager.close_all()


async def test_not_running_is_503() -> None:
    app = create_mcp_asgi_app()
    transport = httpx2.ASGITransport(app=app.state.mcp.asgi)
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as http:
        r = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert r.status_code == 503


async def test_an_opt_in_tool_is_listed_only_where_the_task_enables_it(live_mcp: LiveServer) -> None:
    async with Client(f"{live_mcp.url}?task_id=refund_settles_wait-01") as client:
        assert "advance_time" in [t.name for t in (await client.list_tools()).tools]
    async with Client(f"{live_mcp.url}?task_id=refund_within_window-01") as client:
        assert "advance_time" not in [t.name for t in (await client.list_tools()).tools]
        result = await client.call_tool("advance_time", {"days": 1})
        assert result.is_error and "tool_not_enabled" in result.content[0].text


async def test_conversational_task_offers_message_customer(live_mcp: LiveServer) -> None:
    async with Client(f"{live_mcp.url}?task_id=chat_order_status-01") as client:
        names = [t.name for t in (await client.list_tools()).tools]
        assert names[-2:] == ["message_customer", SUBMIT_TOOL]
        result = await client.call_tool("message_customer", {"message": "Hello, how can I help?"})
        payload = json.loads(result.content[0].text)
    assert not result.is_error and isinstance(payload["customer"], str) and payload["customer"]
    async with Client(f"{live_mcp.url}?scale=tiny") as client:
        assert "message_customer" not in [t.name for t in (await client.list_tools()).tools]


async def test_session_cap_refuses_a_new_session_with_a_clear_error() -> None:
    # The cap is SupportGym's own (the SDK has no such option before mcp 2.3): a session beyond it
    # gets a 503 naming the limit, and the sessions already open keep working.
    registry: list[Episode] = []
    app = create_mcp_asgi_app(on_episode_created=registry.append, max_sessions=1)
    server, thread, port = serve_in_thread(app)
    url = f"http://127.0.0.1:{port}/mcp?scale=tiny"
    try:
        async with Client(url) as first:
            assert len(registry) == 1
            body = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "0"},
                },
            }
            async with httpx2.AsyncClient() as http:
                refused = await http.post(url, json=body, headers={"Accept": "application/json, text/event-stream"})
            assert refused.status_code == 503
            data = refused.json()["error"]["data"]
            assert data["code"] == "service_busy" and "1 open" in data["message"]
            assert len(registry) == 1, "a refused session creates no episode"
            ok, _ = await _caller(first)("get_policy", {"policy_id": "POL-RETURNS"})
            assert ok
    finally:
        stop(server, thread)
        for e in registry:
            e.close()
