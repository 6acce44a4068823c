"""TRL: an environment class for ``GRPOTrainer(environment_factory=...)`` and its datasets.

::

    from trl import GRPOConfig, GRPOTrainer
    from supportgym.integrations.trl import SupportGymToolEnv, build_dataset

    trainer = GRPOTrainer(model=..., train_dataset=build_dataset("train"),
                          environment_factory=SupportGymToolEnv, args=GRPOConfig(...))

TRL makes every public method of the class a tool (schema from type hints and the ``Args:``
docstring), calls ``reset(**row)`` before each rollout and appends what it returns to the prompt,
and scores the rollout with ``get_reward()``. Here there is one method per SupportGym tool,
generated from the tool's one definition (:mod:`supportgym.integrations.tool_methods`), so the
class serves exactly the tools the environment does; a call goes through
:class:`~supportgym.env.support_env.SupportEnv` (in process by default, or any transport).

This module imports no part of TRL: the class is plain Python, and :func:`build_dataset` loads
``datasets`` (a dependency of TRL) only when called.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from supportgym.env.errors import EpisodeEnded
from supportgym.env.support_env import SupportEnv
from supportgym.integrations.splits import chat_rows
from supportgym.integrations.tool_methods import tool_method
from supportgym.services.episode import SUBMIT_TOOL, every_tool_schema

if TYPE_CHECKING:
    from datasets import Dataset

# Returned by a tool method called when no episode is running (before reset, after submit).
NOT_RUNNING = "episode_not_running"


class ToolEnvBase:
    """One SupportGym episode per rollout: ``reset``, ``get_reward`` and the dispatch of tool
    calls. Its subclasses add one method per tool (:class:`SupportGymToolEnv`: every tool;
    :func:`tool_env_class`: a chosen subset).

    Args:
        transport: ``"inprocess"`` (default), ``"http"`` (with ``base_url``) or ``"docker"``.
        base_url: A ``supportgym serve`` URL for the http transport.
        max_steps: Step budget override (default: the task's).
        **env_kwargs: Passed on to :class:`~supportgym.env.support_env.SupportEnv`.
    """

    def __init__(
        self,
        *,
        transport: str = "inprocess",
        base_url: str | None = None,
        max_steps: int | None = None,
        **env_kwargs: Any,
    ) -> None:
        self._env = SupportEnv(transport=transport, base_url=base_url, max_steps=max_steps, **env_kwargs)
        self._running = False
        self._grade: dict[str, Any] | None = None
        self._reward = 0.0

    def reset(self, task_id: str, **row: Any) -> str:
        """Start the episode of ``task_id`` (the other dataset columns, such as ``prompt``, are
        ignored) and return the task's opening: the ticket or request to handle."""
        _obs, info = self._env.reset(options={"task_id": task_id})
        self._running = True
        self._grade = None
        self._reward = 0.0
        return str(info["instruction"])

    def get_reward(self) -> float:
        """The rubric grade's reward of the finished episode. An episode the model left without
        calling ``submit_response`` (and whose step budget was not spent) has no reply to grade
        and scores 0.0."""
        return self._reward

    @property
    def grade(self) -> dict[str, Any] | None:
        """The full grade (every criterion's verdict) once the episode has ended, else None."""
        return self._grade

    def _call(self, name: str, arguments: dict[str, Any]) -> str:
        if not self._running:
            return json.dumps(
                {
                    "error": {
                        "code": NOT_RUNNING,
                        "field": None,
                        "message": "the episode has ended (or never started): no more tool calls",
                    }
                }
            )
        try:
            obs, reward, terminated, truncated, info = self._env.step({"name": name, "arguments": arguments})
        except EpisodeEnded as exc:  # the server ended it (idle reaping): nothing more to do
            self._running = False
            return json.dumps({"error": {"code": NOT_RUNNING, "field": None, "message": str(exc)}})
        if terminated or truncated:
            self._running = False
            self._grade = info.get("grade")
            self._reward = float(reward)
        return obs

    def __del__(self) -> None:
        env = getattr(self, "_env", None)
        if env is not None:
            # At interpreter exit the episode's world may already be gone: nothing left to free.
            with contextlib.suppress(Exception):
                env.close()


def _dispatch(env: ToolEnvBase, name: str, arguments: dict[str, Any]) -> str:
    return env._call(name, arguments)


# Every tool, submit_response, message_customer and the opt-in ones (advance_time) included: one
# class serves every task (a task answers a tool it does not offer with an error observation,
# as the environment does).
TOOL_NAMES: tuple[str, ...] = tuple(s["function"]["name"] for s in every_tool_schema())


class UnknownTools(ValueError):
    """Tool names asked of :func:`tool_env_class` that SupportGym does not have."""


def tool_env_class(tools: Sequence[str] | None = None, name: str = "SupportGymToolEnv") -> type[ToolEnvBase]:
    """A :class:`ToolEnvBase` subclass with one method per tool in ``tools`` (default: every
    tool). A subset keeps the prompt short for small-context models (36 tool schemas take about
    8k tokens); ``submit_response`` is always included, since only it ends an episode."""
    chosen = list(TOOL_NAMES) if tools is None else list(dict.fromkeys([*tools, SUBMIT_TOOL]))
    unknown = [t for t in chosen if t not in TOOL_NAMES]
    if unknown:
        raise UnknownTools(f"tools: unknown {', '.join(unknown)}; allowed: {', '.join(TOOL_NAMES)}")
    schemas = {s["function"]["name"]: s for s in every_tool_schema()}
    methods = {t: tool_method(schemas[t], _dispatch) for t in chosen}
    return type(name, (ToolEnvBase,), {**methods, "__doc__": ToolEnvBase.__doc__, "__module__": __name__})


SupportGymToolEnv = tool_env_class()


def dataset_rows(split: str = "train", *, seed: int = 0, n: int = 2) -> list[dict[str, Any]]:
    """Rows for ``split`` (dev, test, heldout-families, all, or train: generated with ``seed``,
    ``n`` per family): ``prompt`` (chat messages) and ``task_id``."""
    return chat_rows(split, seed=seed, n=n)


def build_dataset(split: str = "train") -> Dataset:
    """A ``datasets.Dataset`` of :func:`dataset_rows` for ``GRPOTrainer(train_dataset=...)``."""
    from datasets import (
        Dataset,  # deferred: datasets (pyarrow) is heavy and comes with supportgym[trl]
    )

    return Dataset.from_list(dataset_rows(split))
