"""Every request and response body of the HTTP service: the one source of truth for the API.

The routes take and return these models, so the OpenAPI schema (``/openapi.json``) documents
exactly what goes over the wire. An episode's creation body is
:class:`supportgym.services.episode.EpisodeConfig` itself, so the service and the in-process
environment accept the same parameters.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from supportgym.services.episode import EpisodeConfig, EpisodeStatus

__all__ = [
    "ChangesResponse",
    "EpisodeConfig",
    "EpisodeCreated",
    "EpisodeList",
    "EpisodeSummary",
    "ErrorBody",
    "ErrorResponse",
    "GradeResponse",
    "Health",
    "StepRequest",
    "StepResponse",
    "SubmitRequest",
    "ToolInfo",
    "ToolList",
    "TrailResponse",
    "WorldHashResponse",
]


class ErrorBody(BaseModel):
    code: str = Field(description="Machine-readable error code, e.g. unknown_episode.")
    message: str = Field(description="What went wrong, for a human or a model.")
    field: str | None = Field(None, description="The request field at fault, when one is.")


class ErrorResponse(BaseModel):
    """Every protocol error (4xx) and service fault (5xx) has this body."""

    error: ErrorBody


class Health(BaseModel):
    status: str = Field(description="'ok' when alive; 'ready' or 'warming' for /readyz.")
    episodes: int = Field(description="Live episodes.")
    max_episodes: int
    worlds_cached: list[str] = Field(description="World snapshots in memory, as seed/scale.")
    rss_bytes: int | None = Field(None, description="Resident memory of the service process.")
    version: str


class ToolInfo(BaseModel):
    name: str
    group: str
    read_only: bool
    destructive: bool
    idempotent: bool
    annotations: dict[str, bool] = Field(description="MCP tool annotations.")
    schema_: dict[str, Any] = Field(alias="schema", description="OpenAI function-calling schema.")

    model_config = ConfigDict(populate_by_name=True)


class ToolList(BaseModel):
    tools: list[ToolInfo]


class EpisodeCreated(BaseModel):
    episode_id: str
    episode_token: str = Field(
        description="This episode's capability: send 'Authorization: Bearer <episode_token>' on its "
        "routes. Given only here; whoever holds it can act in the episode."
    )
    task_id: str | None
    instruction: str = Field(description="The task prompt for the agent ('' for a bare world).")
    policy_summary: str = Field(description="One line per policy article of this world.")
    tools: list[dict[str, Any]] = Field(description="Tool schemas (OpenAI format), submit included.")
    max_steps: int
    max_invalid_calls: int
    status: EpisodeStatus


class EpisodeSummary(BaseModel):
    episode_id: str
    task_id: str | None
    status: EpisodeStatus
    steps: int
    max_steps: int
    sim_time: str | None
    idle_s: float = Field(description="Seconds since the last action (or creation).")


class EpisodeList(BaseModel):
    episodes: list[EpisodeSummary]
    count: int
    max_episodes: int


class StepRequest(BaseModel):
    """One tool call. Unknown tools and bad arguments are answered as error observations."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="Tool name, or 'submit_response' to finish.")
    arguments: Any = Field(
        None,
        description="Arguments as an object or as JSON text (as models emit them). Anything "
        "else is answered as an invalid_arguments observation.",
        json_schema_extra={"anyOf": [{"type": "object"}, {"type": "string"}, {"type": "null"}]},
    )


class SubmitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    response: Any = Field(description="The final reply to the customer or requester.")


class StepResponse(BaseModel):
    """What the world answered. ``ok=false`` with ``observation.error`` is a refused call."""

    step: int = Field(description="Steps taken so far, this one included.")
    observation: dict[str, Any] = Field(description="The tool's result, or {'error': {...}}.")
    ok: bool
    status: EpisodeStatus
    done: bool
    grade: dict[str, Any] | None = Field(None, description="The rubric grade, once done (tasks).")


class TrailResponse(BaseModel):
    episode_id: str
    status: EpisodeStatus
    trail: list[dict[str, Any]] = Field(description="One entry per step (supportgym.trail.TrailEntry).")
    reply: str | None


class ChangesResponse(BaseModel):
    episode_id: str
    net_changes: list[dict[str, Any]] = Field(
        description="Net row changes since the episode started, one per (table, key)."
    )
    tables: dict[str, dict[str, int]] = Field(description="Per table: rows inserted, updated and deleted (net).")


class WorldHashResponse(BaseModel):
    episode_id: str
    world_hash: str = Field(description="SHA-256 of the world's canonical content now.")


class GradeResponse(BaseModel):
    episode_id: str
    status: EpisodeStatus
    done: bool
    reward: float | None
    grade: dict[str, Any] | None
