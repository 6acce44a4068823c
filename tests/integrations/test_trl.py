"""The TRL environment class: its methods are valid TRL tools, and replaying each task's
reference through them earns the reference's reward."""

from __future__ import annotations

import inspect
import json

import pytest

# transformers' own schema extraction is what GRPOTrainer runs on each method.
chat_utils = pytest.importorskip(
    "transformers.utils.chat_template_utils", reason="transformers is not installed: pip install 'supportgym[trl]'"
)

from supportgym.integrations.splits import SPLITS, UnknownSplit, task_ids
from supportgym.integrations.trl import (
    TOOL_NAMES,
    SupportGymToolEnv,
    build_dataset,
    dataset_rows,
)
from supportgym.services.episode import every_tool_schema
from supportgym.tasks import list_tasks, prepare_task, run_solution
from supportgym.tasks.template import render


def _public_functions() -> list[str]:
    # What GRPOTrainer lists as tools: public functions on the class, reset and get_reward aside.
    return sorted(
        n
        for n, _ in inspect.getmembers(SupportGymToolEnv, predicate=inspect.isfunction)
        if not n.startswith("_") and n not in ("reset", "get_reward")
    )


def test_one_method_per_tool_and_nothing_else() -> None:
    assert _public_functions() == sorted(TOOL_NAMES)
    assert {"submit_response", "message_customer", "advance_time"} <= set(TOOL_NAMES)


@pytest.mark.parametrize("schema", every_tool_schema(), ids=lambda s: s["function"]["name"])
def test_method_schema_matches_the_tool(schema: dict) -> None:
    env = SupportGymToolEnv()
    method = getattr(env, schema["function"]["name"])
    got = chat_utils.get_json_schema(method)["function"]
    want = schema["function"]
    assert got["name"] == want["name"]
    assert got["description"].split()[:6] == want["description"].split()[:6]
    assert set(got["parameters"]["properties"]) == set(want["parameters"]["properties"])
    assert set(got["parameters"].get("required", [])) == set(want["parameters"].get("required", []))
    for name, prop in want["parameters"]["properties"].items():
        mine = got["parameters"]["properties"][name]
        assert mine["description"], name
        if "enum" in prop:
            assert mine["enum"] == prop["enum"]
        else:
            assert mine["type"] == prop["type"], name


@pytest.mark.parametrize("task_id", [t.id for t in list_tasks()])
def test_reference_replay_earns_the_reference_reward(task_id: str) -> None:
    prepared = prepare_task(task_id)
    expected = run_solution(task_id, "reference")[1].reward
    # Templated arguments read earlier results in full: no observation cap for the replay.
    env = SupportGymToolEnv(max_observation_chars=10_000_000)
    opening = env.reset(task_id=task_id, prompt=[{"role": "user", "content": ""}])
    assert opening == prepared.instruction
    results: dict[str, object] = {}
    ended = False
    for call in prepared.reference.calls:
        text = getattr(env, call.tool)(**render(call.args, {"result": results}))
        observation = json.loads(text)
        if "error" not in observation:
            results[call.tool] = observation
        if env.grade is not None:
            ended = True
            break
    if not ended and prepared.reference.reply is not None:
        env.submit_response(response=render(prepared.reference.reply, {"result": results}))
    assert env.grade is not None
    assert env.get_reward() == pytest.approx(expected)
    assert env.get_reward() >= 1.0
    after = json.loads(env.get_ticket(ticket_id="TKT-1"))
    assert after["error"]["code"] == "episode_not_running"


def test_unsubmitted_episode_scores_zero_and_bad_arguments_are_observations() -> None:
    env = SupportGymToolEnv()
    env.reset(task_id=task_ids("test")[0])
    bad = json.loads(env.get_order(order_id="not-an-order"))
    assert bad["error"]["field"] == "order_id"
    extra = json.loads(env.get_order(order_id="ORD-1", colour="red"))
    assert extra["error"]["code"] == "invalid_arguments"
    assert env.get_reward() == 0.0 and env.grade is None


def test_dataset_splits_are_the_task_sets_splits() -> None:
    fixed = {s: task_ids(s) for s in ("dev", "test", "heldout-families")}
    every = sorted(t for ids in fixed.values() for t in ids)
    assert every == task_ids("all") == sorted(t.id for t in list_tasks())  # each fixed task once
    held = {i.rsplit("-", 1)[0] for i in fixed["heldout-families"]}
    families = {t.family for t in list_tasks()} - held
    for name in ("dev", "test"):  # each holds every family that is not held out, and none that is
        assert {i.rsplit("-", 1)[0] for i in fixed[name]} == families
    rows = dataset_rows("dev")
    assert [r["task_id"] for r in rows] == fixed["dev"]
    assert rows[0]["prompt"][0]["role"] == "system" and rows[0]["prompt"][-1]["role"] == "user"
    with pytest.raises(UnknownSplit, match="allowed: " + ", ".join(SPLITS)):
        task_ids("validation")


def test_train_rows_are_generated_tasks_of_train_families_only() -> None:
    train = task_ids("train", seed=3, n=1)
    assert train and not set(train) & set(task_ids("all"))
    held = {i.rsplit("-", 1)[0] for i in task_ids("heldout-families")}
    assert all(i.split("-g")[0] not in held for i in train)
    assert [r["task_id"] for r in dataset_rows("train", seed=3, n=1)] == train


def test_build_dataset_has_prompt_and_task_id_columns() -> None:
    pytest.importorskip("datasets", reason="datasets is not installed: pip install 'supportgym[trl]'")
    ds = build_dataset("test")
    assert ds.column_names == ["prompt", "task_id"]
    assert len(ds) == len(task_ids("test"))


def test_a_subset_class_has_those_tools_and_submit() -> None:
    from supportgym.integrations.trl import UnknownTools, tool_env_class

    cls = tool_env_class(["get_ticket", "search_policies"], name="SmallEnv")
    names = sorted(
        n
        for n, _ in inspect.getmembers(cls, predicate=inspect.isfunction)
        if not n.startswith("_") and n not in ("reset", "get_reward")
    )
    assert names == ["get_ticket", "search_policies", "submit_response"]
    env = cls()
    env.reset(task_id=task_ids("test")[0])
    assert "results" in json.loads(env.search_policies(query="refund"))
    with pytest.raises(UnknownTools, match="refund_everything"):
        tool_env_class(["refund_everything"])
