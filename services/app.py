"""The HTTP service: many isolated episodes at once, each with its own copy of a world.

``create_app(settings)`` builds the FastAPI app; ``supportgym serve`` runs it under uvicorn.
Tool calls run the synchronous :class:`~supportgym.services.episode.Episode` in worker threads,
so calls to different episodes proceed in parallel. A background task reaps idle episodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from supportgym import __version__
from supportgym.services.access import new_secret
from supportgym.services.guard import install_guard
from supportgym.services.manager import EpisodeManager, ServiceError
from supportgym.services.mcp_server import create_mcp_asgi_app, mcp_installed
from supportgym.services.routes import episodes, health, index, tools
from supportgym.services.settings import Settings
from supportgym.services.task_set import BareWorlds, TaskSet
from supportgym.services.tools import WorldFault
from supportgym.services.upstream import set_upstream_deadline
from supportgym.services.web.router import router as web_router
from supportgym.services.worlds import get_snapshot, set_cache_budget

log = logging.getLogger("supportgym.service")

THREADS = 64


def _error(
    status: int, code: str, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "field": field}}, status_code=status, headers=headers
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message, exc.field, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        if first.get("type") == "json_invalid":
            return _error(400, "invalid_json", "request body is not valid JSON", "body")
        loc = [str(p) for p in first.get("loc", ()) if p != "body"]
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'body'}: {e.get('msg')}" for e in errors[:5]
        )
        return _error(422, "invalid_request", problems or "invalid request", ".".join(loc) or None)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail), None, getattr(exc, "headers", None))

    @app.exception_handler(WorldFault)
    async def _world(_request: Request, exc: WorldFault) -> JSONResponse:
        return _error(500, "world_fault", str(exc))

    @app.exception_handler(Exception)
    async def _internal(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        # The details stay in the server log: they may hold paths, URLs or credentials.
        return _error(500, "internal_error", "The service failed on this request; the details are in its log.")


async def _warm(app: FastAPI, worlds: list[str]) -> None:

    try:
        for spec in worlds:
            seed, _, scale = spec.partition("/")
            await anyio.to_thread.run_sync(get_snapshot, int(seed), scale or "default")
    except Exception:  # noqa: BLE001 - a bad warm-up spec must not kill the service; the log says what failed
        log.exception("warming worlds failed")
    app.state.ready = True


async def _reaper(manager: EpisodeManager, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        reaped = await anyio.to_thread.run_sync(manager.reap)
        if reaped:
            log.info("reaped %d idle episodes", len(reaped))


def create_app(settings: Settings | None = None, task_set: TaskSet | None = None) -> FastAPI:
    """The service app. ``settings`` defaults to ``Settings.from_env()``; ``task_set`` opens task
    episodes (``supportgym.tasks.service.create_service`` passes the shipped tasks); without
    one the service runs bare worlds only."""
    settings = settings or Settings.from_env()
    settings.check_exposure()
    task_set = task_set or BareWorlds()
    manager = EpisodeManager(
        max_episodes=settings.max_episodes,
        idle_ttl_s=settings.idle_ttl_s,
        opener=task_set.open_episode,
        worker_index=settings.worker_index,
    )

    set_cache_budget(settings.world_cache_bytes)
    set_upstream_deadline(settings.upstream_deadline_s)
    # Each MCP session is one episode registered with the same manager as HTTP episodes; the
    # session owns it (it holds no capability another client could use) and frees it at its end.
    # MCP is the optional extra supportgym[mcp]: without it the service serves HTTP only.
    mcp_app = create_mcp_asgi_app(manager, settings=settings) if mcp_installed() else None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        tasks = [
            asyncio.create_task(_warm(app, settings.warm_worlds)),
            asyncio.create_task(_reaper(manager, settings.reap_interval_s)),
        ]
        try:
            # FastAPI does not run a mounted app's lifespan: run the MCP session manager here.
            async with mcp_app.state.mcp.run() if mcp_app is not None else contextlib.nullcontext():
                yield
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            manager.close_all()

    app = FastAPI(
        title="SupportGym",
        version=__version__,
        description=(
            "A customer-support world for LLM agents. Create an episode, call tools in it, "
            "submit the final response, read its trail, changes and grade. Tool refusals and bad "
            "tool arguments are 200 observations; protocol errors are 4xx with "
            '{"error": {"code", "message", "field"}}.'
        ),
        lifespan=lifespan,
    )
    app.state.manager = manager
    app.state.task_set = task_set
    app.state.settings = settings
    # Without a configured token the author's view still needs one: a fresh one per process.
    app.state.admin_token = settings.token or settings.admin_token or new_secret("adm-")
    install_guard(app, settings=settings, admin_token=lambda: app.state.admin_token, table=manager)
    app.state.ready = False
    _install_error_handlers(app)

    app.include_router(index.router)
    app.include_router(health.router)
    app.include_router(tools.router)
    app.include_router(episodes.router)

    app.include_router(web_router, prefix="/ui")
    if mcp_app is not None:
        app.mount("/mcp", mcp_app)
    return app
