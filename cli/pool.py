"""Commands for Docker: ``supportgym pool cleanup``, ``supportgym pool status`` and
``supportgym bench docker``. Wire them into the main command with::

    from supportgym.cli.pool import pool_app, bench_docker
    app.add_typer(pool_app, name="pool")
    bench_app.command("docker")(bench_docker)
"""

from __future__ import annotations

import json

import typer

from supportgym.bench.docker import bench_docker

pool_app = typer.Typer(help="Containers of the Docker pool (label org.supportgym.managed=true).", no_args_is_help=True)


@pool_app.command("cleanup")
def pool_cleanup(
    pool_id: str = typer.Option(None, "--pool-id", help="Only this pool's containers (default: every pool)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    orphans: bool = typer.Option(
        False, "--orphans", help="Only containers whose driver process is gone (leave live runs alone)."
    ),
) -> int:
    """Remove every container SupportGym's pool started (running or not), e.g. after a crash."""
    from supportgym.env.docker_pool import ContainerPool, PoolError

    try:
        n = ContainerPool.cleanup(pool_id=pool_id, orphans_only=orphans is True)  # a direct call passes no Option
    except PoolError as exc:
        typer.echo(f"no Docker engine: {exc}", err=True)
        raise typer.Exit(3) from exc
    typer.echo(json.dumps({"removed": n}) if json_out else f"removed {n} container(s)")
    return n


@pool_app.command("status")
def pool_status(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the containers SupportGym's pools have running."""
    from supportgym.env.docker_pool import MANAGED_LABEL, POOL_LABEL, PoolError, docker_client

    try:
        client = docker_client(30.0)
    except PoolError as exc:
        typer.echo(f"no Docker engine: {exc}", err=True)
        raise typer.Exit(3) from exc
    rows = [
        {
            "name": c.name,
            "id": c.short_id,
            "pool": c.labels.get(POOL_LABEL),
            "status": c.status,
            "image": (c.image.tags or [c.image.short_id])[0] if c.image else None,
        }
        for c in client.containers.list(all=True, filters={"label": [f"{MANAGED_LABEL}=true"]})
    ]
    if json_out:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        typer.echo(f"{r['name']:40} {r['id']:12} pool={r['pool']} {r['status']} {r['image']}")
    typer.echo(f"{len(rows)} container(s)")


__all__ = ["bench_docker", "pool_app", "pool_cleanup", "pool_status"]
