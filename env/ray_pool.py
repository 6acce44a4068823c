"""Rollouts on Ray: groups of ``n`` rollouts of one task in parallel (the GRPO shape).

::

    import ray
    from supportgym.env.ray_pool import RolloutPool

    ray.init()                                   # or ray.init(address="auto") on a cluster
    with RolloutPool(num_actors=4, envs_per_actor=4) as pool:
        group = pool.run_group("refund_within_window-01", n=16)
        group.rewards, group.advantages          # advantages: (r - mean) / (std + eps)
        for g in pool.run_many(["refund_within_window-01", "cancel_vs_return-01"], n=16):
            g.write_jsonl("rollouts.jsonl", append=True)

Actors
    ``num_actors`` Ray actors (``RolloutWorker``), each holding up to ``envs_per_actor``
    environments and running that many rollouts at once (a threaded actor). Environments are
    in-process worlds (``transport="inprocess"``, the default), episodes on containers of a
    per-actor :class:`~supportgym.env.docker_pool.ContainerPool` (``transport="docker"``), or
    whatever ``env_factory`` (a picklable ``() -> env``) builds. Policies are built inside the
    actor by ``policy_factory(task_id, index)`` (picklable; default: the reference solution), so
    an LLM client never has to cross a process boundary.

Failures
    * An actor that dies (crash, OOM, ``ray.kill``) is replaced by a fresh one, and each rollout
      it had in flight is retried once (``max_retries``); a second loss makes the rollout an
      ``infra_error``.
    * Deadlines are layered: ``step_timeout_s`` (one policy turn, one environment step) and
      ``episode_timeout_s`` are enforced inside the actor by :func:`~supportgym.env.rollout.rollout`;
      ``group_timeout_s`` by the driver, which cancels what is left of the group and reports those
      rollouts as ``timeout``. An actor that holds a rollout past ``episode_timeout_s`` plus a grace
      period is killed and replaced (its rollout reported as ``timeout``): nothing hangs.
    * Rollouts that failed for the environment's reasons (``infra_error``) or timed out carry no
      reward and are left out of the group's mean, std and advantages; never scored 0.

The same code runs with ``ray.init()`` on one machine and ``ray.init(address=...)`` on a cluster.
Without a running Ray, the pool starts a small local one (``ray_init``) and stops it on
:meth:`RolloutPool.close`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supportgym.env.docker_pool import ContainerPool
from supportgym.env.rollout import (
    INFRA_ERROR,
    POLICY_ERROR,
    TIMEOUT,
    RolloutResult,
    reference_policy,
    rollout,
)
from supportgym.env.support_env import SupportEnv
from supportgym.services.episode import DEFAULT_ALPHA, DEFAULT_BETA
from supportgym.tasks import prepare_task
from supportgym.tasks.splits import load_split
from supportgym.trajectory import Trajectory, write_jsonl

log = logging.getLogger("supportgym.rollouts")

PolicyFactory = Callable[[str, int], Any]
ADVANTAGE_EPS = 1e-6
# Extra time an actor gets past episode_timeout_s before the driver declares it stuck.
DEFAULT_GRACE_S = 30.0


def group_advantages(rewards: list[float | None], eps: float = ADVANTAGE_EPS) -> list[float | None]:
    """GRPO advantages ``(r - mean) / (std + eps)`` over the rewards that are not None
    (population std); None stays None (excluded rollouts get no advantage)."""
    vals = [r for r in rewards if r is not None]
    if not vals:
        return [None] * len(rewards)
    mean = sum(vals) / len(vals)
    if max(vals) == min(vals):  # all equal: no signal (and no rounding noise)
        return [None if r is None else 0.0 for r in rewards]
    std = math.sqrt(sum((r - mean) ** 2 for r in vals) / len(vals))
    return [None if r is None else (r - mean) / (std + eps) for r in rewards]


@dataclass
class GroupResult:
    """``n`` rollouts of one task, in index order, with rewards and group-normalised advantages."""

    task_id: str
    rollouts: list[RolloutResult]
    elapsed_s: float = 0.0
    rewards: list[float | None] = field(init=False)
    advantages: list[float | None] = field(init=False)

    def __post_init__(self) -> None:
        self.rollouts = sorted(self.rollouts, key=lambda r: r.index)
        self.rewards = [r.reward if r.trainable else None for r in self.rollouts]
        self.advantages = group_advantages(self.rewards)

    @property
    def n(self) -> int:
        return len(self.rollouts)

    @property
    def infra_errors(self) -> list[int]:
        """Indexes of the rollouts the environment failed."""
        return [r.index for r in self.rollouts if r.status == INFRA_ERROR]

    @property
    def timeouts(self) -> list[int]:
        return [r.index for r in self.rollouts if r.status == TIMEOUT]

    @property
    def policy_errors(self) -> list[int]:
        return [r.index for r in self.rollouts if r.status == POLICY_ERROR]

    @property
    def retried(self) -> list[int]:
        return [r.index for r in self.rollouts if r.attempt > 0]

    @property
    def trajectories(self) -> list[Trajectory]:
        """The group's trajectories (:class:`supportgym.trajectory.Trajectory`), in index order."""
        return [r.trajectory for r in self.rollouts]

    def records(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per rollout: the trajectory plus ``group``, ``index``,
        ``rollout_status`` and ``advantage`` (what :meth:`write_jsonl` writes)."""
        out = []
        for r, adv in zip(self.rollouts, self.advantages, strict=True):
            d = r.trajectory.model_dump(mode="json")
            d.update(index=r.index, rollout_status=r.status, rollout_error=r.error, advantage=adv)
            out.append(d)
        return out

    def write_jsonl(self, path: str | Path, *, append: bool = False) -> int:
        """Write the group's trajectories (:mod:`supportgym.trajectory` format, one per line)."""
        return write_jsonl(path, self.trajectories, append=append)

    def summary(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "n": self.n,
            "rewards": self.rewards,
            "advantages": self.advantages,
            "infra_errors": self.infra_errors,
            "timeouts": self.timeouts,
            "policy_errors": self.policy_errors,
            "retried": self.retried,
            "elapsed_s": round(self.elapsed_s, 3),
        }


# --- the actor ----------------------------------------------------------------------------


class RolloutWorker:
    """Holds environments and runs rollouts (one per environment at a time). A Ray actor class."""

    def __init__(
        self,
        name: str,
        envs: int,
        transport: str,
        env_factory: Callable[[], Any] | None,
        env_kwargs: dict[str, Any],
        rollout_kwargs: dict[str, Any],
        docker_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.max_envs = envs
        self.transport = transport
        self.env_factory = env_factory
        self.env_kwargs = env_kwargs
        self.rollout_kwargs = rollout_kwargs
        self.docker_kwargs = docker_kwargs or {}
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._containers: Any = None
        self._cancelled: set[str] = set()

    def cancel(self, tokens: list[str]) -> None:
        """Stop these rollouts at their next turn (they report ``timeout``)."""
        self._cancelled.update(tokens)

    def ping(self) -> dict[str, Any]:
        import os

        return {"name": self.name, "pid": os.getpid(), "node": _node_ip(), "node_id": _node_id()}

    def warm(self, task_ids: list[str]) -> int:
        """Prepare tasks ahead (world images, rubrics) so the first rollouts do not pay for it."""

        for t in task_ids:
            prepare_task(t)
        return len(task_ids)

    def _make_env(self) -> Any:
        if self.env_factory is not None:
            return self.env_factory()
        kwargs = {
            "alpha": self.rollout_kwargs.get("alpha", DEFAULT_ALPHA),
            "beta": self.rollout_kwargs.get("beta", DEFAULT_BETA),
            **self.env_kwargs,
        }
        if self.transport == "docker":
            with self._lock:
                if self._containers is None:
                    opts = {"size": 1, "slots_per_container": self.max_envs, **self.docker_kwargs}
                    self._containers = ContainerPool(**opts)
            return SupportEnv(transport="docker", pool=self._containers, **kwargs)

        return SupportEnv(transport=self.transport, **kwargs)

    def run(
        self, task_id: str, index: int, attempt: int, policy_factory: PolicyFactory, token: str = ""
    ) -> RolloutResult:
        t0 = time.perf_counter()
        try:
            return self._run(task_id, index, attempt, policy_factory, token, t0)
        finally:
            self._cancelled.discard(token)

    def _run(
        self, task_id: str, index: int, attempt: int, policy_factory: PolicyFactory, token: str, t0: float
    ) -> RolloutResult:
        if token in self._cancelled:
            return _failed(task_id, index, attempt, TIMEOUT, "cancelled before it started", self.name)
        try:  # the task's world and rubric, once per process: not part of any step's time
            prepare_task(task_id)
        except Exception as exc:  # noqa: BLE001 - a worker answers every job with a result, never a crash
            return _failed(
                task_id,
                index,
                attempt,
                INFRA_ERROR,
                f"could not prepare the task: {type(exc).__name__}: {exc}",
                self.name,
            )
        with self._lock:
            env = self._idle.pop() if self._idle else None
        try:
            if env is None:
                env = self._make_env()
        except Exception as exc:  # noqa: BLE001 - a worker answers every job with a result, never a crash
            return _failed(
                task_id,
                index,
                attempt,
                INFRA_ERROR,
                f"could not build an environment: {type(exc).__name__}: {exc}",
                self.name,
            )
        try:
            policy = policy_factory(task_id, index)
        except Exception as exc:  # noqa: BLE001 - user code: whatever it raises is a policy error
            self._give_back(env)
            return _failed(
                task_id, index, attempt, POLICY_ERROR, f"policy_factory failed: {type(exc).__name__}: {exc}", self.name
            )
        try:
            result = rollout(
                policy,
                task_id,
                env=env,
                index=index,
                attempt=attempt,
                should_stop=lambda: token in self._cancelled,
                **self.rollout_kwargs,
            )
        except Exception as exc:  # noqa: BLE001 - rollout() catches what it should; this is a bug or a broken env
            _close_in_background(env)
            return _failed(
                task_id, index, attempt, INFRA_ERROR, f"rollout crashed: {type(exc).__name__}: {exc}", self.name
            )
        if result.status in (INFRA_ERROR, TIMEOUT):
            _close_in_background(env)  # may still be busy with an abandoned call
        else:
            self._give_back(env)
        result.worker = self.name
        result.timings["worker_s"] = time.perf_counter() - t0
        return result

    def _give_back(self, env: Any) -> None:
        with self._lock:
            self._idle.append(env)

    def shutdown(self) -> None:
        with self._lock:
            envs, self._idle = self._idle, []
        for env in envs:
            _close_in_background(env)
        if self._containers is not None:
            self._containers.close()


def _node_ip() -> str | None:
    try:
        import ray

        return ray.util.get_node_ip_address()
    except OSError as exc:  # no network interface to name: the address is only informative
        log.debug("node address unknown: %s", exc)
        return None


def _node_id() -> str | None:
    """The Ray node this process runs on (two nodes on one machine share an address)."""
    import ray

    return ray.get_runtime_context().get_node_id()


def _close_in_background(env: Any) -> None:
    def close() -> None:
        try:
            env.close()
        except Exception as exc:  # noqa: BLE001 - a background clean-up must never raise
            log.warning("closing an environment failed: %s: %s", type(exc).__name__, exc)

    threading.Thread(target=close, daemon=True).start()


def _failed(
    task_id: str,
    index: int,
    attempt: int,
    status: str,
    error: str,
    worker: str | None = None,
    alpha: float = DEFAULT_ALPHA,
    beta: float = DEFAULT_BETA,
) -> RolloutResult:
    traj = Trajectory(
        task_id=task_id,
        alpha=alpha,
        beta=beta,
        max_steps=0,
        agent="?",
        attempt=attempt,
        steps=[],
        reply=None,
        status=status,
        infra_error=error if status == INFRA_ERROR else None,
    )
    return RolloutResult(trajectory=traj, status=status, error=error, index=index, attempt=attempt, worker=worker)


# --- the pool -----------------------------------------------------------------------------


@dataclass
class _Job:
    group: int
    task_id: str
    index: int
    policy_factory: PolicyFactory
    attempt: int = 0


@dataclass
class _Slot:
    actor: Any
    name: str
    generation: int
    inflight: int = 0
    # docker transport: the id of the actor's ContainerPool, so the driver can remove its
    # containers when it kills the actor (a killed actor runs no clean-up of its own).
    container_pool_id: str | None = None


@dataclass
class _Flight:
    job: _Job
    slot: int
    generation: int
    started: float
    orphan: bool = False  # its group gave up on it; only the slot accounting still waits


# ``ray.init`` options of the small local cluster the pool starts when Ray is not running (the
# benchmarks and the tests start the same one): 2 CPUs, no dashboard, a 200 MB object store.
SMALL_LOCAL_CLUSTER: dict[str, Any] = {
    "num_cpus": 2,
    "include_dashboard": False,
    "object_store_memory": 200 * 1024 * 1024,
    "log_to_driver": False,
}


class RolloutPool:
    """Ray actors running rollouts; see the module docstring.

    Args:
        num_actors: Actors to start.
        envs_per_actor: Environments (concurrent rollouts) per actor.
        transport: ``"inprocess"`` (default), ``"http"`` (pass ``env_kwargs={"base_url": ...}``)
            or ``"docker"`` (a one-container pool per actor; ``docker_kwargs`` go to it).
        env_factory: Picklable ``() -> env`` that replaces the transport's environments.
        env_kwargs: Extra :class:`SupportEnv` keyword arguments.
        num_cpus_per_actor: Ray CPU reservation of each actor (fractional is fine).
        alpha, beta: Reward weights.
        step_timeout_s, episode_timeout_s: Deadlines inside each rollout.
        group_timeout_s: Deadline of a whole group (from its first rollout's start).
        max_retries: Retries of a rollout whose actor died (default 1).
        policy_factory: Default ``(task_id, index) -> policy``.
        grace_s: Time past ``episode_timeout_s`` after which a silent actor is killed.
        ray_init: Keyword arguments for ``ray.init`` when Ray is not running yet (the pool then
            owns the local cluster and shuts it down on :meth:`close`).
        spread: Place the actors across the cluster's nodes (Ray's ``SPREAD`` strategy) rather
            than packing them onto the first nodes with room.
        actor_resources: Custom Ray resources each actor needs (e.g. ``{"rollouts": 1}`` to keep
            actors on the nodes started with ``--resources '{"rollouts": N}'``).
    """

    def __init__(
        self,
        num_actors: int = 4,
        envs_per_actor: int = 4,
        transport: str = "inprocess",
        *,
        env_factory: Callable[[], Any] | None = None,
        env_kwargs: dict[str, Any] | None = None,
        docker_kwargs: dict[str, Any] | None = None,
        num_cpus_per_actor: float = 0.5,
        alpha: float = DEFAULT_ALPHA,
        beta: float = DEFAULT_BETA,
        step_timeout_s: float | None = 120.0,
        episode_timeout_s: float | None = 900.0,
        group_timeout_s: float | None = None,
        max_retries: int = 1,
        policy_factory: PolicyFactory = reference_policy,
        grace_s: float = DEFAULT_GRACE_S,
        ray_init: dict[str, Any] | None = None,
        spread: bool = False,
        actor_resources: dict[str, float] | None = None,
    ) -> None:
        import ray

        if num_actors < 1 or envs_per_actor < 1:
            raise ValueError("num_actors and envs_per_actor must be at least 1")
        if transport not in ("inprocess", "http", "docker"):
            raise ValueError(f"unknown transport {transport!r}; use inprocess, http or docker")
        self._ray = ray
        self._own_ray = False
        if not ray.is_initialized():
            ray.init(**{**SMALL_LOCAL_CLUSTER, **(ray_init or {})})
            self._own_ray = True
        self.num_actors = num_actors
        self.envs_per_actor = envs_per_actor
        self.transport = transport
        self.alpha, self.beta = alpha, beta
        self.group_timeout_s = group_timeout_s
        self.episode_timeout_s = episode_timeout_s
        self.max_retries = max_retries
        self.policy_factory = policy_factory
        self.grace_s = grace_s
        self.replacements = 0
        self._rollout_kwargs = {
            "alpha": alpha,
            "beta": beta,
            "step_timeout_s": step_timeout_s,
            "episode_timeout_s": episode_timeout_s,
        }
        self._actor_args = (transport, env_factory, dict(env_kwargs or {}), self._rollout_kwargs)
        self._docker_kwargs = dict(docker_kwargs or {})
        # ray.remote's typed overloads leave out the actor options max_concurrency and
        # concurrency_groups, which Ray documents and accepts.
        self._remote_cls = ray.remote(  # type: ignore[call-overload]
            num_cpus=num_cpus_per_actor,
            max_concurrency=envs_per_actor,
            concurrency_groups={"control": 1},
            max_restarts=0,
            max_task_retries=0,
            resources=dict(actor_resources or {}),
            scheduling_strategy="SPREAD" if spread else "DEFAULT",
        )(RolloutWorker)
        self._counter = 0
        self._pool_prefix = f"rollouts-{uuid.uuid4().hex[:8]}"
        self._groups = 0
        self._group_task: dict[int, str] = {}
        self._slots: list[_Slot] = [self._new_slot() for _ in range(num_actors)]
        self._flights: dict[Any, _Flight] = {}  # ObjectRef -> flight
        self._closed = False
        self._lock = threading.Lock()  # one driver loop at a time

    # --- actors -------------------------------------------------------------------------

    def _new_slot(self, generation: int = 0) -> _Slot:
        self._counter += 1
        name = f"rollout-worker-{self._counter}"
        pool_id = f"{self._pool_prefix}-{self._counter}" if self.transport == "docker" else None
        docker_kwargs = {**self._docker_kwargs, "pool_id": pool_id} if pool_id else self._docker_kwargs
        actor = self._remote_cls.remote(name, self.envs_per_actor, *self._actor_args, docker_kwargs)
        return _Slot(actor=actor, name=name, generation=generation, container_pool_id=pool_id)

    def _remove_containers(self, slot: _Slot, *, wait: bool) -> None:
        """Remove the containers of a killed actor's pool (docker transport)."""
        if slot.container_pool_id is None:
            return

        def remove() -> None:
            try:
                ContainerPool.cleanup(pool_id=slot.container_pool_id)
            except Exception as exc:  # noqa: BLE001 - no engine left (any docker error): nothing to remove
                log.warning("removing the containers of %s failed: %s", slot.name, exc)

        if wait:
            remove()
        else:
            threading.Thread(target=remove, name=f"cleanup-{slot.name}", daemon=True).start()

    @property
    def actors(self) -> list[Any]:
        """The current actor handles (``ray.kill`` one to see a replacement)."""
        return [s.actor for s in self._slots]

    def ready(self, timeout: float = 120.0) -> list[dict[str, Any]]:
        """Wait until every actor answers; returns their name, pid, node address and Ray node id."""
        return self._ray.get([s.actor.ping.remote() for s in self._slots], timeout=timeout)

    def warm(self, task_ids: Iterable[str], timeout: float = 300.0) -> None:
        """Prepare the tasks in every actor (world images and rubrics), ahead of the rollouts."""
        ids = list(task_ids)
        self._ray.get([s.actor.warm.remote(ids) for s in self._slots], timeout=timeout)

    def _replace(self, slot_no: int, generation: int, kill: bool) -> None:
        slot = self._slots[slot_no]
        if slot.generation != generation:
            return  # replaced already
        if kill:
            try:
                self._ray.kill(slot.actor, no_restart=True)
            except self._ray.exceptions.RayError as exc:  # dead already
                log.debug("killing actor %s: %s", slot.name, exc)
        # Killed, or died by itself: either way it will not remove its containers.
        self._remove_containers(slot, wait=False)
        self.replacements += 1
        self._slots[slot_no] = self._new_slot(generation + 1)
        # Every flight of the old actor is lost: its results will come back as actor errors
        # (handled in _collect), so the slot starts empty.

    # --- running ------------------------------------------------------------------------

    def run_group(
        self,
        task_id: str,
        n: int = 16,
        *,
        policy_factory: PolicyFactory | None = None,
        group_timeout_s: float | None = None,
    ) -> GroupResult:
        """Run ``n`` rollouts of ``task_id`` in parallel; returns them with rewards and advantages."""
        groups = list(self.run_many([task_id], n, policy_factory=policy_factory, group_timeout_s=group_timeout_s))
        return groups[0]

    def run_many(
        self,
        task_ids: Iterable[str],
        n: int = 16,
        *,
        policy_factory: PolicyFactory | None = None,
        group_timeout_s: float | None = None,
    ) -> Iterator[GroupResult]:
        """Run a group of ``n`` for each task; yields each :class:`GroupResult` as soon as its
        last rollout is in (completion order, not input order)."""
        pending: dict[int, list[RolloutResult]] = {}
        started: dict[int, float] = {}
        tasks: dict[int, str] = {}
        for g, result in self._drive(task_ids, n, policy_factory, group_timeout_s, started, tasks):
            pending.setdefault(g, []).append(result)
            if len(pending[g]) == n:
                yield GroupResult(tasks[g], pending.pop(g), elapsed_s=time.monotonic() - started[g])

    def run_split(
        self,
        split: str,
        n: int = 16,
        *,
        seed: int = 0,
        per_family: int = 2,
        policy_factory: PolicyFactory | None = None,
        group_timeout_s: float | None = None,
    ) -> Iterator[GroupResult]:
        """:meth:`run_many` over the tasks of ``split`` (dev, test, heldout-families; train: the
        first ``per_family`` proven generated tasks of ``seed`` for every train family)."""

        ids = load_split(split, seed=seed, n=per_family)
        return self.run_many(ids, n, policy_factory=policy_factory, group_timeout_s=group_timeout_s)

    def iter_rollouts(
        self,
        task_ids: Iterable[str],
        n: int = 1,
        *,
        policy_factory: PolicyFactory | None = None,
        group_timeout_s: float | None = None,
    ) -> Iterator[RolloutResult]:
        """Like :meth:`run_many`, but yields every rollout as it completes."""
        for _, result in self._drive(task_ids, n, policy_factory, group_timeout_s, {}, {}):
            yield result

    def _drive(
        self,
        task_ids: Iterable[str],
        n: int,
        policy_factory: PolicyFactory | None,
        group_timeout_s: float | None,
        started: dict[int, float],
        tasks: dict[int, str],
    ) -> Iterator[tuple[int, RolloutResult]]:
        if self._closed:
            raise RuntimeError("the pool is closed")
        if not self._lock.acquire(blocking=False):
            raise RuntimeError("the pool is already running a batch (one driver loop at a time)")
        factory = policy_factory or self.policy_factory
        limit = group_timeout_s if group_timeout_s is not None else self.group_timeout_s
        queue: deque[_Job] = deque()
        open_jobs: dict[int, set[int]] = {}
        for task_id in task_ids:
            self._groups += 1
            g = self._groups
            tasks[g] = task_id
            self._group_task[g] = task_id
            open_jobs[g] = set(range(n))
            queue.extend(_Job(g, task_id, i, factory) for i in range(n))
        mine = {g for g in tasks}
        try:
            while any(open_jobs[g] for g in mine):
                self._submit(queue, started)
                now = time.monotonic()
                # Group deadlines: everything of an expired group still open times out now.
                if limit is not None:
                    for g in mine:
                        if open_jobs[g] and g in started and now - started[g] > limit:
                            yield from self._expire_group(g, queue, open_jobs, limit)
                refs = [r for r, f in self._flights.items()]
                if not refs:
                    if queue:
                        continue
                    break
                wait_s = self._next_wake(limit, started, open_jobs)
                ready, _ = self._ray.wait(refs, num_returns=1, timeout=wait_s)
                # Drain whatever else is ready too, without waiting.
                if ready:
                    more, _ = self._ray.wait(refs, num_returns=len(refs), timeout=0)
                    ready = list(dict.fromkeys([*ready, *more]))
                for ref in ready:
                    flight = self._flights.pop(ref)
                    self._free(flight)
                    result = self._collect(ref, flight, queue)
                    if result is not None and not flight.orphan and flight.job.index in open_jobs[flight.job.group]:
                        open_jobs[flight.job.group].discard(flight.job.index)
                        yield flight.job.group, result
                yield from self._watchdog(open_jobs, queue)
        finally:
            # Anything of ours still in flight (the caller stopped early, or an error): cancel it
            # and keep the slot accounted until it returns (an orphan).
            for ref, f in list(self._flights.items()):
                if f.job.group in mine and not f.orphan:
                    f.orphan = True
                    self._cancel(ref)
            self._lock.release()

    def _submit(self, queue: deque[_Job], started: dict[int, float]) -> None:
        while queue:
            slot_no = min(range(len(self._slots)), key=lambda k: self._slots[k].inflight)
            slot = self._slots[slot_no]
            if slot.inflight >= self.envs_per_actor:
                return
            job = queue.popleft()
            started.setdefault(job.group, time.monotonic())
            ref = slot.actor.run.remote(job.task_id, job.index, job.attempt, job.policy_factory, _token(job))
            slot.inflight += 1
            self._flights[ref] = _Flight(job, slot_no, slot.generation, time.monotonic())

    def _free(self, flight: _Flight) -> None:
        slot = self._slots[flight.slot]
        if slot.generation == flight.generation:
            slot.inflight = max(0, slot.inflight - 1)

    def _collect(self, ref: Any, flight: _Flight, queue: deque[_Job]) -> RolloutResult | None:
        """The result of a finished flight; None when the rollout was queued again."""
        from ray.exceptions import (
            ActorDiedError,
            ActorUnavailableError,
            RayActorError,
            TaskCancelledError,
        )

        job = flight.job
        try:
            result = self._ray.get(ref)
        except TaskCancelledError:
            return None if flight.orphan else _failed(job.task_id, job.index, job.attempt, TIMEOUT, "cancelled")
        except (RayActorError, ActorDiedError, ActorUnavailableError) as exc:
            if flight.orphan:
                return None
            self._replace(flight.slot, flight.generation, kill=False)
            return self._retry(
                job, queue, f"actor {self._slot_name(flight)} died: {type(exc).__name__}: {_first_line(exc)}"
            )
        except Exception as exc:  # noqa: BLE001 - an error raised inside the actor method: a failed result
            return _failed(
                job.task_id,
                job.index,
                job.attempt,
                INFRA_ERROR,
                f"worker error: {type(exc).__name__}: {_first_line(exc)}",
                alpha=self.alpha,
                beta=self.beta,
            )
        return result

    def _retry(self, job: _Job, queue: deque[_Job], why: str) -> RolloutResult | None:
        if job.attempt < self.max_retries:
            queue.appendleft(_Job(job.group, job.task_id, job.index, job.policy_factory, job.attempt + 1))
            return None
        return _failed(
            job.task_id,
            job.index,
            job.attempt,
            INFRA_ERROR,
            f"{why} (after {job.attempt + 1} attempts)",
            alpha=self.alpha,
            beta=self.beta,
        )

    def _slot_name(self, flight: _Flight) -> str:
        return f"#{flight.slot}.{flight.generation}"

    def _cancel(self, ref: Any) -> None:
        """Stop a flight: dropped if still queued, stopped at its next turn if running."""
        f = self._flights.get(ref)
        try:
            self._ray.cancel(ref)
        except (self._ray.exceptions.RayError, ValueError) as exc:  # finished or gone already
            log.debug("cancelling a rollout: %s", exc)
        if f is not None and self._slots and self._slots[f.slot].generation == f.generation:
            try:
                self._slots[f.slot].actor.cancel.options(concurrency_group="control").remote([_token(f.job)])
            except self._ray.exceptions.RayError as exc:  # the actor died: its flights are lost anyway
                log.debug("cancelling on actor #%s: %s", f.slot, exc)

    def _expire_group(
        self, g: int, queue: deque[_Job], open_jobs: dict[int, set[int]], limit: float
    ) -> Iterator[tuple[int, RolloutResult]]:
        why = f"the group exceeded its deadline ({limit:.3g} s)"
        for job in [j for j in queue if j.group == g]:
            queue.remove(job)
        for ref, f in list(self._flights.items()):
            if f.job.group == g and not f.orphan:
                f.orphan = True
                self._cancel(ref)
        for index in sorted(open_jobs[g]):
            attempt = next(
                (f.job.attempt for f in self._flights.values() if f.job.group == g and f.job.index == index), 0
            )
            yield g, _failed(self._group_task[g], index, attempt, TIMEOUT, why, alpha=self.alpha, beta=self.beta)
        open_jobs[g].clear()

    def _watchdog(self, open_jobs: dict[int, set[int]], queue: deque[_Job]) -> Iterator[tuple[int, RolloutResult]]:
        """Kill and replace an actor that holds a rollout far past the episode deadline."""
        if self.episode_timeout_s is None:
            return
        now = time.monotonic()
        hard = self.episode_timeout_s + self.grace_s
        for ref, f in list(self._flights.items()):
            if now - f.started <= hard:
                continue
            self._flights.pop(ref)
            self._cancel(ref)
            self._replace(f.slot, f.generation, kill=True)
            if f.orphan or f.job.index not in open_jobs[f.job.group]:
                continue
            open_jobs[f.job.group].discard(f.job.index)
            yield (
                f.job.group,
                _failed(
                    f.job.task_id,
                    f.job.index,
                    f.job.attempt,
                    TIMEOUT,
                    f"no answer from the actor {hard:.3g} s after the rollout started; actor replaced",
                    alpha=self.alpha,
                    beta=self.beta,
                ),
            )

    def _next_wake(self, limit: float | None, started: dict[int, float], open_jobs: dict[int, set[int]]) -> float:
        now = time.monotonic()
        wake = 5.0
        if limit is not None:
            for g, t in started.items():
                if open_jobs.get(g):
                    wake = min(wake, max(0.0, t + limit - now))
        if self.episode_timeout_s is not None:
            hard = self.episode_timeout_s + self.grace_s
            for f in self._flights.values():
                wake = min(wake, max(0.0, f.started + hard - now))
        return max(wake, 0.01)

    # --- life cycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Stop the actors (and the local Ray cluster, if the pool started it)."""
        if self._closed:
            return
        self._closed = True
        if self.transport == "docker":  # let each actor remove its containers first
            try:
                self._ray.wait(
                    [s.actor.shutdown.remote() for s in self._slots], num_returns=len(self._slots), timeout=60
                )
            except self._ray.exceptions.RayError as exc:  # an actor died: its containers are removed below
                log.warning("actor shutdown failed: %s", exc)
        for s in self._slots:
            try:
                self._ray.kill(s.actor, no_restart=True)
            except self._ray.exceptions.RayError as exc:  # dead already
                log.debug("killing actor %s: %s", s.name, exc)
            self._remove_containers(s, wait=True)  # what a hung actor's shutdown left behind
        self._slots = []
        self._flights.clear()
        if self._own_ray:
            self._ray.shutdown()

    def __enter__(self) -> RolloutPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _token(job: _Job) -> str:
    return f"{job.group}/{job.index}/{job.attempt}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""


__all__ = ["GroupResult", "RolloutPool", "RolloutWorker", "group_advantages", "ADVANTAGE_EPS"]
