"""The SupportGym tools served over MCP (official ``mcp`` SDK, low-level ``Server``).

Nothing here defines a tool: ``tools/list`` is generated from the tool registry (plus the
``submit_response`` action) and ``tools/call`` goes through :meth:`Episode.step`, so an MCP call
means exactly what the same call means in process or over the HTTP service.

One MCP connection is one episode:

* stdio: the process serves one episode, created when it starts (:func:`run_stdio`);
* streamable HTTP: every MCP session (opened by the ``initialize`` handshake) gets its own episode,
  configured from the query string of the MCP URL or the ``X-SupportGym-Task`` header
  (:func:`create_mcp_asgi_app`). Sessions need the handshake, so this endpoint does not answer the
  stateless ``server/discover`` probe: the SDK client's default ``mode="auto"`` then falls back to
  ``initialize`` by itself.

The episode id is in the ``initialize`` result's instructions, in the ``supportgym://episode``
resource, in every tool result's ``_meta`` and in the ``submit_response`` result.

Import this module only when serving: it loads the SDK. ``supportgym.services.mcp_server`` is the
light public entry point.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.datastructures import Headers, QueryParams
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from supportgym.services.access import Caller
from supportgym.services.admission import admit
from supportgym.services.episode import (
    MESSAGE_SCHEMA,
    SUBMIT_SCHEMA,
    SUBMIT_TOOL,
    Episode,
    EpisodeClosed,
    EpisodeConfig,
    StepResult,
)
from supportgym.services.guard import caller_of
from supportgym.services.redact import agent_grade
from supportgym.services.tools import REGISTRY, WorldFault
from supportgym.services.upstream import UpstreamUnavailable

logger = logging.getLogger(__name__)

SERVER_NAME = "supportgym"
TASK_HEADER = "X-SupportGym-Task"
EPISODE_RESOURCE_URI = "supportgym://episode"
# Separate because hashing a large world takes seconds.
WORLD_HASH_RESOURCE_URI = "supportgym://episode/world_hash"
META_PREFIX = "supportgym/"
# EpisodeConfig fields that may be set from the MCP URL's query string.
CONFIG_QUERY_KEYS = ("task_id", "seed", "scale", "max_steps", "max_invalid_calls", "alpha", "beta")
# Where the ASGI layer leaves a session's slot for the MCP handlers (per HTTP request scope).
_SLOT_SCOPE_KEY = "supportgym.mcp.slot"
_SESSION_HEADER = "mcp-session-id"
_VERSION_HEADER = "mcp-protocol-version"

# JSON-RPC error codes.
_INVALID_REQUEST = -32600
_INVALID_PARAMS = -32602
_METHOD_NOT_FOUND = -32601

SUBMIT_ANNOTATIONS = {
    "readOnlyHint": False,
    "destructiveHint": False,
    "idempotentHint": False,
    "openWorldHint": False,
}


# --- tools -----------------------------------------------------------------------------------


# Tools a task must enable before an episode offers them.
OPT_IN = frozenset(name for name, spec in REGISTRY.items() if spec.opt_in)


def mcp_tools() -> list[types.Tool]:
    """Every registry tool plus ``submit_response``, as MCP tools, in registry order."""
    tools = [
        types.Tool(
            name=t.name,
            description=t.description,
            input_schema=t.parameters_schema(),
            annotations=types.ToolAnnotations.model_validate(t.annotations.to_mcp()),
        )
        for t in REGISTRY.values()
    ]
    submit = SUBMIT_SCHEMA["function"]
    tools.append(
        types.Tool(
            name=SUBMIT_TOOL,
            description=submit["description"],
            input_schema=submit["parameters"],
            annotations=types.ToolAnnotations.model_validate(SUBMIT_ANNOTATIONS),
        )
    )
    return tools


def _message_tool() -> types.Tool:

    fn = MESSAGE_SCHEMA["function"]
    return types.Tool(
        name=fn["name"],
        description=fn["description"],
        input_schema=fn["parameters"],
        annotations=types.ToolAnnotations.model_validate(SUBMIT_ANNOTATIONS),
    )


def _error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def _tool_result(payload: dict[str, Any], *, is_error: bool, meta: dict[str, Any] | None) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=json.dumps(payload, ensure_ascii=False))],
        structured_content=payload,
        is_error=is_error,
        _meta=meta,
    )


def step_to_call_result(episode: Episode, name: str, result: StepResult) -> types.CallToolResult:
    """One step as an MCP tool result: the observation as JSON text and structured content.

    A refused or invalid call is ``isError`` with the observation ``{"error": {"code", "message",
    "field"}}``. ``submit_response`` answers with the episode id, status and grade. Every result
    carries ``_meta["supportgym/..."]``: episode id, step, status, done (and the grade once ended).
    """
    payload = dict(result.observation)
    if name == SUBMIT_TOOL and result.ok:
        payload.update(
            episode_id=episode.id,
            task_id=episode.task_id,
            status=result.status.value,
            steps=result.step,
            grade=agent_grade(result.grade),
        )
    meta: dict[str, Any] = {
        f"{META_PREFIX}episode_id": episode.id,
        f"{META_PREFIX}step": result.step,
        f"{META_PREFIX}status": result.status.value,
        f"{META_PREFIX}done": result.done,
    }
    if result.done:
        meta[f"{META_PREFIX}grade"] = agent_grade(result.grade)
    return _tool_result(payload, is_error=not result.ok, meta=meta)


def episode_info(episode: Episode) -> dict[str, Any]:
    """What the ``supportgym://episode`` resource returns."""
    return {
        **episode.describe(),
        "instruction": episode.instruction,
        "reply": episode.reply,
        "grade": agent_grade(episode.grade),
    }


