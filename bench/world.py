"""``supportgym bench world``: measured figures about world building and restoring.

Prints figures, never pass/fail. Other packages add rows by registering a provider with
:func:`register_rows`: a function ``(ctx: BenchContext) -> list[BenchRow]`` (e.g. the tools
engineer's tool-call latency row), called after the world rows.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import typer

from supportgym.stats import percentile


@dataclass(frozen=True)
class BenchRow:
    figure: str
    value: float
    unit: str
    n: int


@dataclass
class BenchContext:
    """What providers get: the scale/seed asked for and the snapshot already built."""

    scale: str
    seed: int
    snapshot: Any  # WorldSnapshot


RowProvider = Callable[[BenchContext], list[BenchRow]]
_PROVIDERS: list[RowProvider] = []


def register_rows(provider: RowProvider) -> RowProvider:
    """Add a row provider to ``bench world`` (usable as a decorator)."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def world_rows(
    scale: str = "default", seed: int = 7, samples: int = 200, build_runs: int = 1
) -> tuple[list[BenchRow], Any]:
    """Build time from scratch, restore p50/p99 and image size. Returns (rows, snapshot)."""
    from sqlalchemy import select

    from supportgym.db import WorldDB
    from supportgym.schema import Customer
    from supportgym.world_seed.generate import build_world

    build_times = []
    snap = None
    for _ in range(build_runs):
        t0 = time.perf_counter()
        snap = build_world(seed, scale)
        build_times.append(time.perf_counter() - t0)
    assert snap is not None
    restore = []
    for _ in range(samples):
        t0 = time.perf_counter()
        db = WorldDB.from_image(snap.image)
        with db.session() as s:
            s.execute(select(Customer.id).limit(1)).first()
        restore.append((time.perf_counter() - t0) * 1000)
        db.close()
    rows = [
        BenchRow(f"build {scale} world from scratch (no cache)", statistics.median(build_times), "s", build_runs),
        BenchRow("restore fresh copy + first query, p50", percentile(restore, 0.50), "ms", samples),
        BenchRow("restore fresh copy + first query, p99", percentile(restore, 0.99), "ms", samples),
        BenchRow(f"{scale} world image size", len(snap.image) / 1_000_000, "MB", 1),
        BenchRow(f"{scale} world rows", float(sum(snap.counts.values())), "rows", 1),
    ]
    return rows, snap


def bench_world(
    scale: Annotated[str, typer.Option(help="World size: tiny, default or large.")] = "default",
    seed: Annotated[int, typer.Option(help="World seed.")] = 7,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Measure world build time, restore latency (p50/p99 over 200 samples) and image size."""
    rows, snap = world_rows(scale=scale, seed=seed)
    ctx = BenchContext(scale=scale, seed=seed, snapshot=snap)
    for provider in _PROVIDERS:
        rows += provider(ctx)
    if json_out:
        typer.echo(json.dumps([asdict(r) for r in rows], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"SupportGym world benchmark (scale={scale}, seed={seed})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("unit")
    table.add_column("n", justify="right")
    for r in rows:
        value = f"{r.value:,.0f}" if r.unit == "rows" else f"{r.value:.3f}"
        table.add_row(r.figure, value, r.unit, str(r.n))
    Console().print(table)
