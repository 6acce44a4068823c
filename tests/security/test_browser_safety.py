"""A web page on the user's machine cannot drive a local service: Host, Origin, content type, CORS."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .conftest import bearer, create, make_client

STEP = {"name": "get_current_time"}


@pytest.mark.parametrize("path", ["/episodes", "/healthz", "/mcp/", "/ui", "/openapi.json"])
def test_a_forged_host_is_not_served(open_client: TestClient, path: str) -> None:
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.evil.example"):
        r = open_client.get(path, headers={"host": host})
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_host", (host, path)
    assert open_client.get("/healthz", headers={"host": "127.0.0.1:8000"}).status_code == 200
    assert open_client.get("/healthz", headers={"host": "localhost"}).status_code == 200


def test_configured_hosts_are_served() -> None:
    with make_client(allowed_hosts=["gym.internal"]) as c:
        assert c.get("/healthz", headers={"host": "gym.internal:9000"}).status_code == 200
        assert c.get("/healthz", headers={"host": "127.0.0.1"}).status_code == 400


def test_a_cross_site_request_changes_nothing(open_client: TestClient) -> None:
    c = open_client
    episode_id, cap = create(c)
    episode = c.app.state.manager.get(episode_id)
    for origin in ("http://evil.example", "null", "http://127.0.0.1.evil.example"):
        h = {"origin": origin, **bearer(cap)}
        r = c.post(f"/episodes/{episode_id}/step", json=STEP, headers=h)
        assert r.status_code == 403 and r.json()["error"]["code"] == "bad_origin"
        assert c.post("/episodes", json={"seed": 7, "scale": "tiny"}, headers={"origin": origin}).status_code == 403
        assert c.post("/mcp/", json={}, headers={"origin": origin}).status_code == 403
    assert episode.steps == 0 and len(c.app.state.manager) == 1
    # Same-origin pages (the /ui debugger) pass.
    same = {"origin": "http://testserver", **bearer(cap)}
    assert c.post(f"/episodes/{episode_id}/step", json=STEP, headers=same).json()["ok"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_json_routes_refuse_other_content_types(open_client: TestClient, content_type: str) -> None:
    c = open_client
    episode_id, cap = create(c)
    for path in (f"/episodes/{episode_id}/step", f"/episodes/{episode_id}/tools/get_current_time", "/episodes"):
        r = c.post(path, content=b'{"name": "get_current_time"}', headers={"content-type": content_type, **bearer(cap)})
        assert r.status_code == 415 and r.json()["error"]["field"] == "content-type", path
    assert c.app.state.manager.get(episode_id).steps == 0 and len(c.app.state.manager) == 1


def test_cors_is_off_unless_configured(open_client: TestClient) -> None:
    pre = {"origin": "http://app.example", "access-control-request-method": "POST"}
    r = open_client.options("/episodes", headers=pre)
    assert "access-control-allow-origin" not in r.headers
    with make_client(cors_origins=["http://app.example"]) as c:
        r = c.options("/episodes", headers=pre)
        assert r.headers["access-control-allow-origin"] == "http://app.example"
        assert (
            c.post("/episodes", json={"seed": 7, "scale": "tiny"}, headers={"origin": "http://app.example"}).status_code
            == 201
        )


def test_the_admin_cookie_is_strict_and_a_wrong_token_is_refused(open_client: TestClient) -> None:
    c = open_client
    assert c.get("/ui?token=not-the-token").status_code == 401
    login = c.get(f"/ui?token={c.app.state.admin_token}&family=x", follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"] == "/ui?family=x"
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
