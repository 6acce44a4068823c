"""Upstream endpoints that hang or fail: typed faults within the deadline, nothing leaked.

The "black hole" is a real loopback socket that accepts connections and never answers, the way
a dropped route or a stuck proxy behaves."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from supportgym.services import upstream
from supportgym.services.redact import redact_secrets
from supportgym.tasks import open_episode

from .conftest import bearer, create, make_client

CONVERSATION_TASK = "chat_address_change_verify-01"
JUDGED_TASK = "address_change_before_shipment-01"
PASSWORD = "hunter2-secret"
API_KEY = "sk-test-0123456789abcdefghij"
STEP_DEADLINE_S = 2.5  # the upstream deadline is 80% of it: 2.0 s


@pytest.fixture
def black_hole() -> Iterator[str]:
    """An OpenAI-style base URL (with credentials in it) whose server never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)  # read nothing, answer nothing
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        yield f"http://admin:{PASSWORD}@127.0.0.1:{server.getsockname()[1]}/v1"
    finally:
        stop.set()
        t.join(5)
        for conn in held:
            conn.close()
        server.close()


@pytest.fixture
def deadline_client() -> Iterator[TestClient]:
    with make_client(step_deadline_s=STEP_DEADLINE_S) as c:
        yield c
    upstream.set_upstream_deadline(upstream.DEFAULT_DEADLINE_S)


def _assert_clean(text: str, port_url: str) -> None:
    for leak in (PASSWORD, API_KEY, port_url.split("@")[1], "admin:"):
        assert leak not in text


def test_a_black_holed_customer_is_customer_unavailable_within_the_deadline(
    deadline_client: TestClient, black_hole: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPPORTGYM_CUSTOMER_BASE_URL", black_hole)
    monkeypatch.setenv("SUPPORTGYM_CUSTOMER_API_KEY", API_KEY)
    c = deadline_client
    episode_id, cap = create(c, task_id=CONVERSATION_TASK, customer="llm")
    start = time.monotonic()
    r = c.post(
        f"/episodes/{episode_id}/step",
        headers=bearer(cap),
        json={"name": "message_customer", "arguments": {"message": "Hello, how can I help?"}},
    )
    elapsed = time.monotonic() - start
    assert r.status_code == 200 and elapsed < STEP_DEADLINE_S
    error = r.json()["observation"]["error"]
    assert error["code"] == "customer_unavailable" and error["message"] == upstream.MESSAGES["customer_unavailable"]
    _assert_clean(r.text, black_hole)
    # The lock was released: the episode answers at once.
    start = time.monotonic()
    assert c.post(f"/episodes/{episode_id}/step", headers=bearer(cap), json={"name": "get_current_time"}).json()["ok"]
    assert time.monotonic() - start < 1.0


def test_a_black_holed_judge_is_judge_unavailable_within_the_deadline(
    deadline_client: TestClient, black_hole: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPPORTGYM_JUDGE_MODEL", "judge-model")
    monkeypatch.setenv("SUPPORTGYM_JUDGE_BASE_URL", black_hole)
    monkeypatch.setenv("SUPPORTGYM_JUDGE_API_KEY", API_KEY)
    c = deadline_client
    episode_id, cap = create(c, task_id=JUDGED_TASK, judge=True)
    start = time.monotonic()
    r = c.post(f"/episodes/{episode_id}/submit", headers=bearer(cap), json={"response": "Done."})
    elapsed = time.monotonic() - start
    assert elapsed < STEP_DEADLINE_S
    assert r.status_code == 503 and r.json()["error"]["code"] == "judge_unavailable"
    assert r.json()["error"]["message"] == upstream.MESSAGES["judge_unavailable"]
    _assert_clean(r.text, black_hole)
    start = time.monotonic()
    summary = c.get(f"/episodes/{episode_id}", headers=bearer(cap))
    assert summary.json()["status"] == "submitted" and time.monotonic() - start < 1.0


def test_judge_true_without_a_judge_is_refused_at_create(
    open_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUPPORTGYM_JUDGE_MODEL", raising=False)
    r = open_client.post("/episodes", json={"task_id": JUDGED_TASK, "judge": True})
    assert r.status_code == 400 and r.json()["error"] == {
        "code": "judge_not_configured",
        "field": "judge",
        "message": r.json()["error"]["message"],
    }
    assert len(open_client.app.state.manager) == 0
    # In process too: at creation, not at submit.
    from supportgym.services.episode import EpisodeConfig

    with pytest.raises(ValueError, match="judge=true"):
        open_episode(EpisodeConfig(task_id=JUDGED_TASK, judge=True))


def test_a_failing_customer_endpoint_is_logged_redacted_not_shown(
    open_client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens: connection refused
    url = f"http://admin:{PASSWORD}@127.0.0.1:{port}/v1"
    monkeypatch.setenv("SUPPORTGYM_CUSTOMER_BASE_URL", url)
    monkeypatch.setenv("SUPPORTGYM_CUSTOMER_API_KEY", API_KEY)
    c = open_client
    episode_id, cap = create(c, task_id=CONVERSATION_TASK, customer="llm")
    with caplog.at_level(logging.WARNING, logger="supportgym.upstream"):
        r = c.post(
            f"/episodes/{episode_id}/step",
            headers=bearer(cap),
            json={"name": "message_customer", "arguments": {"message": "Hello?"}},
        )
    assert r.json()["observation"]["error"]["code"] == "customer_unavailable"
    _assert_clean(r.text, url)
    logged = "\n".join(rec.getMessage() for rec in caplog.records if rec.name == "supportgym.upstream")
    assert "customer_unavailable" in logged and PASSWORD not in logged


def test_redaction_of_credentials() -> None:
    text = (
        f"POST http://user:{PASSWORD}@llm.example/v1 failed; Authorization: Bearer abc.def-ghi; "
        f"api_key={API_KEY} key {API_KEY} token: 'tok-123456'"
    )
    out = redact_secrets(text)
    for leak in (PASSWORD, "abc.def-ghi", API_KEY, "tok-123456", "user:"):
        assert leak not in out
    assert "http://[redacted]@llm.example/v1" in out
