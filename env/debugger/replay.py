"""``supportgym replay TRAJECTORY.jsonl``: re-run a saved episode in a fresh world, step by step.

Each recorded (tool, arguments) goes through a new :class:`Episode` built with the same
configuration; each replayed observation is compared with the recorded one (JSON equality). A
difference means the world is not deterministic, or the trajectory was edited, or it was recorded
on another world or code version. The replayed episode is then graded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from supportgym.env.debugger.common import (
    StepComparison,
    as_json,
    config_from_trajectory,
    episode_grade,
    first_difference,
    grade_json,
    load_trajectory,
    print_grade,
)
from supportgym.services.episode import EpisodeClosed
from supportgym.tasks import open_episode

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from supportgym.services.episode import Episode
    from supportgym.trajectory import Trajectory


@dataclass
class ReplayResult:
    """What a replay found: one comparison per replayed step, the episode and its grade."""

    trajectory: Trajectory
    steps: list[StepComparison]
    episode: Episode
    grade: Any = None
    stopped_early: str | None = None
    recorded_steps: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def matched(self) -> bool:
        return self.stopped_early is None and all(s.match for s in self.steps)

    @property
    def first_divergence(self) -> StepComparison | None:
        return next((s for s in self.steps if not s.match), None)

    def to_dict(self) -> dict[str, Any]:
        g = grade_json(self.grade)
        return {
            "task_id": self.trajectory.task_id,
            "agent": self.trajectory.agent,
            "recorded_steps": self.recorded_steps,
            "replayed_steps": len(self.steps),
            "matched": self.matched,
            "stopped_early": self.stopped_early,
            "first_divergence": None if self.first_divergence is None else self.first_divergence.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
            "status": self.episode.status.value,
            "recorded_reward": self.trajectory.reward,
            "reward": None if g is None else g.get("reward"),
            "grade": g,
        }


def replay_trajectory(
    trajectory: Trajectory, *, until: int | None = None, compare: bool = True, grade: bool = True, judge: Any = None
) -> ReplayResult:
    """Replay ``trajectory`` into a fresh episode (steps 1..``until``), comparing observations.

    The caller owns the returned episode and should ``close()`` it.
    """
    episode = open_episode(config_from_trajectory(trajectory))
    comparisons: list[StepComparison] = []
    stopped: str | None = None
    for entry in trajectory.steps:
        if until is not None and entry.step > until:
            break
        try:
            result = episode.step(entry.name, entry.arguments)
        except EpisodeClosed as exc:
            stopped = f"the replayed episode ended before step {entry.step}: {exc}"
            break
        if not compare:
            comparisons.append(StepComparison(entry.step, entry.name, True))
            continue
        replayed = as_json(result.observation)
        diff = first_difference(entry.result, replayed, "result")
        if diff is None and entry.ok != result.ok:
            diff = f"ok: {entry.ok} != {result.ok}"
        comparisons.append(
            StepComparison(
                step=entry.step,
                tool=entry.name,
                match=diff is None,
                difference=diff,
                recorded=entry.result,
                replayed=replayed,
            )
        )
    graded = episode_grade(episode, judge) if grade else None
    return ReplayResult(
        trajectory=trajectory,
        steps=comparisons,
        episode=episode,
        grade=graded,
        stopped_early=stopped,
        recorded_steps=len(trajectory.steps),
    )


def comparison_table(result: ReplayResult) -> Table:
    from rich.table import Table

    table = Table(title=f"replay of {result.trajectory.task_id or 'bare world'} ({result.trajectory.agent})")
    table.add_column("step", justify="right")
    table.add_column("tool")
    table.add_column("match")
    table.add_column("first difference (recorded != replayed)", overflow="fold")
    for s in result.steps:
        table.add_row(str(s.step), s.tool, "[green]yes[/green]" if s.match else "[red]NO[/red]", s.difference or "")
    return table


def print_replay(console: Console, result: ReplayResult, *, show_grade: bool = True) -> None:
    console.print(comparison_table(result))
    if result.stopped_early:
        console.print(f"[red]{result.stopped_early}[/red]")
    first = result.first_divergence
    if first is None and not result.stopped_early:
        console.print(f"[green]All {len(result.steps)} replayed steps match the recording.[/green]")
    elif first is not None:
        bad = sum(not s.match for s in result.steps)
        console.print(
            f"[red]{bad} of {len(result.steps)} steps differ; first at step {first.step} ({first.tool}).[/red]"
        )
    if show_grade:
        print_grade(console, result.grade)
        if result.trajectory.reward is not None:
            console.print(f"recorded reward {result.trajectory.reward}")


def replay(
    trajectory: Path = typer.Argument(..., exists=True, dir_okay=False, help="A trajectory JSONL file."),
    index: int = typer.Option(0, "--index", "-i", help="Which trajectory of the file (0-based)."),
    until: int = typer.Option(None, "--until", help="Stop after step N."),
    as_json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    no_grade: bool = typer.Option(False, "--no-grade", help="Compare only; do not grade."),
) -> None:
    """Replay a saved trajectory into a fresh world; show where observations differ; grade it.

    Exits with code 1 when a replayed observation differs from the recorded one.
    """
    from rich.console import Console

    console = Console()
    t = load_trajectory(trajectory, index)
    result = replay_trajectory(t, until=until, grade=not no_grade)
    try:
        if as_json_out:
            typer.echo(json.dumps(result.to_dict(), indent=2))
        else:
            print_replay(console, result, show_grade=not no_grade)
    finally:
        result.episode.close()
    if not result.matched:
        raise typer.Exit(1)
