"""A pool of ``supportgym serve`` containers, and the ``docker`` transport of :class:`SupportEnv`.

::

    from supportgym.env.docker_pool import ContainerPool

    with ContainerPool(size=4, slots_per_container=4) as pool:   # image supportgym:dev
        env = SupportEnv(transport="docker", pool=pool, world_scale="tiny")  # episodes in the pool
        obs, info = env.reset(seed=0)
        ...

How it works
    :class:`ContainerPool` starts ``size`` containers of the image (docker SDK), each publishing
    the service's port 8000 on a host port Docker picks (``127.0.0.1::8000``) so that ports never
    clash, and waits until each answers ``GET /readyz``. :meth:`ContainerPool.acquire` hands out
    a :class:`Slot` on the least-loaded healthy container (``slots_per_container`` episodes at
    once per container); :meth:`Slot.release` gives it back. Containers live for the whole pool:
    a new episode is a ``POST /episodes`` on a warm container (the service's own reset), never a
    restart.

Failures
    A container that died or stopped answering is replaced: the episode in flight on it fails
    with :class:`ContainerLost` (an :class:`~supportgym.env.errors.EnvironmentFault`: mask the
    episode), the pool removes the container and starts a new one in the background, and the
    next :meth:`~ContainerPool.acquire` waits for a healthy container. A container that has not
    been seen healthy for ``check_interval`` seconds is checked before it is handed out.

Clean-up
    Every container carries the labels ``org.supportgym.managed=true`` and
    ``org.supportgym.pool=<pool id>``. :meth:`ContainerPool.close` (also run at interpreter exit)
    removes the pool's containers; :meth:`ContainerPool.cleanup` (``supportgym pool cleanup``)
    removes every container with the labels, e.g. leftovers of a crashed run.

Timeouts
    Every Docker API call has ``docker_timeout`` (the SDK client's timeout), every HTTP call has
    its own deadline, and waiting for readiness or for a free slot is bounded.
"""

from __future__ import annotations

import atexit
import logging
import os
import secrets
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

from supportgym.env.docker_owner import (
    HEARTBEAT_LABEL,
    OWNER_LABEL,
    Heartbeat,
    heartbeat_dir,
    owner_gone,
    this_owner,
)
from supportgym.env.errors import EnvironmentFault, EpisodeEnded, ServerUnavailable
from supportgym.env.transport import EpisodeInfo, HttpTransport

log = logging.getLogger("supportgym.docker")

MANAGED_LABEL = "org.supportgym.managed"
POOL_LABEL = "org.supportgym.pool"
CONTAINER_PORT = 8000
DEFAULT_IMAGE = "supportgym:dev"


def default_image() -> str:
    """``$SUPPORTGYM_IMAGE``, else ``supportgym:dev`` (what ``scripts/build-image`` builds)."""
    return os.environ.get("SUPPORTGYM_IMAGE") or DEFAULT_IMAGE


def docker_errors() -> tuple[type[BaseException], ...]:
    """What a Docker engine call raises: the SDK's errors, and OSError from its HTTP client
    (requests' errors are OSErrors). Evaluated only when an ``except`` clause is reached."""
    from docker.errors import DockerException  # deferred, like every use of the Docker SDK

    return (DockerException, OSError)


class PoolError(EnvironmentFault):
    """The pool cannot provide a container (engine gone, image missing, start failed, closed)."""


class ContainerLost(ServerUnavailable):
    """The container running the episode died or stopped answering; the episode is lost."""


def docker_client(timeout: float = 30.0, client: Any = None) -> Any:
    """A docker SDK client whose every API call times out after ``timeout`` seconds."""
    if client is not None:
        return client
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - docker is a dependency
        raise PoolError("the docker SDK is not installed (pip install docker)") from exc
    try:
        c = docker.from_env(timeout=int(max(1, round(timeout))))
        c.ping()
    except docker_errors() as exc:
        raise PoolError(f"no Docker engine answers ({type(exc).__name__}: {exc}); run scripts/ensure-docker") from exc
    return c


