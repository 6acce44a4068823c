"""Liveness and readiness."""

from __future__ import annotations

import os

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from supportgym import __version__
from supportgym.services.api_models import Health
from supportgym.services.deps import get_manager
from supportgym.services.manager import EpisodeManager
from supportgym.services.worlds import cached_worlds

router = APIRouter(tags=["health"])


def rss_bytes() -> int | None:
    """Resident set size of this process (Linux ``/proc``; None elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _health(manager: EpisodeManager, status: str) -> Health:

    return Health(
        status=status,
        episodes=len(manager),
        max_episodes=manager.max_episodes,
        worlds_cached=[f"{seed}/{scale}" for seed, scale in cached_worlds()],
        rss_bytes=rss_bytes(),
        version=__version__,
    )


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers.")
async def healthz(manager: EpisodeManager = Depends(get_manager)) -> Health:
    return _health(manager, "ok")


@router.get(
    "/readyz",
    response_model=Health,
    summary="Readiness: the warm-up worlds are loaded (503 until then).",
    responses={503: {"model": Health, "description": "Still loading worlds."}},
)
async def readyz(request: Request, manager: EpisodeManager = Depends(get_manager)) -> JSONResponse:
    ready = bool(getattr(request.app.state, "ready", False))
    body = _health(manager, "ready" if ready else "warming")
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ready else 503)
