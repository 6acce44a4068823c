"""``supportgym bench llm`` against ``MisbehavingOpenAIServer`` (real HTTP, through the SDK): the
figures are there, every call reached the endpoint, and the agent's tool call was read."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from supportgym.cli.app import app
from tests.judge.misbehaving_server import MisbehavingOpenAIServer

CALL = {"id": "call_1", "type": "function", "function": {"name": "search_products", "arguments": "{}"}}


def test_bench_llm_times_judge_and_agent_calls():
    verdict = json.dumps({"reason": "apologises", "verdict": "met"})
    # The judge's calls come first (3 + warm-up), then the agent's: those answer a tool call.
    script = [{"content": verdict}] * 4 + [{"content": None, "tool_calls": [CALL]}]
    with MisbehavingOpenAIServer("script", script=script) as srv:
        result = CliRunner().invoke(
            app, ["bench", "llm", "--base-url", srv.base_url, "--model", "double", "--calls", "3", "--json"]
        )
        assert result.exit_code == 0, result.output
        figures = json.loads(result.output)
        assert srv.count == 8 and figures["requests"] == 8
    assert figures["calls"] == 3 and figures["agent_tool_calls"] == 3
    assert figures["judge_call_p50_ms"] > 0 and figures["agent_call_p50_ms"] > 0
    assert {b["model"] for b in srv.requests} == {"double"}
    assert "tools" in srv.requests[-1] and "response_format" in srv.requests[0]
