"""The HTTP service with the shipped task set: what ``supportgym serve`` runs.

:mod:`supportgym.services.app` builds the service around any task set; this module hands it
:mod:`supportgym.tasks` (episodes of task ids, and the task pages of the web debugger).
"""

from __future__ import annotations

from fastapi import FastAPI

import supportgym.tasks as shipped_tasks
from supportgym.services.app import create_app
from supportgym.services.settings import Settings


def create_service(settings: Settings | None = None) -> FastAPI:
    """The service app serving the shipped tasks (``settings`` default: from the environment)."""
    return create_app(settings, task_set=shipped_tasks)


def app_factory() -> FastAPI:
    """Entry for ``uvicorn --factory supportgym.tasks.service:app_factory`` (settings from env)."""
    return create_service()
