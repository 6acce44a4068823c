"""``supportgym rubrics``: lint the shipped rubrics. Grading is ``supportgym grade`` (saved
trajectories) and ``supportgym eval`` (agents)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from supportgym.tasks import TaskFormatError

PLAIN_PROGRESS_EVERY = 15

rubrics_app = typer.Typer(
    help="Rubrics: lint the criteria, audit the reward against adversarial policies, measure claims.",
    no_args_is_help=True,
)


@rubrics_app.command("lint")
def lint_cmd(as_json: bool = typer.Option(False, "--json", help="Print the issues as JSON.")) -> None:
    """Lint every task's rubric; exit 1 when there are issues, 2 on format errors."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from supportgym.tasks import TaskFormatError, list_tasks
    from supportgym.tasks.lint import lint_all

    # Progress goes to stderr, so --json output stays parseable: a bar on a terminal, a line
    # every PLAIN_PROGRESS_EVERY tasks in a log.
    err = Console(stderr=True)
    with Progress(
        TextColumn("linting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        job = bar.add_task("", total=None)

        def advance(done: int, total: int, task_id: str) -> None:
            bar.update(job, completed=done, total=total, description=task_id)
            if not err.is_terminal and done % PLAIN_PROGRESS_EVERY == 0:
                typer.echo(f"linting {done + 1}/{total}: {task_id}", err=True)

        try:
            issues = lint_all(progress=advance)
        except TaskFormatError as exc:
            bar.stop()
            _format_errors(exc, as_json)
            raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps({"tasks": len(list_tasks()), "issues": [i.to_dict() for i in issues]}, indent=2))
    else:
        for i in issues:
            typer.echo(str(i))
        typer.echo(f"{len(list_tasks())} task(s) linted, {len(issues)} issue(s)")
    if issues:
        raise typer.Exit(1)


@rubrics_app.command("audit")
def audit_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    task: list[str] = typer.Option(None, "--task", help="Audit only this task id (repeatable)."),
    family: str = typer.Option(None, "--family", help="Audit only the tasks of this family."),
    policy: list[str] = typer.Option(None, "--policy", help="Play only this policy (repeatable)."),
    out: str = typer.Option(None, "--out", help="Also write the JSON report to this file."),
) -> None:
    """Play the built-in adversarial policies on every task and report what they earn.

    Exit 1 when a harmful, dishonest or empty policy reaches 0.5 on any task (or averages over
    0.2), when a useless reply scores perfect (or averages over 0.6), or when a wrong
    trajectory scores above its ceiling. See docs/reward.md."""
    from rich.console import Console
    from rich.progress import Progress

    from supportgym.tasks import list_tasks
    from supportgym.tasks.audit import POLICIES, run_audit

    known = {p.name for p in POLICIES}
    unknown = sorted(set(policy or []) - known)
    if unknown:
        raise typer.BadParameter(
            f"unknown policy {', '.join(unknown)}; choose from {', '.join(sorted(known))}", param_hint="--policy"
        )
    ids = list(task or []) or [t.id for t in list_tasks(family=family)] if (task or family) else None
    total = len(ids) if ids else len(list_tasks())
    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=as_json and not console.is_terminal) as bar:
        job = bar.add_task("auditing", total=total)
        report = run_audit(
            ids,
            policies=list(policy) if policy else None,
            progress=lambda tid: bar.update(job, advance=1, description=tid),
        )
    data = report.model_dump(mode="json") | {"ok": report.ok}
    if out:
        from pathlib import Path

        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(data, indent=2), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        _print_audit(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_audit(report: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    # Narrow enough for 80 columns: the worst task of each policy is listed under the table.
    table = Table(title=f"Reward audit: {report.tasks} tasks, {report.episodes} episodes", expand=False)
    for col, justify in (
        ("policy", "left"),
        ("kind", "left"),
        ("n", "right"),
        ("mean", "right"),
        ("max", "right"),
        ("≥0.5", "right"),
        ("perfect", "right"),
    ):
        table.add_column(col, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for s in [*report.policies, report.wrong]:
        table.add_row(
            s.policy,
            s.kind,
            str(s.tasks),
            "" if s.mean is None else f"{s.mean:.3f}",
            "" if s.max is None else f"{s.max:.3f}",
            str(s.at_least_half),
            str(s.perfect),
            style="red" if s.violations else "",
        )
    console.print(table)
    worst = [(s.policy, *s.worst[0]) for s in [*report.policies, report.wrong] if s.worst and s.worst[0][1] > 0]
    if worst:
        console.print("[bold]best-paid task per policy[/]:" + "".join(f"\n  {p}: {t} {r:.3f}" for p, t, r in worst))
    for title, flags in (
        ("primaries met by doing nothing", report.vacuous_primaries),
        ("criteria that never fail in the audit", report.never_fail),
        ("judge-only primaries", report.judge_only_primaries),
    ):
        n = sum(len(v) for v in flags.values())
        console.print(f"[bold]{title}[/]: {n}" + "".join(f"\n  {k}: {', '.join(v)}" for k, v in flags.items()))
    pairs = sum(len(v) for v in report.always_agree.values())
    console.print(f"[bold]criterion pairs that always agree[/]: {pairs}")
    if report.violations:
        console.print("[bold red]FAILED[/]:\n  " + "\n  ".join(report.violations))
    else:
        console.print("[bold green]audit green[/]")


@rubrics_app.command("claims")
def claims_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    errors: bool = typer.Option(False, "--errors", help="Also list the corpus items the checker gets wrong."),
    corpus: str | None = typer.Option(None, "--corpus", help="A corpus file other than the shipped one."),
) -> None:
    """Precision and recall of the claim checker on its labelled corpus, per kind and split."""
    from rich.console import Console
    from rich.table import Table

    from supportgym.rubrics.claims_corpus import evaluate_corpus

    report = evaluate_corpus(corpus)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    console = Console()
    for name, split in report.splits.items():
        table = Table(title=f"claims corpus: {name} ({split.items} items)")
        for col in ("kind", "TP", "FP", "FN", "P", "R", "F1"):
            table.add_column(col, justify="left" if col == "kind" else "right")
        for k in [*split.per_kind, split.overall]:
            table.add_row(
                k.kind,
                str(k.tp),
                str(k.fp),
                str(k.fn),
                f"{k.precision:.3f}",
                f"{k.recall:.3f}",
                f"{k.f1:.3f}",
                style="bold" if k.kind == "overall" else None,
            )
        console.print(table)
        console.print(
            f"  ids exact on {split.id_accuracy:.1%} and amounts exact on {split.amount_accuracy:.1%} "
            f"of {split.matched} matched claims"
        )
    if errors:
        for e in report.errors:
            console.print(f"[{e.split}] {e.text!r}: missing {e.missing} extra {e.extra} {e.detail}", markup=False)
    else:
        console.print(f"{len(report.errors)} item(s) with errors (--errors lists them)")


def _format_errors(exc: TaskFormatError, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"format_errors": [str(p) for p in exc.problems]}, indent=2))
    else:
        typer.echo(str(exc), err=True)