@dataclass(eq=False)
class PoolContainer:
    """One container of the pool."""

    index: int
    name: str
    state: str = "starting"  # starting, ready, dead
    container: Any = None
    host: str = "127.0.0.1"
    port: int | None = None
    busy: int = 0
    episodes: int = 0
    started_at: float = field(default_factory=time.monotonic)
    ready_s: float | None = None  # docker run -> /readyz 200
    last_ok: float = 0.0
    client: Any = None  # httpx.Client for this container

    @property
    def id(self) -> str | None:
        return None if self.container is None else self.container.id

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def short(self) -> str:
        return f"{self.name} ({(self.id or '?')[:12]}, {self.url if self.port else 'no port'})"


class Slot:
    """The right to run one episode on one container; give it back with :meth:`release`."""

    def __init__(self, pool: ContainerPool, container: PoolContainer) -> None:
        self.pool = pool
        self.container = container
        self.released = False

    @property
    def url(self) -> str:
        return self.container.url

    @property
    def alive(self) -> bool:
        return not self.released and self.container.state == "ready"

    def release(self, *, failed: bool = False) -> None:
        """Give the slot back; ``failed=True`` has the pool check (and maybe replace) the container."""
        self.pool.release(self, failed=failed)

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.release(failed=isinstance(exc, ServerUnavailable))


_live_pools: weakref.WeakSet[ContainerPool] = weakref.WeakSet()


@atexit.register
def _close_live_pools() -> None:
    for pool in list(_live_pools):
        try:
            pool.close()
        except Exception as exc:  # noqa: BLE001 - interpreter exit: best effort, never an exit traceback
            log.warning("closing pool %s at exit failed: %s: %s", pool.pool_id, type(exc).__name__, exc)


