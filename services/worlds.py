"""Process-wide cache of world snapshots, so a new episode is a memory copy, not a generation.

A snapshot (the SQLite image of a generated world) is immutable; every episode opens its own
private copy with :meth:`WorldDB.from_image`. Generating a default-scale world takes seconds, so
each ``(seed, scale)`` is loaded once per process and kept. Concurrent first requests for the
same world wait for one load instead of generating it several times.

The cache is bounded by the bytes of its images (:func:`set_cache_budget`): beyond it, the
least recently used worlds are dropped (episodes already open keep their own copies), so a
client asking for many seeds cannot grow the process without limit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from supportgym.world_seed.cache import load_world

DEFAULT_BUDGET_BYTES = 512_000_000
_snapshots: OrderedDict[tuple[int, str], Any] = OrderedDict()
_budget = [DEFAULT_BUDGET_BYTES]
_locks: dict[tuple[int, str], threading.Lock] = {}
_guard = threading.Lock()


def get_snapshot(seed: int, scale: str) -> Any:
    """The snapshot of world ``(seed, scale)``: it has ``.image`` and ``.open() -> WorldDB``."""
    key = (int(seed), str(scale))
    snap = _snapshots.get(key)
    if snap is not None:
        with _guard:
            if key in _snapshots:
                _snapshots.move_to_end(key)
        return snap
    with _guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        snap = _snapshots.get(key)
        if snap is None:
            snap = load_world(key[0], key[1])
            with _guard:
                _snapshots[key] = snap
                _evict()
    return snap


def _size(snap: Any) -> int:
    image = getattr(snap, "image", None)
    return len(image) if isinstance(image, (bytes, bytearray, memoryview)) else 0


def _evict() -> None:
    # Under _guard. The newest world always stays, even alone over the budget.
    total = sum(_size(s) for s in _snapshots.values())
    while len(_snapshots) > 1 and total > _budget[0]:
        key, old = _snapshots.popitem(last=False)
        _locks.pop(key, None)
        total -= _size(old)


def set_cache_budget(max_bytes: int) -> None:
    """Keep at most ``max_bytes`` of world images cached (least recently used dropped first)."""
    with _guard:
        _budget[0] = max_bytes
        _evict()


def cached_bytes() -> int:
    with _guard:
        return sum(_size(s) for s in _snapshots.values())


def cached_worlds() -> list[tuple[int, str]]:
    """The ``(seed, scale)`` pairs loaded so far."""
    return sorted(_snapshots)


def clear() -> None:
    """Forget every cached snapshot (tests)."""
    with _guard:
        _snapshots.clear()