def instructions_for(episode: Episode) -> str:
    """The ``initialize`` instructions of a session: the episode id and the task."""
    lines = [
        f"SupportGym episode {episode.id}"
        + (f" (task {episode.task_id})." if episode.task_id else " (bare world, no task)."),
        "You are a customer-support agent. Act only through the tools. Tool refusals come back as "
        'errors {"error": {"code", "message", "field"}} that you can read and act on.',
        f"Finish with {SUBMIT_TOOL}(response=...): it ends the episode and returns the grade.",
        f"Episode details: resource {EPISODE_RESOURCE_URI}.",
    ]
    if episode.instruction:
        lines += ["", "Task:", episode.instruction]
    return "\n".join(lines)


# --- the server ------------------------------------------------------------------------------

EpisodeResolver = Callable[[ServerRequestContext[Any, Any]], "Episode | None"]
StepHook = Callable[[Episode, str, StepResult], None]


def _no_episode() -> MCPError:
    return MCPError(
        _INVALID_REQUEST,
        "No SupportGym episode is bound to this connection: open an MCP session with the "
        "initialize handshake (protocol 2025-11-25 or older) on the SupportGym MCP URL.",
        _error_body("no_episode", "no episode for this connection")["error"],
    )


def build_server(
    resolve: EpisodeResolver,
    *,
    on_step: StepHook | None = None,
    instructions: str | None = None,
) -> Server[Any]:
    """A low-level MCP server whose tools are the registry's, run on ``resolve(ctx)``'s episode."""
    tools = mcp_tools()

    def _episode(ctx: ServerRequestContext[Any, Any]) -> Episode:
        episode = resolve(ctx)
        if episode is None:
            raise _no_episode()
        return episode

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        episode = resolve(ctx)
        # The episode's own tools: an opt-in tool (advance_time) only where its task enables it.
        offered = (
            {s["function"]["name"] for s in episode.tool_schemas()}
            if episode is not None
            else {t.name for t in tools if t.name not in OPT_IN}
        )
        listed = [t.model_copy(deep=True) for t in tools if t.name in offered]
        if episode is not None and getattr(episode, "conversational", False):
            # A conversational episode also offers message_customer, just before submit.
            listed.insert(len(listed) - 1, _message_tool())
        return types.ListToolsResult(tools=listed)

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        episode = _episode(ctx)
        name = params.name
        try:
            result = await anyio.to_thread.run_sync(episode.step, name, params.arguments)
        except EpisodeClosed as exc:
            code = "unknown_episode" if episode.closed else "episode_ended"
            meta = {f"{META_PREFIX}episode_id": episode.id, f"{META_PREFIX}status": episode.status.value}
            return _tool_result(_error_body(code, str(exc)), is_error=True, meta=meta)
        except WorldFault as exc:
            logger.exception("world fault in episode %s", episode.id)
            return _tool_result(_error_body("world_fault", str(exc)), is_error=True, meta=None)
        except UpstreamUnavailable as exc:
            return _tool_result(_error_body(exc.code, str(exc)), is_error=True, meta=None)
        if on_step is not None:
            on_step(episode, name, result)
        return step_to_call_result(episode, name, result)

    async def list_resources(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    name="episode",
                    uri=EPISODE_RESOURCE_URI,
                    description="This session's episode: id, task, status, steps, instruction, grade.",
                    mime_type="application/json",
                ),
                types.Resource(
                    name="world_hash",
                    uri=WORLD_HASH_RESOURCE_URI,
                    description="Canonical hash of the episode's world as it is now (slow on large worlds).",
                    mime_type="text/plain",
                ),
            ]
        )

    async def read_resource(
        ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        if uri not in (EPISODE_RESOURCE_URI, WORLD_HASH_RESOURCE_URI):
            raise MCPError(
                _INVALID_PARAMS,
                f"Unknown resource {uri}; there are {EPISODE_RESOURCE_URI} and {WORLD_HASH_RESOURCE_URI}.",
            )
        episode = _episode(ctx)
        if uri == WORLD_HASH_RESOURCE_URI:
            try:
                text = await anyio.to_thread.run_sync(episode.world_hash)
            except EpisodeClosed as exc:
                raise MCPError(_INVALID_REQUEST, str(exc)) from exc
            mime = "text/plain"
        else:
            text = json.dumps(episode_info(episode), ensure_ascii=False)
            mime = "application/json"
        return types.ReadResourceResult(contents=[types.TextResourceContents(uri=uri, mime_type=mime, text=text)])

    return Server(
        SERVER_NAME,
        version=_package_version(),
        title="SupportGym",
        instructions=instructions,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
    )


def _package_version() -> str:
    try:
        return version("supportgym")
    except PackageNotFoundError:  # run from a source tree: the version is only informative
        return "0"


# --- episodes: creation and registration -----------------------------------------------------


class _HasCreate(Protocol):
    def create(self, config: EpisodeConfig) -> Episode: ...


class _HasAdd(Protocol):
    def add(self, episode: Episode) -> Any: ...


def make_episode_factory(
    manager_or_factory: _HasCreate | Callable[[EpisodeConfig], Episode] | None = None,
    on_episode_created: _HasAdd | Callable[[Episode], Any] | None = None,
) -> Callable[[EpisodeConfig], Episode]:
    """One function ``config -> Episode`` from the ways a caller can say how episodes are made.

    ``manager_or_factory``: an object with ``create(config)`` (the service's ``EpisodeManager``,
    which also registers the episode), a callable ``config -> Episode``, or None (``Episode``).
    ``on_episode_created``: called with every new episode, a callable or an object with ``add``.
    """
    if manager_or_factory is None:
        create: Callable[[EpisodeConfig], Episode] = Episode
    elif hasattr(manager_or_factory, "create"):
        create = manager_or_factory.create
    elif callable(manager_or_factory):
        create = manager_or_factory
    else:
        raise TypeError("manager_or_factory must have create(config), be callable, or be None")
    if on_episode_created is None:
        notify: Callable[[Episode], Any] | None = None
    elif hasattr(on_episode_created, "add"):
        notify = on_episode_created.add
    elif callable(on_episode_created):
        notify = on_episode_created
    else:
        raise TypeError("on_episode_created must be callable or have add(episode)")

    def factory(config: EpisodeConfig) -> Episode:
        episode = create(config)
        if notify is not None:
            notify(episode)
        return episode

    return factory


def config_from_request(
    query: Mapping[str, str], headers: Mapping[str, str], default: EpisodeConfig | None = None
) -> EpisodeConfig:
    """The episode an MCP URL asks for: ``?task_id=&seed=&scale=&max_steps=...`` or the header.

    ``X-SupportGym-Task: <task id>`` sets the task; a ``task_id`` in the query wins over it.
    Unknown query keys are ignored (clients add their own); bad values raise ValidationError.
    """
    values: dict[str, Any] = default.model_dump(exclude_unset=True) if default is not None else {}
    task = headers.get(TASK_HEADER.lower()) or headers.get(TASK_HEADER)
    if task:
        values["task_id"] = task.strip()
    for key in CONFIG_QUERY_KEYS:
        if key in query and query[key] != "":
            values[key] = query[key]
    if "task" in query and "task_id" not in query and query["task"] != "":
        values["task_id"] = query["task"]
    return EpisodeConfig.model_validate(values)


def _creation_error(exc: Exception) -> MCPError:
    body = getattr(exc, "body", None)
    if callable(body):  # the service's ServiceError: keep its code and message
        data = body()["error"]
        return MCPError(_INVALID_PARAMS, data["message"], data)
    where = "task_id" if isinstance(exc, (LookupError, FileNotFoundError)) else None
    message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    code = "unknown_task" if where else "bad_episode"
    return MCPError(_INVALID_PARAMS, message, _error_body(code, message, where)["error"])


# --- streamable HTTP -------------------------------------------------------------------------


@dataclass
class _Slot:
    """One MCP session's episode (set on initialize) and when the session was last used."""

    config: EpisodeConfig
    episode: Episode | None = None
    last_seen: float = field(default_factory=time.monotonic)


async def _reject(send: Send, status: int, message: str, data: dict[str, Any] | None = None) -> None:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": None, "error": {"code": _INVALID_REQUEST, "message": message}}
    if data is not None:
        body["error"]["data"] = data
    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": raw})


class SupportGymMCP:
    """The MCP endpoint of a service: one episode per MCP session over streamable HTTP.

    ``asgi`` is the endpoint (any path); ``run()`` is the async context manager that must be
    entered for the endpoint's lifetime (the app from :func:`create_mcp_asgi_app` does it in its
    own lifespan; a FastAPI app that mounts it must do it in its lifespan, because mounted apps'
    lifespans do not run).
    """

    def __init__(
        self,
        manager_or_factory: Any = None,
        *,
        on_episode_created: Any = None,
        default_config: EpisodeConfig | None = None,
        json_response: bool = True,
        session_idle_timeout: float | None = 30 * 60,
        max_sessions: int | None = 1000,
        transport_security: TransportSecuritySettings | None = None,
        settings: Any = None,
    ) -> None:
        self.create_episode = make_episode_factory(manager_or_factory, on_episode_created)
        # A session's end frees its episode (the manager's delete), so closed sessions hold nothing.
        self._release: Callable[[str], Any] | None = getattr(manager_or_factory, "delete", None)
        self.settings = settings
        self.default_config = default_config
        self.session_idle_timeout = session_idle_timeout
        self._sessions: dict[str, _Slot] = {}
        self._lock = threading.Lock()
        self.server = build_server(self._resolve)
        # Sessions need the handshake: answering the stateless discover probe would let a client
        # speak the per-request era, which has no session to hold an episode.
        self.server.add_request_handler("server/discover", types.RequestParams, self._no_discover)
        self.server.middleware.append(self._initialize_middleware)
        # The session cap is enforced here (see asgi), not by the SDK: its own max_sessions
        # option only exists from mcp 2.3, and the supportgym[mcp] extra allows 2.0 onwards.
        self.max_sessions = max_sessions
        self.session_manager = StreamableHTTPSessionManager(
            app=self.server,
            json_response=json_response,
            security_settings=transport_security,
            session_idle_timeout=session_idle_timeout,
        )
        self._running = False

    # -- lifecycle

    @contextlib.asynccontextmanager
    async def run(self) -> AsyncIterator[None]:
        async with self.session_manager.run():
            self._running = True
            try:
                yield
            finally:
                self._running = False
                with self._lock:
                    self._sessions.clear()

    def episodes(self) -> dict[str, Episode]:
        """Live MCP sessions' episodes by MCP session id (for diagnostics and tests)."""
        with self._lock:
            return {sid: s.episode for sid, s in self._sessions.items() if s.episode is not None}

    # -- MCP side

    @staticmethod
    def _resolve(ctx: ServerRequestContext[Any, Any]) -> Episode | None:
        request = ctx.request
        scope = getattr(request, "scope", None)
        slot = scope.get(_SLOT_SCOPE_KEY) if isinstance(scope, dict) else None
        return slot.episode if slot is not None else None

    @staticmethod
    async def _no_discover(ctx: ServerRequestContext[Any, Any], params: types.RequestParams) -> Any:
        raise MCPError(
            _METHOD_NOT_FOUND,
            "SupportGym MCP sessions use the initialize handshake (one session = one episode).",
        )

    async def _initialize_middleware(self, ctx: ServerRequestContext[Any, Any], call_next: Any) -> Any:
        if ctx.method != "initialize":
            return await call_next(ctx)
        scope = getattr(ctx.request, "scope", None)
        slot = scope.get(_SLOT_SCOPE_KEY) if isinstance(scope, dict) else None
        result = await call_next(ctx)
        if slot is None:
            raise _no_episode()
        if slot.episode is None:
            try:
                slot.episode = await anyio.to_thread.run_sync(self.create_episode, slot.config)
            except Exception as exc:  # noqa: BLE001 - every failure is the handshake's answer
                logger.info("MCP session refused: %s", exc)
                raise _creation_error(exc) from exc
        if isinstance(result, dict):
            result["instructions"] = instructions_for(slot.episode)
        return result

    # -- ASGI side

    def _free(self, slot: _Slot | None) -> None:
        """Delete ``slot``'s episode from the manager (its session ended)."""
        if slot is None or slot.episode is None or self._release is None or slot.episode.closed:
            return
        try:
            self._release(slot.episode.id)
        except Exception as exc:  # noqa: BLE001 - already reaped or deleted: nothing to free
            logger.debug("MCP session end: episode %s already gone (%s)", slot.episode.id, exc)

    def _prune(self) -> None:
        if self.session_idle_timeout is None:
            return
        cutoff = time.monotonic() - self.session_idle_timeout
        with self._lock:
            stale = [
                sid
                for sid, s in self._sessions.items()
                if s.last_seen < cutoff or (s.episode is not None and s.episode.closed)
            ]
            freed = [self._sessions.pop(sid) for sid in stale]
        for slot in freed:
            self._free(slot)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI endpoint (the instance is the app: Starlette routes pass it raw requests)."""
        await self.asgi(scope, receive, send)

    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if not self._running:
            await _reject(send, 503, "The SupportGym MCP endpoint is not running (its run() context was not entered).")
            return
        self._prune()
        headers = Headers(scope=scope)
        session_id = headers.get(_SESSION_HEADER)
        if session_id is not None:
            with self._lock:
                slot = self._sessions.get(session_id)
            if slot is not None:
                slot.last_seen = time.monotonic()
                scope[_SLOT_SCOPE_KEY] = slot
            await self.session_manager.handle_request(scope, receive, send)
            if scope["method"] == "DELETE":
                with self._lock:
                    ended = self._sessions.pop(session_id, None)
                await anyio.to_thread.run_sync(self._free, ended)
            return
        version = headers.get(_VERSION_HEADER)
        if scope["method"] != "POST" or (version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS):
            await self.session_manager.handle_request(scope, receive, send)
            return
        # A request that may open a session: its episode is configured now, created on initialize.
        try:
            config = config_from_request(QueryParams(scope.get("query_string", b"")), headers, self.default_config)
        except ValidationError as exc:
            problems = [
                {"field": ".".join(str(p) for p in e["loc"]) or None, "problem": e["msg"]}
                for e in exc.errors(include_url=False, include_context=False)
            ]
            first = problems[0] if problems else {"field": None, "problem": "invalid"}
            message = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5]) or "invalid episode"
            await _reject(
                send,
                400,
                f"Bad episode configuration: {message}",
                _error_body("invalid_arguments", message, first["field"])["error"],
            )
            return
        with self._lock:
            full = self.max_sessions is not None and len(self._sessions) >= self.max_sessions
        if full:
            message = (
                f"Too many MCP sessions ({self.max_sessions} open): end one with DELETE "
                "or wait for idle sessions to expire."
            )
            await _reject(send, 503, message, _error_body("service_busy", message, None)["error"])
            return
        slot = _Slot(config=config)
        scope[_SLOT_SCOPE_KEY] = slot
        # An initialize request gets its episode before the SDK sees it: when the episode cannot
        # be made, the answer is an HTTP error and no session (id) is ever issued.
        body, receive = await _buffered(receive)
        if _is_initialize(body):
            try:
                self._admit(config, scope)
                slot.episode = await anyio.to_thread.run_sync(self.create_episode, config)
            except Exception as exc:  # noqa: BLE001 - every failure is the handshake's answer
                logger.info("MCP session refused: %s", exc)
                err = _creation_error(exc)
                await _reject(
                    send,
                    400,
                    f"No session: {err.error.message}",
                    err.error.data if isinstance(err.error.data, dict) else None,
                )
                return
        registered = False

        async def send_and_register(message: Message) -> None:
            nonlocal registered
            # Register at the response's start, before the client can read it and send more.
            if message["type"] == "http.response.start" and message["status"] < 400:
                for key, value in message.get("headers", []):
                    if key.decode("latin-1").lower() == _SESSION_HEADER:
                        registered = True
                        with self._lock:
                            self._sessions[value.decode("latin-1")] = slot
            await send(message)

        try:
            await self.session_manager.handle_request(scope, receive, send_and_register)
        finally:
            if not registered:  # the SDK refused the handshake: the episode has no owner
                await anyio.to_thread.run_sync(self._free, slot)

    def _admit(self, config: EpisodeConfig, scope: Scope) -> None:
        """The service's creation rules (allow-lists, judge), as for ``POST /episodes``."""
        if self.settings is None:
            return

        admit(config, self.settings, caller_of(scope) or Caller())


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body (the guard middleware bounds it) and a ``receive`` replaying it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _is_initialize(body: bytes) -> bool:
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return isinstance(message, dict) and message.get("method") == "initialize"


def create_mcp_asgi_app(
    manager_or_factory: Any = None,
    *,
    on_episode_created: Any = None,
    default_config: EpisodeConfig | None = None,
    json_response: bool = True,
    session_idle_timeout: float | None = 30 * 60,
    max_sessions: int | None = 1000,
    transport_security: TransportSecuritySettings | None = None,
    settings: Any = None,
) -> Starlette:
    """A Starlette app serving SupportGym over MCP streamable HTTP, at every path.

    Mount it (``app.mount("/mcp", mcp_app)``) or run it on its own (``uvicorn``). Its lifespan
    runs the MCP session manager; when mounted, enter ``mcp_app.state.mcp.run()`` in the parent
    app's lifespan instead (mounted apps' lifespans do not run). ``mcp_app.state.mcp`` is the
    :class:`SupportGymMCP`.
    """
    endpoint = SupportGymMCP(
        manager_or_factory,
        on_episode_created=on_episode_created,
        default_config=default_config,
        json_response=json_response,
        session_idle_timeout=session_idle_timeout,
        max_sessions=max_sessions,
        transport_security=transport_security,
        settings=settings,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with endpoint.run():
            yield

    app = Starlette(routes=[Route("/{path:path}", endpoint=endpoint)], lifespan=lifespan)
    app.state.mcp = endpoint
    return app


# --- stdio -----------------------------------------------------------------------------------


def _report(episode: Episode, name: str, result: StepResult) -> None:
    """stdio: say on stderr how the episode ended (stdout is the protocol)."""
    if not result.done:
        return
    print(
        f"[supportgym mcp] episode {episode.id} ended: {result.status.value} after {result.step} steps",
        file=sys.stderr,
    )
    if result.grade is None:
        print("[supportgym mcp] no grade (bare world, no task)", file=sys.stderr)
    else:
        print("[supportgym mcp] grade: " + json.dumps(result.grade, indent=2), file=sys.stderr)
    sys.stderr.flush()


async def run_stdio(
    config: EpisodeConfig, *, episode_factory: Callable[[EpisodeConfig], Episode] | None = None
) -> Episode:
    """Serve one episode over stdio until the client disconnects; returns the episode."""
    from mcp.server.stdio import stdio_server

    create = episode_factory or Episode
    async with stdio_server() as (read_stream, write_stream):
        episode = await anyio.to_thread.run_sync(create, config)
        print(f"[supportgym mcp] serving episode {episode.id} over stdio", file=sys.stderr)
        server = build_server(lambda _ctx: episode, on_step=_report, instructions=instructions_for(episode))
        try:
            await server.run(read_stream, write_stream, server.create_initialization_options())
        finally:
            if episode.grade is None and episode.status.value == "running":
                print(
                    f"[supportgym mcp] episode {episode.id} left unfinished after {episode.steps} steps",
                    file=sys.stderr,
                )
    return episode
