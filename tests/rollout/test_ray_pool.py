"""RolloutPool on a real local Ray cluster (2 CPUs): groups of 16, a killed actor, equality with
rollouts run without Ray, infra errors and deadlines."""

from __future__ import annotations

import threading
import time
from itertools import pairwise

import pytest

ray = pytest.importorskip("ray")

from supportgym.env.ray_pool import SMALL_LOCAL_CLUSTER, RolloutPool  # noqa: E402
from supportgym.env.rollout import INFRA_ERROR, OK, TIMEOUT, mixed_reference_policy, rollout  # noqa: E402
from tests.rollout import doubles  # noqa: E402

pytestmark = pytest.mark.slow

TASKS = ["refund_within_window-01", "cancel_vs_return-01", "brand_mismatch_search-01"]


def _tasks() -> list[str]:
    from supportgym.tasks import list_tasks

    known = {t.id for t in list_tasks()}
    chosen = [t for t in TASKS if t in known]
    return chosen or sorted(known)[:3]


@pytest.fixture(scope="module")
def cluster():
    ray.init(**SMALL_LOCAL_CLUSTER, configure_logging=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def pool(cluster):
    # The environments are WorldFaultTestDoubleEnv: real in-process SupportEnvs that only fail on
    # the test's trigger action (one pool for every test: actors are slow to start on 2 cores).
    p = RolloutPool(
        num_actors=4,
        envs_per_actor=4,
        num_cpus_per_actor=0.5,
        step_timeout_s=3.0,
        episode_timeout_s=60.0,
        env_factory=doubles.world_fault_env_factory,
    )
    try:
        p.ready()
        p.warm(_tasks())
        yield p
    finally:
        p.close()


def _key(r):
    t = r.trajectory
    return (r.status, t.reward, [(s.name, s.arguments, s.ok, s.result) for s in t.steps], t.reply)


def test_groups_of_16_equal_the_same_rollouts_without_ray(pool):
    tasks = _tasks()
    groups = {g.task_id: g for g in pool.run_many(tasks, n=16, policy_factory=mixed_reference_policy)}
    assert set(groups) == set(tasks)
    for task_id, g in groups.items():
        assert g.n == 16 and [r.index for r in g.rollouts] == list(range(16))
        assert all(r.status == OK for r in g.rollouts), [r.summary() for r in g.rollouts if r.status != OK]
        assert all(x is not None for x in g.advantages)
        assert abs(sum(g.advantages)) < 1e-6
        assert len({r.worker for r in g.rollouts}) > 1, "spread over several actors"
        local = [rollout(mixed_reference_policy(task_id, i), task_id) for i in range(16)]
        assert [_key(r) for r in g.rollouts] == [_key(r) for r in local]
        # Advantages order the rollouts as their rewards do (a higher reward, a higher advantage).
        pairs = sorted(zip(g.rewards, g.advantages, strict=True))
        assert all(a1 <= a2 for (_, a1), (_, a2) in pairwise(pairs))
        assert (max(g.advantages) > 0) == (len(set(g.rewards)) > 1)


def test_killed_actor_is_replaced_and_its_rollouts_retried(pool):
    task_id = _tasks()[0]
    victim = pool.actors[1]
    before = pool.replacements
    killer = threading.Timer(1.0, lambda: ray.kill(victim, no_restart=True))
    killer.start()
    try:
        g = pool.run_group(task_id, n=16, policy_factory=doubles.slow_reference)
    finally:
        killer.cancel()
    assert pool.replacements == before + 1
    assert g.n == 16 and all(r.status == OK for r in g.rollouts), [r.summary() for r in g.rollouts if r.status != OK]
    assert g.retried, "the killed actor's rollouts ran again"
    assert all(r.attempt == 1 for r in g.rollouts if r.index in g.retried)
    assert len(set(g.rewards)) == 1 and g.advantages == [0.0] * 16
    assert len(pool.ready()) == 4


def test_world_fault_is_infra_error_and_excluded(pool):
    task_id = _tasks()[0]
    g = pool.run_group(task_id, n=16, policy_factory=doubles.faulty_every_fourth)
    assert g.infra_errors == [0, 4, 8, 12]
    for r in g.rollouts:
        if r.index % 4 == 0:
            assert r.status == INFRA_ERROR and r.reward is None and "WorldFault" in r.trajectory.infra_error
            assert g.rewards[r.index] is None and g.advantages[r.index] is None
        else:
            assert r.status == OK and g.rewards[r.index] is not None and g.advantages[r.index] == 0.0


def test_step_timeout_reported_inside_a_group(pool):
    t0 = time.monotonic()
    g = pool.run_group(_tasks()[0], n=16, policy_factory=doubles.hang_first)
    assert time.monotonic() - t0 < 30
    assert g.timeouts == [0] and g.rewards[0] is None and g.advantages[0] is None
    assert all(r.status == OK for r in g.rollouts[1:])


def test_group_deadline_cancels_the_rest(pool):
    t0 = time.monotonic()
    g = pool.run_group(_tasks()[0], n=16, policy_factory=doubles.very_slow, group_timeout_s=2.0)
    assert time.monotonic() - t0 < 10
    assert g.timeouts == list(range(16)) and all(r.status == TIMEOUT for r in g.rollouts)
    assert g.advantages == [None] * 16
    # The cancelled rollouts stop at their next turn and free their slots: the pool goes on.
    g2 = pool.run_group(_tasks()[0], n=16)
    assert all(r.status == OK for r in g2.rollouts), g2.summary()
