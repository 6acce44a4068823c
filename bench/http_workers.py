"""``supportgym bench service``: HTTP throughput and step latency against ``serve --workers N``.

For each worker count a real service is started on loopback, then closed-loop clients (threads,
each with its own keep-alive connection, as an agent's ``HttpTransport``) open a bare world,
replay the first calls of the realistic tool mix (``bench.service.tool_call_mix``: reads and
writes that all succeed on a fresh copy), close it and open the next, until the time is up.
Steps/s counts completed steps; latencies are per step as the client sees it. The clients run on
the same machine as the service and take their share of its cores: the figures are what one
machine does end to end, not the service alone.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import typer

from supportgym.bench.service import tool_call_mix
from supportgym.env.transport import HttpTransport
from supportgym.services.episode import EpisodeConfig
from supportgym.services.launch import running_server
from supportgym.services.workers import default_workers
from supportgym.services.worlds import get_snapshot
from supportgym.stats import percentile

BENCH_TOKEN = "bench-service-token-0123456789"


def _client(
    url: str, mix: list[tuple[str, dict[str, Any]]], config: EpisodeConfig, until: float, out: dict[str, Any]
) -> None:
    transport = HttpTransport(url, token=BENCH_TOKEN)
    steps: list[float] = []
    creates: list[float] = []
    failed = 0
    try:
        while time.monotonic() < until:
            t0 = time.perf_counter()
            transport.create(config)
            creates.append((time.perf_counter() - t0) * 1000)
            for name, arguments in mix:
                if time.monotonic() >= until:
                    break
                t0 = time.perf_counter()
                body = transport.step(name, arguments)
                steps.append((time.perf_counter() - t0) * 1000)
                failed += not body.get("ok", True)
            transport.close_episode()
    finally:
        transport.close()
        out.update(steps=steps, creates=creates, failed=failed)


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid`` and its child processes (the front and
    its workers; Linux /proc, 0 elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended while we looked
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def measure_workers(
    workers: int, *, clients: int, seconds: float, scale: str, calls_per_episode: int
) -> dict[str, Any]:
    """One run: ``clients`` closed-loop clients for ``seconds`` against ``serve --workers``."""
    mix = _mix(scale)[:calls_per_episode]
    config = EpisodeConfig(seed=7, scale=scale, max_steps=len(mix) + 1)
    with running_server(
        warm=f"7/{scale}", max_episodes=max(64, 2 * clients), token=BENCH_TOKEN, workers=workers
    ) as server:
        # One episode per client first, outside the timing: connections open, worlds touched.
        _client(server.url, mix[:2], config, time.monotonic() + 0.1, {})
        results: list[dict[str, Any]] = [{} for _ in range(clients)]
        cpu_before, client_before = _cpu_seconds(server.pid), time.process_time()
        start = time.perf_counter()
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(target=_client, args=(server.url, mix, config, until, results[i]), daemon=True)
            for i in range(clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        service_cpu = _cpu_seconds(server.pid) - cpu_before
        client_cpu = time.process_time() - client_before
    steps = [s for r in results for s in r.get("steps", [])]
    creates = [c for r in results for c in r.get("creates", [])]
    return {
        "workers": workers,
        "clients": clients,
        "seconds": round(wall, 2),
        "steps": len(steps),
        "steps_per_s": len(steps) / wall,
        "step_p50_ms": statistics.median(steps) if steps else None,
        "step_p99_ms": percentile(steps, 0.99) if steps else None,
        "create_p50_ms": statistics.median(creates) if creates else None,
        "episodes": len(creates),
        # CPU per step: what the machine's load does not change much (wall figures it does).
        "service_cpu_ms_per_step": service_cpu * 1000 / len(steps) if steps else None,
        "client_cpu_ms_per_step": client_cpu * 1000 / len(steps) if steps else None,
        "refused_steps": sum(r.get("failed", 0) for r in results),
        "client_errors": sum(1 for r in results if "steps" not in r),
    }


def _mix(scale: str) -> list[tuple[str, dict[str, Any]]]:
    db = get_snapshot(7, scale).open()
    try:
        return tool_call_mix(db)
    finally:
        db.close()


def _counts(text: str) -> list[int]:
    out = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if part in ("all", "N"):
            out.append(default_workers())
        elif part.isdigit() and 1 <= int(part) <= 256:
            out.append(int(part))
        else:
            raise typer.BadParameter(
                f"{part!r} is not a worker count: use numbers 1-256 or 'all'", param_hint="--workers"
            )
    return list(dict.fromkeys(out))


def bench_service(
    workers: str = typer.Option("1,2,all", help="Worker counts to measure, comma-separated ('all': every core)."),
    clients: int = typer.Option(16, min=1, max=1024, help="Closed-loop clients (threads) stepping at once."),
    seconds: float = typer.Option(20.0, min=1.0, help="Measured time per worker count."),
    scale: str = typer.Option("default", help="World scale of the episodes (tiny, default, large)."),
    calls: int = typer.Option(40, min=1, max=200, help="Tool calls per episode before the next one is opened."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """HTTP steps/s and step p50/p99 under closed-loop clients for each `serve --workers` count."""
    load = os.getloadavg()  # before the runs: what else the machine was doing
    rows = [
        measure_workers(n, clients=clients, seconds=seconds, scale=scale, calls_per_episode=calls)
        for n in _counts(workers)
    ]
    report = {"cores": default_workers(), "load_average_at_start": [round(x, 2) for x in load], "runs": rows}
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"HTTP service, {clients} closed-loop clients, {scale} world, {default_workers()} cores",
        caption=f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start; clients share the cores; "
        f"refused steps (expected 0): {sum(r['refused_steps'] for r in rows)}",
    )
    columns = ("workers", "steps/s", "step p50 ms", "step p99 ms", "create p50 ms", "service CPU ms/step", "steps")
    for col in columns:
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            str(r["workers"]),
            f"{r['steps_per_s']:.0f}",
            f"{r['step_p50_ms']:.2f}",
            f"{r['step_p99_ms']:.2f}",
            f"{r['create_p50_ms']:.1f}",
            f"{r['service_cpu_ms_per_step']:.2f}",
            str(r["steps"]),
        )
    Console().print(table)
