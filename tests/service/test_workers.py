"""``supportgym serve --workers 2``: a real front and two real worker processes on loopback.

Episodes spread over both workers, every request for one reaches its owner, forged ids are
refused like unknown ones, the guard answers as with one process, a dead worker is a 503 for
its episodes (not a hang), and stopping or killing the front leaves no process behind.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from supportgym.services.launch import ServerProcess, running_server, start_server
from supportgym.services.manager import episode_id_worker

SERVICE_TOKEN = "test-service-token-0123456789"
TASK = {"task_id": "refund_within_window-01"}
STEP = {"name": "get_order", "arguments": {"order_id": "ORD-500023"}}


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pids: list[int], timeout: float = 20.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [p for p in pids if _alive(p)]
        if not left:
            return []
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


def _start() -> ServerProcess:
    return start_server(warm="7/tiny", max_episodes=8, token=SERVICE_TOKEN, workers=2)


@pytest.fixture(scope="module")
def front() -> Iterator[ServerProcess]:
    with running_server(warm="7/tiny", max_episodes=8, token=SERVICE_TOKEN, workers=2) as srv:
        yield srv


@pytest.fixture
def client(front: ServerProcess) -> Iterator[httpx.Client]:
    headers = {"authorization": f"Bearer {SERVICE_TOKEN}"}
    with httpx.Client(base_url=front.url, headers=headers, timeout=30) as c:
        yield c
        for e in c.get("/episodes").json()["episodes"]:
            c.delete(f"/episodes/{e['episode_id']}")


def _create(c: httpx.Client) -> dict:
    r = c.post("/episodes", json=TASK)
    assert r.status_code == 201, r.text
    return r.json()


def test_episodes_land_on_both_workers_and_each_request_reaches_the_owner(client: httpx.Client) -> None:
    created = [_create(client) for _ in range(4)]
    owners = [episode_id_worker(e["episode_id"]) for e in created]
    assert sorted(owners) == [0, 0, 1, 1]
    listed = client.get("/episodes").json()
    assert sorted(e["episode_id"] for e in listed["episodes"]) == sorted(e["episode_id"] for e in created)
    assert listed["max_episodes"] == 8
    for e in created:
        eid = e["episode_id"]
        step = client.post(f"/episodes/{eid}/step", json=STEP)
        assert step.status_code == 200 and step.json()["step"] == 1, step.text
        assert client.get(f"/episodes/{eid}").json()["steps"] == 1
        assert client.get(f"/episodes/{eid}/grade").status_code == 200
        assert client.delete(f"/episodes/{eid}").status_code == 204
        gone = client.post(f"/episodes/{eid}/step", json=STEP)
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "unknown_episode"


def test_an_episode_capability_works_through_the_front(front: ServerProcess, client: httpx.Client) -> None:
    created = [_create(client) for _ in range(2)]
    for e in created:
        own = {"authorization": f"Bearer {e['episode_token']}"}
        r = httpx.post(f"{front.url}/episodes/{e['episode_id']}/step", json=STEP, headers=own)
        assert r.status_code == 200, r.text
        listed = httpx.get(f"{front.url}/episodes", headers=own).json()
        assert [x["episode_id"] for x in listed["episodes"]] == [e["episode_id"]]
    # One episode's capability does not open the other's, whichever worker holds it.
    other = {"authorization": f"Bearer {created[0]['episode_token']}"}
    r = httpx.post(f"{front.url}/episodes/{created[1]['episode_id']}/step", json=STEP, headers=other)
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_episode"


def test_ids_naming_another_or_no_worker_are_refused_as_unknown(client: httpx.Client) -> None:
    eid = _create(client)["episode_id"]
    owner = episode_id_worker(eid)
    assert owner is not None
    moved = f"ep-{1 - owner:02x}{eid[5:]}"  # the same id, tagged with the other worker
    beyond = f"ep-7f{eid[5:]}"  # a worker this front does not have
    for forged in (moved, beyond):
        r = client.post(f"/episodes/{forged}/step", json=STEP)
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_episode", r.text
    assert client.post(f"/episodes/{eid}/step", json=STEP).status_code == 200


def test_the_guard_answers_as_with_one_process(front: ServerProcess, client: httpx.Client) -> None:
    assert httpx.get(f"{front.url}/episodes").json()["error"]["code"] == "unauthorized"
    bad_host = client.get("/healthz", headers={"host": "evil.example"})
    assert bad_host.status_code == 400 and bad_host.json()["error"]["code"] == "bad_host"
    origin = client.post("/episodes", json=TASK, headers={"origin": "https://evil.example"})
    assert origin.status_code == 403 and origin.json()["error"]["code"] == "bad_origin"
    text = client.post("/episodes", content=b"{}", headers={"content-type": "text/plain"})
    assert text.status_code == 415
    big = client.post("/episodes", content=b" " * 2_000_001, headers={"content-type": "application/json"})
    assert big.status_code == 413 and big.json()["error"]["code"] == "body_too_large"
    bad = client.post("/episodes", json={"task_id": "nope"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_task"
    assert client.get("/", headers={"accept": "application/json"}).json()["name"] == "SupportGym"
    assert client.get("/docs").status_code == 200
    assert client.get("/ui/").status_code == 200
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["max_episodes"] == 8


def test_a_dead_worker_is_a_503_for_its_episodes_not_a_hang() -> None:
    server = _start()
    try:
        headers = {"authorization": f"Bearer {SERVICE_TOKEN}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as c:
            created = {episode_id_worker(e["episode_id"]): e["episode_id"] for e in (_create(c), _create(c))}
            assert set(created) == {0, 1}
            workers = _children(server.pid)
            assert len(workers) == 2
            # Worker 1 is the one whose socket is w1.sock: find it by its command line.
            victim = next(p for p in workers if b"w1.sock" in Path(f"/proc/{p}/cmdline").read_bytes())
            os.kill(victim, signal.SIGKILL)
            assert _wait_gone([victim]) == []
            r = c.post(f"/episodes/{created[1]}/step", json=STEP)
            assert r.status_code == 503
            assert (
                r.json()["error"]["code"] == "worker_unavailable" and "worker 1" in r.json()["error"]["message"].lower()
            )
            # The other worker's episodes go on; new episodes go to the living worker.
            assert c.post(f"/episodes/{created[0]}/step", json=STEP).status_code == 200
            assert episode_id_worker(_create(c)["episode_id"]) == 0
            assert episode_id_worker(_create(c)["episode_id"]) == 0
    finally:
        server.stop()
        server.kill()


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_stopping_or_killing_the_front_leaves_no_worker(how: str) -> None:
    server = _start()
    try:
        workers = _children(server.pid)
        assert len(workers) == 2 and all(_alive(p) for p in workers)
        if how == "stop":
            server.stop()  # SIGINT: uvicorn's graceful stop, which stops the workers
        else:
            server.kill()  # SIGKILL: no cleanup runs; the kernel signals the workers
        assert _wait_gone(workers) == []
    finally:
        server.kill()
