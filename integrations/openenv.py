"""OpenEnv: SupportGym behind openenv-core's app factory, and the matching ``EnvClient``.

::

    uvicorn --factory supportgym.integrations.openenv:create_openenv_app --port 8010
    # or: supportgym serve-openenv --port 8010

An action is one tool call, ``SupportGymAction(name=..., arguments={...})``; an observation
carries the tool's ``result`` (or ``{"error": ...}``), and at the end the rubric ``grade``, the
reward and ``done``. Episodes live on OpenEnv's WebSocket ``/ws`` (one environment per
connection); ``reset`` takes ``task_id`` (or ``seed``/``scale`` for a bare world). The server
side runs :class:`~supportgym.env.support_env.SupportEnv` in process, one per session.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from openenv.core.client_types import StepResult
from openenv.core.env_client import EnvClient
from openenv.core.env_server.http_server import create_fastapi_app
from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import Action, Observation, State
from pydantic import Field

from supportgym.env.support_env import SupportEnv

# Observations go whole over the WebSocket (OpenEnv allows 100 MB messages): no truncation.
OBSERVATION_LIMIT = 4_000_000
DEFAULT_SESSIONS = 16


class SupportGymAction(Action):
    """One tool call."""

    name: str = Field(min_length=1, max_length=100, description="Tool name, e.g. get_order or submit_response.")
    arguments: dict[str, Any] = Field(default_factory=dict, description="The tool's arguments.")


class SupportGymObservation(Observation):
    """What the agent sees after ``reset`` (the task) or a ``step`` (the tool's result)."""

    result: dict[str, Any] = Field(default_factory=dict, description="Tool result, or {error: {code, message, field}}.")
    ok: bool = Field(True, description="Whether the call succeeded.")
    grade: dict[str, Any] | None = Field(None, description="The rubric grade, once the episode has ended.")
    task_id: str | None = None
    instruction: str = Field("", description="The task (after reset).")
    policy_summary: str = Field("", description="The store's policies in one line each (after reset).")
    max_steps: int = Field(0, description="The episode's step budget (after reset).")
    tools: list[dict[str, Any]] = Field(default_factory=list, description="OpenAI tool schemas (after reset).")
    step: int = 0
    status: str = Field("running", description="running, submitted, truncated_max_steps or truncated_invalid_calls.")


class SupportGymState(State):
    """``episode_id`` and ``step_count``, plus the task and the episode's status."""

    task_id: str | None = None
    status: str = "idle"


class SupportGymEnvironment(Environment[SupportGymAction, SupportGymObservation, SupportGymState]):
    """One in-process SupportGym episode per OpenEnv session."""

    # Each instance owns its own world copy: sessions share nothing.
    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self) -> None:
        super().__init__()
        self._env = SupportEnv(transport="inprocess", max_observation_chars=OBSERVATION_LIMIT)
        self._state = SupportGymState()

    def reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        task_id: str | None = None,
        scale: str | None = None,
        max_steps: int | None = None,
        **kwargs: Any,
    ) -> SupportGymObservation:
        """Start ``task_id`` (or, without one, a bare world of ``seed`` and ``scale``)."""
        options: dict[str, Any] = {}
        if task_id is not None:
            options["task_id"] = task_id
        else:
            options["seed"] = 7 if seed is None else seed
            if scale is not None:
                options["scale"] = scale
        if max_steps is not None:
            options["max_steps"] = max_steps
        _obs, info = self._env.reset(options=options)
        self._state = SupportGymState(
            episode_id=episode_id or info["episode_id"], step_count=0, task_id=info["task_id"], status="running"
        )
        return SupportGymObservation(
            task_id=info["task_id"],
            instruction=info["instruction"],
            tools=info["tools"],
            reward=0.0,
            policy_summary=info["policy_summary"],
            max_steps=info["max_steps"],
        )

    def step(self, action: SupportGymAction, timeout_s: float | None = None, **kwargs: Any) -> SupportGymObservation:
        obs, reward, terminated, truncated, info = self._env.step({"name": action.name, "arguments": action.arguments})
        self._state.step_count = info["step"]
        self._state.status = info["status"]
        return SupportGymObservation(
            result=json.loads(obs),
            ok=info["ok"],
            grade=info.get("grade"),
            task_id=info["task_id"],
            step=info["step"],
            status=info["status"],
            done=terminated or truncated,
            reward=reward,
        )

    @property
    def state(self) -> SupportGymState:
        return self._state

    def close(self) -> None:
        self._env.close()


def create_openenv_app(max_concurrent_envs: int = DEFAULT_SESSIONS) -> FastAPI:
    """The OpenEnv app: ``/ws`` sessions (at most ``max_concurrent_envs``), ``/schema``, ``/health``."""
    return create_fastapi_app(
        SupportGymEnvironment, SupportGymAction, SupportGymObservation, max_concurrent_envs=max_concurrent_envs
    )


class SupportGymEnvClient(EnvClient[SupportGymAction, SupportGymObservation, SupportGymState]):
    """OpenEnv's ``EnvClient`` for this app::

    async with SupportGymEnvClient(base_url="http://127.0.0.1:8010") as env:
        first = await env.reset(task_id="refund_within_window-01")
        result = await env.step(SupportGymAction(name="get_ticket", arguments={...}))
    """

    def _step_payload(self, action: SupportGymAction) -> dict[str, Any]:
        return {"name": action.name, "arguments": action.arguments}

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[SupportGymObservation]:
        fields = dict(payload.get("observation") or {})
        observation = SupportGymObservation(**fields, done=payload.get("done", False), reward=payload.get("reward"))
        return StepResult(observation=observation, reward=payload.get("reward"), done=payload.get("done", False))

    def _parse_state(self, payload: dict[str, Any]) -> SupportGymState:
        return SupportGymState(**payload)
