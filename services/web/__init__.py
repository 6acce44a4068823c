"""The web debugger: server-rendered pages under ``/ui`` (Jinja2), a little vanilla JavaScript
for the manual-episode page, no build step. ``supportgym.services.web.router.router`` is the
FastAPI router the service mounts with ``app.include_router(router, prefix="/ui")``."""
