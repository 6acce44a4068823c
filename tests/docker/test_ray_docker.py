"""RolloutPool with ``transport="docker"`` on a real local Ray cluster and real containers: one
GRPO-shaped group (2 actors, each with its own one-container pool, 2 environments each; a group
of 4 rollouts of one task), equal to the same group run in process, and no container left once
the pool is closed."""

from __future__ import annotations

import pytest

ray = pytest.importorskip("ray")

from supportgym.env.docker_pool import MANAGED_LABEL  # noqa: E402
from supportgym.env.ray_pool import SMALL_LOCAL_CLUSTER, RolloutPool  # noqa: E402
from supportgym.env.rollout import OK, mixed_reference_policy  # noqa: E402

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(300)]

TASK = "refund_within_window-01"
N = 4


def _task() -> str:
    from supportgym.tasks import list_tasks

    known = sorted(t.id for t in list_tasks())
    return TASK if TASK in known else known[0]


def _labelled_ids() -> set[str]:
    import docker

    client = docker.from_env(timeout=30)
    try:
        return {c.id for c in client.containers.list(all=True, filters={"label": [f"{MANAGED_LABEL}=true"]})}
    finally:
        client.close()


def _remove(ids: set[str]) -> None:
    import docker

    client = docker.from_env(timeout=30)
    try:
        for cid in ids:
            try:
                client.containers.get(cid).remove(force=True)
            except docker.errors.NotFound:  # removed by its pool already
                pass
    finally:
        client.close()


@pytest.fixture
def cluster(docker_image):
    """A small local Ray cluster; shut down (and this test's containers removed) pass or fail."""
    before = _labelled_ids()
    ray.init(**SMALL_LOCAL_CLUSTER, configure_logging=False)
    try:
        yield
    finally:
        ray.shutdown()
        _remove(_labelled_ids() - before)  # what a failed test's actors may have left


def _key(r):
    t = r.trajectory
    return (r.status, t.reward, [(s.name, s.arguments, s.ok, s.result) for s in t.steps], t.reply)


def _run(task_id: str, **pool_kwargs):
    pool = RolloutPool(
        num_actors=2,
        envs_per_actor=2,
        num_cpus_per_actor=0.5,
        step_timeout_s=30.0,
        episode_timeout_s=120.0,
        group_timeout_s=180.0,
        max_retries=0,
        **pool_kwargs,
    )
    try:
        pool.ready()
        group = pool.run_group(task_id, n=N, policy_factory=mixed_reference_policy)
    finally:
        pool.close()
    return group


def test_docker_group_equals_the_inprocess_group_and_leaves_no_container(cluster, docker_image):
    task_id = _task()
    before = _labelled_ids()
    group = _run(task_id, transport="docker", docker_kwargs={"image": docker_image, "start_timeout": 90.0})
    # Closed: each actor removed its containers before it was killed.
    left = _labelled_ids() - before
    assert not left, f"containers left after RolloutPool.close(): {sorted(x[:12] for x in left)}"

    assert group.n == N and [r.index for r in group.rollouts] == list(range(N))
    bad = [r.summary() for r in group.rollouts if r.status != OK]
    assert not bad, bad
    assert not group.infra_errors and not group.timeouts and not group.policy_errors and not group.retried
    assert all(r.trajectory.infra_error is None for r in group.rollouts)
    assert len({r.worker for r in group.rollouts}) == 2, "both actors (both containers) ran rollouts"
    for r in group.rollouts:
        t = r.trajectory
        assert t.steps, f"rollout {r.index} has no steps"
        assert t.steps[-1].name == "submit_response" and t.steps[-1].ok
        assert t.reply is not None and t.reward is not None and t.grade is not None
    assert all(x is not None for x in group.rewards) and all(x is not None for x in group.advantages)
    assert len(set(group.rewards)) > 1, "the mixed reference group has differing rewards"

    local = _run(task_id, transport="inprocess")
    assert all(r.status == OK for r in local.rollouts), [r.summary() for r in local.rollouts if r.status != OK]
    assert group.rewards == local.rewards
    assert group.advantages == local.advantages
    assert [_key(r) for r in group.rollouts] == [_key(r) for r in local.rollouts]


def _pool_containers(pool_id: str) -> list:
    import docker

    from supportgym.env.docker_pool import POOL_LABEL

    client = docker.from_env(timeout=30)
    try:
        return client.containers.list(all=True, filters={"label": [f"{MANAGED_LABEL}=true", f"{POOL_LABEL}={pool_id}"]})
    finally:
        client.close()


def test_killed_actor_s_containers_are_removed_by_the_driver(cluster, docker_image):
    """A killed actor runs no clean-up: the driver removes its container when it replaces it."""
    import time

    task_id = _task()
    pool = RolloutPool(
        num_actors=2,
        envs_per_actor=1,
        num_cpus_per_actor=0.5,
        step_timeout_s=30.0,
        episode_timeout_s=120.0,
        group_timeout_s=180.0,
        max_retries=1,
        transport="docker",
        docker_kwargs={"image": docker_image, "start_timeout": 90.0},
    )
    try:
        pool.ready()
        first = pool.run_group(task_id, n=2)
        assert all(r.status == OK for r in first.rollouts), [r.summary() for r in first.rollouts]
        victim = pool._slots[0]
        assert victim.container_pool_id and _pool_containers(victim.container_pool_id), "the actor's container runs"
        ray.kill(victim.actor, no_restart=True)
        second = pool.run_group(task_id, n=4)
        assert pool.replacements >= 1
        assert all(r.status == OK for r in second.rollouts), [r.summary() for r in second.rollouts]
        deadline = time.monotonic() + 60
        while _pool_containers(victim.container_pool_id) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _pool_containers(victim.container_pool_id), "the killed actor's container is still there"
    finally:
        pool.close()
