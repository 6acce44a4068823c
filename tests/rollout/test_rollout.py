"""The rollout function and its policies, without Ray."""

from __future__ import annotations

import json
import time

import pytest

from supportgym.env.ray_pool import GroupResult, group_advantages
from supportgym.env.rollout import (
    GIVE_UP_REPLY,
    INFRA_ERROR,
    OK,
    POLICY_ERROR,
    TIMEOUT,
    ReferencePolicy,
    ScriptedPolicy,
    rollout,
)
from supportgym.services.episode import SUBMIT_TOOL
from supportgym.trajectory import read_jsonl, write_jsonl
from tests.rollout import doubles

TASK = "refund_within_window-01"


def test_reference_rollout_matches_run_solution():
    from supportgym.tasks import run_solution

    result = rollout(ReferencePolicy(TASK), TASK)
    episode, grade = run_solution(TASK)
    assert result.status == OK and result.error is None
    assert result.reward == pytest.approx(grade.reward)
    assert [(s.name, s.arguments, s.result) for s in result.trajectory.steps] == [
        (s.name, s.arguments, s.result) for s in episode.trail
    ]
    assert result.trajectory.reply == episode.reply
    assert result.grade["criteria"], "per-criterion verdicts are in the grade"


def test_messages_are_a_chat_transcript():
    t = rollout(ReferencePolicy(TASK), TASK).trajectory
    roles = [m["role"] for m in t.messages]
    assert roles[:2] == ["system", "user"]
    assert "Company policies" in t.messages[0]["content"]
    assert t.messages[1]["content"] == t.prompt and t.prompt
    assert roles[2:] == ["assistant", "tool"] * len(t.steps)
    for a, tool, step in zip(t.messages[2::2], t.messages[3::2], t.steps, strict=True):
        call = a["tool_calls"][0]
        assert call["function"]["name"] == step.name
        assert json.loads(call["function"]["arguments"]) == step.arguments
        assert tool["tool_call_id"] == call["id"]
        assert json.loads(tool["content"]) == step.result
    assert t.steps[-1].name == SUBMIT_TOOL and t.status == "submitted"


def test_wrong_variant_scores_lower_and_jsonl_round_trips(tmp_path):
    good = rollout(ReferencePolicy(TASK), TASK)
    from supportgym.tasks import prepare_task

    wrong_name = prepare_task(TASK).wrong[0].name
    bad = rollout(ReferencePolicy(TASK, variant=f"wrong:{wrong_name}"), TASK)
    assert bad.status == OK and bad.reward < good.reward
    path = tmp_path / "rollouts.jsonl"
    write_jsonl(path, [good.trajectory, bad.trajectory])
    back = list(read_jsonl(path))
    assert [b.reward for b in back] == [good.reward, bad.reward]
    assert back[0].messages == good.trajectory.messages
    assert back[1].agent == f"wrong:{wrong_name}"


def test_none_action_gives_up():
    result = rollout(lambda messages, tools: None, TASK)
    assert result.status == OK
    assert len(result.trajectory.steps) == 1 and result.trajectory.steps[0].name == SUBMIT_TOOL
    assert result.trajectory.reply == GIVE_UP_REPLY
    assert result.reward is not None


def test_token_usage_and_openai_tool_calls_are_accepted():
    ref = ReferencePolicy(TASK)

    def openai_style(messages, tools):
        call = ref(messages, tools)
        return {
            "role": "assistant",
            "content": "thinking",
            "tool_calls": [
                {
                    "id": "x",
                    "type": "function",
                    "function": {"name": call["name"], "arguments": json.dumps(call["arguments"])},
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 3},
        }

    a = rollout(openai_style, TASK)
    b = rollout(ref, TASK)
    assert a.reward == b.reward and a.trajectory.reply == b.trajectory.reply
    n = len(a.trajectory.steps)
    assert (a.trajectory.tokens_in, a.trajectory.tokens_out) == (10 * n, 3 * n)
    assert a.trajectory.messages[2]["content"] == "thinking"


def test_bare_world_scripted_policy_has_no_reward():
    r = rollout(ScriptedPolicy(doubles.BARE_CALLS), None, reset_options={"seed": 7, "scale": "tiny"})
    assert r.status == OK and r.reward is None and not r.trainable
    assert [s.name for s in r.trajectory.steps] == [c[0] for c in doubles.BARE_CALLS] + [SUBMIT_TOOL]


def test_world_fault_is_infra_error_not_zero():
    r = rollout(doubles.FaultAfterPolicy(TASK), TASK, env_factory=doubles.world_fault_env_factory)
    assert r.status == INFRA_ERROR
    assert r.reward is None and r.trajectory.reward is None and r.grade is None
    assert "WorldFault" in r.trajectory.infra_error
    assert not r.trainable


def test_policy_exception_is_policy_error():
    def broken(messages, tools):
        raise RuntimeError("model server exploded")

    r = rollout(broken, TASK)
    assert r.status == POLICY_ERROR and r.reward is None and "exploded" in r.error
    assert r.trajectory.infra_error is None


def test_step_timeout_is_reported_and_does_not_hang():
    t0 = time.monotonic()
    r = rollout(doubles.SleepyPolicy(TASK, 5.0), TASK, step_timeout_s=0.5)
    assert time.monotonic() - t0 < 4.0
    assert r.status == TIMEOUT and r.timed_out and r.reward is None
    assert "deadline" in r.error


def test_episode_timeout_is_reported():
    r = rollout(doubles.SleepyPolicy(TASK, 0.3), TASK, step_timeout_s=5, episode_timeout_s=1.0)
    assert r.status == TIMEOUT and r.reward is None
    assert 0 < len(r.trajectory.messages)


def test_group_advantages_exclude_failures():
    adv = group_advantages([1.0, None, 0.0, 1.0, None])
    assert adv[1] is None and adv[4] is None
    assert adv[0] == pytest.approx(adv[3]) and adv[0] > 0 > adv[2]
    assert sum(a for a in adv if a is not None) == pytest.approx(0.0, abs=1e-9)
    assert group_advantages([0.5, 0.5]) == [0.0, 0.0]
    assert group_advantages([None]) == [None]


def test_group_result_excludes_infra_errors():
    good = rollout(ReferencePolicy(TASK), TASK, index=0)
    bad = rollout(doubles.FaultAfterPolicy(TASK), TASK, env_factory=doubles.world_fault_env_factory, index=1)
    g = GroupResult(TASK, [bad, good])
    assert g.rewards == [good.reward, None]
    assert g.advantages == [0.0, None]
    assert g.infra_errors == [1]


def test_text_action_is_stepped_and_answered_in_a_user_message():
    def chatty(messages, tools):
        if messages[-1]["role"] == "user" and len(messages) == 2:
            return {"role": "assistant", "content": "Let me think about it."}
        return {"name": SUBMIT_TOOL, "arguments": {"response": "Done."}}

    t = rollout(chatty, TASK).trajectory
    assert [s.error_code for s in t.steps][:1] == ["invalid_action"] and t.reply == "Done."
    assert [m["role"] for m in t.messages] == ["system", "user", "assistant", "user", "assistant", "tool"]
    assert "no tool call" in t.messages[3]["content"] and "invalid_action" in t.messages[3]["content"]
