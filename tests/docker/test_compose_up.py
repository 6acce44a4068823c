"""``compose.yaml`` brought up for real: two replicas on their own ports, healthy, limited,
serving isolated episodes; and brought down again, pass or fail."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def _compose_command() -> list[str]:
    found = subprocess.run([str(ROOT / "scripts" / "ensure-compose")], capture_output=True, text=True, timeout=600)
    if found.returncode == 3:
        pytest.skip(f"no Compose can be installed here: {found.stderr.strip()[-300:]}")
    assert found.returncode == 0, found.stderr
    return found.stdout.split()


def _free_port_pair() -> int:
    """A port p such that p and p + 1 are both free on loopback now."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    pytest.fail("no two consecutive free loopback ports")


# The replicas bind 0.0.0.0 in their containers, so the service requires a token.
COMPOSE_TOKEN = "compose-test-token-0123456789"


@pytest.fixture
def compose_stack(docker_image):
    cmd = _compose_command()
    project = f"sgtest-{uuid.uuid4().hex[:8]}"
    first = _free_port_pair()
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "SUPPORTGYM_IMAGE": docker_image,
        "SUPPORTGYM_REPLICAS": "2",
        "SUPPORTGYM_PORT_RANGE": f"{first}-{first + 1}",
        "SUPPORTGYM_WARM_WORLDS": "7/tiny",
        "SUPPORTGYM_CPUS": "0.5",
        "SUPPORTGYM_MEMORY": "512m",
        "SUPPORTGYM_TOKEN": COMPOSE_TOKEN,
    }
    base = [*cmd, "-f", str(ROOT / "compose.yaml"), "-p", project]
    try:
        up = subprocess.run([*base, "up", "-d"], capture_output=True, text=True, timeout=180, env=env, cwd=ROOT)
        assert up.returncode == 0, up.stderr[-2000:]
        yield project, [first, first + 1]
    finally:
        subprocess.run(
            [*base, "down", "--timeout", "5"], capture_output=True, text=True, timeout=180, env=env, cwd=ROOT
        )
        _remove_project_leftovers(project)


def _remove_project_leftovers(project: str) -> None:
    import docker

    client = docker.from_env(timeout=30)
    try:
        for c in client.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"}):
            c.remove(force=True)
    finally:
        client.close()


def _containers(project: str) -> list:
    import docker

    client = docker.from_env(timeout=30)
    try:
        return client.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"})
    finally:
        client.close()


def _wait_healthy(project: str, want: int, timeout_s: float = 90) -> list:
    deadline = time.monotonic() + timeout_s
    containers: list = []
    while time.monotonic() < deadline:
        containers = _containers(project)
        states = [c.attrs["State"].get("Health", {}).get("Status") for c in containers]
        if len(containers) == want and all(s == "healthy" for s in states):
            return containers
        time.sleep(0.5)
    pytest.fail(
        f"compose replicas not healthy within {timeout_s} s: "
        f"{[(c.name, c.attrs['State'].get('Health', {}).get('Status')) for c in containers]}"
    )


def test_compose_up_serves_isolated_episodes_on_distinct_ports(compose_stack):
    project, ports = compose_stack
    containers = _wait_healthy(project, want=2)

    published = sorted(
        int(binding["HostPort"])
        for c in containers
        for binding in (c.attrs["NetworkSettings"]["Ports"].get("8000/tcp") or [])
    )
    assert published == ports
    for c in containers:
        host = c.attrs["HostConfig"]
        assert host["NanoCpus"] == 500_000_000 and host["Memory"] == 512 * 1024 * 1024
        assert host["ReadonlyRootfs"] is True
        assert c.attrs["Config"]["Labels"]["org.supportgym.compose"] == "true"

    # The same write in one replica only: the other one's world is untouched.
    hashes = []
    for port in ports:
        auth = {"authorization": f"Bearer {COMPOSE_TOKEN}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, headers=auth) as client:
            assert client.get("/readyz").json()["status"] == "ready"
            ep = client.post("/episodes", json={"seed": 7, "scale": "tiny"}).json()["episode_id"]
            if port == ports[0]:
                found = client.post(
                    f"/episodes/{ep}/step", json={"name": "search_tickets", "arguments": {"page_size": 1}}
                )
                ticket = found.json()["observation"]["results"][0]["ticket_id"]
                noted = client.post(
                    f"/episodes/{ep}/step",
                    json={"name": "add_internal_note", "arguments": {"ticket_id": ticket, "note": "replica one"}},
                ).json()
                assert noted["ok"] is True
            hashes.append(client.get(f"/episodes/{ep}/world_hash").json()["world_hash"])
            assert client.delete(f"/episodes/{ep}").status_code == 204
    assert hashes[0] != hashes[1]
