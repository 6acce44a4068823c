"""One SupportGym episode reached over HTTP, and the rollout state that names it.

The rollout's task hooks (``setup``, ``finalize``, the scoring methods) run in a verifiers
environment worker, while the tool server is a separate process launched by verifiers. Both
reach the same episode on a ``supportgym serve`` through :class:`EpisodeState`, which verifiers
syncs from the worker to the tool server on every tool call.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import Field
from verifiers.v1 import State

# Seconds for one call to the service: a step is milliseconds, creating a task's world ~1 s.
REQUEST_TIMEOUT_S = 60.0


class EpisodeState(State):
    """Where this rollout's episode lives and how to act in it."""

    base_url: str = ""
    episode_id: str = ""
    episode_token: str = Field("", description="The episode's capability (Bearer token).")
    done: bool = Field(False, description="The episode has ended (submitted, or out of steps).")
    grade: dict[str, Any] | None = Field(None, description="The final grade, read in finalize.")


class ServiceError(RuntimeError):
    """The service refused a protocol call (not a refused tool call, which is an observation)."""


def _check(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code >= 400:
        raise ServiceError(f"{what}: HTTP {response.status_code} {response.text[:500]}")
    return response.json() if response.content else {}


def _auth(state: EpisodeState) -> dict[str, str]:
    return {"authorization": f"Bearer {state.episode_token}"}


async def create_episode(
    base_url: str, task_id: str, max_steps: int | None = None, service_token: str | None = None
) -> dict[str, Any]:
    """``POST /episodes``: the new episode's id, token, instruction and tools."""
    headers = {"authorization": f"Bearer {service_token}"} if service_token else {}
    body: dict[str, Any] = {"task_id": task_id}
    if max_steps is not None:
        body["max_steps"] = max_steps
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S) as client:
        response = await client.post(f"{base_url}/episodes", json=body, headers=headers)
    return _check(response, f"create episode of {task_id}")


async def step(state: EpisodeState, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """``POST /episodes/{id}/step``: one tool call; a refused call answers ``ok: false``."""
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S) as client:
        response = await client.post(
            f"{state.base_url}/episodes/{state.episode_id}/step",
            json={"name": name, "arguments": arguments},
            headers=_auth(state),
        )
    if response.status_code == 409:  # the episode has ended (submitted, or out of steps): tell the model
        return {"observation": response.json(), "ok": False, "done": True}
    return _check(response, f"step {name}")


async def read_grade(state: EpisodeState) -> dict[str, Any] | None:
    """``GET /episodes/{id}/grade``: the grade, or None while the episode is still running."""
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S) as client:
        response = await client.get(f"{state.base_url}/episodes/{state.episode_id}/grade", headers=_auth(state))
    body = _check(response, "read grade")
    return body.get("grade") if body.get("done") else None


async def delete_episode(state: EpisodeState) -> None:
    """``DELETE /episodes/{id}``: free the episode's world (the grade was read before)."""
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S) as client:
        response = await client.delete(f"{state.base_url}/episodes/{state.episode_id}", headers=_auth(state))
    if response.status_code not in (204, 404):
        raise ServiceError(f"delete episode: HTTP {response.status_code} {response.text[:500]}")
