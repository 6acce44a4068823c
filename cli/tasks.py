"""``supportgym tasks``: list, show, generate, scaffold and measure tasks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

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
    as_json: bool = typer.Option(False, "--json", help="Print JSON (families, levels, total; difficulty with a run)."),
    run: Path | None = typer.Option(
        None,
        "--run",
        help="Add each group's pass rate and pass^k from a graded run: the JSON `supportgym eval --out` "
        "writes, an llm run's trajectories.jsonl, or its directory.",
    ),
    model: str = typer.Option(
        "",
        "--model",
        help="Run the LLM agent first (OpenAI-compatible endpoint; or SUPPORTGYM_LLM_MODEL) and add "
        "its pass rate and pass^k. Not with --run.",
    ),
    base_url: str = typer.Option("", "--base-url", help="With --model: the endpoint (or SUPPORTGYM_LLM_BASE_URL)."),
    api_key: str = typer.Option("", "--api-key", help="With --model: the API key (or SUPPORTGYM_LLM_API_KEY)."),
    k: int = typer.Option(4, "--k", min=1, help="With --model: attempts per task (pass^1 .. pass^k)."),
    task: str = typer.Option(
        "", "--task", help="With --model: comma-separated task ids or families to run (default: every task)."
    ),
    concurrency: int = typer.Option(4, "--concurrency", min=1, help="With --model: episodes run at once."),
    max_steps: int | None = typer.Option(None, "--max-steps", min=1, help="With --model: step budget override."),
    max_tokens: int = typer.Option(1024, "--max-tokens", min=1, help="With --model: token limit per model turn."),
    out: Path = typer.Option(
        Path("runs/stats-llm"), "--out", help="With --model: directory for the run (reusable with --run)."
    ),
) -> None:
    """Per family and per level: tasks, reference calls and writes, criteria by category and
    type, distinct reference write sequences; with a run or a model, pass rate and pass^k."""
    from rich.console import Console
    from rich.table import Table

    from supportgym.tasks import list_tasks
    from supportgym.tasks.stats import GroupStats, task_set_stats

    if run is not None and model:
        typer.echo("error: give --run (an existing run) or --model (run one now), not both", err=True)
        raise typer.Exit(2)
    stats = task_set_stats(list_tasks())
    difficulty = None
    if model:
        from supportgym.env.llm_agent import run_llm_eval

        run_llm_eval(
            model,
            base_url,
            api_key,
            task,
            k,
            concurrency,
            max_tokens=max_tokens,
            max_steps=max_steps,
            out=str(out),
            progress=not as_json,
        )
        run = out
    if run is not None:
        difficulty = _run_difficulty(run)
    if as_json:
        doc = stats.model_dump(mode="json")
        if difficulty is not None:
            doc["difficulty"] = difficulty
        typer.echo(json.dumps(doc, indent=2))
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
    if difficulty is not None:
        con.print(_difficulty_table(difficulty))


def _difficulty_table(difficulty: dict[str, Any]) -> Any:
    from rich.table import Table

    k = difficulty["k"]
    t = Table(
        title=f"difficulty: {difficulty['run']} ({difficulty['episodes']} episodes, k={k})",
        caption=f"errors: episodes that never got a grade (the endpoint failed), left out of pass; "
        f"pass: share of perfect episodes; pass^{k}: chance that {k} attempts at a task are all perfect",
    )
    for col in ("group", "tasks", "episodes", "errors", "pass", f"pass^{k}"):
        t.add_column(col, no_wrap=col == "group", justify="left" if col == "group" else "right")
    rows = [*difficulty["families"].items(), *((f"level: {n}", c) for n, c in difficulty["levels"].items())]
    for name, cell in [*rows, ("all", difficulty["total"])]:
        t.add_row(
            name,
            str(cell["tasks"]),
            str(cell["episodes"]),
            str(cell["infra_errors"]),
            _rate(cell["pass_rate"]),
            _rate(cell["pass_hat_k"]),
        )
    return t


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _run_difficulty(run: Path) -> dict[str, Any]:
    """Pass rate (perfect episodes) and pass^k per family, per level and overall, from a run."""
    from supportgym.env.report_data import RunFormatError, load_run, summarise_run

    try:
        summary = summarise_run(load_run(run))
    except RunFormatError as exc:
        typer.echo(f"error: --run: {exc}", err=True)
        raise typer.Exit(2) from None
    k = summary["k"]

    def cell(block: dict[str, Any]) -> dict[str, Any]:
        return {
            "tasks": block["tasks"],
            "episodes": block["episodes"],
            "infra_errors": block["infra_errors"],
            "pass_rate": block["perfect_rate"],
            "pass_hat_k": block["pass_hat_k"].get(str(k)),
        }

    return {
        "run": str(run),
        "k": k,
        "episodes": summary["overall"]["episodes"],
        "families": {f: cell(b) for f, b in summary["by_family"].items()},
        "levels": {lv: cell(b) for lv, b in summary["by_level"].items()},
        "total": cell(summary["overall"]),
    }
