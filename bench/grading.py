"""Grading latency with program checks only (the figure ``supportgym bench`` reports)."""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import typer


def measure_grading(rounds: int = 20, task_ids: list[str] | None = None) -> dict[str, Any]:
    """Replay each task's reference once, then grade it ``rounds`` times: p50/p99 per grading."""
    from supportgym.rubrics import grade_episode
    from supportgym.tasks import list_tasks, prepare_task, run_solution

    ids = task_ids or [t.id for t in list_tasks()]
    samples: list[float] = []
    per_task: dict[str, float] = {}
    for tid in ids:
        episode, _grade = run_solution(tid)  # also builds the task's integrity spec
        record = episode.record()
        mine = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            grade_episode(prepare_task(tid), episode.db, record)
            mine.append((time.perf_counter() - t0) * 1000)
        per_task[tid] = statistics.median(mine)
        samples += mine
        episode.close()
    ordered = sorted(samples)
    return {
        "tasks": len(ids),
        "p50_ms": statistics.median(samples),
        "p99_ms": ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))],
        "per_task_p50_ms": per_task,
    }


def bench_grading(
    rounds: int = typer.Option(20, help="Gradings per task."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Grading time per task with program checks only, world diff and integrity gates included
    (target: p50 <= 5 ms). The task's integrity spec is built once per process, before timing."""
    r = measure_grading(rounds)
    if as_json:
        typer.echo(json.dumps(r, indent=2))
        return
    typer.echo(f"grading (program checks only): {r['tasks']} tasks, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms")


def measure_claims(rounds: int = 20, words: int = 200) -> dict[str, Any]:
    """Time ``extract_claims`` on replies of about ``words`` words made of the corpus sentences
    (in file order), each extracted ``rounds`` times: p50/p99 per reply, in milliseconds."""
    from supportgym.rubrics.claims import extract_claims
    from supportgym.rubrics.claims_corpus import load_corpus

    replies: list[str] = []
    current: list[str] = []
    for item in load_corpus().items:
        current.append(item.text)
        if sum(len(t.split()) for t in current) >= words:
            replies.append("\n".join(current))
            current = []
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        for reply in replies:
            t0, c0 = time.perf_counter(), time.process_time()
            extract_claims(reply)
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - t0) * 1000)

    def p99(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]

    # CPU time too: on a shared machine the wall clock mostly measures the other processes.
    return {
        "replies": len(replies),
        "mean_words": statistics.mean(len(r.split()) for r in replies),
        "rounds": rounds,
        "p50_ms": statistics.median(wall),
        "p99_ms": p99(wall),
        "cpu_p50_ms": statistics.median(cpu),
        "cpu_p99_ms": p99(cpu),
    }


def bench_claims(
    rounds: int = typer.Option(20, help="Extractions per reply."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Claim extraction time for a ~200-word reply (target: p50 < 1 ms)."""
    import json

    r = measure_claims(rounds)
    if as_json:
        typer.echo(json.dumps(r, indent=2))
        return
    typer.echo(
        f"claim extraction: {r['replies']} replies of ~{r['mean_words']:.0f} words x {r['rounds']} rounds, "
        f"p50 {r['p50_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms (CPU time p50 {r['cpu_p50_ms']:.3f} ms, "
        f"p99 {r['cpu_p99_ms']:.3f} ms)"
    )
