"""``GET /``: where a newcomer lands. JSON for programs, a page of links for browsers."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from supportgym import __version__

router = APIRouter(tags=["health"])

LINKS: dict[str, tuple[str, str]] = {
    "debugger": ("/ui/", "web debugger: pick a task, play it, submit, see the grade"),
    "docs": ("/docs", "every route, with a form to try it (OpenAPI)"),
    "openapi": ("/openapi.json", "the OpenAPI schema"),
    "tools": ("/tools", "every tool's schema"),
    "episodes": ("/episodes", "live episodes; POST here to create one"),
    "health": ("/healthz", "liveness (and /readyz: worlds loaded)"),
    "mcp": ("/mcp", "the same episodes over MCP (streamable HTTP)"),
}
FIRST_STEP = 'POST /episodes with {"task_id": "refund_within_window-01"}'
GUIDE = "docs/http.md in the repository: one episode with curl, and every error code"


def index_body() -> dict[str, Any]:
    return {
        "name": "SupportGym",
        "version": __version__,
        "links": {name: href for name, (href, _) in LINKS.items()},
        "start": FIRST_STEP,
        "guide": GUIDE,
    }


def _html() -> str:
    items = "".join(
        f'<li><a href="{escape(href)}">{escape(href)}</a>: {escape(what)}</li>' for href, what in LINKS.values()
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>SupportGym</title></head><body>"
        f"<h1>SupportGym {escape(__version__)}</h1><ul>{items}</ul>"
        f"<p>Start: <code>{escape(FIRST_STEP)}</code>. Guide: {escape(GUIDE)}.</p></body></html>"
    )


@router.get("/", summary="Where to go: the debugger, the docs and the main routes.")
async def index(request: Request) -> Any:
    # Browsers ask for HTML first; curl and HTTP clients get JSON.
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(_html())
    return JSONResponse(index_body())
