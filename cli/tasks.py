"""``supportgym tasks``: list, show, generate, scaffold and measure tasks."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, TypedDict

import typer

if TYPE_CHECKING:
    from supportgym.tasks import Problem


class TaskRow(TypedDict):
    """One task as `tasks list` prints it (--json drops the title)."""

    id: str
    family: str
    levels: list[str]
    difficulty: str
    criteria: int
    title: str


tasks_app = typer.Typer(help="The task set: list, inspect, generate and author tasks.", no_args_is_help=True)


@tasks_app.command("list")
def list_cmd(
    family: str | None = typer.Option(None, help="Only this family."),
    level: str | None = typer.Option(None, help="Only tasks probing this hierarchy level."),
    difficulty: str | None = typer.Option(None, help="easy, medium or hard."),
    split: str | None = typer.Option(None, help="Only the fixed tasks of this split: dev, test or heldout-families."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (id, family, levels, difficulty, criteria)."),
) -> None:
    """List tasks, optionally filtered. Families with problems are left out, with a warning on stderr."""
    from rich.console import Console
    from rich.table import Table

    from supportgym.tasks import TaskFormatError, broken_families, list_tasks, load_task_set

    broken = broken_families()
    if broken and not load_task_set(strict=False):
        typer.echo(str(TaskFormatError([p for probs in broken.values() for p in probs])), err=True)
        raise typer.Exit(2)
    tasks = list_tasks(family=family, level=level, difficulty=difficulty)
    if split is not None:
        from supportgym.tasks.splits import FIXED_SPLITS, load_split

        if split not in FIXED_SPLITS:
            typer.echo(
                f"error: --split takes {', '.join(FIXED_SPLITS)} (train is generated: supportgym tasks generate)",
                err=True,
            )
            raise typer.Exit(2)
        chosen = set(load_split(split))
        tasks = [t for t in tasks if t.id in chosen]
    rows: list[TaskRow] = [
        {
            "id": t.id,
            "family": t.family,
            "levels": [lv.value for lv in t.levels],
            "difficulty": t.difficulty.value,
            "criteria": len(t.criteria),
            "title": t.title,
        }
        for t in tasks
    ]
    if as_json:
        # stdout stays the plain list it has always been; the warning goes to stderr.
        typer.echo(json.dumps([{k: v for k, v in r.items() if k != "title"} for r in rows], indent=2))
    else:
        # 80 columns: the id is never cut (it is what every other command takes), so the family
        # (the id without its -NN) is left to --json, and the other columns wrap.
        table = Table(title=f"{len(rows)} task(s)", caption="family = the id without -NN; more: --json")
        table.add_column("id", no_wrap=True)
        table.add_column("levels", overflow="fold")
        table.add_column("difficulty", overflow="fold")
        table.add_column("criteria", justify="right")
        for r in rows:
            table.add_row(r["id"], ", ".join(r["levels"]), r["difficulty"], str(r["criteria"]))
        Console().print(table)
    _warn_broken(broken)


SHOWN_PROBLEMS = 3


def _warn_broken(broken: dict[str, list[Problem]]) -> None:
    for fam, problems in broken.items():
        typer.echo(f"warning: task family {fam!r} has {len(problems)} problem(s) and was left out:", err=True)
        for p in problems[:SHOWN_PROBLEMS]:
            typer.echo(f"  {p}", err=True)
        if len(problems) > SHOWN_PROBLEMS:
            typer.echo(f"  ... and {len(problems) - SHOWN_PROBLEMS} more", err=True)
    if broken:
        typer.echo("(every problem: supportgym rubrics lint, or supportgym tasks show <family>-01)", err=True)


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
    levels = ", ".join(lv.value for lv in t.levels)
    subtitle = f"{levels} | {t.difficulty.value} | max {t.max_steps} steps | world seed {t.world.seed} {t.world.scale}"
    con.print(Panel(p.instruction, title=f"{t.id}: {p.title}", subtitle=subtitle))
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
        rub.add_row(
            c.id,
            c.type.value,
            c.category.value,
            "program" if c.check else "judge",
            c.text,
            json.dumps(c.check.model_dump(exclude_defaults=True), default=str) if c.check else "",
        )
    con.print(rub)
    con.print(
        f"reference: {len(p.reference.calls)} calls; wrong trajectories: "
        + ", ".join(f"{w.name} (fails {len(w.fails)})" for w in p.wrong)
    )


@tasks_app.command("generate")
def generate_cmd(
    family: str = typer.Option(..., "--family", help="A family with a generate block."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the draws: same family, seed and n, same tasks."),
    n: int = typer.Option(5, "--n", min=1, max=200, help="How many proven tasks to produce."),
    audit: bool = typer.Option(
        True, "--audit/--no-audit", help="Also run the reward-integrity audit on each candidate."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (accepted and dropped candidates)."),
) -> None:
    """Draw new variants of a family from a seed and prove each one (setup finds rows, no
    fixed task's records, reference perfect, wrong trajectories fail exactly what they declare,
    audit clean); print the accepted task ids (usable anywhere a task id is) and the dropped
    candidates with the reason. Exit 1 when fewer than n were accepted."""
    from rich.console import Console
    from rich.table import Table

    from supportgym.tasks.generator import generate

    try:
        report = generate(family, seed, n, audit=audit)
    except (KeyError, ValueError) as exc:
        typer.echo(f"error: {exc.args[0]}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        table = Table(
            title=f"{family}, seed {seed}: {len(report.accepted)} of {n} accepted, {len(report.dropped)} dropped"
        )
        table.add_column("task id", no_wrap=True)
        table.add_column("from", no_wrap=True)
        table.add_column("drawn", overflow="fold")
        table.add_column("result", overflow="fold")
        for c in sorted([*report.accepted, *report.dropped], key=lambda c: int(c.id.rsplit("-", 1)[1])):
            drawn = ", ".join(f"{k}={v}" for k, v in c.params.items())
            table.add_row(c.id, c.base or "", drawn, "accepted" if c.status == "accepted" else f"dropped: {c.reason}")
        Console().print(table)
    if len(report.accepted) < n:
        raise typer.Exit(1)


@tasks_app.command("new")
def new_cmd(
    family: str = typer.Argument(..., help="Name of the new family (lowercase, digits, _)."),
) -> None:
    """Scaffold tasks/data/FAMILY.yaml and rubrics/data/FAMILY.yaml from the commented
    template: a small working family to reshape (docs/tasks.md). Never overwrites."""
    from supportgym.tasks.loader import task_dirs
    from supportgym.tasks.scaffold import ScaffoldError, scaffold_family

    tasks_dir, rubrics_dir = task_dirs()
    try:
        task_file, rubric_file = scaffold_family(family, tasks_dir, rubrics_dir)
    except ScaffoldError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote {task_file}\nwrote {rubric_file}")
    typer.echo(f"next: .venv/bin/python -m pytest -q tests/tasks -k {family}   (then reshape it: docs/tasks.md)")


@tasks_app.command("stats")
def stats_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print JSON (families, levels, total)."),
) -> None:
    """Per family and per level: tasks, reference calls and writes, criteria by category and
    type, distinct reference write sequences."""
    from rich.console import Console
    from rich.table import Table

    from supportgym.tasks import list_tasks
    from supportgym.tasks.stats import GroupStats, task_set_stats

    stats = task_set_stats(list_tasks())
    if as_json:
        typer.echo(stats.model_dump_json(indent=2))
        return

    def table(title: str, groups: list[GroupStats]) -> Table:
        t = Table(
            title=title,
            caption="calls/writes: reference mean (max); criteria: per task; "
            "cat = completeness/correctness/constraint/format, type = primary/extra/dodged; "
            "seqs: distinct write sequences",
        )
        for col in ("group", "tasks", "calls", "writes", "criteria", "cat", "type", "seqs"):
            t.add_column(col, overflow="fold", no_wrap=col == "group", justify="left" if col == "group" else "right")
        for g in groups:
            c, ty = g.by_category, g.by_type
            t.add_row(
                g.group,
                str(g.tasks),
                f"{g.calls_mean} ({g.calls_max})",
                f"{g.writes_mean} ({g.writes_max})",
                str(g.criteria_mean),
                f"{c['completeness']}/{c['correctness']}/{c['constraint']}/{c['format']}",
                f"{ty['primary']}/{ty['extra_credit']}/{ty['dodged_bullet']}",
                str(g.write_sequences),
            )
        return t

    con = Console()
    con.print(table("per family", [*stats.families, stats.total]))
    con.print(table("per level", stats.levels))
