"""SupportGym over MCP: the public entry points (light to import; the SDK loads on use).

* :func:`create_mcp_asgi_app` - streamable HTTP, one episode per MCP session, for the service to
  mount at ``/mcp`` (configured by ``/mcp?task_id=...&seed=7&scale=tiny`` or the
  ``X-SupportGym-Task`` header);
* ``supportgym mcp --task ID`` (:mod:`supportgym.cli.mcp`, which opens the task's episode) serves
  one episode over stdio through :func:`supportgym.services.mcp_core.run_stdio`.

The implementation is in :mod:`supportgym.services.mcp_core`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = [
    "EPISODE_RESOURCE_URI",
    "MCP_MISSING",
    "TASK_HEADER",
    "WORLD_HASH_RESOURCE_URI",
    "create_mcp_asgi_app",
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
