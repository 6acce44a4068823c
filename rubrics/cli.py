"""``supportgym rubrics``: lint the shipped rubrics. Grading is ``supportgym grade`` (saved
trajectories) and ``supportgym eval`` (agents)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from supportgym.tasks import TaskFormatError

PLAIN_PROGRESS_EVERY = 15

rubrics_app = typer.Typer(help="Rubrics: lint the criteria of every task.", no_args_is_help=True)


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
    from supportgym.rubrics.lint import lint_all
    from supportgym.tasks import TaskFormatError, list_tasks

    # Progress goes to stderr, so --json output stays parseable: a bar on a terminal, a line
    # every PLAIN_PROGRESS_EVERY tasks in a log.
    err = Console(stderr=True)
    with Progress(TextColumn("linting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=err, transient=True,
                  disable=not err.is_terminal) as bar:
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


def _format_errors(exc: TaskFormatError, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"format_errors": [str(p) for p in exc.problems]}, indent=2))
    else:
        typer.echo(str(exc), err=True)
