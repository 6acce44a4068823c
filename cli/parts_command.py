"""``supportgym parts``: list the heavy parts the end-to-end tests need, and prepare them."""

from __future__ import annotations

import json

import typer

from supportgym.cli.parts import PARTS, Outcome, UnknownPart, cache_root, make, select

PART_NAMES = ", ".join(PARTS)


def parts_command(
    only: list[str] | None = typer.Option(
        None, "--only", help="Only this part (and what it needs); repeatable. One of: " + PART_NAMES + "."
    ),
    check: bool = typer.Option(False, "--check", help="Only report which parts are ready; build nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Prepare the heavy parts (LLM server, model, verifiers venv, Docker engine, base image, Chromium,
    tmux) that the end-to-end tests need, each cached under $SUPPORTGYM_CACHE (default ~/.cache/supportgym).
    Exit 0 when every selected part is ready, 1 when one failed, 3 when one cannot be made here."""
    try:
        chosen = select(only)
    except UnknownPart as exc:
        typer.echo(f"error: --only: {exc}", err=True)
        raise typer.Exit(2) from None
    outcomes: list[Outcome] = []
    for part in chosen:
        if check:
            probe = part.probe()
            outcomes.append(Outcome(part.name, "ready" if probe.ready else "missing", 0.0, probe.detail))
            continue
        if any(o.status in ("failed", "unavailable") and o.name in part.needs for o in outcomes):
            outcomes.append(Outcome(part.name, "failed", 0.0, f"needs {', '.join(part.needs)}, which failed"))
            continue
        # Progress on stderr, so `--json` output stays parseable.
        outcome = make(part, log=lambda line: typer.echo(line, err=True))
        typer.echo(f"[parts] {outcome.name}: {outcome.status} ({outcome.seconds:.1f} s) {outcome.detail}", err=True)
        outcomes.append(outcome)
    if as_json:
        typer.echo(json.dumps({"cache": str(cache_root()), "parts": [o.__dict__ for o in outcomes]}, indent=2))
    else:
        _print_table(outcomes)
    statuses = {o.status for o in outcomes}
    if "failed" in statuses or (check and "missing" in statuses):
        raise typer.Exit(1)
    if "unavailable" in statuses:
        raise typer.Exit(3)


def _print_table(outcomes: list[Outcome]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"parts (cache: {cache_root()})", title_justify="left")
    table.add_column("part", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for o in outcomes:
        took = "" if o.status in ("ready", "missing") else f"{o.seconds:.1f} s"  # --check builds nothing
        table.add_row(o.name, o.status, took, o.detail)
    Console().print(table)
