"""``supportgym grade TRAJECTORY.jsonl``: grade a saved episode without running an agent.

Program checks need the final world, so the recorded actions are applied to a fresh world (no
comparison of observations: that is ``replay``); then the rubric grades the rebuilt episode, with
the LLM judge when one is configured.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from supportgym.env.debugger.common import (
    configured_judge,
    grade_json,
    load_trajectory,
    print_grade,
)
from supportgym.env.debugger.replay import replay_trajectory
from supportgym.trajectory import read_jsonl

if TYPE_CHECKING:
    from supportgym.trajectory import Trajectory


def grade_trajectory(trajectory: Trajectory, judge: Any = None) -> Any:
    """The rubric grade of ``trajectory``, from its actions replayed into a fresh world."""
    result = replay_trajectory(trajectory, compare=False, judge=judge)
    try:
        return result.grade
    finally:
        result.episode.close()


def grade(
    trajectory: Path = typer.Argument(..., exists=True, dir_okay=False, help="A trajectory JSONL file."),
    index: int = typer.Option(None, "--index", "-i", help="Grade only this trajectory of the file (0-based)."),
    out: Path = typer.Option(None, "--out", help="Write the grade(s) as JSON to this file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    use_judge: bool = typer.Option(
        None,
        "--judge/--no-judge",
        help="Send non-program criteria to the LLM judge (default: when SUPPORTGYM_JUDGE_MODEL is set).",
    ),
) -> None:
    """Grade saved trajectories (program checks; judge if configured); print tables, write JSON."""
    from rich.console import Console

    console = Console()
    judge = configured_judge(use_judge)
    items = [load_trajectory(trajectory, index)] if index is not None else list(read_jsonl(trajectory))
    payload: list[dict[str, Any]] = []
    for n, t in enumerate(items):
        g = grade_trajectory(t, judge)
        gj = grade_json(g)
        payload.append(
            {
                "index": index if index is not None else n,
                "task_id": t.task_id,
                "agent": t.agent,
                "recorded_reward": t.reward,
                "reward": None if gj is None else gj.get("reward"),
                "perfect": None if gj is None else gj.get("perfect"),
                "grade": gj,
            }
        )
        if not as_json:
            console.rule(f"{t.task_id or 'bare world'} · {t.agent} · #{payload[-1]['index']}")
            print_grade(console, g)
    body = payload[0] if index is not None else payload
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
        if not as_json:
            console.print(f"wrote {out}")
    if as_json:
        typer.echo(json.dumps(body, indent=2))
