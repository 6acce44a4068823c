"""FastAPI dependencies shared by the routes."""

from __future__ import annotations

from fastapi import Request

from supportgym.services.access import Caller, identify
from supportgym.services.guard import caller_of
from supportgym.services.manager import EpisodeManager


def get_manager(request: Request) -> EpisodeManager:
    """The app's :class:`EpisodeManager` (one per app, made in ``create_app``)."""
    return request.app.state.manager


def get_caller(request: Request) -> Caller:
    """Who sent this request (identified by the guard middleware; again here if it did not run)."""
    caller = caller_of(request.scope)
    if caller is not None:
        return caller
    return identify(
        request.headers.get("authorization"),
        request.headers.get("cookie"),
        request.app.state.admin_token,
        request.app.state.manager,
    )
