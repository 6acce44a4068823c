"""The world service in real containers: equality with in-process runs, recovery, concurrency."""

from __future__ import annotations

import json
import threading
import time

import pytest

from supportgym.env.docker_pool import ContainerLost, ContainerPool, DockerTransport
from supportgym.env.errors import EnvironmentFault, ServerUnavailable
from supportgym.env.support_env import SupportEnv

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(600)]

BARE_TINY = {"seed": 7, "scale": "tiny"}


def run_script(env: SupportEnv, seed: int = 0) -> dict:
    """A fixed, seeded sequence of actions: reads, writes, an agent error, a malformed action and
    the final reply. Ids come from earlier observations, so the script fits any seeded world."""
    obs0, info0 = env.reset(seed=seed, options=BARE_TINY)
    steps = []

    def act(action):
        obs, reward, terminated, truncated, info = env.step(action)
        info = {k: v for k, v in info.items() if k != "transport"}
        steps.append((obs, reward, terminated, truncated, info))
        return json.loads(obs)

    act({"name": "get_current_time", "arguments": {}})
    tickets = act({"name": "search_tickets", "arguments": {"page_size": 3, "status": "open"}})["results"]
    ticket = tickets[0]
    act({"name": "get_ticket", "arguments": {"ticket_id": ticket["ticket_id"]}})
    act({"name": "get_customer", "arguments": {"customer_id": ticket["customer_id"]}})
    act(
        {"name": "add_internal_note", "arguments": {"ticket_id": ticket["ticket_id"], "note": "checked in a container"}}
    )
    act({"name": "tag_ticket", "arguments": {"ticket_id": ticket["ticket_id"], "add": ["docker-test"]}})
    act({"name": "update_ticket_status", "arguments": {"ticket_id": ticket["ticket_id"], "status": "pending"}})
    act({"name": "get_customer", "arguments": {"customer_id": "CUS-00000"}})  # an agent error
    act("this is not a tool call")  # a malformed action
    t = env.transport
    changes = t.episode.net_changes() if hasattr(t, "episode") else t.get("changes")["net_changes"]
    act({"name": "submit_response", "arguments": {"response": "I have updated your ticket."}})
    return {
        "reset": (obs0, {k: v for k, v in info0.items() if k not in ("episode_id", "transport")}),
        "steps": steps,
        "changes": json.loads(json.dumps(changes, default=str)),
    }


def test_container_episode_equals_in_process(make_pool):
    pool = make_pool(size=1)
    local = SupportEnv(world_scale="tiny")
    remote = SupportEnv(transport="docker", pool=pool, world_scale="tiny")
    try:
        a = run_script(local)
        b = run_script(remote)
        assert remote.transport.name == "docker"
        assert a["reset"] == b["reset"]
        assert len(a["steps"]) == len(b["steps"]) == 10
        for i, (x, y) in enumerate(zip(a["steps"], b["steps"], strict=True)):
            assert x == y, f"step {i + 1} differs"
        assert a["changes"] == b["changes"] and a["changes"], "the world changed differently"
        # The container is reused across episodes (the service's own reset), not restarted.
        first = pool.containers()[0].id
        c = run_script(remote)
        assert c["steps"] == b["steps"]
        assert [x.id for x in pool.containers()] == [first]
        assert pool.containers()[0].episodes == 2
    finally:
        local.close()
        remote.close()


def test_killed_container_fails_the_episode_and_the_pool_recovers(make_pool):
    pool = make_pool(size=1, check_interval=0.5)
    env = SupportEnv(transport="docker", pool=pool, world_scale="tiny")
    try:
        env.reset(options=BARE_TINY)
        env.step({"name": "get_current_time", "arguments": {}})
        victim = pool.containers()[0]
        victim.container.kill()
        with pytest.raises(ContainerLost) as err:
            env.step({"name": "get_current_time", "arguments": {}})
        assert isinstance(err.value, ServerUnavailable) and isinstance(err.value, EnvironmentFault)
        assert "died or stopped answering" in str(err.value)
        # The next episode gets a healthy, new container, without the caller doing anything.
        t0 = time.monotonic()
        obs, info = env.reset(options=BARE_TINY)
        recovered_s = time.monotonic() - t0
        _, _, _, _, info = env.step({"name": "get_current_time", "arguments": {}})
        assert info["ok"]
        assert pool.replacements == 1
        (new,) = pool.containers()
        assert new.id != victim.id and new.state == "ready"
        assert recovered_s < 60
        # The dead container is gone from the engine.
        ids = {
            c.id
            for c in pool.client.containers.list(all=True, filters={"label": f"org.supportgym.pool={pool.pool_id}"})
        }
        assert victim.id not in ids
    finally:
        env.close()


