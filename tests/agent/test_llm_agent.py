"""The LLM agent against a scripted ``MisbehavingOpenAIServer``: every kind of bad model output
is an observation, never a crash; endpoint failures are infra errors; eval writes JSONL."""

from __future__ import annotations

import json

import pytest

from supportgym.env.llm_agent import LLMAgent, run_eval, summarise
from supportgym.env.support_env import SupportEnv
from supportgym.services.openai_client import ChatClient
from supportgym.trajectory import read_jsonl
from tests.judge.misbehaving_server import MisbehavingOpenAIServer

TASK = "brand_mismatch_search-01"


def call(name, arguments, cid="c1"):
    return {
        "content": None,
        "tool_calls": [{"id": cid, "type": "function", "function": {"name": name, "arguments": arguments}}],
    }


SCRIPT = [
    call("no_such_tool", "{}"),  # unknown tool
    call("get_order", "{not json"),  # arguments that are not JSON
    {"content": "I think the customer wants keyboards."},  # text, no tool call
    call("list_brands", "{}"),  # a fine call
    call("submit_response", json.dumps({"response": "Here is the list: none."})),
]


def client_for(srv, **kw):
    return ChatClient(srv.base_url, "k", timeout_s=5, max_retries=kw.pop("max_retries", 1), **kw)


def test_bad_model_output_becomes_observations_and_episode_is_graded():
    with MisbehavingOpenAIServer("script", script=SCRIPT) as srv:
        agent = LLMAgent(client_for(srv), "double", max_tokens=64, tools=["list_brands", "search_products"])
        env = SupportEnv(transport="inprocess")
        try:
            traj = agent.run_episode(env, TASK)
        finally:
            env.close()
    codes = [s.error_code for s in traj.steps]
    assert codes[:3] == ["unknown_tool", "invalid_json", "invalid_action"]
    assert traj.steps[3].ok and traj.steps[4].name == "submit_response"
    assert traj.status == "submitted" and traj.reply == "Here is the list: none."
    assert traj.grade is not None and traj.reward == traj.grade["reward"]
    assert traj.tokens_in == 500 and traj.tokens_out == 50 and traj.infra_error is None
    # Every tool call got its tool message; the text answer got a user nudge.
    roles = [m["role"] for m in traj.messages]
    assert roles[:2] == ["system", "user"] and roles.count("tool") == 4
    nudges = [m for m in traj.messages if m["role"] == "user" and "no tool call" in m["content"]]
    assert len(nudges) == 1 and "invalid_action" in nudges[0]["content"]
    assert all("content" not in m or m["content"] is not None for m in traj.messages)
    unknown = next(m for m in traj.messages if m["role"] == "tool")
    assert "unknown_tool" in unknown["content"]
    # Requests carried the bounded max_tokens and only the chosen tools (+ submit_response).
    first = srv.requests[0]
    assert first["max_tokens"] == 64
    assert sorted(t["function"]["name"] for t in first["tools"]) == [
        "list_brands",
        "search_products",
        "submit_response",
    ]


def test_episode_ends_at_max_steps_and_last_step_forces_submit():
    text_only = [{"content": "hmm"}]
    with MisbehavingOpenAIServer("script", script=text_only) as srv:
        agent = LLMAgent(client_for(srv), "double", max_tokens=16, tools=[])
        env = SupportEnv(transport="inprocess")
        try:
            traj = agent.run_episode(env, TASK, max_steps=3)
        finally:
            env.close()
    assert len(traj.steps) == 3 and traj.status == "truncated_max_steps"
    assert traj.grade is not None  # a truncated episode is graded too
    assert srv.requests[-1]["tool_choice"] == {"type": "function", "function": {"name": "submit_response"}}
    assert all(r.get("tool_choice") == "auto" for r in srv.requests[:-1])


def test_endpoint_failure_is_an_infra_error_not_a_crash():
    with MisbehavingOpenAIServer("always_500") as srv:
        agent = LLMAgent(client_for(srv, max_retries=1), "double", max_tokens=16)
        env = SupportEnv(transport="inprocess")
        try:
            traj = agent.run_episode(env, TASK)
        finally:
            env.close()
    assert traj.infra_error and "HTTP 500" in traj.infra_error
    assert traj.steps == [] and traj.reward is None and srv.count == 2


