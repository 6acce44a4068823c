"""FastAPI dependencies shared by the routes."""

from __future__ import annotations

from fastapi import Request

from supportgym.services.manager import EpisodeManager


def get_manager(request: Request) -> EpisodeManager:
    """The app's :class:`EpisodeManager` (one per app, made in ``create_app``)."""
    return request.app.state.manager
