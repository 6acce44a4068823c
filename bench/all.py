"""``supportgym bench all``: every figure the project promises, measured, in one table (and JSON).

Sections come from the other benchmarks where they exist (world build and restore, tool-call
latency, the environment in process and over HTTP, memory per live episode in the service,
grading, Docker) and
from this module (episode reset, steps/second at 1, 16 and 64 concurrent in-process episodes,
rollouts per minute of a group of 16 on a local Ray cluster). A section whose code or
requirements are missing is skipped with the reason printed; nothing is estimated.
"""

from __future__ import annotations

import contextlib
import io
import json
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import typer

from supportgym.stats import percentile


@dataclass
class Figure:
    section: str
    figure: str
    value: float
    unit: str
    n: int


def _quiet_json(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Run a ``--json`` bench command and parse what it prints."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        fn(**kwargs)
    return json.loads(buf.getvalue())


# --- sections -------------------------------------------------------------------------------


def world_section(scale: str, seed: int, quick: bool) -> list[Figure]:
    from supportgym.bench.world import BenchContext, world_rows

    rows, snap = world_rows(scale=scale, seed=seed, samples=50 if quick else 200)
    out = [Figure("world", r.figure, r.value, r.unit, r.n) for r in rows]
    try:
        from supportgym.bench.service import tool_latency_rows
    except ImportError as exc:
        _skip("tool calls (in process)", f"services.bench is missing ({exc})")
    else:
        ctx = BenchContext(scale=scale, seed=seed, snapshot=snap)
        out += [
            Figure("tools", r.figure, r.value, r.unit, r.n)
            for r in tool_latency_rows(ctx)
            if not r.figure.startswith(" ")
        ]
    return out


def env_section(scale: str, seed: int, quick: bool) -> list[Figure]:
    from supportgym.bench.env import bench_env

    data = _quiet_json(
        bench_env,
        scale=scale,
        seed=seed,
        steps=100 if quick else 300,
        vector_steps=10 if quick else 40,
        vector_envs=16,
        episodes=10 if quick else 50,
        as_json=True,
    )
    out = []
    for name, r in data["results"].items():
        out.append(Figure("env", f"{name} step p50", r["p50_ms"], "ms", int(r["n"])))
        out.append(Figure("env", f"{name} step p99", r["p99_ms"], "ms", int(r["n"])))
        out.append(Figure("env", f"{name} steps/s", r["steps_per_s"], "steps/s", int(r["n"])))
    m = data["memory"]
    out.append(Figure("env", "memory per live episode (service)", m["per_episode_mb"], "MB", int(m["n"])))
    return out


def reset_section(task_id: str | None, samples: int) -> list[Figure]:
    from supportgym.env.support_env import SupportEnv

    out = []
    env = SupportEnv(tasks=[])
    try:
        env.reset(options={"seed": 7, "scale": "default"})
        lat = []
        for _ in range(samples):
            t0 = time.perf_counter()
            env.reset(options={"seed": 7, "scale": "default"})
            lat.append((time.perf_counter() - t0) * 1000)
        out.append(Figure("episode", "reset, bare default world, p50", statistics.median(lat), "ms", samples))
        out.append(Figure("episode", "reset, bare default world, p99", percentile(lat, 0.99), "ms", samples))
        if task_id:
            env.reset(options={"task_id": task_id})
            lat = []
            for _ in range(samples):
                t0 = time.perf_counter()
                env.reset(options={"task_id": task_id})
                lat.append((time.perf_counter() - t0) * 1000)
            out.append(Figure("episode", f"reset, task {task_id}, p50", statistics.median(lat), "ms", samples))
    finally:
        env.close()
    return out


def grading_section(quick: bool) -> list[Figure]:
    from supportgym.bench.grading import measure_grading

    rounds = 5 if quick else 20
    r = measure_grading(rounds)
    n = rounds * int(r["tasks"])
    return [
        Figure("grading", "grading, program checks only, p50", r["p50_ms"], "ms", n),
        Figure("grading", "grading, program checks only, p99", r["p99_ms"], "ms", n),
    ]


def concurrency_section(levels: tuple[int, ...], steps_each: int, scale: str, seed: int) -> list[Figure]:
    """Steps/second with N in-process episodes stepping at once (one thread and env each)."""
    from supportgym.bench.service import tool_call_mix
    from supportgym.env.support_env import SupportEnv
    from supportgym.services.worlds import get_snapshot

    db = get_snapshot(seed, scale).open()
    try:
        mix = tool_call_mix(db)
    finally:
        db.close()
    options = {"seed": seed, "scale": scale, "max_steps": 1000}
    out = []
    for n in levels:
        envs = [SupportEnv(tasks=[], max_steps=1000, max_invalid_calls=1000) for _ in range(n)]
        lats: list[list[float]] = [[] for _ in range(n)]
        errors: list[BaseException] = []
        for e in envs:
            e.reset(options=options)
        barrier = threading.Barrier(n + 1)

        # This level's envs, latencies, errors and barrier, bound now: a thread that outlives its
        # join timeout must not touch the next level's.
        def work(
            k: int,
            envs: list[SupportEnv] = envs,
            lats: list[list[float]] = lats,
            errors: list[BaseException] = errors,
            barrier: threading.Barrier = barrier,
        ) -> None:
            try:
                barrier.wait(60)
                for i in range(steps_each):
                    name, args = mix[(k * 7 + i) % len(mix)]
                    t0 = time.perf_counter()
                    _, _, term, trunc, _ = envs[k].step({"name": name, "arguments": args})
                    lats[k].append(time.perf_counter() - t0)
                    if term or trunc:
                        envs[k].reset(options=options)
            except BaseException as exc:  # noqa: BLE001 - collected; the main thread raises it after the join
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(n)]
        for t in threads:
            t.start()
        barrier.wait(60)
        t0 = time.perf_counter()
        for t in threads:
            t.join(600)
        wall = time.perf_counter() - t0
        for e in envs:
            e.close()
        if errors:
            raise RuntimeError(f"{len(errors)} episode(s) failed at concurrency {n}: {errors[0]!r}")
        flat = [x for lk in lats for x in lk]
        out.append(
            Figure(
                "concurrency", f"steps/s, {n} concurrent in-process episodes", len(flat) / wall, "steps/s", len(flat)
            )
        )
        out.append(
            Figure(
                "concurrency",
                f"step p50, {n} concurrent in-process episodes",
                percentile(flat, 0.5) * 1e3,
                "ms",
                len(flat),
            )
        )
    return out


