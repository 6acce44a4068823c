"""``supportgym bench docker``: measured figures of the world service in containers.

Prints figures, never pass/fail (the targets are shown beside them):

* cold start: ``docker run`` of a new container until its ``/readyz`` answers 200 (the image's
  pre-generated default world loaded);
* warm reset: ``SupportEnv.reset`` on a warm container (``DELETE`` of the previous episode and
  ``POST /episodes``: a private copy of the world);
* step latency p50/p99 and steps/second, for 1 episode and for N concurrent episodes (threads,
  one :class:`SupportEnv` each) over the pool's containers, with a realistic mix of tool calls
  (reads and writes; :func:`supportgym.bench.service.tool_call_mix`).

Latencies are measured in the client, around ``SupportEnv.step`` / ``reset``: JSON, HTTP over
the published port, the service and the world all count.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from typing import Any

import typer

from supportgym.stats import percentile

TARGETS = {"cold_start_s": 3.0, "warm_reset_ms": 30.0, "step_p50_ms": 5.0}


def _mix(seed: int, scale: str) -> list[tuple[str, dict[str, Any]]]:
    from supportgym.bench.service import tool_call_mix
    from supportgym.services.worlds import get_snapshot

    db = get_snapshot(seed, scale).open()
    try:
        return tool_call_mix(db)
    finally:
        db.close()


def _run_steps(env: Any, options: dict[str, Any], mix: list, n: int, offset: int, out: list[float]) -> None:
    budget = int(options["max_steps"]) - 1
    env.reset(options=options)
    used = 0
    for i in range(n):
        if used >= budget:
            env.reset(options=options)
            used = 0
        name, args = mix[(offset + i) % len(mix)]
        t0 = time.perf_counter()
        env.step({"name": name, "arguments": args})
        out.append(time.perf_counter() - t0)
        used += 1


def measure(
    image: str | None = None,
    containers: int = 4,
    concurrency: int = 16,
    steps: int = 400,
    resets: int = 50,
    cold_runs: int = 3,
    seed: int = 7,
    scale: str = "default",
    progress: Any = None,
) -> dict[str, Any]:
    """Run the benchmark; returns the figures as a dict (what ``--json`` prints)."""
    from supportgym.env.docker_pool import ContainerPool, docker_errors
    from supportgym.env.support_env import SupportEnv

    say = progress or (lambda msg: None)
    result: dict[str, Any] = {"image": None, "scale": scale, "seed": seed, "targets": TARGETS}
    world = {"SUPPORTGYM_WARM_WORLDS": f"{seed}/{scale}"}

    # Cold start: a new container until /readyz is 200.
    cold: list[float] = []
    for i in range(cold_runs):
        say(f"cold start {i + 1}/{cold_runs}")
        with ContainerPool(image, size=1, environment=world) as pool:
            result["image"] = pool.image
            cold.append(pool.containers()[0].ready_s or float("nan"))
    result["cold_start_s"] = {"median": statistics.median(cold), "min": min(cold), "max": max(cold), "runs": cold}

    mix = _mix(seed, scale)
    options = {"seed": seed, "scale": scale, "max_steps": 1000}
    slots = max(1, -(-concurrency // containers))
    say(f"starting {containers} containers ({slots} slots each)")
    with ContainerPool(image, size=containers, slots_per_container=slots, environment=world) as pool:
        result["pool_start_s"] = max(c.ready_s or 0.0 for c in pool.containers())
        # Warm reset.
        env = SupportEnv(transport="docker", pool=pool)
        try:
            say(f"{resets} warm resets")
            for _ in range(3):
                env.reset(options=options)
            rs = []
            for _ in range(resets):
                t0 = time.perf_counter()
                env.reset(options=options)
                rs.append(time.perf_counter() - t0)
            result["warm_reset_ms"] = {
                "p50": percentile(rs, 0.5) * 1e3,
                "p99": percentile(rs, 0.99) * 1e3,
                "n": len(rs),
            }
            # One episode at a time.
            say(f"{steps} steps, 1 episode")
            _run_steps(env, options, mix, 20, 0, [])  # warm-up
            lat: list[float] = []
            t0 = time.perf_counter()
            _run_steps(env, options, mix, steps, 0, lat)
            wall = time.perf_counter() - t0
        finally:
            env.close()
        result["steps_1"] = {
            "p50_ms": percentile(lat, 0.5) * 1e3,
            "p99_ms": percentile(lat, 0.99) * 1e3,
            "steps_per_s": len(lat) / wall,
            "n": len(lat),
        }
        # N concurrent episodes.
        say(f"{steps} steps x {concurrency} concurrent episodes over {containers} containers")
        lats: list[list[float]] = [[] for _ in range(concurrency)]
        errors: list[BaseException] = []
        envs = [SupportEnv(transport="docker", pool=pool) for _ in range(concurrency)]
        barrier = threading.Barrier(concurrency + 1)

        def work(k: int) -> None:
            try:
                envs[k].reset(options=options)
                _run_steps(envs[k], options, mix, 10, k, [])  # warm-up
                barrier.wait(120)
                _run_steps(envs[k], options, mix, steps, k * 7, lats[k])
            except BaseException as exc:  # noqa: BLE001 - collected; the main thread raises it after the join
                errors.append(exc)
                barrier.abort()  # the other threads stop waiting and see the failure

        threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(concurrency)]
        for t in threads:
            t.start()
        try:
            barrier.wait(120)
            t0 = time.perf_counter()
        except threading.BrokenBarrierError:
            t0 = time.perf_counter()
        for t in threads:
            t.join(600)
        wall = time.perf_counter() - t0
        for e in envs:
            e.close()
        if errors:
            raise RuntimeError(f"{len(errors)} concurrent episode(s) failed; first: {errors[0]!r}")
        flat = [x for lat_k in lats for x in lat_k]
        result[f"steps_{concurrency}"] = {
            "p50_ms": percentile(flat, 0.5) * 1e3,
            "p99_ms": percentile(flat, 0.99) * 1e3,
            "steps_per_s": len(flat) / wall,
            "n": len(flat),
        }
        result["concurrency"] = concurrency
        result["containers"] = containers
        try:
            result["image_size_mb"] = pool.client.images.get(pool.image).attrs["Size"] / 1e6
        except docker_errors() + (KeyError,) as exc:  # the figure is optional: say why it is missing
            typer.echo(f"image size unknown: {type(exc).__name__}: {exc}", err=True)
            result["image_size_mb"] = None
    return result


def bench_docker(
    image: str = typer.Option(None, help="Image [env SUPPORTGYM_IMAGE, default supportgym:dev]."),
    containers: int = typer.Option(4, help="Containers for the concurrent run."),
    concurrency: int = typer.Option(16, help="Concurrent episodes in the concurrent run."),
    steps: int = typer.Option(400, help="Steps per episode stream (each of the concurrent ones too)."),
    resets: int = typer.Option(50, help="Warm resets timed."),
    cold_runs: int = typer.Option(3, help="Cold starts timed."),
    scale: str = typer.Option("default", help="World scale (the image pre-generates 7/default)."),
    seed: int = typer.Option(7, help="World seed."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Container cold start, warm reset, step latency and throughput (needs a Docker engine and
    the image from scripts/build-image). Prints figures; targets are shown, never enforced."""
    import sys

    from supportgym.env.docker_pool import PoolError

    def say(msg: str) -> None:
        print(f"[bench docker] {msg}", file=sys.stderr, flush=True)

    try:
        r = measure(image, containers, concurrency, steps, resets, cold_runs, seed, scale, progress=say)
    except PoolError as exc:
        say(f"cannot run: {exc}")
        raise typer.Exit(3) from exc
    if as_json:
        typer.echo(json.dumps(r, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    n = r["concurrency"]
    t = Table(title=f"SupportGym in Docker: {r['image']} ({r['image_size_mb']:.0f} MB), world {seed}/{scale}")
    for col in ("figure", "value", "target"):
        t.add_column(col)
    c = r["cold_start_s"]
    t.add_row(
        f"cold start to ready (median of {len(c['runs'])})",
        f"{c['median']:.2f} s (min {c['min']:.2f}, max {c['max']:.2f})",
        "<= 3 s",
    )
    w = r["warm_reset_ms"]
    t.add_row("reset, warm container p50 / p99", f"{w['p50']:.1f} / {w['p99']:.1f} ms", "<= 30 ms")
    for key, label in (("steps_1", "1 episode"), (f"steps_{n}", f"{n} episodes / {r['containers']} containers")):
        s = r[key]
        t.add_row(
            f"step p50 / p99, {label}",
            f"{s['p50_ms']:.2f} / {s['p99_ms']:.2f} ms",
            "p50 <= 5 ms" if key == "steps_1" else "",
        )
        t.add_row(f"steps/s, {label}", f"{s['steps_per_s']:.0f}", "")
    Console().print(t)
