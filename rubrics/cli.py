"""``supportgym rubrics``: lint the shipped rubrics (``grade`` comes with the judge)."""

from __future__ import annotations

import json

import typer

rubrics_app = typer.Typer(help="Rubrics: lint (and grade, with the LLM judge).", no_args_is_help=True)


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
            table.add_row(k.kind, str(k.tp), str(k.fp), str(k.fn), f"{k.precision:.3f}", f"{k.recall:.3f}", f"{k.f1:.3f}",
                          style="bold" if k.kind == "overall" else None)
        console.print(table)
        console.print(f"  ids exact on {split.id_accuracy:.1%} and amounts exact on {split.amount_accuracy:.1%} "
                      f"of {split.matched} matched claims")
    if errors:
        for e in report.errors:
            console.print(f"[{e.split}] {e.text!r}: missing {e.missing} extra {e.extra} {e.detail}", markup=False)
    else:
        console.print(f"{len(report.errors)} item(s) with errors (--errors lists them)")
