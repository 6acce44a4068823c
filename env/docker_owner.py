"""Who owns a pool's containers, and whether that owner is still alive.

Every container of a :class:`~supportgym.env.docker_pool.ContainerPool` carries

* ``org.supportgym.owner`` = ``<host>/<pid>/<process start time>``: the driver process. The start
  time (from ``/proc/<pid>/stat``) tells a live owner from a new process that reused its pid;
* ``org.supportgym.heartbeat`` = a file the pool touches every few seconds while it lives
  (``~/.cache/supportgym/pools/<pool id>.alive``), for owners on another host that share it.

A container is an **orphan** when its owner is provably gone: same host and the pid is not
running (or runs a different process), or its heartbeat file is older than
``STALE_AFTER_S``. An owner on another host without a visible heartbeat is never judged dead:
a live run is never removed on a guess. Labels cannot change once a container exists, which is
why the heartbeat is a file named by a label rather than the label itself.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

OWNER_LABEL = "org.supportgym.owner"
HEARTBEAT_LABEL = "org.supportgym.heartbeat"
HEARTBEAT_INTERVAL_S = 5.0
STALE_AFTER_S = 60.0


def process_start(pid: int) -> str | None:
    """The start time of ``pid`` in clock ticks since boot (None if it does not run)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return None
    # Field 22; the command name (field 2) may hold spaces, so split after its closing paren.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def this_owner() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}/{pid}/{process_start(pid) or '?'}"


def heartbeat_dir() -> Path:
    base = os.environ.get("SUPPORTGYM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "supportgym")
    return Path(base) / "pools"


def owner_gone(labels: dict[str, str], *, now: float | None = None) -> bool:
    """Whether the owner named by a container's labels is provably gone (see the module notes)."""
    owner = labels.get(OWNER_LABEL)
    if not owner:
        return False  # made before owners were recorded: not ours to judge
    host, _, rest = owner.partition("/")
    pid_text, _, started = rest.partition("/")
    if host == socket.gethostname() and pid_text.isdigit():
        running = process_start(int(pid_text))
        return running is None or (started != "?" and running != started)
    beat = labels.get(HEARTBEAT_LABEL)
    if beat:
        try:
            age = (time.time() if now is None else now) - Path(beat).stat().st_mtime
        except OSError:
            return False
        return age > STALE_AFTER_S
    return False


class Heartbeat:
    """Touches ``path`` every ``interval`` seconds until :meth:`stop` (a daemon thread)."""

    def __init__(self, path: Path, interval: float = HEARTBEAT_INTERVAL_S) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Heartbeat:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        self._thread = threading.Thread(target=self._run, name="supportgym-pool-heartbeat", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.path.touch()
            except OSError:
                pass  # a full or read-only disk: the owner check still works on this host

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        try:
            self.path.unlink()
        except OSError:  # removed already (or never written): nothing to clean
            pass
