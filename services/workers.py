"""The worker processes of ``supportgym serve --workers N``: start, wait for, and stop them.

Each worker is a whole service (``uvicorn --factory <app factory>``) listening on a UNIX socket
in a private directory (mode 0700: only this user can reach a worker without going through the
front). A worker gets the front's settings through ``SUPPORTGYM_*`` variables, plus its number
(carried in its episode ids), its share of the episode limit, and the author's-view token the
front prints. Workers die with the front: they are stopped when it shuts down, and the kernel
sends them SIGTERM when it dies any other way (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from supportgym.services.settings import Settings, settings_env

PR_SET_PDEATHSIG = 1


def default_workers() -> int:
    """All the cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def die_with_parent(parent: int) -> None:
    """For ``preexec_fn``: the child gets SIGTERM when ``parent`` (the process that started it)
    dies, however it dies (Linux; elsewhere a no-op)."""
    # Runs in the child between fork and exec: ask the kernel for SIGTERM when the front dies,
    # then close the race where it died before the request was made.
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: workers are stopped only by the front's shutdown
        return
    if os.getppid() != parent:
        os._exit(1)


@dataclass
class Worker:
    index: int
    socket_path: str
    process: subprocess.Popen

    def exit_code(self) -> int | None:
        return self.process.poll()


@dataclass
class WorkerSet:
    workers: list[Worker]
    directory: str
    stopped: bool = field(default=False)

    def __len__(self) -> int:
        return len(self.workers)

    async def wait_listening(self, timeout: float = 120.0) -> None:
        """Return once every worker accepts connections; RuntimeError when one exits first,
        TimeoutError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            while True:
                code = worker.exit_code()
                if code is not None:
                    raise RuntimeError(f"worker {worker.index} exited with code {code} while starting")
                try:
                    _, writer = await asyncio.open_unix_connection(worker.socket_path)
                except (FileNotFoundError, ConnectionRefusedError):  # not listening yet
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"worker {worker.index} not listening after {timeout}s") from None
                    await asyncio.sleep(0.05)
                    continue
                writer.close()
                break

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM every worker (uvicorn's graceful stop), SIGKILL what is left after ``timeout``,
        and remove the socket directory. Safe to call twice."""
        if self.stopped:
            return
        self.stopped = True
        for worker in self.workers:
            if worker.exit_code() is None:
                worker.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            try:
                worker.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout)
        shutil.rmtree(self.directory, ignore_errors=True)


def worker_settings(settings: Settings, index: int, count: int, admin_token: str) -> Settings:
    """What worker ``index`` of ``count`` runs with: its number, its share of the episode limit
    (rounded up), and the shared author's-view token (unless a service token is set)."""
    return settings.model_copy(
        update={
            "worker_index": index,
            "max_episodes": max(1, math.ceil(settings.max_episodes / count)),
            "admin_token": None if settings.token else admin_token,
        }
    )


def start_workers(settings: Settings, count: int, app_factory: str, admin_token: str) -> WorkerSet:
    """Start ``count`` workers running ``app_factory`` (``module:function`` returning the app,
    settings read from the environment). They are starting, not ready: see ``wait_listening``."""
    if not 1 <= count <= 256:
        raise ValueError(f"workers must be between 1 and 256, not {count}")
    directory = tempfile.mkdtemp(prefix="supportgym-workers-")
    os.chmod(directory, 0o700)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("SUPPORTGYM_")}
    parent = os.getpid()
    workers: list[Worker] = []
    try:
        for index in range(count):
            socket_path = os.path.join(directory, f"w{index}.sock")
            env = {**base_env, **settings_env(worker_settings(settings, index, count, admin_token))}
            cmd = [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                app_factory,
                "--uds",
                socket_path,
                "--log-level",
                settings.log_level,
                # Agents think for seconds between calls; the front keeps its connections open.
                "--timeout-keep-alive",
                "75",
            ]
            if settings.log_level != "debug":
                cmd.append("--no-access-log")
            process = subprocess.Popen(
                cmd, env=env, stdin=subprocess.DEVNULL, preexec_fn=lambda: die_with_parent(parent)
            )
            workers.append(Worker(index, socket_path, process))
    except BaseException:
        WorkerSet(workers, directory).stop()
        raise
    return WorkerSet(workers, directory)
