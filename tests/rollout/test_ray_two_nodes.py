"""The rollout pool on a Ray cluster of two nodes, both on this machine: a head and a second node
started with two ``ray start`` commands (each with its own custom resource), stopped afterwards
whatever happens. Actors placed with ``spread=True`` land on both nodes and their groups grade
as on one node. The cluster asks for a token (Ray's default for ``ray start``): each test's
driver runs in its own process with it (tests/rollout/ray_driver.py)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from supportgym.services.launch import free_port

pytest.importorskip("ray")

pytestmark = [pytest.mark.slow, pytest.mark.ray]

RAY = str(Path(sys.executable).with_name("ray"))
DRIVER = Path(__file__).with_name("ray_driver.py")


def _ray_start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    # --block keeps `ray start` in the foreground: stopping it stops that node's processes
    # (gcs, raylet, workers) and nothing else, unlike `ray stop`, which stops every node here.
    with log.open("wb") as out:
        return subprocess.Popen(
            [RAY, "start", "--block", "--node-ip-address", "127.0.0.1", "--disable-usage-stats", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _stop(node: subprocess.Popen) -> None:
    if node.poll() is None:
        node.send_signal(signal.SIGTERM)
        try:
            node.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(node.pid, signal.SIGKILL)
            node.wait(10)


def _node_args(cpus: int, resource: str) -> list[str]:
    ports = ["--node-manager-port", str(free_port()), "--object-manager-port", str(free_port())]
    low = 20000 + secrets.randbelow(20000)
    return [
        *ports,
        "--num-cpus",
        str(cpus),
        "--resources",
        f'{{"{resource}": 1}}',
        "--object-store-memory",
        str(100 * 1024 * 1024),
        "--min-worker-port",
        str(low),
        "--max-worker-port",
        str(low + 99),
    ]


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[tuple[str, dict[str, str]]]:
    """The address of a two-node cluster (head + one node) with a token of its own, and the
    environment a driver needs to join it."""
    tmp = Path(tempfile.mkdtemp(prefix="sg-ray-"))
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}
    port = free_port()
    address = f"127.0.0.1:{port}"
    nodes: list[subprocess.Popen] = []
    try:
        head_args = ["--head", "--port", str(port), "--include-dashboard", "false", "--temp-dir", str(tmp / "t")]
        nodes.append(_ray_start([*head_args, *_node_args(1, "head_node")], env, tmp / "head.log"))
        _wait_nodes(address, env, 1, nodes[0], tmp / "head.log")
        nodes.append(_ray_start(["--address", address, *_node_args(1, "second_node")], env, tmp / "node.log"))
        _wait_nodes(address, env, 2, nodes[1], tmp / "node.log")
        yield address, env
    finally:
        for node in reversed(nodes):
            _stop(node)
        shutil.rmtree(tmp, ignore_errors=True)


def _wait_nodes(address: str, env: dict[str, str], count: int, starting: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        status = subprocess.run([RAY, "status", "--address", address], env=env, capture_output=True, text=True)
        if status.returncode == 0 and status.stdout.count(" node_") >= count:
            return
        assert starting.poll() is None, log.read_text()[-2000:]
        assert time.monotonic() < deadline, f"{count} nodes not up in 120 s: {status.stdout[-1000:]}"
        time.sleep(1)


def _drive(cluster: tuple[str, dict[str, str]], mode: str) -> dict:
    address, env = cluster
    done = subprocess.run(
        [sys.executable, str(DRIVER), address, mode], env=env, capture_output=True, text=True, timeout=400
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_spread_actors_run_on_both_nodes_and_grade_as_on_one(two_nodes: tuple[str, dict[str, str]]) -> None:
    out = _drive(two_nodes, "spread")
    assert sorted(r for rs in out["nodes"].values() for r in rs) == ["head_node", "second_node"]
    assert set(out["placed"]) == set(out["nodes"]), "the two actors should sit on the two nodes"
    assert out["rewards"] == [pytest.approx(1.1)] * 4  # the reference policy is perfect on both nodes


def test_a_custom_resource_pins_actors_to_one_node(two_nodes: tuple[str, dict[str, str]]) -> None:
    out = _drive(two_nodes, "pin")
    second = [node for node, rs in out["nodes"].items() if "second_node" in rs]
    assert out["placed"] == second * 2
