"""``supportgym eval``: run an agent on every task as real episodes and summarise the grades."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

import typer

from supportgym.tasks import TaskFormatError, get_task, list_tasks, run_solution

AGENTS = ("reference",)


def run_eval(
    agent: str = "reference",
    task_ids: list[str] | None = None,
    *,
    alpha: float | None = None,
    beta: float | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run ``agent`` on the tasks (all by default); returns {"summary": ..., "episodes": [...]}."""

    if agent not in AGENTS:
        raise ValueError(
            f"unknown agent {agent!r}; here: {', '.join(AGENTS)} "
            "(the llm agent runs through `supportgym eval --agent llm`)"
        )
    tasks = [get_task(t) for t in task_ids] if task_ids else list_tasks()
    episodes: list[dict[str, Any]] = []

    def one(task: Any) -> None:
        started = time.perf_counter()
        _ep, grade = run_solution(task.id, "reference", alpha=alpha, beta=beta)
        episodes.append(
            {
                "task_id": task.id,
                "family": task.family,
                "levels": [lv.value for lv in task.levels],
                "difficulty": task.difficulty.value,
                "agent": agent,
                "steps": _ep.steps,
                "reward": grade.reward,
                "perfect": grade.perfect,
                "grade": grade.model_dump(mode="json"),
                "elapsed_s": time.perf_counter() - started,
            }
        )
        _ep.close()

    if progress:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
            job = bar.add_task(f"eval {agent}", total=len(tasks))
            for t in tasks:
                bar.update(job, description=f"eval {agent}: {t.id}")
                one(t)
                bar.advance(job)
    else:
        for t in tasks:
            one(t)
    return {"summary": summarise(episodes, agent), "episodes": episodes}


def _rate(met: int, total: int) -> float | None:
    return met / total if total else None


def summarise(episodes: list[dict[str, Any]], agent: str = "") -> dict[str, Any]:
    per_cat: dict[str, list[int]] = {}
    per_type: dict[str, list[int]] = {}
    per_level: dict[str, dict[str, Any]] = {}
    for e in episodes:
        g = e["grade"]
        for name, pr in g["per_category"].items():
            acc = per_cat.setdefault(name, [0, 0])
            acc[0] += pr["met"]
            acc[1] += pr["total"]
        for name, pr in g["per_type"].items():
            acc = per_type.setdefault(name, [0, 0])
            acc[0] += pr["met"]
            acc[1] += pr["total"]
        met = sum(1 for c in g["criteria"] if c["verdict"] == "met")
        graded = sum(1 for c in g["criteria"] if c["verdict"] in ("met", "unmet"))
        for lv in e["levels"]:
            acc2 = per_level.setdefault(lv, {"tasks": 0, "perfect": 0, "reward": [], "met": 0, "graded": 0})
            acc2["tasks"] += 1
            acc2["perfect"] += int(e["perfect"])
            acc2["reward"].append(e["reward"])
            acc2["met"] += met
            acc2["graded"] += graded
    rewards = [e["reward"] for e in episodes]
    grading_ms = [e["grade"]["elapsed_ms"] for e in episodes]
    return {
        "agent": agent,
        "tasks": len(episodes),
        "mean_reward": statistics.fmean(rewards) if rewards else None,
        "perfect_rate": _rate(sum(1 for e in episodes if e["perfect"]), len(episodes)),
        "pass_rate_per_category": {k: _rate(*v) for k, v in per_cat.items()},
        "pass_rate_per_type": {k: _rate(*v) for k, v in per_type.items()},
        "per_level": {
            k: {
                "tasks": v["tasks"],
                "mean_reward": statistics.fmean(v["reward"]),
                "perfect_rate": v["perfect"] / v["tasks"],
                "pass_rate": _rate(v["met"], v["graded"]),
            }
            for k, v in sorted(per_level.items())
        },
        "pending_judge_criteria": sum(e["grade"]["pending_judge"] for e in episodes),
        "reward_scope": "program_checked_only"
        if any(e["grade"]["pending_judge"] for e in episodes)
        else "all_criteria",
        "grading_ms_p50": statistics.median(grading_ms) if grading_ms else None,
    }


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    head = Table(title=f"eval: agent {summary['agent']} on {summary['tasks']} task(s)")
    head.add_column("metric")
    head.add_column("value")
    head.add_row("mean reward", _fmt(summary["mean_reward"]))
    head.add_row("perfect-task rate", _fmt(summary["perfect_rate"]))
    head.add_row(
        "reward scope", f"{summary['reward_scope']} ({summary['pending_judge_criteria']} judge criteria pending)"
    )
    head.add_row("grading p50 (ms)", _fmt(summary["grading_ms_p50"]))
    con.print(head)
    for title, key in (
        ("pass rate per category", "pass_rate_per_category"),
        ("pass rate per type", "pass_rate_per_type"),
    ):
        t = Table(title=title)
        t.add_column("name")
        t.add_column("pass rate")
        for k, v in summary[key].items():
            t.add_row(k, _fmt(v))
        con.print(t)
    t = Table(title="per hierarchy level")
    for col in ("level", "tasks", "mean reward", "perfect rate", "pass rate"):
        t.add_column(col)
    for k, v in summary["per_level"].items():
        t.add_row(k, str(v["tasks"]), _fmt(v["mean_reward"]), _fmt(v["perfect_rate"]), _fmt(v["pass_rate"]))
    con.print(t)


def eval_command(
    agent: str = typer.Option(
        "reference", "--agent", help="Agent to run: reference (the scripted reference solutions)."
    ),
    task: list[str] | None = typer.Option(None, "--task", help="Only these task ids (repeatable)."),
    out: Path | None = typer.Option(None, "--out", help="Write every episode's grade as JSON here."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    alpha: float | None = typer.Option(None, help="Weight of extra credit (default: the episode default)."),
    beta: float | None = typer.Option(None, help="Weight of dodged-bullet penalties."),
) -> None:
    """Run an agent on every task as real episodes, grade them, print a summary."""

    if agent not in AGENTS:
        typer.echo(f"unknown agent {agent!r}; available: {', '.join(AGENTS)}", err=True)
        raise typer.Exit(2)
    try:
        result = run_eval(agent, task, alpha=alpha, beta=beta, progress=not as_json)
    except (TaskFormatError, KeyError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if out is not None:
        out.write_text(json.dumps(result, indent=2))
    if as_json:
        typer.echo(json.dumps(result["summary"], indent=2))
    else:
        print_summary(result["summary"])
        if out is not None:
            typer.echo(f"wrote {len(result['episodes'])} episode grade(s) to {out}")
