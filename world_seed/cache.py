"""``load_world(seed, scale)``: built worlds from an in-process LRU, then a disk cache.

Disk layout: ``${SUPPORTGYM_CACHE:-~/.cache/supportgym}/worlds/<scale>-s<seed>-<digest>.sqlite``
(the raw SQLite image) and a ``.json`` beside it holding the world hash, the image's SHA-256
and the table counts. ``<digest>`` covers the source of ``world_seed/*.py``,
``supportgym/schema.py``, ``policy.py``, ``clock.py`` and the Faker version, so editing the
generator invalidates old entries automatically.

Loading re-verifies cheaply: the image's SHA-256 must equal the one recorded beside it (the
world hash itself is recomputed only when ``verify=True``, as the tests do). Writes go to a
temporary file in the same directory followed by ``os.replace``, image first and metadata
last, so a reader never sees a half-written entry and two racing processes just both write the
same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

import supportgym
from supportgym.world_seed.generate import build_world
from supportgym.world_seed.scales import get_scale
from supportgym.world_seed.snapshot import WorldSnapshot, fast_world_hash

_LRU_SIZE = 4
_lru: OrderedDict[tuple[str, int, str, str], WorldSnapshot] = OrderedDict()
_lock = threading.Lock()
_digest: str | None = None


def cache_root() -> Path:
    """``$SUPPORTGYM_CACHE`` (default ``~/.cache/supportgym``)."""
    env = os.environ.get("SUPPORTGYM_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "supportgym"


def source_digest() -> str:
    """Digest of everything that determines a world's content."""
    global _digest
    if _digest is None:
        import faker

        here = Path(__file__).resolve().parent
        core = Path(supportgym.__file__).resolve().parent
        # ids.py numbers the rows and money.py writes the amounts in the policy articles.
        files = sorted(here.glob("*.py")) + [
            core / n for n in ("schema.py", "policy.py", "clock.py", "ids.py", "money.py")
        ]
        h = hashlib.sha256()
        for f in files:
            h.update(f.name.encode() + b"\x00" + f.read_bytes() + b"\x00")
        h.update(f"faker={faker.VERSION}".encode())
        _digest = h.hexdigest()[:16]
    return _digest


def _paths(seed: int, scale: str) -> tuple[Path, Path]:
    base = cache_root() / "worlds" / f"{scale}-s{seed}-{source_digest()}"
    return base.with_suffix(".sqlite"), base.with_suffix(".json")


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_disk(seed: int, scale: str, verify: bool) -> WorldSnapshot | None:
    img_path, meta_path = _paths(seed, scale)
    try:
        meta = json.loads(meta_path.read_text())
        image = img_path.read_bytes()
    except (OSError, ValueError):
        return None
    if hashlib.sha256(image).hexdigest() != meta.get("image_sha256"):
        return None
    snap = WorldSnapshot(
        seed=seed, scale=scale, image=image, world_hash=meta["world_hash"], counts=dict(meta["counts"])
    )
    if verify:
        db = snap.open()
        try:
            if fast_world_hash(db) != snap.world_hash:
                return None
        finally:
            db.close()
    return snap


def _write_disk(snap: WorldSnapshot) -> None:
    img_path, meta_path = _paths(snap.seed, snap.scale)
    meta = {
        "seed": snap.seed,
        "scale": snap.scale,
        "world_hash": snap.world_hash,
        "image_sha256": hashlib.sha256(snap.image).hexdigest(),
        "counts": snap.counts,
        "source_digest": source_digest(),
    }
    try:
        _atomic_write(img_path, snap.image)
        _atomic_write(meta_path, json.dumps(meta, indent=1, sort_keys=True).encode())
    except OSError:
        pass  # a read-only or full cache directory only costs a rebuild next time


def load_world(seed: int = 7, scale: str = "default", *, verify: bool = False, use_disk: bool = True) -> WorldSnapshot:
    """The world for ``(seed, scale)``: from memory, else from disk, else built and stored.

    ``verify=True`` recomputes the world hash of a disk entry (slow; for tests).
    """
    scale = get_scale(scale).name
    key = (str(cache_root()), seed, scale, source_digest())
    with _lock:
        snap = _lru.get(key)
        if snap is not None:
            _lru.move_to_end(key)
            return snap
    snap = _read_disk(seed, scale, verify) if use_disk else None
    if snap is None:
        snap = build_world(seed, scale)
        if use_disk:
            _write_disk(snap)
    with _lock:
        _lru[key] = snap
        _lru.move_to_end(key)
        while len(_lru) > _LRU_SIZE:
            _lru.popitem(last=False)
    return snap


def clear_memory_cache() -> None:
    """Forget the in-process LRU (the disk cache is untouched)."""
    with _lock:
        _lru.clear()


def cache_paths(seed: int, scale: str) -> tuple[Path, Path]:
    """Where ``(seed, scale)`` is (or would be) stored: image and metadata paths."""
    return _paths(seed, get_scale(scale).name)
