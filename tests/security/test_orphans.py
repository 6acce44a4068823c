"""No orphans: containers whose driver was SIGKILLed are removed by the next pool and by
``supportgym pool cleanup --orphans``; containers of a live driver are left alone.

Real Docker engine and containers (the lead's base image running ``sleep``: these tests need no
SupportGym image). Skips, naming the part, when the engine or the base image is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from supportgym.env.docker_owner import HEARTBEAT_LABEL, OWNER_LABEL, owner_gone, process_start, this_owner
from supportgym.env.docker_pool import MANAGED_LABEL, POOL_LABEL, ContainerPool, PoolError
from tests.parts import require_part

pytestmark = pytest.mark.docker

BASE_IMAGE = os.environ.get("SUPPORTGYM_BASE_IMAGE_TAG", "supportgym-base:bookworm")


@pytest.fixture
def engine() -> Iterator[object]:
    import docker

    # A missing engine or base image skips (fast tier) or fails, naming the part; anything
    # else that goes wrong here is a failure.
    require_part("docker")
    require_part("base-image")
    client = docker.from_env(timeout=30)
    client.images.get(BASE_IMAGE)
    yield client
    client.close()


def _dead_owner() -> str:
    """The owner string of a real process that was then SIGKILLed (as a crashed driver)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = process_start(child.pid)
        assert started is not None
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    return f"{socket.gethostname()}/{child.pid}/{started}"


def _run(client: object, pool_id: str, owner: str) -> object:
    return client.containers.run(  # type: ignore[attr-defined]
        BASE_IMAGE,
        ["sleep", "300"],
        detach=True,
        name=f"sg-orphan-test-{pool_id}",
        labels={
            MANAGED_LABEL: "true",
            POOL_LABEL: pool_id,
            OWNER_LABEL: owner,
            HEARTBEAT_LABEL: f"/nonexistent/{pool_id}.alive",
        },
    )


def _ids(client: object, pool_id: str) -> list[str]:
    found = client.containers.list(all=True, filters={"label": [f"{POOL_LABEL}={pool_id}"]})  # type: ignore[attr-defined]
    return [c.id for c in found]


@pytest.fixture
def two_containers(engine: object) -> Iterator[tuple[str, str]]:
    suffix = os.urandom(4).hex()
    orphan_pool, live_pool = f"orphan{suffix}", f"live{suffix}"
    made = [_run(engine, orphan_pool, _dead_owner()), _run(engine, live_pool, this_owner())]
    try:
        yield orphan_pool, live_pool
    finally:
        for c in made:  # only what this test made: other runs share the engine
            with contextlib.suppress(Exception):  # already removed by the code under test
                c.remove(force=True)


def test_owner_labels_tell_dead_from_live() -> None:
    assert not owner_gone({OWNER_LABEL: this_owner()})
    assert owner_gone({OWNER_LABEL: _dead_owner()})
    host, pid, _ = this_owner().split("/")
    assert owner_gone({OWNER_LABEL: f"{host}/{pid}/1"})  # the pid was reused by another process
    assert not owner_gone({OWNER_LABEL: "another-host/1/1"})  # unknown: never removed on a guess
    assert not owner_gone({})


def test_pool_cleanup_orphans_removes_only_dead_owners(engine: object, two_containers: tuple[str, str]) -> None:
    orphan_pool, live_pool = two_containers
    done = subprocess.run(
        [sys.executable, "-m", "supportgym.cli.app", "pool", "cleanup", "--orphans", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "removed" in done.stdout, done.stderr  # (the command exits with the count removed)
    assert json.loads(done.stdout)["removed"] >= 1
    assert _ids(engine, orphan_pool) == [] and len(_ids(engine, live_pool)) == 1


def test_a_new_pool_removes_orphans_first(engine: object, two_containers: tuple[str, str]) -> None:
    orphan_pool, live_pool = two_containers
    # A pool on an image that never answers /readyz: it fails to start, but only after its
    # orphan clean-up, which is what is tested here.
    with pytest.raises(PoolError):
        ContainerPool(BASE_IMAGE, size=1, command=["sleep", "30"], start_timeout=1, max_start_attempts=1, client=engine)
    assert _ids(engine, orphan_pool) == [] and len(_ids(engine, live_pool)) == 1
