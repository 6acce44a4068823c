"""The service app with the web debugger mounted at ``/ui``.

Once ``create_app`` mounts the router itself this returns it unchanged; until then the test
mounts it the way the service will: ``app.include_router(router, prefix="/ui")``.
"""

from __future__ import annotations

from typing import Any


def has_ui(app: Any) -> bool:
    from supportgym.services.web.router import router

    def walk(routes: Any) -> bool:
        for r in routes:
            if getattr(r, "path", "").startswith("/ui"):
                return True
            if getattr(r, "original_router", None) is router or getattr(r, "router", None) is router:
                return True
        return False

    return walk(app.routes)


def make_app(settings: Any = None) -> Any:
    from supportgym.services.app import create_app
    from supportgym.services.web.router import router

    app = create_app(settings)
    if not has_ui(app):
        app.include_router(router, prefix="/ui")
    return app
