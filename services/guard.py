"""The service's front door, as ASGI middleware run before any route (HTTP, ``/ui``, ``/mcp``).

In order, for every HTTP request:

1. **Host**: the ``Host`` header must name an allowed host (loopback names by default), so a
   web page that rebinds its own DNS name to 127.0.0.1 is not served (400 ``bad_host``).
2. **Origin**: a browser request from another site is refused (403 ``bad_origin``); same-origin
   pages (the ``/ui`` debugger) and configured origins pass.
3. **Credentials**: the caller is identified (:mod:`supportgym.services.access`). With a service
   token set, a request with neither it nor a live episode's capability is refused (401). The
   author's view (``/ui`` pages) needs the service token in every mode; ``/ui?token=...`` sets it
   as a ``SameSite=Strict``, ``HttpOnly`` cookie.
4. **Content type**: a JSON route's ``POST`` must be ``application/json`` (415 otherwise), so a
   cross-site "simple request" (``text/plain`` form) cannot drive an episode.
5. **Body size**: bodies larger than the limit are refused (413), counted as they arrive, so a
   client cannot make the service buffer hundreds of megabytes.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from supportgym.services.access import (
    ADMIN_COOKIE,
    Caller,
    CapabilityTable,
    identify,
    same_secret,
)
from supportgym.services.settings import Settings

log = logging.getLogger("supportgym.service")

CALLER_SCOPE_KEY = "supportgym.caller"
UI_PREFIX = "/ui"
UI_PUBLIC_PREFIX = "/ui/static/"
MCP_PREFIX = "/mcp"
UPLOAD_PATH = "/ui/trajectories/upload"
JSON_TYPES = ("application/json",)


async def _answer(
    send: Send,
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    raw = json.dumps({"error": {"code": code, "message": message, "field": field}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):  # [::1]:8000
        return host_header.split("]", 1)[0] + "]"
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


class GuardMiddleware:
    """See the module notes. ``admin_token`` and ``table`` (the episode manager) decide callers."""

    def __init__(
        self, app: ASGIApp, *, settings: Settings, admin_token: Callable[[], str], table: CapabilityTable
    ) -> None:
        self.app = app
        self.settings = settings
        self.admin_token = admin_token
        self.table = table
        self.any_host = "*" in settings.allowed_hosts
        self.hosts = {h.lower() for h in settings.allowed_hosts}
        self.origins = {o.rstrip("/").lower() for o in settings.allowed_origins + settings.cors_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if not self.any_host and _host_name(host).lower() not in self.hosts:
            await _answer(
                send,
                400,
                "bad_host",
                f"Host {host[:100]!r} is not served here: allowed hosts are "
                f"{', '.join(sorted(self.hosts))} (--allowed-hosts / SUPPORTGYM_ALLOWED_HOSTS).",
                "host",
            )
            return
        origin = headers.get("origin")
        if origin is not None and not self._origin_ok(origin, host, scope):
            await _answer(
                send,
                403,
                "bad_origin",
                f"Requests from the web origin {origin[:100]!r} are not allowed (SUPPORTGYM_ALLOWED_ORIGINS).",
                "origin",
            )
            return
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        caller = identify(headers.get("authorization"), headers.get("cookie"), self.admin_token(), self.table)
        scope[CALLER_SCOPE_KEY] = caller
        if path.startswith(UI_PREFIX) and not path.startswith(UI_PUBLIC_PREFIX):
            if await self._ui_login(scope, send, headers):
                return
            if not caller.admin:
                await _answer(
                    send,
                    401,
                    "admin_only",
                    "The author's view (/ui) needs the service token: open "
                    "the URL `supportgym serve` printed (/ui?token=...).",
                    "authorization",
                    [(b"www-authenticate", b"Bearer")],
                )
                return
        elif self.settings.token and not caller.authenticated:
            await _answer(
                send,
                401,
                "unauthorized",
                "This service needs a token: send 'Authorization: Bearer <service token or episode_token>'.",
                "authorization",
                [(b"www-authenticate", b"Bearer")],
            )
            return
        if method in ("POST", "PUT", "PATCH") and not path.startswith((UI_PREFIX, MCP_PREFIX)):
            content_type = headers.get("content-type")
            if content_type is not None and not _is_json(content_type):
                await _answer(
                    send,
                    415,
                    "unsupported_media_type",
                    f"Send JSON bodies with 'Content-Type: application/json', not {content_type[:80]!r}.",
                    "content-type",
                )
                return
        limit = self.settings.max_upload_bytes if path == UPLOAD_PATH else self.settings.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _answer(send, 413, "body_too_large", f"The body is {declared} bytes; the limit is {limit}.", "body")
            return
        await self._bounded(scope, receive, send, limit)

    def _origin_ok(self, origin: str, host: str, scope: Scope) -> bool:
        origin = origin.rstrip("/").lower()
        own = f"{scope.get('scheme', 'http')}://{host}".lower()
        return origin == own or origin in self.origins

    async def _ui_login(self, scope: Scope, send: Send, headers: Headers) -> bool:
        """``/ui...?token=<service token>``: set the admin cookie and redirect without the token."""
        query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = (query.get("token") or [None])[0]
        if given is None or scope.get("method") != "GET":
            return False
        if not same_secret(given, self.admin_token()):
            await _answer(send, 401, "bad_token", "That is not this service's token.", "token")
            return True
        rest = urllib.parse.urlencode([(k, v) for k, vs in query.items() if k != "token" for v in vs], doseq=True)
        location = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
        cookie = f"{ADMIN_COOKIE}={given}; Path=/; HttpOnly; SameSite=Strict"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", location.encode()),
                    (b"set-cookie", cookie.encode()),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})
        return True

    async def _bounded(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Run the app, counting the body as it arrives. Past the limit the guard answers 413
        itself, tells the app the client left, and drops whatever the app still sends."""
        received = 0
        started = False
        refused = False

        async def counted_receive() -> Message:
            nonlocal received, refused, started
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not started:
                        started = True
                        await _answer(
                            send, 413, "body_too_large", f"The body is over the limit of {limit} bytes.", "body"
                        )
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except Exception:  # noqa: BLE001 - re-raised unless it is the app giving up on a body we cut off
            if not refused:
                raise
            log.debug("request refused at %d bytes; the app gave up reading", received)


def caller_of(scope: Mapping[str, Any]) -> Caller | None:
    """The caller the guard identified for this request (None when the guard did not run)."""
    caller = scope.get(CALLER_SCOPE_KEY)
    return caller if isinstance(caller, Caller) else None


def install_guard(app: Any, *, settings: Settings, admin_token: Callable[[], str], table: CapabilityTable) -> None:
    """Put :class:`GuardMiddleware` in front of ``app`` (a FastAPI app); answer bodies too deep
    for the JSON codec with 400; add CORS when origins are configured."""
    from fastapi.responses import JSONResponse

    async def too_deep(_request: Any, _exc: Exception) -> JSONResponse:
        # JSON codecs recurse: a body nested thousands deep is refused, not a crash.
        return JSONResponse(
            {
                "error": {
                    "code": "too_deep",
                    "message": "The request body is nested too deeply to read.",
                    "field": "body",
                }
            },
            status_code=400,
        )

    app.add_exception_handler(RecursionError, too_deep)
    app.add_middleware(GuardMiddleware, settings=settings, admin_token=admin_token, table=table)
    if settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["authorization", "content-type", "mcp-session-id", "mcp-protocol-version"],
        )
