"""Start ``supportgym serve`` in a subprocess on a free loopback port (tests, benchmarks).

    with running_server(warm="7/tiny") as server:
        httpx.get(server.url + "/healthz")

The process is always stopped when the block ends, even on error.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    process: subprocess.Popen
    port: int
    token: str | None = None  # the service token it was started with (None: none)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def start_server(
    *,
    warm: str = "7/tiny",
    max_episodes: int | None = None,
    idle_ttl: float | None = None,
    reap_interval: float | None = None,
    ready_timeout: float = 120.0,
    log_level: str = "warning",
    token: str | None = None,
    extra_args: list[str] | None = None,
    workers: int = 1,
) -> ServerProcess:
    """Start the service and wait until ``/readyz`` answers 200 (the warm worlds are loaded).
    ``workers`` > 1 runs ``serve --workers`` (a front and that many worker processes)."""
    import httpx

    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "supportgym.cli.serve",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--warm",
        warm,
        "--log-level",
        log_level,
        "--workers",
        str(workers),
    ]
    if max_episodes is not None:
        cmd += ["--max-episodes", str(max_episodes)]
    if idle_ttl is not None:
        cmd += ["--idle-ttl", str(idle_ttl)]
    if reap_interval is not None:
        cmd += ["--reap-interval", str(reap_interval)]
    cmd += extra_args or []
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPPORTGYM_")}
    if token is not None:  # by environment, so the secret is not in the process list
        env["SUPPORTGYM_TOKEN"] = token
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL)
    server = ServerProcess(proc, port, token)
    probe_headers = {"authorization": f"Bearer {token}"} if token else {}
    deadline = time.monotonic() + ready_timeout
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"supportgym serve exited with code {proc.returncode}")
            try:
                if httpx.get(server.url + "/readyz", timeout=2.0, headers=probe_headers).status_code == 200:
                    return server
            except httpx.TransportError:  # not listening yet: poll again until the deadline
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"supportgym serve not ready after {ready_timeout}s")
            time.sleep(0.05)
    except BaseException:
        server.kill()
        raise


@contextlib.contextmanager
def running_server(**kwargs) -> Iterator[ServerProcess]:
    server = start_server(**kwargs)
    try:
        yield server
    finally:
        server.stop()
        server.kill()
