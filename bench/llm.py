"""Latency of the LLM calls SupportGym makes through the ``openai`` SDK: a judge call and an agent
step's model call, against an endpoint you run (``scripts/start-llm-server`` for the local one).

The figure is the endpoint's time plus the client's; against the same server it compares
clients, models or machines. The prompts are small and fixed, so llama.cpp's prompt cache is warm
after the first call, as it is for a judge grading one episode or an agent mid-episode.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import typer

from supportgym.env.llm_agent import LLMAgent
from supportgym.env.support_env import SupportEnv
from supportgym.rubrics.judge import JudgeConfig, LLMJudge, SimpleCriterion
from supportgym.rubrics.judge_context import JudgeContext
from supportgym.services.openai_client import ChatClient

TASK = "brand_mismatch_search-01"
TOOLS = ["search_products", "list_brands"]
CRITERION = SimpleCriterion(id="c1", text="The reply apologises for the delay.", category="format")
MESSAGES = [
    {"role": "system", "content": "You are a customer-support agent."},
    {"role": "user", "content": "Do you have Acme headphones?"},
]


def _p50_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def measure_llm(base_url: str, model: str, calls: int = 20) -> dict[str, Any]:
    """``calls`` judge calls (one criterion, no cache) and ``calls`` agent model calls (two
    compact tools, ``search_products`` named in ``tool_choice``), after one warm-up each."""
    client = ChatClient(base_url, timeout_s=300, max_retries=0, max_concurrency=1)
    config = JudgeConfig(
        base_url=base_url,
        model=model,
        response_format="json_object",
        max_retries=0,
        parse_retries=0,
        max_concurrency=1,
        max_tokens_per_criterion=16,
        cache_dir=None,
    )
    judge = LLMJudge(config, client=client)
    context = JudgeContext.from_parts("The customer's order is late.", [], "Sorry for the delay.", [])
    env = SupportEnv(transport="inprocess")
    try:
        _, info = env.reset(options={"task_id": TASK})
        agent = LLMAgent(
            client,
            model,
            max_tokens=32,
            seed=1,
            tool_choice={"type": "function", "function": {"name": "search_products"}},
            tools=TOOLS,
            compact_tools=True,
            include_policies=False,
        )
        tools = agent.select_tools(info["tools"])
        judge_s: list[float] = []
        agent_s: list[float] = []
        for i in range(calls + 1):
            t0 = time.perf_counter()
            judge.judge_one(CRITERION, context)
            if i:
                judge_s.append(time.perf_counter() - t0)
        tool_calls = 0
        for i in range(calls + 1):
            t0 = time.perf_counter()
            action = agent.act(MESSAGES, tools)
            if i:
                agent_s.append(time.perf_counter() - t0)
                tool_calls += action.get("type") == "function"
    finally:
        env.close()
        client.close()
    return {
        "base_url": base_url,
        "model": model,
        "calls": calls,
        "judge_call_p50_ms": _p50_ms(judge_s),
        "agent_call_p50_ms": _p50_ms(agent_s),
        "agent_tool_calls": tool_calls,
        "requests": client.requests,
    }


def bench_llm(
    base_url: str = typer.Option(..., help="An OpenAI-compatible endpoint, e.g. http://127.0.0.1:8091/v1."),
    model: str = typer.Option(..., help="The model name to send."),
    calls: int = typer.Option(20, min=1, help="Timed calls of each kind."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Judge call and agent model call latency (p50) against an endpoint, through the openai SDK."""
    r = measure_llm(base_url, model, calls)
    line = (
        f"{r['model']} at {r['base_url']}: judge call p50 {r['judge_call_p50_ms']} ms, "
        f"agent call p50 {r['agent_call_p50_ms']} ms ({r['calls']} calls each)"
    )
    typer.echo(json.dumps(r, indent=2) if as_json else line)
