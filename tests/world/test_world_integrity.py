from __future__ import annotations

import time

import pytest

from supportgym.world_seed.check import INVARIANTS, run_checks, summarize
from supportgym.world_seed.generate import build_world
from supportgym.world_seed.scales import SCALES


def _check(snapshot, require_all: bool = True) -> None:  # noqa: ANN001
    db = snapshot.open()
    try:
        with db.session() as s:
            report = run_checks(s)
    finally:
        db.close()
    assert report.ok, summarize(report.violations)
    # Every invariant actually looked at something (tiny worlds may lack e.g. store credit).
    assert not require_all or all(report.checked[name] > 0 for name in INVARIANTS), report.checked


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 7, 42, 99, 2024])
def test_tiny_worlds_pass_every_invariant(seed: int) -> None:
    _check(build_world(seed, "tiny"), require_all=False)


def test_tiny_builds_fast() -> None:
    t0 = time.perf_counter()
    build_world(5, "tiny")
    # Generous bound for a loaded CI box; typically ~0.25 s.
    assert time.perf_counter() - t0 < 2.0


def test_default_world_passes_every_invariant(default_snapshot) -> None:  # noqa: ANN001
    _check(default_snapshot)


def test_default_world_other_seed() -> None:
    _check(build_world(11, "default"))


@pytest.mark.parametrize("scale", ["tiny", "default"])
def test_counts_follow_the_scale(scale: str, request: pytest.FixtureRequest) -> None:
    snap = request.getfixturevalue(f"{scale}_snapshot")
    sc = SCALES[scale]
    assert snap.counts["customers"] == sc.customers
    assert snap.counts["products"] == sc.products
    assert snap.counts["orders"] == sc.orders
    assert snap.counts["tickets"] == sc.tickets
    assert snap.counts["staff"] == sc.staff
    assert 10 <= snap.counts["policies"] <= 16


@pytest.mark.slow
def test_large_world_passes_every_invariant() -> None:
    t0 = time.perf_counter()
    snap = build_world(7, "large")
    elapsed = time.perf_counter() - t0
    assert snap.counts["orders"] == SCALES["large"].orders
    _check(snap)
    print(f"large world built in {elapsed:.1f} s")
