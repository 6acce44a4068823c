"""``supportgym diff A.jsonl B.jsonl``: where two rollouts of one task diverged, and which
criteria they scored differently."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from supportgym.env.debugger.common import first_difference, grade_json, load_trajectory
from supportgym.env.debugger.grade_cmd import grade_trajectory
from supportgym.services.web.grades import grade_rows

if TYPE_CHECKING:
    from rich.console import Console

    from supportgym.trajectory import Trajectory


@dataclass
class TrajectoryDiff:
    a: Trajectory
    b: Trajectory
    divergence_step: int | None
    divergence_kind: str | None
    call_a: dict[str, Any] | None
    call_b: dict[str, Any] | None
    difference: str | None
    criteria: list[dict[str, Any]] = field(default_factory=list)
    reward_a: float | None = None
    reward_b: float | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.divergence_step is None and not self.criteria

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_a": self.a.task_id,
            "task_b": self.b.task_id,
            "steps_a": len(self.a.steps),
            "steps_b": len(self.b.steps),
            "divergence_step": self.divergence_step,
            "divergence_kind": self.divergence_kind,
            "call_a": self.call_a,
            "call_b": self.call_b,
            "difference": self.difference,
            "reward_a": self.reward_a,
            "reward_b": self.reward_b,
            "criteria": self.criteria,
            "warnings": self.warnings,
        }


def _call(t: Trajectory, i: int) -> dict[str, Any] | None:
    if i >= len(t.steps):
        return None
    s = t.steps[i]
    return {"step": s.step, "name": s.name, "arguments": s.arguments, "ok": s.ok}


def _grade_of(t: Trajectory, regrade: bool) -> dict[str, Any] | None:
    if t.grade is not None and not regrade:
        return t.grade
    if t.task_id is None:
        return None

    return grade_json(grade_trajectory(t))


def diff_trajectories(a: Trajectory, b: Trajectory, *, regrade: bool = False) -> TrajectoryDiff:
    """Align the two step lists (step by step), find the first divergence, compare verdicts."""
    warnings = []
    if a.task_id != b.task_id:
        warnings.append(f"different tasks: {a.task_id} vs {b.task_id}")
    if (a.seed, a.scale) != (b.seed, b.scale):
        warnings.append(f"different worlds: {a.seed}/{a.scale} vs {b.seed}/{b.scale}")
    step = kind = diff = None
    for i in range(max(len(a.steps), len(b.steps))):
        if i >= len(a.steps) or i >= len(b.steps):
            step, kind = i + 1, "length"
            diff = f"A has {len(a.steps)} steps, B has {len(b.steps)}"
            break
        sa, sb = a.steps[i], b.steps[i]
        if sa.name != sb.name or sa.arguments != sb.arguments:
            step, kind = i + 1, "call"
            diff = first_difference(
                {"name": sa.name, "arguments": sa.arguments}, {"name": sb.name, "arguments": sb.arguments}
            )
            break
        obs = first_difference(sa.result, sb.result, "result")
        if obs is not None:
            step, kind, diff = i + 1, "observation", obs
            break
    if step is None and a.reply != b.reply:
        kind, diff = "reply", "the final replies differ"
    ga, gb = _grade_of(a, regrade), _grade_of(b, regrade)
    rows_a = {r.id: r for r in grade_rows(ga)}
    rows_b = {r.id: r for r in grade_rows(gb)}
    criteria = []
    for cid in list(rows_a) + [c for c in rows_b if c not in rows_a]:
        ra, rb = rows_a.get(cid), rows_b.get(cid)
        va = None if ra is None else ra.verdict
        vb = None if rb is None else rb.verdict
        if va != vb:
            criteria.append(
                {
                    "id": cid,
                    "type": (ra if ra is not None else rows_b[cid]).type,  # cid is in one of them
                    "a": va or "absent",
                    "b": vb or "absent",
                    "evidence_a": "" if ra is None else ra.evidence,
                    "evidence_b": "" if rb is None else rb.evidence,
                }
            )
    return TrajectoryDiff(
        a=a,
        b=b,
        divergence_step=step,
        divergence_kind=kind,
        call_a=None if step is None else _call(a, step - 1),
        call_b=None if step is None else _call(b, step - 1),
        difference=diff,
        criteria=criteria,
        reward_a=None if ga is None else ga.get("reward"),
        reward_b=None if gb is None else gb.get("reward"),
        warnings=warnings,
    )


def _fmt_call(call: dict[str, Any] | None) -> str:
    if call is None:
        return "(no step)"
    return f"{call['name']} {json.dumps(call['arguments'], sort_keys=True)}"


def print_diff(console: Console, d: TrajectoryDiff) -> None:
    for w in d.warnings:
        console.print(f"[yellow]warning: {w}[/yellow]")
    if d.divergence_step is None:
        msg = "The two rollouts made the same calls and saw the same observations"
        console.print(f"[green]{msg}[/green]" + (f"; {d.difference}." if d.difference else "."))
    else:
        console.print(
            f"[bold]First divergence at step {d.divergence_step}[/bold] ({d.divergence_kind}): {d.difference}"
        )
        console.print(f"  A: {_fmt_call(d.call_a)}")
        console.print(f"  B: {_fmt_call(d.call_b)}")
    console.print(f"reward A {d.reward_a}  B {d.reward_b}")
    if not d.criteria:
        console.print("No criterion was scored differently.")
        return
    from rich.table import Table

    table = Table(title=f"{len(d.criteria)} criteria scored differently")
    for col in ("criterion", "type", "A", "B", "evidence A", "evidence B"):
        table.add_column(col, overflow="fold")
    colour = {"met": "green", "unmet": "red"}
    for c in d.criteria:
        table.add_row(
            c["id"],
            c["type"],
            f"[{colour.get(c['a'], 'yellow')}]{c['a']}[/]",
            f"[{colour.get(c['b'], 'yellow')}]{c['b']}[/]",
            c["evidence_a"],
            c["evidence_b"],
        )
    console.print(table)


def diff(
    trajectory_a: Path = typer.Argument(..., exists=True, dir_okay=False),
    trajectory_b: Path = typer.Argument(..., exists=True, dir_okay=False),
    index_a: int = typer.Option(0, "--index-a", help="Which trajectory of file A (0-based)."),
    index_b: int = typer.Option(0, "--index-b", help="Which trajectory of file B (0-based)."),
    regrade: bool = typer.Option(False, "--regrade", help="Grade both again instead of using the recorded grades."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Where two rollouts of the same task diverged and which criteria they scored differently."""
    d = diff_trajectories(
        load_trajectory(trajectory_a, index_a), load_trajectory(trajectory_b, index_b), regrade=regrade
    )
    if as_json:
        typer.echo(json.dumps(d.to_dict(), indent=2))
    else:
        from rich.console import Console

        print_diff(Console(), d)
