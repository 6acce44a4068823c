"""Docker tests: they build the image with scripts/build-image and run real containers.

Every container the tests start carries ``org.supportgym.managed=true``; a session finalizer and an
``atexit`` hook remove them all, pass or fail, and the finalizer fails the run if any is left.
The parts ``docker`` (a running engine) and ``base-image`` are made by ``make parts``, never
here; a missing one fails the test with its name (skips it in the fast tier: tests/parts.py).
The project image itself is built here from the source tree (a cached layer on the base image).
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.parts import require_part

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 1800


def _labelled_containers() -> list:
    import docker

    client = docker.from_env(timeout=30)
    try:
        return client.containers.list(all=True, filters={"label": ["org.supportgym.managed=true"]})
    finally:
        client.close()


def _remove_all() -> int:
    from supportgym.env.docker_pool import ContainerPool, PoolError

    try:
        return ContainerPool.cleanup()
    except PoolError as exc:  # no engine: nothing to remove
        print(f"docker clean-up skipped: {exc}", file=sys.stderr)
        return 0


@pytest.fixture(scope="session")
def docker_image() -> str:
    """The image tag, built (or found cached) by scripts/build-image."""
    if os.environ.get("SUPPORTGYM_SKIP_DOCKER"):
        pytest.skip("SUPPORTGYM_SKIP_DOCKER is set")
    require_part("docker")
    require_part("base-image")
    try:
        proc = subprocess.run(
            [str(ROOT / "scripts" / "build-image")],
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"scripts/build-image took more than {BUILD_TIMEOUT_S} s")
    if proc.returncode != 0:
        pytest.fail(f"scripts/build-image exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    tag = proc.stdout.strip().splitlines()[-1]
    atexit.register(_remove_all)  # even if pytest itself is killed politely
    yield tag
    removed = _remove_all()
    left = _labelled_containers()
    assert not left, f"labelled containers left after clean-up: {[c.name for c in left]}"
    if removed:
        print(f"\n[docker tests] removed {removed} leftover container(s)", file=sys.stderr)


@pytest.fixture
def make_pool(docker_image):
    """``make_pool(**kwargs)`` -> a started ContainerPool; every pool is closed after the test."""
    from supportgym.env.docker_pool import ContainerPool

    pools = []

    def make(**kwargs):
        kwargs.setdefault("image", docker_image)
        kwargs.setdefault("warm_worlds", ["7/tiny"])
        kwargs.setdefault("start_timeout", 90.0)
        pool = ContainerPool(**kwargs)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()
        left = ContainerPool.cleanup(pool_id=pool.pool_id)
        assert left == 0, f"pool {pool.pool_id} left {left} container(s) after close()"
