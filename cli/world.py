"""``supportgym world ...``: inspect, check, export and hash generated worlds.

Heavy imports (SQLAlchemy, Faker, the generator) happen inside the commands so ``--help``
stays instant.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

world_app = typer.Typer(
    help="Generate and inspect seeded worlds (built once, then served from the disk cache).",
    no_args_is_help=True,
    add_completion=False,
)

SEED_HELP = "World seed: the same seed and scale always give the same world."
SCALE_HELP = "World size: tiny, default or large."
JSON_HELP = "Print JSON instead of a table."


def _snapshot(seed: int, scale: str):  # noqa: ANN202 - WorldSnapshot, imported lazily
    from supportgym.world_seed.cache import load_world

    try:
        return load_world(seed, scale)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--scale") from None


@world_app.command("info")
def info(
    seed: Annotated[int, typer.Option(help=SEED_HELP)] = 7,
    scale: Annotated[str, typer.Option(help=SCALE_HELP)] = "default",
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Print a world's hash, seed, scale, simulated now and row counts per table."""
    from supportgym.world_seed.generate import GENERATOR_VERSION

    snap = _snapshot(seed, scale)
    db = snap.open()
    try:
        meta = dict(db.conn.execute("SELECT key, value FROM world_meta ORDER BY key").fetchall())
    finally:
        db.close()
    data = {
        "world_hash": snap.world_hash,
        "seed": snap.seed,
        "scale": snap.scale,
        "now": meta.get("now"),
        "generator_version": meta.get("generator_version", GENERATOR_VERSION),
        "counts": snap.counts,
    }
    if json_out:
        typer.echo(json.dumps(data, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"world hash  {snap.world_hash}")
    console.print(f"seed {snap.seed}  scale {snap.scale}  now {data['now']}  generator v{data['generator_version']}")
    table = Table(title="Rows per table")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in snap.counts.items():
        table.add_row(name, f"{n:,}")
    table.add_row("[bold]total[/bold]", f"[bold]{sum(snap.counts.values()):,}[/bold]")
    console.print(table)


@world_app.command("check")
def check(
    seed: Annotated[int, typer.Option(help=SEED_HELP)] = 7,
    scale: Annotated[str, typer.Option(help=SCALE_HELP)] = "default",
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    task: Annotated[
        str | None,
        typer.Option(
            "--task",
            help="Check this task's world after its setup instead (its own seed and scale): the "
            "relational invariants on the customers the setup touched, the others on every row.",
        ),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="With --task: the relational invariants on every customer.")
    ] = False,
) -> None:
    """Run every integrity invariant on a world; exit code 1 if any is violated."""
    from supportgym.world_seed.check import INVARIANTS, CheckReport

    report: CheckReport
    if task is not None:
        snap, report, scope = _check_task_world(task, full)
        where = f"task {task}'s world" + ("" if scope is None else f" ({len(scope)} customer(s) touched by its setup)")
    else:
        (snap, report), scope = _check_seeded_world(seed, scale), None
        where = f"world seed={snap.seed} scale={snap.scale}"
    fails = report.failures()
    if json_out:
        typer.echo(
            json.dumps(
                {
                    "world_hash": snap.world_hash,
                    "seed": snap.seed,
                    "scale": snap.scale,
                    "task": task,
                    "customers_checked": None if scope is None else sorted(scope),
                    "ok": report.ok,
                    "invariants": {k: {"checked": report.checked[k], "failed": fails[k]} for k in INVARIANTS},
                    "violations": [
                        {"invariant": v.invariant, "entity": v.entity, "message": v.message}
                        for v in report.violations[:200]
                    ],
                    "violation_count": len(report.violations),
                },
                indent=2,
            )
        )
    else:
        from rich.console import Console
        from rich.table import Table

        console = Console()
        table = Table(title=f"Invariants of {where}")
        for col, justify in (("invariant", "left"), ("checked", "right"), ("passed", "right"), ("failed", "right")):
            table.add_column(col, justify=justify)  # type: ignore[arg-type]
        for name in INVARIANTS:
            n, f = report.checked[name], fails[name]
            style = "red" if f else "green"
            table.add_row(name, f"{n:,}", f"[{style}]{n - f:,}[/{style}]", f"[{style}]{f:,}[/{style}]")
        console.print(table)
        for v in report.violations[:20]:
            console.print(f"[red]{v}[/red]", highlight=False)
        if len(report.violations) > 20:
            console.print(f"... and {len(report.violations) - 20} more")
        console.print("[green]OK[/green]" if report.ok else f"[red]{len(report.violations)} violation(s)[/red]")
    if not report.ok:
        raise typer.Exit(1)


@world_app.command("build")
def build(
    seed: Annotated[int, typer.Option(help=SEED_HELP)] = 7,
    scale: Annotated[str, typer.Option(help=SCALE_HELP)] = "default",
    url: Annotated[
        str, typer.Option(help="SQLAlchemy URL of an empty database to write the world into.")
    ] = "sqlite:///world.sqlite",
) -> None:
    """Write a world into any database (a SQLite file, PostgreSQL, ...) to inspect it."""
    from supportgym.db import copy_world

    snap = _snapshot(seed, scale)
    db = snap.open()
    try:
        with db.session() as s:
            copy_world(s, url)
    finally:
        db.close()
    typer.echo(f"wrote world {snap.world_hash} ({sum(snap.counts.values()):,} rows) to {url}")


@world_app.command("hash")
def hash_(
    seed: Annotated[int, typer.Option(help=SEED_HELP)] = 7,
    scale: Annotated[str, typer.Option(help=SCALE_HELP)] = "default",
) -> None:
    """Print only the world hash (SHA-256 of the canonical content)."""
    typer.echo(_snapshot(seed, scale).world_hash)


@world_app.command("traps")
def traps(
    seed: Annotated[int, typer.Option(help=SEED_HELP)] = 7,
    scale: Annotated[str, typer.Option(help=SCALE_HELP)] = "default",
    limit: Annotated[int, typer.Option(help="Examples per trap.")] = 5,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """List example ids of each deliberate trap (for task authors)."""
    from supportgym.world_seed.traps import trap_examples

    snap = _snapshot(seed, scale)
    db = snap.open()
    try:
        with db.session() as s:
            ex = trap_examples(s, limit=limit)
    finally:
        db.close()
    if json_out:
        typer.echo(json.dumps(ex, indent=2))
        return
    for name, ids in ex.items():
        typer.echo(f"{name}:")
        for i in ids:
            typer.echo(f"  {i}")


def _check_seeded_world(seed: int, scale: str) -> tuple[Any, Any]:
    from supportgym.world_seed.check import run_checks

    snap = _snapshot(seed, scale)
    db = snap.open()
    try:
        with db.session() as s:
            return snap, run_checks(s)
    finally:
        db.close()


def _check_task_world(task_id: str, full: bool) -> tuple[Any, Any, set[str] | None]:
    """The task's world after setup; ``scope``: the customers checked relationally (None: all)."""
    from supportgym.tasks import TaskFormatError, get_task
    from supportgym.tasks.world_check import check_task_world

    try:
        spec = get_task(task_id)
    except (KeyError, TaskFormatError) as exc:
        reason = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        typer.echo(f"error: --task: {reason}", err=True)
        raise typer.Exit(2) from None
    report, scope = check_task_world(task_id, full=full)
    return _snapshot(spec.world.seed, spec.world.scale), report, scope