def test_container_that_died_between_episodes_is_replaced_on_acquire(make_pool):
    pool = make_pool(size=2, check_interval=0.0)
    a, b = pool.containers()
    a.container.kill()
    seen = set()
    for _ in range(4):  # every episode lands on a healthy container
        env = SupportEnv(transport="docker", pool=pool, world_scale="tiny")
        env.reset(options=BARE_TINY)
        assert env.step({"name": "get_current_time", "arguments": {}})[4]["ok"]
        seen.add(env.transport.container.id)
        env.close()
    assert a.id not in seen
    assert pool.wait_ready(60)
    assert pool.replacements >= 1


def test_unresponsive_container_times_out_and_is_replaced(make_pool):
    pool = make_pool(size=1, http_timeout=2.0)
    env = SupportEnv(transport="docker", pool=pool, world_scale="tiny", timeout=2.0)
    try:
        env.reset(options=BARE_TINY)
        victim = pool.containers()[0]
        victim.container.pause()  # alive, but answers nothing
        t0 = time.monotonic()
        with pytest.raises(ContainerLost):
            env.step({"name": "get_current_time", "arguments": {}})
        assert time.monotonic() - t0 < 15, "the step did not time out"
        env.reset(options=BARE_TINY)
        assert env.step({"name": "get_current_time", "arguments": {}})[4]["ok"]
        assert pool.containers()[0].id != victim.id
    finally:
        env.close()


def test_sixteen_concurrent_episodes_over_four_containers(make_pool):
    pool = make_pool(size=4, slots_per_container=4)
    n = 16
    results: list = [None] * n
    errors: list = []
    barrier = threading.Barrier(n)
    peak = {"busy": 0}

    def worker(i: int) -> None:
        env = SupportEnv(transport="docker", pool=pool, world_scale="tiny")
        try:
            barrier.wait(timeout=60)
            results[i] = run_script(env)
            peak["busy"] = max(peak["busy"], sum(c.busy for c in pool.containers()))
        except Exception as exc:  # noqa: BLE001 - any failure of a worker thread is reported below
            errors.append((i, exc))
        finally:
            env.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors
    assert all(r is not None for r in results)
    # Same actions, same world: every episode saw exactly the same thing.
    assert all(r == results[0] for r in results)
    per_container = sorted(c.episodes for c in pool.containers())
    assert per_container == [4, 4, 4, 4], per_container
    assert all(c.busy == 0 for c in pool.containers())


def test_shortcut_env_owns_its_pool(docker_image):
    from supportgym.env.support_env import docker_env

    env = docker_env(image=docker_image, world_scale="tiny", pool_kwargs={"warm_worlds": ["7/tiny"]})
    pool_id = env.transport.pool.pool_id
    try:
        env.reset(options=BARE_TINY)
        assert env.step({"name": "get_current_time", "arguments": {}})[4]["transport"] == "docker"
    finally:
        env.close()
    assert ContainerPool.cleanup(pool_id=pool_id) == 0


def test_cleanup_removes_leftovers_of_a_crashed_run(docker_image):
    # A pool that is never closed, as after a crash: cleanup() finds it by its labels.
    pool = ContainerPool(docker_image, size=2, warm_worlds=["7/tiny"])
    ids = {c.id for c in pool.containers()}
    assert len(ids) == 2
    stopped = pool.containers()[0].container
    stopped.stop(timeout=5)  # stopped containers are leftovers too
    from supportgym.cli.pool import pool_cleanup

    removed = pool_cleanup(pool_id=pool.pool_id, json_out=False, orphans=False)
    assert removed == 2
    assert pool.client.containers.list(all=True, filters={"label": f"org.supportgym.pool={pool.pool_id}"}) == []
    pool.close()  # nothing left to do, and no error


def test_pool_errors_are_clear(docker_image):
    from supportgym.env.docker_pool import PoolError

    with pytest.raises(PoolError, match="scripts/build-image"):
        ContainerPool("supportgym:does-not-exist", size=1)
    pool = ContainerPool(docker_image, size=1, warm_worlds=["7/tiny"], slots_per_container=1)
    try:
        slot = pool.acquire()
        with pytest.raises(PoolError, match="no free slot"):
            pool.acquire(timeout=0.3)
        slot.release()
        pool.acquire(timeout=5).release()
    finally:
        pool.close()
    with pytest.raises(PoolError, match="closed"):
        pool.acquire()
    assert isinstance(DockerTransport(pool), DockerTransport)
