"""Episodes: create, act (any tool, or one route per tool), submit, read, delete.

A tool's refusal or a bad tool argument is the world answering the agent: a 200 with
``ok=false`` and ``observation.error``. Protocol errors are 4xx with ``{"error": {...}}``:
404 unknown episode, 409 episode already ended, 400 a body that is not JSON, 422 a body of the
wrong shape, 429 too many live episodes.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from supportgym.services.access import Caller
from supportgym.services.admission import admit
from supportgym.services.api_models import (
    ChangesResponse,
    EpisodeConfig,
    EpisodeCreated,
    EpisodeList,
    EpisodeSummary,
    ErrorResponse,
    GradeResponse,
    StepRequest,
    StepResponse,
    SubmitRequest,
    TrailResponse,
    WorldHashResponse,
)
from supportgym.services.deps import get_caller, get_manager
from supportgym.services.episode import (
    SUBMIT_SCHEMA,
    SUBMIT_TOOL,
    Episode,
    EpisodeClosed,
    EpisodeStatus,
)
from supportgym.services.manager import EpisodeManager, ServiceError
from supportgym.services.redact import agent_grade
from supportgym.services.tools import REGISTRY, WorldFault
from supportgym.services.upstream import UpstreamUnavailable

router = APIRouter(prefix="/episodes", tags=["episodes"])

# OpenAPI response objects, in the shape FastAPI's ``responses=`` takes.
_E: dict[str, Any] = {"model": ErrorResponse}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {**_E, "description": "No such live episode."}}
STEP_ERRORS: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    409: {**_E, "description": "The episode has already ended."},
    500: {**_E, "description": "The world failed (not the agent's fault)."},
}


def _summary(e: Episode) -> EpisodeSummary:
    import time

    d = e.describe()
    return EpisodeSummary(**d, idle_s=round(time.monotonic() - e.last_active, 3))


def _step(manager: EpisodeManager, caller: Caller, episode_id: str, name: Any, arguments: Any) -> dict[str, Any]:
    episode = manager.get(episode_id, caller)
    try:
        body = episode.step(name, arguments).to_dict()
        if not caller.admin:
            body["grade"] = agent_grade(body["grade"])
        return body
    except EpisodeClosed as exc:
        if episode.closed:
            raise ServiceError(404, "unknown_episode", str(exc), "episode_id") from exc
        raise ServiceError(409, "episode_ended", str(exc), "episode_id") from exc
    except WorldFault as exc:
        raise ServiceError(500, "world_fault", str(exc)) from exc
    except UpstreamUnavailable as exc:
        raise ServiceError(503, exc.code, str(exc)) from exc


async def _run_step(
    manager: EpisodeManager, caller: Caller, episode_id: str, name: Any, arguments: Any
) -> JSONResponse:
    body = await run_in_threadpool(_step, manager, caller, episode_id, name, arguments)
    return JSONResponse(body)


@router.post(
    "",
    status_code=201,
    response_model=EpisodeCreated,
    summary="Create an episode from a task id, or a bare world from seed and scale.",
    responses={
        201: {"description": "The episode, its capability and its tools."},
        400: {**_E, "description": "judge=true without a judge, or a budget over the limit."},
        403: {**_E, "description": "A seed or scale only the service token may ask for."},
        422: {**_E, "description": "Bad parameters or unknown task."},
        429: {**_E, "description": "Too many live episodes (see Retry-After)."},
    },
)
async def create_episode(
    config: EpisodeConfig,
    request: Request,
    manager: EpisodeManager = Depends(get_manager),
    caller: Caller = Depends(get_caller),
) -> JSONResponse:
    admit(config, request.app.state.settings, caller)

    def make() -> dict[str, Any]:
        e = manager.create(config)
        return EpisodeCreated(
            episode_id=e.id,
            episode_token=manager.capability(e.id) or "",
            task_id=e.task_id,
            instruction=e.instruction,
            policy_summary=e.policy_summary(),
            tools=e.tool_schemas(),
            max_steps=e.max_steps,
            max_invalid_calls=e.config.max_invalid_calls,
            status=e.status,
        ).model_dump(mode="json")

    return JSONResponse(await run_in_threadpool(make), status_code=201)


@router.get("", response_model=EpisodeList, summary="Live episodes.")
async def list_episodes(
    manager: EpisodeManager = Depends(get_manager), caller: Caller = Depends(get_caller)
) -> EpisodeList:
    episodes = [_summary(e) for e in manager.list(caller)]
    return EpisodeList(episodes=episodes, count=len(episodes), max_episodes=manager.max_episodes)


@router.get("/{episode_id}", response_model=EpisodeSummary, responses=NOT_FOUND, summary="One episode.")
async def get_episode(
    episode_id: str, manager: EpisodeManager = Depends(get_manager), caller: Caller = Depends(get_caller)
) -> EpisodeSummary:
    return _summary(manager.get(episode_id, caller))


@router.post(
    "/{episode_id}/step",
    response_model=StepResponse,
    responses=STEP_ERRORS,
    summary="Call one tool (or submit_response). Tool errors are 200 observations.",
)
async def step(
    episode_id: str,
    action: StepRequest,
    manager: EpisodeManager = Depends(get_manager),
    caller: Caller = Depends(get_caller),
) -> JSONResponse:
    return await _run_step(manager, caller, episode_id, action.name, action.arguments)


@router.post(
    "/{episode_id}/submit",
    response_model=StepResponse,
    responses=STEP_ERRORS,
    summary="Finish the episode with the final reply (same as the submit_response tool).",
)
async def submit(
    episode_id: str,
    body: SubmitRequest,
    manager: EpisodeManager = Depends(get_manager),
    caller: Caller = Depends(get_caller),
) -> JSONResponse:
    return await _run_step(manager, caller, episode_id, SUBMIT_TOOL, {"response": body.response})


@router.get("/{episode_id}/trail", response_model=TrailResponse, responses=NOT_FOUND, summary="Every step so far.")
async def trail(
    episode_id: str, manager: EpisodeManager = Depends(get_manager), caller: Caller = Depends(get_caller)
) -> TrailResponse:
    e = manager.get(episode_id, caller)
    return TrailResponse(
        episode_id=e.id,
        status=e.status,
        trail=[t.model_dump(mode="json") for t in list(e.trail)],
        reply=e.reply,
    )


@router.get(
    "/{episode_id}/changes",
    response_model=ChangesResponse,
    responses=NOT_FOUND,
    summary="Net summary of what the episode changed in its world.",
)
async def changes(
    episode_id: str, manager: EpisodeManager = Depends(get_manager), caller: Caller = Depends(get_caller)
) -> ChangesResponse:
    e = manager.get(episode_id, caller)
    net = e.net_changes()
    counts: dict[str, Counter[str]] = {}
    for ch in net:
        counts.setdefault(ch["table"], Counter())[ch["op"]] += 1
    tables = {t: {"insert": c["insert"], "update": c["update"], "delete": c["delete"]} for t, c in counts.items()}
    return ChangesResponse(episode_id=e.id, net_changes=net, tables=tables)


@router.get(
    "/{episode_id}/world_hash",
    response_model=WorldHashResponse,
    responses=NOT_FOUND,
    summary="Hash of the episode's whole world now (to compare runs).",
)
async def world_hash(
    episode_id: str, manager: EpisodeManager = Depends(get_manager), caller: Caller = Depends(get_caller)
) -> WorldHashResponse:
    e = manager.get(episode_id, caller)
    try:
        digest = await run_in_threadpool(e.world_hash)
    except EpisodeClosed as exc:
        raise ServiceError(404, "unknown_episode", str(exc), "episode_id") from exc
    return WorldHashResponse(episode_id=e.id, world_hash=digest)


@router.get(
    "/{episode_id}/grade",
    response_model=GradeResponse,
    responses=NOT_FOUND,
    summary="The rubric grade (null until the episode ends, or for a bare world).",
)
async def grade(
    episode_id: str, manager: EpisodeManager = Depends(get_manager), caller: Caller = Depends(get_caller)
) -> GradeResponse:
    e = manager.get(episode_id, caller)
    g = e.grade if caller.admin else agent_grade(e.grade)
    return GradeResponse(
        episode_id=e.id,
        status=e.status,
        done=e.status != EpisodeStatus.running,
        reward=None if g is None else g.get("reward"),
        grade=g,
    )


@router.delete("/{episode_id}", status_code=204, responses=NOT_FOUND, summary="Delete an episode and free its world.")
async def delete_episode(
    episode_id: str, manager: EpisodeManager = Depends(get_manager), caller: Caller = Depends(get_caller)
) -> Response:
    await run_in_threadpool(manager.delete, episode_id, caller)
    return Response(status_code=204)


# --- one route per tool -------------------------------------------------------------------


def _tool_endpoint(tool_name: str) -> Any:
    async def call(
        episode_id: str,
        request: Request,
        manager: EpisodeManager = Depends(get_manager),
        caller: Caller = Depends(get_caller),
    ) -> JSONResponse:
        raw = await request.body()
        if raw.strip():
            try:
                arguments: Any = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise ServiceError(400, "invalid_json", f"request body is not JSON: {exc}", "body") from exc
            except RecursionError as exc:
                raise ServiceError(400, "too_deep", "The request body is nested too deeply to read.", "body") from exc
        else:
            arguments = {}
        # Anything that is JSON goes to the tool: wrong shapes or values are the agent's
        # mistakes, answered as 200 error observations like any other tool call.
        return await _run_step(manager, caller, episode_id, tool_name, arguments)

    call.__name__ = f"tool_{tool_name}"
    return call


def _add_tool_routes() -> None:

    specs = [(t.name, t.description, t.parameters_schema(), t.group) for t in REGISTRY.values()]
    specs.append(
        (SUBMIT_TOOL, SUBMIT_SCHEMA["function"]["description"], SUBMIT_SCHEMA["function"]["parameters"], "episode")
    )
    for name, description, schema, group in specs:
        router.add_api_route(
            f"/{{episode_id}}/tools/{name}",
            _tool_endpoint(name),
            methods=["POST"],
            response_model=StepResponse,
            responses={**STEP_ERRORS, 400: {**_E, "description": "The body is not JSON."}},
            summary=f"Call {name} ({group})",
            description=description,
            operation_id=f"tool_{name}",
            tags=["tools"],
            openapi_extra={
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": schema}},
                }
            },
        )


_add_tool_routes()


def _add_links() -> None:
    """OpenAPI links from the creation answer to every per-episode operation, so tools that
    follow links (schemathesis' stateful tests) reach routes that need a live episode."""
    from fastapi.routing import APIRoute

    routes = [r for r in router.routes if isinstance(r, APIRoute)]
    create = next(r for r in routes if r.name == "create_episode")
    links = {
        r.unique_id: {"operationId": r.unique_id, "parameters": {"episode_id": "$response.body#/episode_id"}}
        for r in routes
        if "{episode_id}" in r.path
    }
    create.responses.setdefault(201, {})["links"] = links


_add_links()
