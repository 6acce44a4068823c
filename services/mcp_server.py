"""SupportGym over MCP: the public entry points (light to import; the SDK loads on use).

* :func:`create_mcp_asgi_app` - streamable HTTP, one episode per MCP session, for the service to
  mount at ``/mcp`` (configured by ``/mcp?task_id=...&seed=7&scale=tiny`` or the
  ``X-SupportGym-Task`` header);
* :func:`mcp_command` - ``supportgym mcp --task ID`` (or ``--seed/--scale`` for a bare world):
  one episode over stdio; the grade goes to stderr when the episode ends;
* ``python -m supportgym.services.mcp_server --scale tiny`` runs the same command.

The implementation is in :mod:`supportgym.services.mcp_core`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from supportgym.services.episode import EpisodeConfig

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = [
    "EPISODE_RESOURCE_URI",
    "MCP_MISSING",
    "TASK_HEADER",
    "WORLD_HASH_RESOURCE_URI",
    "create_mcp_asgi_app",
    "main",
    "mcp_command",
    "mcp_installed",
]

TASK_HEADER = "X-SupportGym-Task"
EPISODE_RESOURCE_URI = "supportgym://episode"
WORLD_HASH_RESOURCE_URI = "supportgym://episode/world_hash"


MCP_MISSING = "MCP is an optional part: pip install 'supportgym[mcp]'"


def mcp_installed() -> bool:
    """Whether the MCP SDK (the ``supportgym[mcp]`` extra) can be imported."""
    try:
        import mcp  # noqa: F401  (only asked when the SDK is about to be used anyway)
    except ImportError:
        return False
    return True


def create_mcp_asgi_app(manager_or_factory: Any = None, **kwargs: Any) -> Starlette:
    """The MCP streamable-HTTP app: see :func:`supportgym.services.mcp_core.create_mcp_asgi_app`.

    ``manager_or_factory``: an ``EpisodeManager`` (anything with ``create(config)``), a callable
    ``config -> Episode``, or None. Keyword options: ``on_episode_created`` (callable or object with
    ``add(episode)``), ``default_config``, ``json_response``, ``session_idle_timeout``,
    ``max_sessions``, ``transport_security``. The app's ``state.mcp.run()`` must be entered by the
    parent app's lifespan when the app is mounted.
    """
    # deferred: mcp_core needs the mcp package, the optional extra supportgym[mcp]
    from supportgym.services.mcp_core import create_mcp_asgi_app as create

    return create(manager_or_factory, **kwargs)


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
    # deferred: mcp_core needs the mcp package, the optional extra supportgym[mcp]
    from supportgym.services.mcp_core import run_stdio

    try:
        config = EpisodeConfig(task_id=task, seed=seed, scale=scale, max_steps=max_steps)
    except ValidationError as exc:
        typer.echo(f"error: {exc.errors(include_url=False)[0]['msg']}", err=True)
        raise typer.Exit(2) from None
    anyio.run(run_stdio, config)


def __getattr__(name: str) -> Any:
    # The rest of the API (build_server, mcp_tools, SupportGymMCP, run_stdio, ...) on first use.
    if name.startswith("__"):  # import machinery probes (__path__, ...): not part of the API
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if not mcp_installed():
        raise ImportError(f"supportgym.services.mcp_server.{name}: {MCP_MISSING}")
    # deferred: mcp_core needs the mcp package, the optional extra supportgym[mcp]
    from supportgym.services import mcp_core

    try:
        return getattr(mcp_core, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def main() -> None:
    typer.run(mcp_command)


if __name__ == "__main__":
    main()
