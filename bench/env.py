"""``supportgym bench env``: step throughput and latency of the environment, and memory per
live episode in the service. Prints measured figures; nothing passes or fails."""

from __future__ import annotations

import json
import os
import secrets
import statistics
import time
from typing import Any

import typer

from supportgym.stats import percentile

# Targets from the issue, shown next to the figures (default scale).
TARGETS = {"inprocess_step_p50_ms": 1.0, "http_step_p50_ms": 3.0, "memory_per_episode_mb": 25.0}


def _actions(seed: int, scale: str) -> list[str]:
    from supportgym.bench.service import tool_call_mix
    from supportgym.services.worlds import get_snapshot

    db = get_snapshot(seed, scale).open()
    try:
        return [json.dumps({"name": n, "arguments": a}) for n, a in tool_call_mix(db)]
    finally:
        db.close()


def _single(make: Any, actions: list[str], steps: int, world: dict[str, Any]) -> dict[str, float]:
    env = make()
    lat: list[float] = []
    try:
        env.reset(seed=0, options=world)
        t_all = time.perf_counter()
        for k in range(steps):
            if k and k % len(actions) == 0:  # the mix is written for one pass over a fresh world
                env.reset(seed=0, options=world)
            t0 = time.perf_counter()
            _, _, term, trunc, _ = env.step(actions[k % len(actions)])
            lat.append((time.perf_counter() - t0) * 1000)
            if term or trunc:
                env.reset(seed=0, options=world)
        total = time.perf_counter() - t_all
    finally:
        env.close()
    return {"steps_per_s": steps / total, "p50_ms": statistics.median(lat), "p99_ms": percentile(lat, 0.99), "n": steps}


def _vector(venv: Any, actions: list[str], steps: int, world: dict[str, Any]) -> dict[str, float]:
    n = venv.num_envs
    lat: list[float] = []
    try:
        venv.reset(seed=list(range(n)), options=world)
        t_all = time.perf_counter()
        for k in range(steps):
            t0 = time.perf_counter()
            venv.step(tuple(actions[(k + i) % len(actions)] for i in range(n)))
            lat.append((time.perf_counter() - t0) * 1000)
        total = time.perf_counter() - t_all
    finally:
        venv.close()
    return {
        "steps_per_s": steps * n / total,
        "p50_ms": statistics.median(lat),
        "p99_ms": percentile(lat, 0.99),
        "n": steps,
    }


def _memory(url: str, seed: int, scale: str, episodes: int) -> dict[str, float]:
    import httpx

    from supportgym.env.http_auth import EpisodeAuth

    with EpisodeAuth().attach(httpx.Client(base_url=url, timeout=120)) as c:
        ids = []
        # One episode first so that the snapshot, imports and pools are not counted.
        warm = c.post("/episodes", json={"seed": seed, "scale": scale}).json()["episode_id"]
        c.post(f"/episodes/{warm}/step", json={"name": "get_current_time"})
        before = c.get("/healthz").json()["rss_bytes"]
        for _ in range(episodes):
            r = c.post("/episodes", json={"seed": seed, "scale": scale})
            r.raise_for_status()
            eid = r.json()["episode_id"]
            ids.append(eid)
            # A few reads so each world's pages and session cache are actually in use.
            for name in ("get_current_time", "search_customers", "search_orders"):
                c.post(f"/episodes/{eid}/step", json={"name": name, "arguments": {"page_size": 5}})
        during = c.get("/healthz").json()["rss_bytes"]
        for eid in [*ids, warm]:
            c.delete(f"/episodes/{eid}")
        after = c.get("/healthz").json()["rss_bytes"]
    mb = 1024 * 1024
    return {
        "per_episode_mb": (during - before) / episodes / mb,
        "rss_with_episodes_mb": during / mb,
        "rss_after_delete_mb": after / mb,
        "n": episodes,
    }


