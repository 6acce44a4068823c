"""SkyRL: a ``BaseTextEnv`` around SupportGym, registered as ``supportgym`` with skyrl-gym.

::

    import skyrl_gym
    import supportgym.integrations.skyrl  # registers "supportgym"

    env = skyrl_gym.make("supportgym", env_config={}, extras=row)   # row: one dataset row
    prompt, meta = env.init(row["prompt"])
    out = env.step('<tool_call>{"name": "get_ticket", "arguments": {...}}</tool_call>')

Actions are the model's text: the tool call is read in the Hermes ``<tool_call>`` or OpenAI JSON
formats (:mod:`supportgym.integrations.text_actions`). Observations are user messages holding
``<tool_response>...</tool_response>``; the reward is the rubric grade's at the end.
:func:`dataset_rows` gives SkyRL's dataset layout (``data_source``, ``prompt``, ``env_class``,
``reward_spec``, ``extra_info``); ``supportgym export --format skyrl`` writes it.
"""

from __future__ import annotations

from typing import Any

import skyrl_gym
from skyrl_gym.envs.base_text_env import (
    BaseTextEnv,
    BaseTextEnvStepOutput,
    ConversationType,
)

from supportgym.env.support_env import SupportEnv
from supportgym.integrations.skyrl_data import (
    ENV_CLASS,
    dataset_rows,
    skyrl_system_prompt,
)
from supportgym.integrations.text_actions import tool_call_from_text

__all__ = ["ENV_CLASS", "MissingTaskId", "SupportGymTextEnv", "dataset_rows", "skyrl_system_prompt"]


class MissingTaskId(ValueError):
    """The dataset row given as ``extras`` names no task."""


class SupportGymTextEnv(BaseTextEnv):
    """One SupportGym episode; ``extras`` is a row of :func:`dataset_rows` (or ``{"task_id": ...}``).

    ``env_config`` keys: ``transport`` (default inprocess), ``base_url``, ``max_steps``.
    """

    def __init__(self, env_config: Any = None, extras: dict[str, Any] | None = None) -> None:
        super().__init__()
        config = dict(env_config or {})
        extras = dict(extras or {})
        task_id = (extras.get("extra_info") or {}).get("task_id") or extras.get("task_id")
        if not task_id:
            raise MissingTaskId("extras: no task id (expected extra_info.task_id or task_id)")
        self.task_id = str(task_id)
        self._env = SupportEnv(
            transport=config.get("transport", "inprocess"),
            base_url=config.get("base_url"),
            max_steps=config.get("max_steps"),
        )
        self.grade: dict[str, Any] | None = None
        self._status = "idle"

    def init(self, prompt: ConversationType) -> tuple[ConversationType, dict[str, Any]]:
        _obs, info = self._env.reset(options={"task_id": self.task_id})
        self.max_turns = int(info["max_steps"])
        self.turns = 0
        self._status = "running"
        messages = [dict(m) for m in prompt]
        if messages and messages[-1].get("role") == "user":
            messages[-1]["content"] = messages[-1]["content"] + info["instruction"]
        else:
            messages.append({"role": "user", "content": info["instruction"]})
        return messages, {"task_id": self.task_id, "max_steps": self.max_turns}

    def step(self, action: str) -> BaseTextEnvStepOutput:
        self.turns += 1
        obs, reward, terminated, truncated, info = self._env.step(tool_call_from_text(action))
        self._status = info["status"]
        done = terminated or truncated
        if done:
            self.grade = info.get("grade")
        metadata = {
            "step": info["step"],
            "status": info["status"],
            "ok": info["ok"],
            "tool": info["action"],
            "error_code": info["error_code"],
        }
        observations = [] if done else [{"role": "user", "content": f"<tool_response>\n{obs}\n</tool_response>"}]
        return BaseTextEnvStepOutput(observations=observations, reward=float(reward), done=done, metadata=metadata)

    def get_metrics(self) -> dict[str, Any]:
        grade = self.grade or {}
        return {
            "steps": self.turns,
            "submitted": float(self._status == "submitted"),
            "perfect": float(bool(grade.get("perfect"))),
            "reward": float(grade.get("reward", 0.0)),
        }

    def close(self) -> None:
        self._env.close()


if ENV_CLASS not in skyrl_gym.registry:
    skyrl_gym.register(id=ENV_CLASS, entry_point="supportgym.integrations.skyrl:SupportGymTextEnv")
