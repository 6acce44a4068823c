"""``supportgym mcp``: one episode over MCP on stdio, the task's or a bare world's.

``python -m supportgym.cli.mcp --task ID`` runs the same command (what an MCP client launches).
"""

from __future__ import annotations

import functools

import typer

from supportgym.services.episode import EpisodeConfig
from supportgym.services.mcp_server import MCP_MISSING, mcp_installed


def mcp_command(
    task: str | None = typer.Option(None, "--task", help="Task id to run (graded on submit_response)."),
    seed: int = typer.Option(7, "--seed", help="World seed (bare world, without --task)."),
    scale: str = typer.Option("default", "--scale", help="World scale: tiny, default or large (bare world)."),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Step budget override."),
) -> None:
    """Serve one SupportGym episode over MCP on stdio (the grade is printed to stderr)."""
    import anyio
    from pydantic import ValidationError

    if not mcp_installed():
        typer.echo(f"error: {MCP_MISSING}", err=True)
        raise typer.Exit(2)
    from supportgym.services.mcp_core import run_stdio
    from supportgym.tasks import open_episode

    try:
        config = EpisodeConfig(task_id=task, seed=seed, scale=scale, max_steps=max_steps)
    except ValidationError as exc:
        typer.echo(f"error: {exc.errors(include_url=False)[0]['msg']}", err=True)
        raise typer.Exit(2) from None
    anyio.run(functools.partial(run_stdio, config, episode_factory=open_episode))


if __name__ == "__main__":
    typer.run(mcp_command)
