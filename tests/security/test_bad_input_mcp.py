"""Bad tool calls over MCP: structured answers (or protocol errors), never a crash, and the
trail keeps none of the junk."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .test_access import INITIALIZE, MCP_HEADERS


def _deep(levels: int) -> dict:
    root: dict = {}
    cur = root
    for _ in range(levels):
        cur["a"] = {}
        cur = cur["a"]
    return root


def _call(c: TestClient, headers: dict, n: int, arguments: object) -> dict:
    r = c.post(
        "/mcp/",
        headers=headers,
        json={
            "jsonrpc": "2.0",
            "id": n,
            "method": "tools/call",
            "params": {"name": "search_customers", "arguments": arguments},
        },
    )
    assert r.status_code == 200, r.text[:300]
    return r.json()["result"]


def test_deep_huge_and_oversized_mcp_calls(open_client: TestClient) -> None:
    c = open_client
    r = c.post("/mcp/?scale=tiny&seed=7", json=INITIALIZE, headers=MCP_HEADERS)
    headers = {**MCP_HEADERS, "mcp-session-id": r.headers["mcp-session-id"], "mcp-protocol-version": "2025-06-18"}
    c.post("/mcp/", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    too_deep = _call(c, headers, 2, _deep(100))
    assert too_deep["isError"] and too_deep["structuredContent"]["error"]["code"] == "arguments_too_deep"
    too_big = _call(c, headers, 3, {"name": "x" * 1_500_000})
    assert too_big["isError"] and too_big["structuredContent"]["error"]["code"] == "arguments_too_large"
    # Past what any JSON parser should recurse into, or past the body limit: protocol errors.
    body = (
        '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"x","arguments":'
        + '{"a":' * 2000
        + "1"
        + "}" * 2002
    )
    assert c.post("/mcp/", content=body, headers=headers).status_code == 400
    huge = c.post(
        "/mcp/",
        headers=headers,
        json={
            "jsonrpc": "2.0",
            "id": 5,
            "method": "tools/call",
            "params": {"name": "x", "arguments": {"n": "x" * 3_000_000}},
        },
    )
    assert huge.status_code == 413
    (episode,) = c.app.state.manager.list()
    assert [t.error_code for t in episode.trail] == ["arguments_too_deep", "arguments_too_large"]
    assert all(t.arguments["truncated"] for t in episode.trail)
