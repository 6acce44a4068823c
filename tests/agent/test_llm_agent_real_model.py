"""The LLM agent with a real model (SmolLM2-135M on llama.cpp): episodes end, malformed or
wrong calls come back as error observations, a grade is produced. Never its quality."""

from __future__ import annotations

import time

import pytest

from supportgym.env.llm_agent import LLMAgent
from supportgym.env.support_env import SupportEnv
from supportgym.services.openai_client import ChatClient

pytestmark = [pytest.mark.llm, pytest.mark.slow]

TASK = "brand_mismatch_search-01"
TOOLS = ["search_products", "list_brands"]


def run(agent: LLMAgent, max_steps: int):
    env = SupportEnv(transport="inprocess")
    try:
        return agent.run_episode(env, TASK, max_steps=max_steps)
    finally:
        env.close()


@pytest.mark.parametrize("mode", ["text", "forced_tool"])
def test_real_model_episodes_end_with_a_grade(llm_server, mode):
    client = ChatClient(llm_server.base_url, timeout_s=120, max_retries=1, max_concurrency=1)
    # tool_choice "auto" is not used here: llama.cpp ignores max_tokens in that mode (runs to
    # the context limit). "none" makes the model answer in text; naming a tool forces a call.
    choice = "none" if mode == "text" else {"type": "function", "function": {"name": "search_products"}}
    agent = LLMAgent(
        client,
        llm_server.model,
        max_tokens=48,
        temperature=0.0,
        seed=1,
        tool_choice=choice,
        tools=TOOLS,
        compact_tools=True,
        include_policies=False,
        max_observation_chars=600,
    )
    t0 = time.monotonic()
    traj = run(agent, max_steps=2)
    elapsed = time.monotonic() - t0
    client.close()
    assert traj.infra_error is None, traj.infra_error
    assert traj.status in ("submitted", "truncated_max_steps", "truncated_invalid_calls")
    assert 1 <= len(traj.steps) <= 2
    assert traj.grade is not None and 0.0 <= traj.reward <= 1.0 + 1e-9
    assert traj.tokens_in > 0 and traj.tokens_out > 0
    for step in traj.steps:
        # Each step is either fine or an error observation with a code: never a crash.
        assert step.ok or step.result.get("error", {}).get("code")
    if mode == "text":
        # The model answered in text at step 1: an invalid_action observation, shown back to it.
        assert traj.steps[0].name == "<unparsable>" and traj.steps[0].error_code == "invalid_action"
        assert any(m["role"] == "user" and "no tool call" in m["content"] for m in traj.messages)
    else:
        assert traj.steps[0].name == "search_products"
    print(
        f"\nreal agent ({mode}): {len(traj.steps)} steps, {elapsed:.1f} s, status {traj.status}, "
        f"reward {traj.reward}, tokens {traj.tokens_in}/{traj.tokens_out}, errors "
        f"{[s.error_code for s in traj.steps]}"
    )
