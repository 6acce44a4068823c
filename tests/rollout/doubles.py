"""Test doubles for the rollout tests. Module-level and picklable: Ray actors build them.

Nothing here is used outside the tests.
"""

from __future__ import annotations

import time
from typing import Any

from supportgym.env.errors import WorldFault
from supportgym.env.rollout import ReferencePolicy, ScriptedPolicy

# The tool name that makes WorldFaultTestDoubleEnv fail like a broken world.
FAULT_TRIGGER = "__test_double_world_fault__"

BARE_CALLS = [
    ("get_current_time", {}),
    ("search_policies", {"query": "refund"}),
    ("get_current_time", {}),
]


class WorldFaultTestDoubleEnv:
    """A real in-process SupportEnv, except that the action ``FAULT_TRIGGER`` raises
    :class:`supportgym.env.errors.WorldFault` (what a broken world database raises)."""

    def __init__(self, **kwargs: Any) -> None:
        from supportgym.env.support_env import SupportEnv

        self.inner = SupportEnv(**kwargs)

    @property
    def unwrapped(self) -> Any:
        return self.inner

    def reset(self, **kwargs: Any) -> Any:
        return self.inner.reset(**kwargs)

    def step(self, action: Any) -> Any:
        if isinstance(action, dict) and action.get("name") == FAULT_TRIGGER:
            raise WorldFault("test double: the world database went away")
        return self.inner.step(action)

    def close(self) -> None:
        self.inner.close()


def world_fault_env_factory() -> WorldFaultTestDoubleEnv:
    return WorldFaultTestDoubleEnv()


class FaultAfterPolicy:
    """Replays the reference, but its ``after``-th action is the fault trigger."""

    name = "fault-after"

    def __init__(self, task_id: str, after: int = 2) -> None:
        self.ref = ReferencePolicy(task_id)
        self.after = after

    def __call__(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Any:
        calls = sum(len(m.get("tool_calls") or []) for m in messages if m.get("role") == "assistant")
        if calls == self.after:
            return {"name": FAULT_TRIGGER, "arguments": {}}
        return self.ref(messages, tools)


class SleepyPolicy:
    """The reference solution, sleeping ``delay`` seconds before every turn."""

    name = "sleepy-reference"

    def __init__(self, task_id: str, delay: float) -> None:
        self.ref = ReferencePolicy(task_id)
        self.delay = delay

    def __call__(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Any:
        time.sleep(self.delay)
        return self.ref(messages, tools)


def faulty_every_fourth(task_id: str, index: int) -> Any:
    """Policy factory: rollouts 0, 4, 8, 12 trip the world fault; the rest play the reference."""
    return FaultAfterPolicy(task_id) if index % 4 == 0 else ReferencePolicy(task_id)


def slow_reference(task_id: str, index: int) -> Any:
    return SleepyPolicy(task_id, 0.25)


def hang_first(task_id: str, index: int) -> Any:
    """Rollout 0 stalls on its first turn (longer than the step deadline); the rest are fine."""
    return SleepyPolicy(task_id, 6.0) if index == 0 else ReferencePolicy(task_id)


def very_slow(task_id: str, index: int) -> Any:
    return SleepyPolicy(task_id, 1.0)


def bare_scripted(task_id: str, index: int) -> Any:
    return ScriptedPolicy(BARE_CALLS, reply=f"done {index % 2}")