def bench_env(
    scale: str = typer.Option("default", help="World scale (targets are for default)."),
    seed: int = typer.Option(7, help="World seed."),
    steps: int = typer.Option(300, help="Steps per single-environment run."),
    vector_steps: int = typer.Option(40, help="Vector steps per vector run."),
    vector_envs: int = typer.Option(16, help="Copies in the vector env."),
    episodes: int = typer.Option(50, help="Live episodes for the memory figure."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Steps/second and p50/p99 step latency (in process and over HTTP, one env and a vector env),
    and the service's memory per live episode."""
    import gymnasium

    import supportgym.env  # noqa: F401
    from supportgym.services.launch import running_server

    actions = _actions(seed, scale)
    # Bare worlds (tasks=[]): the figures measure the environment, not a task's setup.
    kw: dict[str, Any] = {
        "world_seed": seed,
        "world_scale": scale,
        "tasks": [],
        "max_steps": 1000,
        "max_invalid_calls": 1000,
    }
    world = {"seed": seed, "scale": scale}
    results: dict[str, dict[str, float]] = {}
    results["inprocess"] = _single(lambda: gymnasium.make("SupportGym-v0", **kw), actions, steps, world)
    results[f"inprocess_sync_vector_{vector_envs}"] = _vector(
        gymnasium.vector.SyncVectorEnv([lambda: gymnasium.make("SupportGym-v0", **kw)] * vector_envs),
        actions,
        vector_steps,
        world,
    )
    # The bench is the service's operator (max_steps=1000 is over a client's limit): its token goes
    # to the server and, by the environment, to every client (vector env workers included).
    token = secrets.token_urlsafe(24)
    previous = os.environ.get("SUPPORTGYM_TOKEN")
    os.environ["SUPPORTGYM_TOKEN"] = token
    try:
        with running_server(
            warm=f"{seed}/{scale}", max_episodes=max(256, episodes + vector_envs + 4), token=token
        ) as srv:
            results.update(_over_http(srv.url, kw, actions, steps, vector_steps, vector_envs, world))
            memory = _memory(srv.url, seed, scale, episodes)
    finally:
        if previous is None:
            os.environ.pop("SUPPORTGYM_TOKEN", None)
        else:
            os.environ["SUPPORTGYM_TOKEN"] = previous
    _report(results, memory, seed, scale, as_json)


def _over_http(
    url: str, kw: dict[str, Any], actions: Any, steps: int, vector_steps: int, vector_envs: int, world: dict[str, Any]
) -> dict[str, dict[str, float]]:
    import gymnasium

    results: dict[str, dict[str, float]] = {}
    hkw = {**kw, "transport": "http", "base_url": url}
    results["http"] = _single(lambda: gymnasium.make("SupportGym-v0", **hkw), actions, steps, world)
    results[f"http_async_vector_{vector_envs}"] = _vector(
        gymnasium.vector.AsyncVectorEnv([lambda: gymnasium.make("SupportGym-v0", **hkw)] * vector_envs),
        actions,
        vector_steps,
        world,
    )
    return results


def _report(
    results: dict[str, dict[str, float]], memory: dict[str, float], seed: int, scale: str, as_json: bool
) -> None:
    rows: list[tuple[str, float, str, int]] = []
    for name, r in results.items():
        rows.append((f"{name} steps/s", r["steps_per_s"], "steps/s", int(r["n"])))
        rows.append((f"{name} step p50", r["p50_ms"], "ms", int(r["n"])))
        rows.append((f"{name} step p99", r["p99_ms"], "ms", int(r["n"])))
    rows.append(("memory per live episode", memory["per_episode_mb"], "MB", int(memory["n"])))
    rows.append(("service RSS with episodes", memory["rss_with_episodes_mb"], "MB", int(memory["n"])))
    rows.append(("service RSS after deleting them", memory["rss_after_delete_mb"], "MB", int(memory["n"])))
    if as_json:
        typer.echo(json.dumps({"scale": scale, "results": results, "memory": memory, "targets": TARGETS}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"supportgym bench env (seed {seed}, scale {scale})")
    for col in ("figure", "value", "unit", "n"):
        table.add_column(col, justify="right" if col in ("value", "n") else "left")
    for fig, value, unit, n in rows:
        table.add_row(fig, f"{value:.3f}" if value < 100 else f"{value:.0f}", unit, str(n))
    Console().print(table)
    typer.echo(
        "targets at default scale: in-process step p50 <= 1 ms, HTTP step p50 <= 3 ms, memory per episode <= 25 MB"
    )


if __name__ == "__main__":
    typer.run(bench_env)
