"""``supportgym rubrics``: lint the shipped rubrics. Grading is ``supportgym grade`` (saved
trajectories) and ``supportgym eval`` (agents)."""

from __future__ import annotations

import json

import typer

rubrics_app = typer.Typer(help="Rubrics: lint the criteria of every task.", no_args_is_help=True)


@rubrics_app.command("lint")
def lint_cmd(as_json: bool = typer.Option(False, "--json", help="Print the issues as JSON.")) -> None:
    """Lint every task's rubric; exit 1 when there are issues, 2 on format errors."""
    from supportgym.rubrics.lint import lint_all
    from supportgym.tasks import TaskFormatError, list_tasks

    try:
        issues = lint_all()
    except TaskFormatError as exc:
        if as_json:
            typer.echo(json.dumps({"format_errors": [str(p) for p in exc.problems]}, indent=2))
        else:
            typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps({"tasks": len(list_tasks()), "issues": [i.to_dict() for i in issues]}, indent=2))
    else:
        for i in issues:
            typer.echo(str(i))
        typer.echo(f"{len(list_tasks())} task(s) linted, {len(issues)} issue(s)")
    if issues:
        raise typer.Exit(1)
