from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

from supportgym.db import world_hash
from supportgym.world_seed.generate import build_world
from supportgym.world_seed.snapshot import fast_world_hash

_CHILD = (
    "import hashlib, json\n"
    "from supportgym.world_seed.generate import build_world\n"
    "s = build_world({seed}, {scale!r})\n"
    "print(json.dumps({{'hash': s.world_hash, 'image': hashlib.sha256(s.image).hexdigest()}}))\n"
)


def test_same_seed_same_hash_and_image_in_process() -> None:
    a, b = build_world(7, "tiny"), build_world(7, "tiny")
    assert a.world_hash == b.world_hash
    assert a.image == b.image
    assert a.counts == b.counts


def test_default_scale_is_deterministic(default_snapshot) -> None:  # noqa: ANN001
    again = build_world(7, "default")
    assert again.world_hash == default_snapshot.world_hash
    assert again.image == default_snapshot.image


@pytest.mark.parametrize(("seed", "hashseed"), [(7, "1"), (7, "2"), (12345, "3")])
def test_same_hash_and_image_in_a_fresh_process(seed: int, hashseed: str) -> None:
    # Different PYTHONHASHSEEDs: set/dict-of-str iteration order must not leak into the world.
    here = build_world(seed, "tiny")
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD.format(seed=seed, scale="tiny")],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    child = json.loads(out.stdout)
    assert child["hash"] == here.world_hash
    assert child["image"] == hashlib.sha256(here.image).hexdigest()


def test_different_seeds_give_different_worlds() -> None:
    hashes = {build_world(seed, "tiny").world_hash for seed in (1, 2, 3)}
    assert len(hashes) == 3


def test_different_scales_give_different_worlds(tiny_snapshot, default_snapshot) -> None:  # noqa: ANN001
    assert tiny_snapshot.world_hash != default_snapshot.world_hash


@pytest.mark.parametrize("which", ["tiny_snapshot", "default_snapshot"])
def test_fast_hash_equals_reference_world_hash(which: str, request: pytest.FixtureRequest) -> None:
    snap = request.getfixturevalue(which)
    db = snap.open()
    try:
        with db.session() as s:
            reference = world_hash(s)
        assert fast_world_hash(db) == reference == snap.world_hash
    finally:
        db.close()


def test_hash_changes_when_one_value_changes(tiny_db) -> None:  # noqa: ANN001
    before = fast_world_hash(tiny_db)
    tiny_db.conn.execute("UPDATE customers SET phone = '(000) 555-0000' WHERE id = 'CUS-10001'")
    tiny_db.conn.commit()
    assert fast_world_hash(tiny_db) != before


def test_world_meta(tiny_db) -> None:  # noqa: ANN001
    meta = dict(tiny_db.conn.execute("SELECT key, value FROM world_meta").fetchall())
    assert meta["seed"] == "7"
    assert meta["scale"] == "tiny"
    assert meta["now"] == "2026-03-16T09:00:00Z"
    assert meta["generator_version"]


def test_snapshot_open_gives_independent_copies(tiny_snapshot) -> None:  # noqa: ANN001
    a, b = tiny_snapshot.open(), tiny_snapshot.open()
    a.conn.execute("DELETE FROM ticket_tags")
    a.conn.commit()
    assert b.conn.execute("SELECT count(*) FROM ticket_tags").fetchone()[0] > 0
    a.close()
    b.close()