def test_act_is_a_policy_callable():
    with MisbehavingOpenAIServer("script", script=[call("get_current_time", "{}", cid=""), {"content": "text"}]) as srv:
        agent = LLMAgent(client_for(srv), "double", max_tokens=16)
        tools = [{"type": "function", "function": {"name": "get_current_time", "parameters": {"type": "object"}}}]
        first = agent([{"role": "user", "content": "time?"}], tools)
        second = agent.act([{"role": "user", "content": "time?"}], tools)
    assert first["function"]["name"] == "get_current_time" and first["id"]
    assert second == {"type": "text", "content": "text"}
    env = SupportEnv(transport="inprocess")
    try:
        env.reset(options={"task_id": TASK})
        _, _, _, _, info = env.step(first)
        assert info["ok"]
        _, _, _, _, info = env.step(second)
        assert info["error_code"] == "invalid_action"
    finally:
        env.close()


def test_max_tokens_must_be_bounded():
    with pytest.raises(ValueError):
        LLMAgent(ChatClient("http://127.0.0.1:9/v1"), "m", max_tokens=0)


def test_run_eval_writes_jsonl_and_reports_pass_k(tmp_path):
    with MisbehavingOpenAIServer("script", script=[SCRIPT[-1]]) as srv:
        client = client_for(srv)
        summary, trajs = run_eval(
            lambda: LLMAgent(client, "double", max_tokens=16),
            [TASK, "cancel_vs_return-01"],
            k=2,
            concurrency=2,
            out_dir=tmp_path,
            progress=False,
        )
    assert len(trajs) == 4 and srv.count == 4
    on_disk = list(read_jsonl(tmp_path / "trajectories.jsonl"))
    assert len(on_disk) == 4 and all(t.messages and t.grade for t in on_disk)
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved == json.loads(json.dumps(summary))
    o = summary["overall"]
    assert o["tasks"] == 2 and o["episodes"] == 4 and o["infra_errors"] == 0
    assert 0.0 <= o["mean_reward"] <= 1.0 and o["pass^2"] == 0.0  # a one-line reply solves nothing
    assert summary["tokens_in"] == 400
    assert set(summary["by_family"]) == {"brand_mismatch_search", "cancel_vs_return"}
    assert "planning" in summary["by_level"] and summary["criteria_by_category"]


def test_summary_pass_k_needs_all_attempts_perfect():
    from supportgym.trajectory import Trajectory

    def t(tid, a, perfect):
        return Trajectory(
            task_id=tid,
            alpha=0,
            beta=0,
            max_steps=5,
            agent="llm",
            attempt=a,
            steps=[],
            reply="r",
            status="submitted",
            reward=1.0 if perfect else 0.5,
            perfect=perfect,
        )

    s = summarise([t("x-01", 0, True), t("x-01", 1, True), t("y-01", 0, True), t("y-01", 1, False)], k=2)
    assert s["overall"]["pass^2"] == 0.5 and s["overall"]["perfect_rate"] == 0.75


def test_llm_agent_plays_through_the_one_rollout_loop():
    """Several calls in one turn are stepped in order, those after the end answered not_executed;
    the LLM agent, run_episode or rollout(), gets the same system prompt as any other policy."""
    from supportgym.env.rollout import SYSTEM_PROMPT, rollout

    turn = {
        "content": "",
        "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "list_brands", "arguments": "{}"}},
            {
                "id": "b",
                "type": "function",
                "function": {"name": "submit_response", "arguments": json.dumps({"response": "Done."})},
            },
            {"id": "c", "type": "function", "function": {"name": "list_brands", "arguments": "{}"}},
        ],
    }
    with MisbehavingOpenAIServer("script", script=[turn]) as srv:
        agent = LLMAgent(client_for(srv), "double", max_tokens=16)
        env = SupportEnv(transport="inprocess")
        try:
            traj = agent.run_episode(env, TASK)
        finally:
            env.close()
        direct = rollout(agent, TASK).trajectory
    assert [s.name for s in traj.steps] == ["list_brands", "submit_response"] and traj.reply == "Done."
    tools = [m for m in traj.messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tools] == ["a", "b", "c"] and "not_executed" in tools[2]["content"]
    assert traj.messages[0] == direct.messages[0]
    assert traj.messages[0]["content"].startswith(SYSTEM_PROMPT.split("{")[0])
    assert direct.reply == "Done." and direct.tokens_in == 100
