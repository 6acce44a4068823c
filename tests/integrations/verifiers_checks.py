"""Checks of the supportgym-verifiers plugin, run by tests/integrations/test_verifiers.py with the
``verifiers-venv`` part's Python (verifiers 0.4 pins ``mcp==2.0.0``, so it is not in .venv).
Prints one JSON object; the test asserts on it.

    python verifiers_checks.py pieces              taskset, toolset and scores, no LLM
    python verifiers_checks.py regrade TRACES MAX  SupportGym's own grade of vf-eval's traces
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass, field
from typing import Any

from supportgym_verifiers import SupportGymConfig, SupportGymTaskset
from supportgym_verifiers.episode_client import EpisodeState
from supportgym_verifiers.scores import category_metrics, gate_metrics, reward_of
from supportgym_verifiers.taskset import UnknownSplit
from supportgym_verifiers.toolset import SupportGymToolset, SupportGymToolsetConfig, UnknownTools, forward

from supportgym.services.episode import EpisodeConfig, every_tool_schema
from supportgym.services.launch import running_server
from supportgym.tasks import open_episode, prepare_task, run_solution
from supportgym.tasks.splits import load_split

# Tasks without a simulated customer: the reference replays the same on the service.
REFERENCE_TASKS = ("refund_within_window-01", "address_hold_note-01")


@dataclass
class TraceStandIn:
    """Test double of vf.Trace: the task hooks used here read and write only ``state``."""

    state: EpisodeState = field(default_factory=EpisodeState)


def scores_of(grade: dict[str, Any] | None) -> dict[str, Any]:
    return {"reward": reward_of(grade), "metrics": {**category_metrics(grade), **gate_metrics(grade)}}


async def through_the_toolset(base_url: str, task_id: str, calls: list[tuple[str, Any]]) -> dict[str, Any]:
    """``calls`` driven through the plugin: setup opens the episode, the toolset forwards each
    call, finalize reads the grade; the reward and metrics are the task's own methods'."""
    taskset = SupportGymTaskset(SupportGymConfig(task_ids=[task_id], task={"base_url": base_url}))
    (task,) = list(taskset)
    trace = TraceStandIn()
    await task.setup(trace, None)  # type: ignore[arg-type]
    errors = 0
    for name, arguments in calls:
        result = await forward(trace.state, name, arguments)
        errors += bool(result.is_error)
    stopped_after_end = await task.episode_over(trace)  # type: ignore[arg-type]
    await task.finalize(trace, None)  # type: ignore[arg-type]
    reward = await task.supportgym_reward(trace)  # type: ignore[arg-type]
    metrics = {**await task.categories(trace), **await task.gates(trace)}  # type: ignore[arg-type]
    return {"reward": reward, "metrics": metrics, "errors": errors, "stop_fired": stopped_after_end}


async def pieces() -> dict[str, Any]:
    out: dict[str, Any] = {}
    taskset = SupportGymTaskset(SupportGymConfig(split="dev"))
    tasks = list(taskset)
    out["dev_ids"] = [t.data.task_id for t in tasks]
    out["dev_expected"] = load_split("dev")
    out["prompts_are_instructions"] = all(t.data.prompt == prepare_task(t.data.task_id).instruction for t in tasks)
    out["keys_unique"] = len({t.key for t in tasks}) == len(tasks)
    out["heldout_count"] = len(list(SupportGymTaskset(SupportGymConfig(split="heldout-families"))))
    try:
        list(SupportGymTaskset(SupportGymConfig(split="nope")))
        out["bad_split"] = "accepted"
    except UnknownSplit as exc:
        out["bad_split"] = str(exc)
    toolset = SupportGymToolset(SupportGymToolsetConfig())
    out["tool_names"] = sorted(t.name for t in await toolset.list_tools())
    out["schema_names"] = sorted(s["function"]["name"] for s in every_tool_schema())
    small = SupportGymToolset(SupportGymToolsetConfig(tools=["get_ticket"], compact=True))
    out["small_tools"] = sorted(t.name for t in await small.list_tools())
    out["compact_has_pattern"] = any("pattern" in json.dumps(t.input_schema) for t in await small.list_tools())
    try:
        await SupportGymToolset(SupportGymToolsetConfig(tools=["get_ticket", "steal_data"])).list_tools()
        out["bad_tool"] = "accepted"
    except UnknownTools as exc:
        out["bad_tool"] = str(exc)
    out["reference"] = {}
    with running_server(warm="") as server:
        for task_id in REFERENCE_TASKS:
            episode, grade = run_solution(task_id)
            calls = [(e.name, e.arguments) for e in episode.trail]
            if episode.reply is not None and not any(n == "submit_response" for n, _ in calls):
                calls.append(("submit_response", {"response": episode.reply}))
            out["reference"][task_id] = {
                "in_process": scores_of(grade.model_dump(mode="json")),
                "plugin": await through_the_toolset(server.url, task_id, calls),
                "calls": len(calls),
            }
        # No reply, budget left: no grade, reward 0 (as the TRL adapter scores it).
        out["unsubmitted"] = await through_the_toolset(
            server.url, REFERENCE_TASKS[0], [("get_ticket", {"ticket_id": "TKT-0"})]
        )
    return out


def recorded_calls(trace: dict[str, Any]) -> list[tuple[str, Any]]:
    """The tool calls the model made, in order; arguments that are not a JSON object never
    reached a tool (the harness answers them itself), so they are not SupportGym steps."""
    calls = []
    for node in trace.get("nodes") or []:
        for call in (node.get("message") or {}).get("tool_calls") or []:
            try:
                arguments = json.loads(call.get("arguments") or "{}")
            except json.JSONDecodeError:
                continue
            if isinstance(arguments, dict):
                calls.append((call["name"], arguments))
    return calls


def regrade(path: str, max_steps: int | None) -> list[dict[str, Any]]:
    rows = []
    for line in open(path, encoding="utf-8"):
        record = json.loads(line)
        (trace,) = record["traces"]
        task_id = record["task"]["data"]["task_id"]
        episode = open_episode(EpisodeConfig(task_id=task_id, max_steps=max_steps))
        calls = recorded_calls(trace)
        for name, arguments in calls:
            if episode.grade is not None:
                break
            episode.step(name, arguments)
        rewards = trace.get("rewards") or {}
        rows.append(
            {
                "task_id": task_id,
                "ok": record.get("ok"),
                "errors": [e.get("message", "")[-300:] for e in trace.get("errors") or []],
                "calls": len(calls),
                "recorded": {
                    "reward": (rewards.get("supportgym_reward") or {}).get("score"),
                    "metrics": trace.get("metrics") or {},
                },
                "regraded": scores_of(episode.grade),
            }
        )
    return rows


if __name__ == "__main__":
    if sys.argv[1] == "pieces":
        print(json.dumps(asyncio.run(pieces())))
    else:
        print(json.dumps(regrade(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else None)))
