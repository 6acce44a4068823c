"""Commands of the service package: ``supportgym serve`` and ``supportgym tools``.

``register(app)`` adds them to the main ``supportgym`` Typer app. ``python -m
supportgym.cli.serve`` runs the same commands on their own.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

import typer

from supportgym.services.settings import Settings
from supportgym.services.workers import default_workers

# What each worker of `serve --workers N` runs (settings from the environment).
WORKER_APP_FACTORY = "supportgym.tasks.service:app_factory"


class ToolFormat(str, Enum):
    openai = "openai"
    table = "table"
    mcp = "mcp"


def serve(
    host: str = typer.Option(None, help="Interface to bind [env SUPPORTGYM_HOST, default 127.0.0.1]."),
    port: int = typer.Option(None, help="Port [env SUPPORTGYM_PORT, default 8000]; 0 picks a free one."),
    max_episodes: int = typer.Option(None, help="Live episodes allowed at once [SUPPORTGYM_MAX_EPISODES]."),
    idle_ttl: float = typer.Option(None, help="Reap episodes idle this many seconds [SUPPORTGYM_IDLE_TTL_S]."),
    reap_interval: float = typer.Option(None, help="Seconds between reaper passes [SUPPORTGYM_REAP_INTERVAL_S]."),
    warm: str = typer.Option(
        None, help="Worlds to load at start, comma-separated seed/scale [SUPPORTGYM_WARM_WORLDS, 7/default]."
    ),
    log_level: str = typer.Option(None, help="uvicorn log level [SUPPORTGYM_LOG_LEVEL, info]."),
    token: str = typer.Option(
        None,
        help="Service token (16+ chars) required on every route; needed to bind beyond loopback "
        "[SUPPORTGYM_TOKEN; prefer the variable: options show in the process list].",
    ),
    allowed_hosts: str = typer.Option(
        None, help="Host header values served, comma-separated [SUPPORTGYM_ALLOWED_HOSTS, loopback names]."
    ),
    workers: int = typer.Option(
        None,
        min=1,
        max=256,
        envvar="SUPPORTGYM_WORKERS",
        show_envvar=False,
        help="Worker processes, each owning its episodes [SUPPORTGYM_WORKERS, default: all cores]; 1 runs one process.",
    ),
) -> None:
    """Run the HTTP service: many isolated episodes, each with its own copy of a world."""
    import uvicorn

    from supportgym.tasks.service import create_service

    settings = Settings.from_env(
        host=host,
        port=port,
        max_episodes=max_episodes,
        idle_ttl_s=idle_ttl,
        reap_interval_s=reap_interval,
        warm_worlds=None if warm is None else [w for w in warm.split(",") if w.strip()],
        log_level=log_level,
        token=token,
        allowed_hosts=None if allowed_hosts is None else [h for h in allowed_hosts.split(",") if h.strip()],
    )
    try:
        settings.check_exposure()
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    count = default_workers() if workers is None else workers
    if count > 1:
        _serve_workers(settings, count)
        return
    app = create_service(settings)
    _print_author_view(settings, app.state.admin_token)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.log_level == "debug",
        # Agents think for seconds between calls: keep their connections open meanwhile.
        timeout_keep_alive=75,
    )


def _print_author_view(settings: Settings, admin_token: str) -> None:
    if not settings.token:
        shown = "localhost" if settings.host in ("127.0.0.1", "::1") else settings.host
        typer.echo(
            f"author's view (rubrics, trajectories): http://{shown}:{settings.port}/ui?token={admin_token}", err=True
        )


def _serve_workers(settings: Settings, count: int) -> None:
    """``count`` worker processes behind one front (services/front.py); the front stops them
    when it stops, and the kernel does when it dies."""
    import uvicorn

    from supportgym.services.access import new_secret
    from supportgym.services.front import Front
    from supportgym.services.workers import start_workers

    admin_token = settings.token or new_secret("adm-")
    worker_set = start_workers(settings, count, WORKER_APP_FACTORY, admin_token)
    try:
        _print_author_view(settings, admin_token)
        typer.echo(f"{count} workers behind http://{settings.host}:{settings.port}", err=True)
        uvicorn.run(
            Front(worker_set, settings),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=settings.log_level == "debug",
            timeout_keep_alive=75,
            lifespan="on",
        )
    finally:
        worker_set.stop()


def _mcp_tools() -> list[dict[str, Any]]:
    from supportgym.services.routes.tools import tool_infos

    return [
        {
            "name": t["name"],
            "description": t["schema"]["function"]["description"],
            "inputSchema": t["schema"]["function"]["parameters"],
            "annotations": t["annotations"],
        }
        for t in tool_infos()
    ]


def tools(
    format: ToolFormat = typer.Option(ToolFormat.table, "--format", help="openai, mcp or table."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (the table format prints metadata)."),
) -> None:
    """List every tool: schemas in OpenAI or MCP format, or a table of names and annotations."""
    from supportgym.services.episode import episode_tool_schemas
    from supportgym.services.routes.tools import tool_infos

    if format == ToolFormat.openai:
        typer.echo(json.dumps(episode_tool_schemas(), indent=2))
        return
    if format == ToolFormat.mcp:
        typer.echo(json.dumps(_mcp_tools(), indent=2))
        return
    infos = tool_infos()
    if as_json:
        typer.echo(json.dumps([{k: v for k, v in t.items() if k != "schema"} for t in infos], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    # 80 columns: the name is what an agent calls, never cut; the flags get short headers.
    table = Table(
        title=f"{len(infos)} tools",
        caption="read = read-only, destroys = destructive, repeat = idempotent; more: --json",
    )
    table.add_column("name", no_wrap=True)
    table.add_column("group", overflow="fold")
    for col in ("read", "destroys", "repeat"):
        table.add_column(col, no_wrap=True)
    for t in infos:
        table.add_row(
            t["name"], t["group"], *("yes" if t[k] else "" for k in ("read_only", "destructive", "idempotent"))
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``tools`` and ``mcp`` to the ``supportgym`` command."""
    from supportgym.cli.mcp import mcp_command

    app.command("serve")(serve)
    app.command("tools")(tools)
    app.command("mcp")(mcp_command)


cli = typer.Typer(help="SupportGym service commands.", no_args_is_help=True, add_completion=False)
register(cli)

if __name__ == "__main__":
    cli()
