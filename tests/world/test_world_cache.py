from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

import supportgym.world_seed.cache as cache
from supportgym.world_seed.generate import build_world


@pytest.fixture
def cold(tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv("SUPPORTGYM_CACHE", str(tmp_path))
    cache.clear_memory_cache()
    yield tmp_path
    cache.clear_memory_cache()


def _count_builds(monkeypatch) -> list[int]:  # noqa: ANN001
    calls: list[int] = []

    def counting(seed: int, scale: str):  # noqa: ANN202
        calls.append(seed)
        return build_world(seed, scale)

    monkeypatch.setattr(cache, "build_world", counting)
    return calls


def test_miss_builds_and_stores_then_disk_hit(cold, monkeypatch) -> None:  # noqa: ANN001
    calls = _count_builds(monkeypatch)
    a = cache.load_world(3, "tiny")
    assert calls == [3]
    img, meta = cache.cache_paths(3, "tiny")
    assert img.read_bytes() == a.image
    stored = json.loads(meta.read_text())
    assert stored["world_hash"] == a.world_hash
    assert stored["image_sha256"] == hashlib.sha256(a.image).hexdigest()
    assert not [p for p in img.parent.iterdir() if p.name.endswith(".tmp")]
    # In-process LRU: the very same object, no rebuild.
    assert cache.load_world(3, "tiny") is a
    # Disk: a new process (simulated by clearing memory) reads it back, verified.
    cache.clear_memory_cache()
    b = cache.load_world(3, "tiny", verify=True)
    assert calls == [3]
    assert b is not a and b.image == a.image and b.world_hash == a.world_hash
    assert b.counts == a.counts


def test_corrupted_disk_entry_is_rebuilt(cold, monkeypatch) -> None:  # noqa: ANN001
    a = cache.load_world(4, "tiny")
    img, _ = cache.cache_paths(4, "tiny")
    img.write_bytes(a.image[:-10] + b"0123456789")
    cache.clear_memory_cache()
    calls = _count_builds(monkeypatch)
    b = cache.load_world(4, "tiny")
    assert calls == [4]
    assert b.image == a.image
    assert img.read_bytes() == a.image  # repaired


def test_wrong_hash_beside_image_is_caught_by_verify(cold, monkeypatch) -> None:  # noqa: ANN001
    a = cache.load_world(5, "tiny")
    _, meta = cache.cache_paths(5, "tiny")
    m = json.loads(meta.read_text())
    m["world_hash"] = "0" * 64
    meta.write_text(json.dumps(m))
    cache.clear_memory_cache()
    calls = _count_builds(monkeypatch)
    assert cache.load_world(5, "tiny", verify=True).world_hash == a.world_hash
    assert calls == [5]


def test_key_includes_seed_scale_and_source_digest(cold) -> None:  # noqa: ANN001
    p1, _ = cache.cache_paths(1, "tiny")
    p2, _ = cache.cache_paths(2, "tiny")
    p3, _ = cache.cache_paths(1, "default")
    assert len({p1, p2, p3}) == 3
    assert cache.source_digest() in p1.name
    assert p1.parent == cold / "worlds"


def test_two_processes_racing_on_a_cold_cache(cold) -> None:  # noqa: ANN001
    env = {**os.environ, "SUPPORTGYM_CACHE": str(cold)}
    code = "from supportgym.world_seed.cache import load_world\nprint(load_world(9, 'tiny', verify=True).world_hash)\n"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env) for _ in range(2)
    ]
    outs = [p.communicate()[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert outs[0] == outs[1] == build_world(9, "tiny").world_hash
    files = sorted(p.name for p in (cold / "worlds").iterdir())
    assert len(files) == 2 and not any(f.endswith(".tmp") for f in files)