def ray_section(task_id: str, groups: int, n: int, num_actors: int, envs_per_actor: int) -> list[Figure]:
    """Rollouts per minute of groups of ``n`` with the reference policy on a local Ray cluster."""
    import ray

    from supportgym.env.ray_pool import SMALL_LOCAL_CLUSTER, RolloutPool

    if ray.is_initialized():
        raise RuntimeError("Ray is already running in this process")
    t0 = time.perf_counter()
    ray.init(**SMALL_LOCAL_CLUSTER, configure_logging=False)
    try:
        init_s = time.perf_counter() - t0
        with RolloutPool(
            num_actors=num_actors, envs_per_actor=envs_per_actor, num_cpus_per_actor=2 / num_actors
        ) as pool:
            t1 = time.perf_counter()
            pool.ready()
            pool.warm([task_id])
            pool.run_group(task_id, n=n)  # warm-up group, not counted
            ready_s = time.perf_counter() - t1
            walls = []
            done = 0
            for _ in range(groups):
                t2 = time.perf_counter()
                g = pool.run_group(task_id, n=n)
                walls.append(time.perf_counter() - t2)
                done += sum(1 for r in g.rollouts if r.status == "ok")
    finally:
        ray.shutdown()
    total = sum(walls)
    return [
        Figure("ray", "local Ray start (ray.init)", init_s, "s", 1),
        Figure("ray", f"{num_actors} actors ready + warm-up group", ready_s, "s", 1),
        Figure("ray", f"group of {n} (reference policy), wall p50", statistics.median(walls), "s", groups),
        Figure(
            "ray",
            f"rollouts/minute, groups of {n}, {num_actors}x{envs_per_actor} envs, 2 CPUs",
            done / total * 60,
            "rollouts/min",
            done,
        ),
    ]


