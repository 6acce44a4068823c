"""Access control: the service token, episode capabilities, and MCP sessions owning episodes."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from supportgym.services.settings import Settings
from supportgym.tasks.service import create_service

from .conftest import SERVICE_TOKEN, TINY, bearer, create

MCP_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
}


def _every_route(c: TestClient, episode_id: str = "ep-x") -> list[tuple[str, str]]:
    out = [("POST", "/mcp/"), ("GET", "/mcp/"), ("GET", "/ui"), ("GET", "/ui/tasks/x")]
    for template, operations in c.app.openapi()["paths"].items():
        path = re.sub(r"\{[^}]+\}", "x", template.replace("{episode_id}", episode_id))
        out += [(method.upper(), path) for method in operations]
    return out


def test_with_a_token_an_unauthenticated_client_can_do_nothing(token_client: TestClient) -> None:
    c = token_client
    episode_id, _ = create(c, bearer(SERVICE_TOKEN))
    before = len(c.app.state.manager.get(episode_id).trail)
    routes = _every_route(c, episode_id)
    assert len(routes) > 40
    for method, path in routes:
        for headers in ({}, bearer("wrong-token-0123456789"), bearer("cap-made-up")):
            r = c.request(method, path, json={"name": "get_current_time"}, headers=headers)
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.json()["error"]["field"] == "authorization"
    assert len(c.app.state.manager.get(episode_id).trail) == before
    assert len(c.app.state.manager) == 1
    # The token opens everything.
    assert c.get("/episodes", headers=bearer(SERVICE_TOKEN)).json()["count"] == 1
    assert c.get("/healthz", headers=bearer(SERVICE_TOKEN)).status_code == 200


def test_binding_beyond_loopback_needs_a_token() -> None:
    with pytest.raises(ValueError, match="without a token"):
        create_service(Settings(host="0.0.0.0", warm_worlds=[]))
    create_service(Settings(host="0.0.0.0", warm_worlds=[], token=SERVICE_TOKEN))  # allowed with one
    for loopback in ("127.0.0.1", "::1", "localhost"):
        Settings(host=loopback).check_exposure()
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "supportgym.cli.serve", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 2
    assert "refusing to bind '0.0.0.0' without a token" in done.stderr and "SUPPORTGYM_TOKEN" in done.stderr


def test_one_client_cannot_see_or_touch_another_clients_episode(open_client: TestClient) -> None:
    c = open_client
    a_id, a_cap = create(c)
    b_id, b_cap = create(c)
    assert c.post(f"/episodes/{a_id}/step", json={"name": "get_current_time"}, headers=bearer(a_cap)).json()["ok"]
    manager = c.app.state.manager
    a_hash = manager.get(a_id).world_hash()
    for headers in ({}, bearer(b_cap), bearer("cap-guessed")):
        for method, path in _every_route(c, a_id):
            if f"/episodes/{a_id}" not in path:
                continue
            body = (
                {"response": "done"}
                if path.endswith("/submit")
                else {"name": "cancel_order", "arguments": {"order_id": "ORD-1"}}
            )
            r = c.request(method, path, json=body, headers=headers)
            assert r.status_code == 404, (method, path, r.status_code)
            assert r.json()["error"]["code"] == "unknown_episode"
        # Listing shows only what the caller holds.
        listed = {e["episode_id"] for e in c.get("/episodes", headers=headers).json()["episodes"]}
        assert a_id not in listed
    assert len(manager.get(a_id).trail) == 1 and manager.get(a_id).world_hash() == a_hash
    assert {e["episode_id"] for e in c.get("/episodes", headers=bearer(b_cap)).json()["episodes"]} == {b_id}
    admin = bearer(c.app.state.admin_token)
    assert {e["episode_id"] for e in c.get("/episodes", headers=admin).json()["episodes"]} == {a_id, b_id}
    # The holder can do everything, deletion included; then the capability opens nothing.
    assert c.get(f"/episodes/{a_id}/trail", headers=bearer(a_cap)).status_code == 200
    assert c.delete(f"/episodes/{a_id}", headers=bearer(a_cap)).status_code == 204
    assert c.get(f"/episodes/{a_id}", headers=bearer(a_cap)).status_code == 404


def test_with_a_token_a_capability_reaches_its_episode_only(token_client: TestClient) -> None:
    c = token_client
    assert c.post("/episodes", json=TINY).status_code == 401
    a_id, a_cap = create(c, bearer(SERVICE_TOKEN))
    b_id, _ = create(c, bearer(SERVICE_TOKEN))
    assert c.post(f"/episodes/{a_id}/step", json={"name": "get_current_time"}, headers=bearer(a_cap)).json()["ok"]
    assert c.post(f"/episodes/{b_id}/step", json={"name": "get_current_time"}, headers=bearer(a_cap)).status_code == 404
    assert [e["episode_id"] for e in c.get("/episodes", headers=bearer(a_cap)).json()["episodes"]] == [a_id]
    # An agent holding its capability cannot reach the author's view either.
    assert c.get("/ui", headers=bearer(a_cap)).status_code == 401


def _mcp_open(c: TestClient, query: str) -> tuple[int, dict[str, str], dict]:
    r = c.post(f"/mcp/?{query}", json=INITIALIZE, headers=MCP_HEADERS)
    return r.status_code, dict(r.headers), r.json()


def test_mcp_sessions_own_their_episodes_and_free_them(open_client: TestClient) -> None:
    c = open_client
    manager = c.app.state.manager
    status, headers, body = _mcp_open(c, "scale=tiny&seed=7")
    assert status == 200, body
    session = headers["mcp-session-id"]
    episode_id = re.search(r"episode (ep-[0-9a-f]+)", body["result"]["instructions"]).group(1)
    _, other_cap = create(c)
    # An HTTP client knowing the id cannot act in the MCP agent's world.
    for headers_ in ({}, bearer(other_cap)):
        r = c.post(
            f"/episodes/{episode_id}/step",
            headers=headers_,
            json={"name": "cancel_order", "arguments": {"order_id": "ORD-1"}},
        )
        assert r.status_code == 404
        assert c.delete(f"/episodes/{episode_id}", headers=headers_).status_code == 404
    assert manager.get(episode_id).steps == 0
    # The session's end frees its episode.
    assert c.delete("/mcp/", headers={**MCP_HEADERS, "mcp-session-id": session}).status_code < 300
    assert episode_id not in {e.id for e in manager.list()}


def test_mcp_sessions_end_16_times_without_filling_the_service() -> None:
    from .conftest import make_client

    with make_client(max_episodes=4) as c:
        for _ in range(16):
            status, headers, body = _mcp_open(c, "scale=tiny&seed=7")
            assert status == 200, body
            c.delete("/mcp/", headers={**MCP_HEADERS, "mcp-session-id": headers["mcp-session-id"]})
        assert len(c.app.state.manager) == 0


def test_a_failed_mcp_initialize_issues_no_session(open_client: TestClient) -> None:
    c = open_client
    for query in (
        "task_id=no-such-task-xyz",
        "scale=tiny&seed=7&max_steps=999",
        "scale=large",
        "seed=123456789&scale=tiny",
    ):
        status, headers, body = _mcp_open(c, query)
        assert status == 400, (query, status, body)
        assert "mcp-session-id" not in {k.lower() for k in headers}
        assert body["error"]["message"]
    assert len(c.app.state.manager) == 0
