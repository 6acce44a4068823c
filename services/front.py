"""The front of ``supportgym serve --workers N``: one address, N worker processes behind it.

Every episode lives in one worker; its id carries that worker's number (the first two hex digits
after ``ep-``, see ``services.manager.episode_id_worker``). The front routes by it:

* a path with an episode id in it (``/episodes/{id}/...``, ``/ui/episodes/{id}/grade``,
  ``/ui/play/{id}/save``) goes to the worker that owns the episode;
* ``POST /episodes`` goes to the next worker in turn, and on to the next one when that worker is
  full (429) or down;
* a request holding an episode capability goes to the worker that issued it (the front reads
  capabilities from create answers), so using one on another worker's episode is refused as
  "unknown episode", as in one process;
* ``GET /episodes``, ``/healthz`` and ``/readyz`` ask every worker and add the answers up;
* everything else (``/``, ``/docs``, ``/tools``, the ``/ui`` pages, ``/mcp`` sessions) goes to
  worker 0, so state kept between such requests (MCP sessions, uploaded trajectories) stays in
  one place.

The front checks nothing itself: request bytes go through unchanged (Host, Origin, credentials,
body) and each worker runs the same guard as a single-process service, so tokens, Host/Origin
checks and error codes are the same. Bodies are passed as bytes, never decoded; the upstream
connections are kept open between requests. A worker that is down answers 503
``worker_unavailable`` for its episodes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from supportgym.services.access import CAPABILITY_PREFIX, bearer
from supportgym.services.guard import _answer
from supportgym.services.manager import episode_id_worker
from supportgym.services.routes.health import rss_bytes
from supportgym.services.settings import Settings
from supportgym.services.wire import UpstreamError, UpstreamResponse, WorkerClient
from supportgym.services.workers import WorkerSet

log = logging.getLogger("supportgym.service")

# Headers about one connection, not the request: never passed on (RFC 9110 7.6.1).
HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"transfer-encoding",
    b"te",
    b"trailer",
    b"upgrade",
    b"content-length",
}
EPISODES_PATHS = ("/episodes", "/episodes/")
HEALTH_PATHS = ("/healthz", "/readyz")
# Longest wait for a worker's answer: above the step deadline (25 s) and the clients' 60 s.
UPSTREAM_TIMEOUT_S = 120.0
# Episode capabilities remembered (which worker issued each); the oldest are forgotten beyond.
CAPABILITIES_KEPT = 65_536


class WorkerUnavailable(Exception):
    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


def _passed_headers(raw: Any, *, keep_length: bool = False) -> list[tuple[bytes, bytes]]:
    """Headers to pass on; ``content-length`` only when the body is passed on as it came."""
    return [(k, v) for k, v in raw if k.lower() not in HOP_BY_HOP or (keep_length and k.lower() == b"content-length")]


class Front:
    """The ASGI app of the front. ``workers`` are started by the caller; the front waits for
    them at start-up and stops them at shut-down (uvicorn's lifespan)."""

    def __init__(self, workers: WorkerSet, settings: Settings) -> None:
        self.workers = workers
        self.body_limit = max(settings.max_body_bytes, settings.max_upload_bytes)
        self.clients = [WorkerClient(w.socket_path, UPSTREAM_TIMEOUT_S) for w in workers.workers]
        self._turn = itertools.cycle(range(len(workers)))
        # capability -> the worker that issued it, read from create answers. A request holding
        # one goes to its worker, whose guard knows it: a capability used on another worker's
        # episode is then "unknown episode", as in one process, not "no token".
        self._issuer: OrderedDict[str, int] = OrderedDict()

    # --- ASGI ---------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        # websockets: the service has none

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.workers.wait_listening()
                except (RuntimeError, TimeoutError) as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for client in self.clients:
                    await client.aclose()
                await asyncio.to_thread(self.workers.stop)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await self._read_body(receive)
        if body is None:
            await _answer(
                send, 413, "body_too_large", f"The body is over the limit of {self.body_limit} bytes.", "body"
            )
            return
        path: str = scope["path"]
        method: str = scope["method"]
        owner = self._owner(path)
        issuer = self._capability_issuer(scope)
        try:
            if owner is not None:
                await self._relay(owner if issuer is None else issuer, scope, body, send)
            elif method == "POST" and path in EPISODES_PATHS:
                await self._create(scope, body, send)
            elif method == "GET" and path in EPISODES_PATHS and issuer is not None:
                await self._relay(issuer, scope, body, send)
            elif method == "GET" and path in EPISODES_PATHS:
                await self._gathered(scope, body, send, _merge_lists)
            elif method == "GET" and path in HEALTH_PATHS:
                await self._gathered(scope, body, send, _merge_health)
            else:
                await self._relay(0, scope, body, send)
        except WorkerUnavailable as exc:
            await _answer(send, 503, "worker_unavailable", str(exc), "episode_id" if owner is not None else None)

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole request body; None past the largest limit a worker would accept (each worker
        applies its own, smaller per-route limit to what is passed on)."""
        parts: list[bytes] = []
        size = 0
        while True:
            message: Message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.body_limit:
                return None
            parts.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(parts)

    # --- routing ------------------------------------------------------------------------
    def _owner(self, path: str) -> int | None:
        """The worker named by an episode id in ``path``; ids naming no worker of this front go
        to worker 0, which answers 404 ``unknown_episode`` like a single process would."""
        for segment in path.split("/"):
            index = episode_id_worker(segment)
            if index is not None:
                return index if index < len(self.workers) else 0
        return None

    def _capability_issuer(self, scope: Scope) -> int | None:
        """The worker that issued the request's episode capability (None: no capability, or
        one this front never saw)."""
        for name, value in scope["headers"]:
            if name == b"authorization":
                token = bearer(value.decode("latin-1"))
                if token is not None and token.startswith(CAPABILITY_PREFIX):
                    return self._issuer.get(token)
                return None
        return None

    def _remember_capability(self, content: bytes, index: int) -> None:
        token = json.loads(content).get("episode_token")
        if isinstance(token, str):
            self._issuer[token] = index
            while len(self._issuer) > CAPABILITIES_KEPT:
                self._issuer.popitem(last=False)

    @staticmethod
    def _head(scope: Scope) -> bytes:
        """The request line and headers as the client sent them (hop-by-hop ones left out)."""
        query = scope.get("query_string", b"")
        target = (scope.get("raw_path") or scope["path"].encode()) + (b"?" + query if query else b"")
        lines = [b"%s %s HTTP/1.1" % (scope["method"].encode(), target)]
        lines += [b"%s: %s" % pair for pair in _passed_headers(scope["headers"])]
        return b"\r\n".join(lines)

    def _down(self, index: int, exc: Exception) -> WorkerUnavailable:
        worker = self.workers.workers[index]
        code = worker.exit_code()
        why = f"exited with code {code}" if code is not None else f"did not answer ({type(exc).__name__})"
        log.warning("worker %d %s", index, why)
        return WorkerUnavailable(index, f"Worker {index}, which holds this request's episodes, {why}; they are lost.")

    async def _relay(self, index: int, scope: Scope, body: bytes, send: Send) -> None:
        """Pass the request to worker ``index`` and stream its answer back as it comes."""
        response = await self._ask(index, scope, body)
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": _passed_headers(response.headers, keep_length=True),
            }
        )
        try:
            async for chunk in response:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except UpstreamError:  # the worker died mid-answer: end what was started
            log.warning("worker %d stopped while answering %s", index, scope["path"])
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _ask(self, index: int, scope: Scope, body: bytes) -> UpstreamResponse:
        try:
            return await self.clients[index].request(self._head(scope), body)
        except UpstreamError as exc:
            raise self._down(index, exc) from exc

    async def _ask_whole(self, index: int, scope: Scope, body: bytes) -> tuple[UpstreamResponse, bytes]:
        response = await self._ask(index, scope, body)
        try:
            return response, await response.read()
        except UpstreamError as exc:
            raise self._down(index, exc) from exc

    async def _create(self, scope: Scope, body: bytes, send: Send) -> None:
        """Create on the next worker in turn; a full (429) or unreachable worker passes the
        request on to the next. The last answer is the client's when every worker refuses."""
        first = next(self._turn)
        answer: tuple[UpstreamResponse, bytes] | None = None
        unavailable: WorkerUnavailable | None = None
        index = first
        for step in range(len(self.workers)):
            index = (first + step) % len(self.workers)
            try:
                answer = await self._ask_whole(index, scope, body)
            except WorkerUnavailable as exc:
                unavailable = exc
                continue
            if answer[0].status != 429:
                break
        if answer is None:
            assert unavailable is not None
            raise WorkerUnavailable(unavailable.index, "Every worker is down: no episode can be created.")
        response, content = answer
        if response.status == 201:
            self._remember_capability(content, index)
        await _send_response(send, response.status, _passed_headers(response.headers), content)

    async def _gathered(
        self,
        scope: Scope,
        body: bytes,
        send: Send,
        merge: Callable[[list[dict[str, Any]]], dict[str, Any]],
    ) -> None:
        """Ask every worker and merge the JSON answers; when every worker refuses (the guard's
        4xx), the refusal is passed on as it is. ``/readyz`` is 503 until every worker is ready."""
        asked: list[Awaitable[tuple[UpstreamResponse, bytes]]] = [
            self._ask_whole(i, scope, body) for i in range(len(self.workers))
        ]
        answers = await asyncio.gather(*asked)
        # A 4xx from some workers only is an episode capability the others do not know (every
        # worker has the same service token and guard): the caller sees the workers that know it.
        served = [a for a in answers if not 400 <= a[0].status < 500]
        if not served:
            refusal, content = answers[0]
            await _send_response(send, refusal.status, _passed_headers(refusal.headers), content)
            return
        status = max(a[0].status for a in served)
        merged = json.dumps(merge([json.loads(content) for _, content in served])).encode()
        await _send_response(send, status, [(b"content-type", b"application/json")], merged)


async def _send_response(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _merge_lists(parts: list[dict[str, Any]]) -> dict[str, Any]:
    episodes = [e for p in parts for e in p["episodes"]]
    return {"episodes": episodes, "count": len(episodes), "max_episodes": sum(p["max_episodes"] for p in parts)}


def _merge_health(parts: list[dict[str, Any]]) -> dict[str, Any]:
    statuses = {p["status"] for p in parts}
    rss = [p["rss_bytes"] for p in parts if p.get("rss_bytes") is not None]
    front = rss_bytes()
    return {
        "status": "warming" if "warming" in statuses else parts[0]["status"],
        "episodes": sum(p["episodes"] for p in parts),
        "max_episodes": sum(p["max_episodes"] for p in parts),
        "worlds_cached": sorted({w for p in parts for w in p["worlds_cached"]}),
        "rss_bytes": sum(rss) + (front or 0) if rss else None,
        "version": parts[0]["version"],
    }
