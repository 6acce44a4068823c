"""SkyRL's dataset layout for SupportGym tasks, without importing skyrl-gym (the exporter runs
anywhere): ``data_source``, ``prompt``, ``env_class``, ``reward_spec``, ``extra_info``."""

from __future__ import annotations

import json
from typing import Any

from supportgym.integrations.splits import USER_OPENING, system_prompt, task_ids
from supportgym.services.episode import every_tool_schema

ENV_CLASS = "supportgym"
TOOL_FORMAT = (
    "\n\nTools, as JSON schemas:\n<tools>\n{tools}\n</tools>\n\n"
    "Call one tool per message, written as\n"
    '<tool_call>{{"name": "<tool name>", "arguments": {{...}}}}</tool_call>'
)


def skyrl_system_prompt() -> str:
    """The LLM agent's system prompt plus the tool schemas and the call format (text actions)."""
    tools = "\n".join(json.dumps(s["function"]) for s in every_tool_schema())
    return system_prompt() + TOOL_FORMAT.format(tools=tools)


def dataset_rows(split: str = "train", *, seed: int = 0, n: int = 2) -> list[dict[str, Any]]:
    """SkyRL dataset rows for ``split``; the task arrives in ``init`` (appended to the prompt)."""
    prompt = [
        {"role": "system", "content": skyrl_system_prompt()},
        {"role": "user", "content": USER_OPENING},
    ]
    return [
        {
            "data_source": "supportgym",
            "prompt": [dict(m) for m in prompt],
            "env_class": ENV_CLASS,
            "reward_spec": {"method": "rule", "ground_truth": tid},
            "extra_info": {"task_id": tid, "split": split},
        }
        for tid in task_ids(split, seed=seed, n=n)
    ]
