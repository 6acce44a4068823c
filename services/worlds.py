"""Process-wide cache of world snapshots, so a new episode is a memory copy, not a generation.

A snapshot (the SQLite image of a generated world) is immutable; every episode opens its own
private copy with :meth:`WorldDB.from_image`. Generating a default-scale world takes seconds, so
each ``(seed, scale)`` is loaded once per process and kept. Concurrent first requests for the
same world wait for one load instead of generating it several times.
"""

from __future__ import annotations

import threading
from typing import Any

_snapshots: dict[tuple[int, str], Any] = {}
_locks: dict[tuple[int, str], threading.Lock] = {}
_guard = threading.Lock()


def _loader() -> Any:
    # ``load_world`` (world_seed's cached loader) when present; the plain generator otherwise.
    try:
        from supportgym.world_seed.generate import load_world

        return load_world
    except ImportError:
        pass
    try:
        from supportgym.world_seed.cache import load_world  # type: ignore[no-redef]

        return load_world
    except ImportError:
        from supportgym.world_seed.generate import build_world

        return build_world


def get_snapshot(seed: int, scale: str) -> Any:
    """The snapshot of world ``(seed, scale)``: it has ``.image`` and ``.open() -> WorldDB``."""
    key = (int(seed), str(scale))
    snap = _snapshots.get(key)
    if snap is not None:
        return snap
    with _guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        snap = _snapshots.get(key)
        if snap is None:
            snap = _loader()(key[0], key[1])
            _snapshots[key] = snap
    return snap


def cached_worlds() -> list[tuple[int, str]]:
    """The ``(seed, scale)`` pairs loaded so far."""
    return sorted(_snapshots)


def clear() -> None:
    """Forget every cached snapshot (tests)."""
    with _guard:
        _snapshots.clear()
