"""The service app with the shipped tasks and the web debugger mounted at ``/ui``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from supportgym.tasks.service import create_service


def make_app(settings: Any = None) -> FastAPI:
    return create_service(settings)
