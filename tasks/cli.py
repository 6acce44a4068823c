"""``supportgym tasks``: list and show tasks."""

from __future__ import annotations

import json
from typing import Optional

import typer

tasks_app = typer.Typer(help="The task set: list and inspect tasks.", no_args_is_help=True)


@tasks_app.command("list")
def list_cmd(
    family: Optional[str] = typer.Option(None, help="Only this family."),
    level: Optional[str] = typer.Option(None, help="Only tasks probing this hierarchy level."),
    difficulty: Optional[str] = typer.Option(None, help="easy, medium or hard."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (id, family, levels, difficulty, criteria)."),
) -> None:
    """List tasks, optionally filtered."""
    from rich.console import Console
    from rich.table import Table

    from supportgym.tasks import TaskFormatError, list_tasks

    try:
        tasks = list_tasks(family=family, level=level, difficulty=difficulty)
    except TaskFormatError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    rows = [
        {"id": t.id, "family": t.family, "levels": [lv.value for lv in t.levels],
         "difficulty": t.difficulty.value, "criteria": len(t.criteria), "title": t.title}
        for t in tasks
    ]
    if as_json:
        typer.echo(json.dumps([{k: v for k, v in r.items() if k != "title"} for r in rows], indent=2))
        return
    table = Table(title=f"{len(rows)} task(s)")
    for col in ("id", "family", "levels", "difficulty", "criteria"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["id"], r["family"], ", ".join(r["levels"]), r["difficulty"], str(r["criteria"]))
    Console().print(table)


@tasks_app.command("show")
def show_cmd(task_id: str = typer.Argument(..., help="Task id, e.g. refund_within_window-01.")) -> None:
    """Show a task: instruction, setup (and the values it bound), rubric."""
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table

    from supportgym.tasks import TaskFormatError, prepare_task

    try:
        p = prepare_task(task_id)
    except KeyError as exc:
        typer.echo(str(exc.args[0]), err=True)
        raise typer.Exit(2) from None
    except TaskFormatError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    con = Console()
    t = p.task
    con.print(Panel(p.instruction, title=f"{t.id}: {p.title}", subtitle=f"{', '.join(lv.value for lv in t.levels)} | {t.difficulty.value} | max {t.max_steps} steps | world seed {t.world.seed} {t.world.scale}"))
    setup = Table(title="setup")
    setup.add_column("#")
    setup.add_column("operation", overflow="fold")
    for i, op in enumerate(t.setup, 1):
        setup.add_row(str(i), json.dumps(op.model_dump(by_alias=True, exclude_defaults=True), default=str))
    con.print(setup)
    bound = Table(title="bound values")
    bound.add_column("name")
    bound.add_column("value", overflow="fold")
    for k, v in p.values.items():
        if isinstance(v, dict):
            shown = {kk: vv for kk, vv in v.items() if not isinstance(vv, (list, dict))}
            bound.add_row(k, json.dumps(shown, default=str)[:400])
        else:
            bound.add_row(k, json.dumps(v, default=str)[:400])
    con.print(bound)
    rub = Table(title=f"rubric ({len(p.rubric)} criteria)")
    for col in ("id", "type", "category", "by", "criterion", "check"):
        rub.add_column(col, overflow="fold")
    for c in p.rubric:
        rub.add_row(c.id, c.type.value, c.category.value, "program" if c.check else "judge", c.text,
                    json.dumps(c.check.model_dump(exclude_defaults=True), default=str) if c.check else "")
    con.print(rub)
    con.print(f"reference: {len(p.reference.calls)} calls; wrong trajectories: " + ", ".join(f"{w.name} (fails {len(w.fails)})" for w in p.wrong))
