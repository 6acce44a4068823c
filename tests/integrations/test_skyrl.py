"""The SkyRL text environment, made through skyrl-gym's own ``make``: tool calls read from text
in the Hermes and OpenAI formats, the reference replay earns the reference reward."""

from __future__ import annotations

import json

import pytest

skyrl_gym = pytest.importorskip("skyrl_gym", reason="skyrl-gym is not installed: pip install 'supportgym[skyrl]'")

from supportgym.integrations.skyrl import ENV_CLASS, MissingTaskId, dataset_rows
from supportgym.integrations.splits import task_ids
from supportgym.integrations.text_actions import tool_call_from_text
from supportgym.tasks import prepare_task, run_solution
from supportgym.tasks.template import render


def _hermes(name: str, args: dict) -> str:
    return f"Let me check.\n<tool_call>\n{json.dumps({'name': name, 'arguments': args})}\n</tool_call>"


def _openai(name: str, args: dict) -> str:
    return json.dumps(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_0", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
            ],
        }
    )


@pytest.mark.parametrize(
    "text, name",
    [
        ('<tool_call>{"name": "get_order", "arguments": {"order_id": "ORD-1"}}</tool_call>', "get_order"),
        ('thinking...\n<tool_call>{"name": "get_order", "arguments": {"order_id": "ORD-1"}}', "get_order"),
        ('{"tool_calls": [{"type": "function", "function": {"name": "get_order", "arguments": "{}"}}]}', "get_order"),
        ('Here:\n```json\n{"name": "list_brands", "arguments": {}}\n```', "list_brands"),
    ],
)
def test_tool_call_read_from_text(text: str, name: str) -> None:
    call = tool_call_from_text(text)
    assert (call.get("function") or call)["name"] == name


def test_text_without_a_call_is_an_invalid_action_observation() -> None:
    row = dataset_rows("test")[0]
    env = skyrl_gym.make(ENV_CLASS, env_config={}, extras=row)
    env.init(row["prompt"])
    out = env.step("I think the refund should be fine.")
    assert not out["done"] and out["metadata"]["error_code"] == "invalid_action"
    assert "<tool_response>" in out["observations"][0]["content"]
    env.close()
    with pytest.raises(MissingTaskId, match="extra_info.task_id"):
        skyrl_gym.make(ENV_CLASS, env_config={}, extras={"prompt": []})


@pytest.mark.parametrize("task_id", task_ids("test"))
def test_reference_as_text_earns_the_reference_reward(task_id: str) -> None:
    prepared = prepare_task(task_id)
    expected = run_solution(task_id, "reference")[1].reward
    row = next(r for r in dataset_rows("test") if r["extra_info"]["task_id"] == task_id)
    env = skyrl_gym.make(ENV_CLASS, env_config={}, extras=row)
    prompt, meta = env.init(row["prompt"])
    assert prompt[-1]["content"].endswith(prepared.instruction) and meta["task_id"] == task_id
    assert "<tools>" in prompt[0]["content"]
    results: dict[str, object] = {}
    out = None
    for n, call in enumerate(prepared.reference.calls):
        fmt = _hermes if n % 2 == 0 else _openai  # both formats in one episode
        out = env.step(fmt(call.tool, render(call.args, {"result": results})))
        if out["done"]:
            break
        body = out["observations"][0]["content"].removeprefix("<tool_response>\n").removesuffix("\n</tool_response>")
        if out["metadata"]["ok"]:
            results[call.tool] = json.loads(body)
    if out is None or not out["done"]:
        out = env.step(_hermes("submit_response", {"response": render(prepared.reference.reply, {"result": results})}))
    assert out["done"] and out["observations"] == []
    assert out["reward"] == pytest.approx(expected)
    assert env.get_metrics()["perfect"] == 1.0
    env.close()


def test_dataset_rows_follow_skyrl_layout() -> None:
    rows = dataset_rows("dev")
    assert [r["extra_info"]["task_id"] for r in rows] == task_ids("dev")
    assert {r["env_class"] for r in rows} == {ENV_CLASS}
    assert all(r["reward_spec"]["ground_truth"] == r["extra_info"]["task_id"] for r in rows)