class ContainerPool:
    """``size`` containers of ``image``, each serving ``slots_per_container`` episodes at once.

    Args:
        image: Image to run (default ``$SUPPORTGYM_IMAGE`` or ``supportgym:dev``).
        size: Number of containers.
        slots_per_container: Concurrent episodes one container serves.
        environment: Extra ``SUPPORTGYM_*`` variables for the containers.
        warm_worlds: Worlds the containers load before they are ready (``["7/tiny"]``); default:
            the image's (the pre-generated default world).
        command: Override the image's command; ``"auto"`` (default) or None: the image's own CMD
                (``supportgym serve``).
        mem_limit, cpus, pids_limit: Resource limits of each container.
        host: Host address the ports are published on and reached at.
        start_timeout: Seconds a container may take to answer ``/readyz``.
        docker_timeout: Timeout of every Docker API call.
        http_timeout: Timeout of every episode HTTP call (create, step).
        acquire_timeout: Seconds :meth:`acquire` waits for a free, healthy slot.
        check_interval: A container not seen healthy for this long is checked before use.
        max_start_attempts: Starts tried for one container before the pool gives up on it.
        pool_id: Label value (default: a fresh random id).
        client: A docker SDK client to use (default: from the environment).
        start: Start the containers now (else on :meth:`start` or ``with``).
    """

    def __init__(
        self,
        image: str | None = None,
        size: int = 1,
        *,
        slots_per_container: int = 4,
        environment: dict[str, str] | None = None,
        warm_worlds: list[str] | None = None,
        command: list[str] | str | None = "auto",
        mem_limit: str | None = "1g",
        cpus: float | None = None,
        pids_limit: int | None = 256,
        host: str = "127.0.0.1",
        start_timeout: float = 60.0,
        docker_timeout: float = 30.0,
        http_timeout: float = 30.0,
        acquire_timeout: float = 120.0,
        check_interval: float = 5.0,
        max_start_attempts: int = 3,
        pool_id: str | None = None,
        client: Any = None,
        start: bool = True,
    ) -> None:
        if size < 1 or slots_per_container < 1:
            raise ValueError("size and slots_per_container must be at least 1")
        self.image = image or default_image()
        self.size = size
        self.slots_per_container = slots_per_container
        self.environment = dict(environment or {})
        if warm_worlds is not None:
            self.environment["SUPPORTGYM_WARM_WORLDS"] = ",".join(warm_worlds)
        self.environment.setdefault("SUPPORTGYM_MAX_EPISODES", str(max(8, 2 * slots_per_container)))
        # The pool scales by containers, each capped by --cpus: one service process per container.
        self.environment.setdefault("SUPPORTGYM_WORKERS", "1")
        # The containers bind every interface inside their network namespace, so they need a
        # service token; the pool makes one (unless given) and is the only client that holds it.
        self.token = self.environment.setdefault("SUPPORTGYM_TOKEN", secrets.token_urlsafe(24))
        self.command = None if command == "auto" else command
        self.mem_limit = mem_limit
        self.cpus = cpus
        self.pids_limit = pids_limit
        self.host = host
        self.start_timeout = start_timeout
        self.docker_timeout = docker_timeout
        self.http_timeout = http_timeout
        self.acquire_timeout = acquire_timeout
        self.check_interval = check_interval
        self.max_start_attempts = max_start_attempts
        self.pool_id = pool_id or uuid.uuid4().hex[:12]
        self.owner = this_owner()
        self._heartbeat = Heartbeat(heartbeat_dir() / f"{self.pool_id}.alive")
        self.orphans_removed = 0
        self._client = client
        self._cv = threading.Condition()
        self._containers: list[PoolContainer] = []
        self._counter = 0
        self._closed = False
        self._started = False
        self._last_error: str | None = None
        self.replacements = 0
        _live_pools.add(self)
        if start:
            self.start()

    # --- life cycle ---------------------------------------------------------------------

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = docker_client(self.docker_timeout)
        return self._client

    @property
    def labels(self) -> dict[str, str]:
        return {
            MANAGED_LABEL: "true",
            POOL_LABEL: self.pool_id,
            OWNER_LABEL: self.owner,
            HEARTBEAT_LABEL: str(self._heartbeat.path),
        }

    def start(self) -> ContainerPool:
        """Start the containers (in parallel) and wait until all are ready."""
        if self._started:
            return self
        self._started = True
        try:
            self.client.images.get(self.image)
        except docker_errors() as exc:
            self._started = False
            raise PoolError(
                f"image {self.image!r} is not available ({type(exc).__name__}: {exc}); "
                "build it with scripts/build-image"
            ) from exc
        # Containers of drivers that died without closing their pools (SIGKILL, OOM) go now.
        try:
            self.orphans_removed = self.cleanup(client=self.client, orphans_only=True)
        except Exception as exc:  # noqa: BLE001 - clean-up is best effort; starting matters
            log.warning("pool %s: removing orphans failed: %s", self.pool_id, exc)
        try:
            self._heartbeat.start()
        except OSError as exc:
            log.warning("pool %s: no heartbeat file (%s); the owner label still identifies it", self.pool_id, exc)
        errors: list[BaseException] = []
        threads = []
        for _ in range(self.size):
            pc = self._new_record()
            t = threading.Thread(target=self._bring_up, args=(pc, errors), daemon=True)
            t.start()
            threads.append(t)
        deadline = time.monotonic() + self.max_start_attempts * (self.start_timeout + self.docker_timeout * 3)
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        if errors or any(t.is_alive() for t in threads):
            msg = "; ".join(str(e) for e in errors) or "containers did not start in time"
            self.close()
            raise PoolError(f"the pool could not start {self.size} container(s): {msg}")
        return self

    def __enter__(self) -> ContainerPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove every container of this pool (including half-started ones) and free clients."""
        with self._cv:
            if self._closed and not self._containers:
                return
            self._closed = True
            records, self._containers = list(self._containers), []
            self._cv.notify_all()
        self._heartbeat.stop()
        for pc in records:
            pc.state = "dead"
            if pc.client is not None:
                pc.client.close()
        if self._client is None:
            return
        try:
            self.cleanup(pool_id=self.pool_id, client=self._client)
        except docker_errors() as exc:
            log.warning("pool %s: clean-up failed: %s", self.pool_id, exc)
        _live_pools.discard(self)

    @classmethod
    def cleanup(
        cls, pool_id: str | None = None, *, client: Any = None, timeout: float = 30.0, orphans_only: bool = False
    ) -> int:
        """Remove every container labelled ``org.supportgym.managed=true`` (of one pool, if
        ``pool_id``), running or not, e.g. leftovers of a crashed run. ``orphans_only``: only
        those whose owner is provably gone (see :mod:`supportgym.env.docker_owner`), so live
        pools of other runs are left alone. Returns how many."""
        c = docker_client(timeout, client)
        filters = [f"{MANAGED_LABEL}=true"]
        if pool_id:
            filters.append(f"{POOL_LABEL}={pool_id}")
        found = c.containers.list(all=True, filters={"label": filters}, ignore_removed=True)
        if orphans_only:
            found = [x for x in found if owner_gone(x.labels or {})]
        threads = [threading.Thread(target=_remove_quietly, args=(x,), daemon=True) for x in found]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout)
        return len(found)

    # --- containers ---------------------------------------------------------------------

    def _new_record(self) -> PoolContainer:
        with self._cv:
            if self._closed:
                raise PoolError("the pool is closed")
            self._counter += 1
            pc = PoolContainer(index=self._counter, name=f"supportgym-{self.pool_id}-{self._counter}", host=self.host)
            self._containers.append(pc)
            return pc

    def _bring_up(self, pc: PoolContainer, errors: list[BaseException] | None = None) -> None:
        """Start ``pc`` (retrying) and mark it ready; on failure drop it and record the error."""
        last: BaseException | None = None
        for attempt in range(1, self.max_start_attempts + 1):
            if self._closed:
                return
            try:
                self._start_container(pc)
                with self._cv:
                    if self._closed or pc not in self._containers:
                        stale = True
                    else:
                        stale = False
                        pc.state = "ready"
                        self._last_error = None
                        self._cv.notify_all()
                if stale:
                    self._discard(pc)
                return
            # Whatever stops a start (engine, image, health check) is retried, then recorded.
            except Exception as exc:  # noqa: BLE001
                last = exc
                log.warning("pool %s: start %d of %s failed: %s", self.pool_id, attempt, pc.name, exc)
                self._discard(pc, keep_record=True)
        with self._cv:
            if pc in self._containers:
                self._containers.remove(pc)
            pc.state = "dead"
            self._last_error = f"{pc.name}: {last}"
            self._cv.notify_all()
        if errors is not None and last is not None:
            errors.append(last)

    def _start_container(self, pc: PoolContainer) -> None:
        import httpx

        pc.state = "starting"
        pc.started_at = time.monotonic()
        pc.container, pc.port, pc.ready_s = None, None, None
        kwargs: dict[str, Any] = dict(
            detach=True,
            name=f"{pc.name}-{uuid.uuid4().hex[:4]}",
            labels=self.labels,
            environment=self.environment,
            ports={f"{CONTAINER_PORT}/tcp": (self.host, None)},  # Docker picks a free host port
            mem_limit=self.mem_limit,
            pids_limit=self.pids_limit,
            stop_signal="SIGTERM",
        )
        if self.cpus:
            kwargs["nano_cpus"] = int(self.cpus * 1e9)
        if self.command is not None:
            kwargs["command"] = self.command
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        pc.container = self.client.containers.run(self.image, **kwargs)
        deadline = pc.started_at + self.start_timeout
        # The published port appears once the container runs.
        while pc.port is None:
            pc.container.reload()
            if pc.container.status in ("exited", "dead"):
                raise PoolError(f"{pc.name} exited at start: {_logs_tail(pc.container)}")
            bindings = (pc.container.attrs.get("NetworkSettings") or {}).get("Ports") or {}
            for b in bindings.get(f"{CONTAINER_PORT}/tcp") or []:
                if b.get("HostPort"):
                    pc.port = int(b["HostPort"])
                    break
            if pc.port is None:
                if time.monotonic() > deadline:
                    raise PoolError(f"{pc.name}: Docker published no port for {CONTAINER_PORT}/tcp")
                time.sleep(0.02)
        if pc.client is not None:
            pc.client.close()
        pc.client = httpx.Client(
            base_url=pc.url,
            timeout=httpx.Timeout(self.http_timeout, connect=min(self.http_timeout, 5.0)),
            limits=httpx.Limits(
                max_connections=2 * self.slots_per_container + 2,
                max_keepalive_connections=2 * self.slots_per_container + 2,
            ),
            headers={"user-agent": "supportgym-docker-pool", "authorization": f"Bearer {self.token}"},
        )
        probe = httpx.Client(timeout=httpx.Timeout(1.0), headers={"authorization": f"Bearer {self.token}"})
        try:
            n = 0
            while True:
                try:
                    r = probe.get(f"{pc.url}/readyz")
                    if r.status_code == 200:
                        break
                except httpx.HTTPError:  # not listening yet: poll again
                    pass
                n += 1
                if n % 20 == 0:  # every ~0.5 s: did it die?
                    pc.container.reload()
                    if pc.container.status in ("exited", "dead"):
                        raise PoolError(f"{pc.name} exited before it was ready: {_logs_tail(pc.container)}")
                if self._closed:
                    raise PoolError("the pool was closed while the container started")
                if time.monotonic() > deadline:
                    raise PoolError(
                        f"{pc.name} was not ready after {self.start_timeout:.0f} s: {_logs_tail(pc.container)}"
                    )
                time.sleep(0.025)
        finally:
            probe.close()
        pc.ready_s = time.monotonic() - pc.started_at
        pc.last_ok = time.monotonic()
        log.info("pool %s: %s ready in %.2f s", self.pool_id, pc.short(), pc.ready_s)

    def _discard(self, pc: PoolContainer, keep_record: bool = False) -> None:
        if pc.client is not None:
            pc.client.close()
            pc.client = None
        if pc.container is not None:
            _remove_quietly(pc.container)
            pc.container = None
        if not keep_record:
            pc.state = "dead"

    def check(self, pc: PoolContainer, timeout: float = 2.0) -> bool:
        """Whether ``pc`` is running and answers ``/healthz`` within ``timeout`` seconds."""
        import httpx

        if pc.state != "ready" or pc.container is None or pc.client is None:
            return False
        try:
            r = pc.client.get("/healthz", timeout=timeout)
            ok = r.status_code == 200
        except (httpx.HTTPError, RuntimeError):
            ok = False
        if not ok:
            try:
                pc.container.reload()
                log.warning(
                    "pool %s: %s failed its health check (status %s)", self.pool_id, pc.short(), pc.container.status
                )
            except docker_errors() as exc:  # the container is gone: the failed check says enough
                log.warning(
                    "pool %s: %s failed its health check; its status is unknown (%s)", self.pool_id, pc.short(), exc
                )
        else:
            pc.last_ok = time.monotonic()
        return ok

    def replace(self, pc: PoolContainer, *, wait: bool = True) -> PoolContainer | None:
        """Remove ``pc`` and start a new container in its place. Episodes in flight on ``pc``
        fail with :class:`ContainerLost`. With ``wait`` returns the new, ready container."""
        with self._cv:
            if pc.state == "dead" or pc not in self._containers or self._closed:
                return None
            pc.state = "dead"
            self._containers.remove(pc)
            self._cv.notify_all()
        self.replacements += 1
        log.warning("pool %s: replacing %s", self.pool_id, pc.short())
        threading.Thread(target=self._discard, args=(pc,), daemon=True).start()
        new = self._new_record()
        if wait:
            self._bring_up(new)
            return new if new.state == "ready" else None
        threading.Thread(target=self._bring_up, args=(new,), daemon=True).start()
        return new

    # --- slots --------------------------------------------------------------------------

    def acquire(self, timeout: float | None = None, prefer: PoolContainer | None = None) -> Slot:
        """A slot on ``prefer`` if it is healthy and has a free slot, else on the least-loaded
        healthy container; waits up to ``timeout`` (default ``acquire_timeout``) for one.
        Raises :class:`PoolError` when none comes."""
        if not self._started:
            self.start()
        deadline = time.monotonic() + (self.acquire_timeout if timeout is None else timeout)
        while True:
            with self._cv:
                while True:
                    if self._closed:
                        raise PoolError("the pool is closed")
                    free = [c for c in self._containers if c.state == "ready" and c.busy < self.slots_per_container]
                    if free:
                        pc = prefer if prefer in free else min(free, key=lambda c: (c.busy, c.episodes, c.index))
                        pc.busy += 1
                        pc.episodes += 1
                        break
                    if not self._containers:
                        raise PoolError(f"the pool has no containers left (last error: {self._last_error})")
                    left = deadline - time.monotonic()
                    if left <= 0:
                        states = ", ".join(f"{c.name}:{c.state}/{c.busy}" for c in self._containers)
                        raise PoolError(f"no free slot within the acquire timeout ({states})")
                    self._cv.wait(min(left, 1.0))
            if time.monotonic() - pc.last_ok < self.check_interval or self.check(pc):
                return Slot(self, pc)
            self._give_back(pc)
            self.replace(pc, wait=False)

    def _give_back(self, pc: PoolContainer) -> None:
        with self._cv:
            pc.busy = max(0, pc.busy - 1)
            self._cv.notify_all()

    def release(self, slot: Slot, *, failed: bool = False) -> None:
        """Give a slot back. ``failed``: a call on it could not reach the container, so check the
        container now and replace it (in the background) if it is unhealthy."""
        if slot.released:
            return
        slot.released = True
        pc = slot.container
        self._give_back(pc)
        if failed and pc.state == "ready" and not self.check(pc):
            self.replace(pc, wait=False)
        elif not failed:
            pc.last_ok = max(pc.last_ok, time.monotonic()) if pc.state == "ready" else pc.last_ok

    # --- views --------------------------------------------------------------------------

    def containers(self) -> list[PoolContainer]:
        with self._cv:
            return list(self._containers)

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Wait until ``size`` containers are ready (after a replacement, say)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while sum(c.state == "ready" for c in self._containers) < self.size:
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    return False
                self._cv.wait(min(left, 0.5))
            return True

    def status(self) -> list[dict[str, Any]]:
        return [
            {
                "name": c.name,
                "id": (c.id or "")[:12],
                "state": c.state,
                "url": c.url if c.port else None,
                "busy": c.busy,
                "episodes": c.episodes,
                "ready_s": None if c.ready_s is None else round(c.ready_s, 3),
            }
            for c in self.containers()
        ]

    def transport(self, **kwargs: Any) -> DockerTransport:
        return DockerTransport(self, **kwargs)

    def __repr__(self) -> str:
        return (
            f"ContainerPool(image={self.image!r}, size={self.size}, pool_id={self.pool_id!r}, "
            f"containers={self.status()})"
        )


def _remove_quietly(container: Any) -> None:
    try:
        container.remove(force=True)
    except docker_errors() as exc:
        if "No such container" not in str(exc) and "is already in progress" not in str(exc):
            log.warning("could not remove container %s: %s", getattr(container, "id", "?")[:12], exc)


def _logs_tail(container: Any, lines: int = 15) -> str:
    try:
        text = container.logs(tail=lines).decode("utf-8", "replace").strip()
        return text.replace("\n", " | ")[-1500:] or "(no output)"
    except docker_errors() as exc:
        return f"(logs unavailable: {exc})"


class DockerTransport:
    """Runs each episode on a container of a :class:`ContainerPool`, through :class:`HttpTransport`.

    ``create`` takes a slot (the previous episode's slot is given back first; the same container
    is preferred, so its keep-alive connection is reused), ``step`` goes to that container,
    ``close_episode`` deletes the episode and gives the slot back. If the container cannot be
    reached, ``create`` retries once on another container; ``step`` raises
    :class:`ContainerLost` and the pool replaces the container. Without a ``pool`` the transport
    starts (and on ``close`` removes) a private one-container pool: ``pool_kwargs`` go to it.
    """

    name = "docker"

    def __init__(self, pool: ContainerPool | None = None, *, timeout: float | None = None, **pool_kwargs: Any) -> None:
        self._own_pool = pool is None
        self.pool = pool if pool is not None else ContainerPool(**pool_kwargs)
        self.timeout = timeout
        self.slot: Slot | None = None
        self.http: HttpTransport | None = None
        self._http_pc: PoolContainer | None = None

    @property
    def episode_id(self) -> str | None:
        return None if self.http is None or self.slot is None else self.http.episode_id

    @property
    def container(self) -> PoolContainer | None:
        return None if self.slot is None else self.slot.container

    def _bind(self) -> HttpTransport:
        self.slot = self.pool.acquire(prefer=self._http_pc)
        pc = self.slot.container
        if self.http is None or pc is not self._http_pc:
            self._forget_http()
            self.http = HttpTransport(pc.url, timeout=self.timeout or self.pool.http_timeout, token=self.pool.token)
            self._http_pc = pc
        return self.http

    def _forget_http(self) -> None:
        if self.http is not None:
            http, self.http, self._http_pc = self.http, None, None
            http.episode_id = None
            http.close()

    def _drop(self, failed: bool) -> None:
        if failed:
            self._forget_http()
        if self.slot is not None:
            slot, self.slot = self.slot, None
            slot.release(failed=failed)

    def create(self, config: Any) -> EpisodeInfo:
        self.close_episode()
        for attempt in (1, 2):
            http = self._bind()
            try:
                return http.create(config)
            except ServerUnavailable as exc:
                pc = self.container
                self._drop(failed=True)
                if attempt == 2:
                    raise ContainerLost(f"could not create an episode on {pc.short() if pc else '?'}: {exc}") from exc
            except BaseException:
                self._drop(failed=False)
                raise
        raise AssertionError("unreachable")

    def step(self, name: str, arguments: Any) -> dict[str, Any]:
        if self.http is None or self.slot is None:
            raise EpisodeEnded("no episode: call reset() first")
        try:
            return self.http.step(name, arguments)
        except ServerUnavailable as exc:
            pc, episode = self.container, self.http.episode_id
            self._drop(failed=True)
            raise ContainerLost(
                f"episode {episode} is lost: its container {pc.short() if pc else '?'} died or stopped "
                f"answering ({exc}); the pool replaces it, reset() to start a new episode"
            ) from exc

    def get(self, what: str) -> dict[str, Any]:
        """``GET /episodes/{id}/<what>`` (``trail``, ``changes``, ``grade``) of the current episode."""
        if self.http is None or self.slot is None or self.http.episode_id is None:
            raise RuntimeError("no episode")
        return self.http.get(what)

    def close_episode(self) -> None:
        failed = False
        if self.http is not None and self.slot is not None:
            try:
                self.http.close_episode()
            except EnvironmentFault:
                failed = True  # the episode or its container is gone already
        self._drop(failed=failed)

    def close(self) -> None:
        try:
            self.close_episode()
            self._forget_http()
        finally:
            if self._own_pool:
                self.pool.close()


__all__ = [
    "MANAGED_LABEL",
    "POOL_LABEL",
    "ContainerLost",
    "ContainerPool",
    "DockerTransport",
    "PoolContainer",
    "PoolError",
    "Slot",
    "default_image",
]