def docker_section(quick: bool) -> list[Figure]:
    from supportgym.bench.docker import measure
    from supportgym.env.docker_pool import default_image, docker_client

    client = docker_client(10.0)
    client.images.get(default_image())  # raises when the image is not built
    r = measure(
        containers=2 if quick else 4,
        concurrency=8 if quick else 16,
        steps=100 if quick else 400,
        resets=20 if quick else 50,
        cold_runs=1 if quick else 3,
    )
    out = [
        Figure(
            "docker", "container cold start, median", r["cold_start_s"]["median"], "s", len(r["cold_start_s"]["runs"])
        )
    ]
    wr = r["warm_reset_ms"]
    out.append(Figure("docker", "warm reset p50", wr["p50"], "ms", wr["n"]))
    for key in ("steps_1", f"steps_{r.get('concurrency', 16)}"):
        if key in r:
            s = r[key]
            label = key.replace("steps_", "")
            out.append(Figure("docker", f"step p50, {label} episode(s)", s["p50_ms"], "ms", s["n"]))
            out.append(Figure("docker", f"steps/s, {label} episode(s)", s["steps_per_s"], "steps/s", s["n"]))
    return out


# --- the command ----------------------------------------------------------------------------

_SKIPPED: list[dict[str, str]] = []


def _skip(section: str, reason: str) -> None:
    _SKIPPED.append({"section": section, "reason": reason})
    typer.echo(f"[bench all] skipped {section}: {reason}", err=True)


def _first_task() -> str | None:
    from supportgym.tasks import list_tasks

    tasks = list_tasks()  # a task set that does not load is an error to see, not "no tasks"
    return tasks[0].id if tasks else None


def bench_all(
    scale: str = typer.Option("default", help="World scale."),
    seed: int = typer.Option(7, help="World seed."),
    quick: bool = typer.Option(False, help="Fewer samples (a smoke run; figures are still measured)."),
    only: str = typer.Option(
        "", help="Comma-separated sections to run (world,env,episode,grading,concurrency,ray,docker); default all."
    ),
    skip: str = typer.Option("", help="Comma-separated sections to skip."),
    groups: int = typer.Option(3, help="Timed Ray groups of 16."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    out: str = typer.Option("", "--out", help="Also write the JSON to this file."),
) -> None:
    """Measure every figure the project promises; print a table (figure, value, unit, n)."""
    _SKIPPED.clear()
    task_id = _first_task()
    wanted = {s.strip() for s in only.split(",") if s.strip()}
    skipped = {s.strip() for s in skip.split(",") if s.strip()}
    sections: list[tuple[str, Callable[[], list[Figure]]]] = [
        ("world", lambda: world_section(scale, seed, quick)),
        ("env", lambda: env_section(scale, seed, quick)),
        ("episode", lambda: reset_section(task_id, 20 if quick else 100)),
        ("grading", lambda: grading_section(quick)),
        ("concurrency", lambda: concurrency_section((1, 16, 64), 50 if quick else 200, scale, seed)),
        ("ray", lambda: ray_section(task_id or "", groups, 16, 4, 4)),
        ("docker", lambda: docker_section(quick)),
    ]
    figures: list[Figure] = []
    timings: dict[str, float] = {}
    for name, run in sections:
        if (wanted and name not in wanted) or name in skipped:
            continue
        if name == "ray" and not task_id:
            _skip(name, "no tasks in the task set")
            continue
        t0 = time.perf_counter()
        try:
            figures += run()
        except ImportError as exc:
            _skip(name, f"not available: {exc}")
        except Exception as exc:  # noqa: BLE001 - a missing engine or image, a failed section: say so, go on
            _skip(name, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")
        timings[name] = round(time.perf_counter() - t0, 2)
    payload = {
        "scale": scale,
        "seed": seed,
        "quick": quick,
        "figures": [asdict(f) for f in figures],
        "skipped": list(_SKIPPED),
        "section_seconds": timings,
    }
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2)
    if as_json:
        typer.echo(json.dumps(payload, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"supportgym bench all (scale {scale}, seed {seed}{', quick' if quick else ''})")
    for col in ("section", "figure", "value", "unit", "n"):
        table.add_column(col, justify="right" if col in ("value", "n") else "left")
    for f in figures:
        value = f"{f.value:,.0f}" if abs(f.value) >= 1000 else f"{f.value:.3f}"
        table.add_row(f.section, f.figure, value, f.unit, str(f.n))
    Console().print(table)
    for s in _SKIPPED:
        typer.echo(f"skipped {s['section']}: {s['reason']}")


if __name__ == "__main__":
    typer.run(bench_all)
