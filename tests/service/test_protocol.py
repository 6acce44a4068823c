"""The HTTP protocol: routes, error bodies and status codes, the OpenAPI document."""

from __future__ import annotations

import sqlite3
import time

import pytest

from supportgym.services.episode import SUBMIT_TOOL
from supportgym.services.tools import REGISTRY

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TINY = {"seed": 7, "scale": "tiny"}


def _create(c, **extra):
    r = c.post("/episodes", json={**TINY, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def _is_error(r, status, code):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    assert {"code", "message", "field"} <= set(body["error"])
    assert body["error"]["code"] == code, body
    return body["error"]


def test_health_and_ready(app_client):
    assert app_client.get("/healthz").json()["status"] == "ok"
    deadline = time.monotonic() + 60
    while (r := app_client.get("/readyz")).status_code != 200:
        assert r.status_code == 503 and r.json()["status"] == "warming"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert "7/tiny" in r.json()["worlds_cached"]


def test_create_step_submit_trail_changes_grade_delete(app_client):
    c = app_client
    ep = _create(c, max_steps=20)
    eid = ep["episode_id"]
    assert ep["max_steps"] == 20 and ep["task_id"] is None and ep["status"] == "running"
    # Every tool but the opt-in ones (a bare world enables none) and submit.
    assert {t["function"]["name"] for t in ep["tools"]} == {n for n, t in REGISTRY.items() if not t.opt_in} | {
        SUBMIT_TOOL
    }
    assert "advance_time" in REGISTRY
    assert ep["policy_summary"].startswith("- ")

    cust = c.post(f"/episodes/{eid}/step", json={"name": "search_customers", "arguments": {"name": "a"}}).json()
    assert cust["ok"] and cust["step"] == 1 and not cust["done"]
    customer_id = cust["observation"]["results"][0]["customer_id"]
    # A tool refusal or a bad argument is the world answering: 200 with ok=false.
    r = c.post(f"/episodes/{eid}/step", json={"name": "get_order", "arguments": {"order_id": "ORD-1"}})
    assert r.status_code == 200 and r.json()["ok"] is False
    assert r.json()["observation"]["error"]["code"] == "not_found"
    r = c.post(f"/episodes/{eid}/step", json={"name": "no_such_tool", "arguments": {}})
    assert r.status_code == 200 and r.json()["observation"]["error"]["code"] == "unknown_tool"
    r = c.post(f"/episodes/{eid}/step", json={"name": "get_order", "arguments": "{not json"})
    assert r.status_code == 200 and r.json()["observation"]["error"]["code"] == "invalid_json"
    # The per-tool route takes the arguments as its body.
    r = c.post(f"/episodes/{eid}/tools/get_customer", json={"customer_id": customer_id})
    assert r.status_code == 200 and r.json()["ok"], r.text
    r = c.post(f"/episodes/{eid}/tools/get_customer", json={"customer_id": 5, "extra": 1})
    assert r.status_code == 200 and r.json()["observation"]["error"]["code"] == "invalid_arguments"
    r = c.post(f"/episodes/{eid}/tools/get_customer", json=[1, 2])
    assert r.status_code == 200 and r.json()["observation"]["error"]["code"] == "invalid_arguments"
    r = c.post(f"/episodes/{eid}/tools/add_internal_note", json={"ticket_id": "TKT-200001", "note": "hello"})
    wrote = r.json()["ok"]

    changes = c.get(f"/episodes/{eid}/changes").json()
    if wrote:
        assert changes["tables"]["ticket_messages"]["insert"] >= 1 or changes["net_changes"]
    r = c.post(f"/episodes/{eid}/submit", json={"response": "All sorted."})
    assert r.json()["done"] and r.json()["status"] == "submitted" and r.json()["grade"] is None
    _is_error(c.post(f"/episodes/{eid}/step", json={"name": "get_customer", "arguments": {}}), 409, "episode_ended")

    trail = c.get(f"/episodes/{eid}/trail").json()
    assert [t["step"] for t in trail["trail"]] == list(range(1, 10))
    assert trail["trail"][1]["error_code"] == "not_found"
    assert trail["reply"] == "All sorted."
    g = c.get(f"/episodes/{eid}/grade").json()
    assert g["done"] and g["reward"] is None
    assert c.get(f"/episodes/{eid}").json()["steps"] == 9

    assert c.delete(f"/episodes/{eid}").status_code == 204
    _is_error(c.get(f"/episodes/{eid}"), 404, "unknown_episode")
    _is_error(c.delete(f"/episodes/{eid}"), 404, "unknown_episode")


def test_protocol_errors(app_client):
    c = app_client
    _is_error(c.post("/episodes/ep-nope/step", json={"name": "get_customer"}), 404, "unknown_episode")
    _is_error(c.get("/episodes/ep-nope/trail"), 404, "unknown_episode")
    eid = _create(c)["episode_id"]
    bad = {"content": b"{oops", "headers": {"content-type": "application/json"}}
    _is_error(c.post(f"/episodes/{eid}/step", **bad), 400, "invalid_json")
    _is_error(c.post(f"/episodes/{eid}/tools/get_customer", **bad), 400, "invalid_json")
    _is_error(c.post("/episodes", **bad), 400, "invalid_json")
    _is_error(c.post(f"/episodes/{eid}/step", json={"arguments": {}}), 422, "invalid_request")
    _is_error(c.post(f"/episodes/{eid}/step", json=[1]), 422, "invalid_request")
    err = _is_error(c.post("/episodes", json={"scale": "galactic"}), 422, "invalid_request")
    assert "galactic" in err["message"]
    _is_error(c.post("/episodes", json={"seed": 7, "bogus": 1}), 422, "invalid_request")
    _is_error(c.post("/episodes", json={"max_steps": 0}), 422, "invalid_request")
    _is_error(c.get("/nowhere"), 404, "not_found")
    # None of these took a step.
    assert c.get(f"/episodes/{eid}").json()["steps"] == 0


def test_episode_limit_answers_429(app_client):
    c = app_client  # max_episodes=4
    ids = [_create(c)["episode_id"] for _ in range(4)]
    r = c.post("/episodes", json=TINY)
    err = _is_error(r, 429, "too_many_episodes")
    assert r.headers["retry-after"] == "1" and "limit is 4" in err["message"]
    c.delete(f"/episodes/{ids[0]}")
    assert c.post("/episodes", json=TINY).status_code == 201


def test_reaper_reaps_idle_episodes(app_client):
    c = app_client
    manager = c.app.state.manager
    idle = _create(c)["episode_id"]
    busy = _create(c)["episode_id"]
    # The rule, on an explicit clock: only episodes idle longer than the TTL go.
    manager.idle_ttl_s = 60.0
    now = time.monotonic()
    manager.get(idle).last_active = now - 61
    manager.get(busy)  # reading an episode counts as activity
    manager.get(busy).last_active = now - 10
    assert manager.reap(now=now) == [idle]
    assert c.get(f"/episodes/{idle}").status_code == 404
    assert c.get(f"/episodes/{busy}").status_code == 200
    # The background reaper applies it on its own.
    manager.idle_ttl_s = 0.2
    deadline = time.monotonic() + 20
    admin = {"authorization": f"Bearer {c.app.state.admin_token}"}  # the operator sees every episode
    while busy in {e["episode_id"] for e in c.get("/episodes", headers=admin).json()["episodes"]}:
        assert time.monotonic() < deadline, "idle episode was never reaped"
        time.sleep(0.05)
    assert manager.reaped >= 2


def test_deleting_frees_the_episode(app_client):
    import gc
    import weakref

    c = app_client
    manager = c.app.state.manager
    eid = _create(c)["episode_id"]
    ref = weakref.ref(manager.get(eid))
    db = ref().db
    assert len(manager) == 1
    c.delete(f"/episodes/{eid}")
    assert len(manager) == 0
    gc.collect()
    assert ref() is None, "the deleted episode is still referenced"
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        db.conn.execute("select 1")  # its SQLite connection is closed


def test_openapi_documents_every_route_and_tool(app_client):
    spec = app_client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in [
        "/healthz",
        "/readyz",
        "/tools",
        "/episodes",
        "/episodes/{episode_id}",
        "/episodes/{episode_id}/step",
        "/episodes/{episode_id}/submit",
        "/episodes/{episode_id}/trail",
        "/episodes/{episode_id}/changes",
        "/episodes/{episode_id}/grade",
    ]:
        assert path in paths, path
    for name, tool in REGISTRY.items():
        op = paths[f"/episodes/{{episode_id}}/tools/{name}"]["post"]
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        assert schema == tool.parameters_schema()
        assert op["description"] == tool.description
    create = paths["/episodes"]["post"]
    assert "429" in create["responses"] and "201" in create["responses"]
    config = spec["components"]["schemas"]["EpisodeConfig"]["properties"]
    assert {"task_id", "seed", "scale", "max_steps", "alpha", "beta"} <= set(config)


def test_tools_listing(app_client):
    tools = app_client.get("/tools").json()["tools"]
    by_name = {t["name"]: t for t in tools}
    assert set(by_name) == set(REGISTRY) | {SUBMIT_TOOL}
    for name, tool in REGISTRY.items():
        assert by_name[name]["read_only"] == tool.annotations.read_only
        assert by_name[name]["schema"] == tool.openai_schema()
