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

import json
from typing import Any

import skyrl_gym
from skyrl_gym.envs.base_text_env import (
    BaseTextEnv,
    BaseTextEnvStepOutput,
    ConversationType,
)
from supportgym.env.support_env import SupportEnv
from supportgym.integrations.splits import system_prompt, task_ids
from supportgym.integrations.text_actions import tool_call_from_text
from supportgym.services.episode import conversation_tool_schemas

ENV_CLASS = "supportgym"
TOOL_FORMAT = (
    "\n\nTools, as JSON schemas:\n<tools>\n{tools}\n</tools>\n\n"
    "Call one tool per message, written as\n"
    '<tool_call>{{"name": "<tool name>", "arguments": {{...}}}}</tool_call>'
)


class MissingTaskId(ValueError):
    """The dataset row given as ``extras`` names no task."""


def skyrl_system_prompt() -> str:
    """The LLM agent's system prompt plus the tool schemas and the call format (text actions)."""
    tools = "\n".join(json.dumps(s["function"]) for s in conversation_tool_schemas())
    return system_prompt() + TOOL_FORMAT.format(tools=tools)


def dataset_rows(split: str = "train") -> list[dict[str, Any]]:
    """SkyRL dataset rows for ``split``; the task arrives in ``init`` (appended to the prompt)."""
    prompt = [
        {"role": "system", "content": skyrl_system_prompt()},
        {"role": "user", "content": "A new request has come in. Handle it with the tools.\n\n"},
    ]
    return [
        {
            "data_source": "supportgym",
            "prompt": [dict(m) for m in prompt],
            "env_class": ENV_CLASS,
            "reward_spec": {"method": "rule", "ground_truth": tid},
            "extra_info": {"task_id": tid, "split": split},
        }
        for tid in task_ids(split)
    ]


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
        metadata = {"step": info["step"], "status": info["status"], "ok": info["ok"],
                    "tool": info["action"], "error_code": info["error_code"]}
        observations = [] if done else [{"role": "user", "content": f"<tool_response>\n{obs}\n</tool_response>"}]
        return BaseTextEnvStepOutput(observations=observations, reward=float(reward), done=done, metadata=metadata)

    def get_metrics(self) -> dict[str, Any]:
        grade = self.grade or {}
        return {"steps": self.turns, "submitted": float(self._status == "submitted"),
                "perfect": float(bool(grade.get("perfect"))), "reward": float(grade.get("reward", 0.0))}

    def close(self) -> None:
        self._env.close()


if ENV_CLASS not in skyrl_gym.registry:
    skyrl_gym.register(id=ENV_CLASS, entry_point="supportgym.integrations.skyrl:SupportGymTextEnv")
