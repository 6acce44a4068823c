"""The judge against a real model (SmolLM2-135M on llama.cpp). Plumbing and invariants only:
the model is tiny, its verdicts are not expected to be right."""

from __future__ import annotations

import time

import pytest

from supportgym.rubrics.judge import JudgeConfig, LLMJudge, SimpleCriterion
from tests.judge.test_judge_failures import CRITERIA, make_context

pytestmark = [pytest.mark.llm, pytest.mark.slow]


def test_real_judge_verdicts_are_valid_and_cached(llm_server, tmp_path):
    cfg = JudgeConfig(base_url=llm_server.base_url, model=llm_server.model, timeout_s=60, max_retries=1,
                      backoff=0.2, max_concurrency=1, cache_dir=tmp_path / "cache", parse_retries=1)
    judge = LLMJudge(cfg)
    ctx = make_context()
    t0 = time.monotonic()
    first = judge.judge(CRITERIA[:2], ctx)
    cold = time.monotonic() - t0
    assert [v.criterion_id for v in first] == ["c-apology", "c-refund"]
    for v in first:
        # A structured verdict came back (the grammar-constrained output parses), with its cost.
        assert v.error is None, v.error
        assert isinstance(v.met, bool) and isinstance(v.reason, str)
        assert v.tokens_in > 0 and v.tokens_out > 0 and not v.cached
    # llama.cpp refuses OpenAI's json_schema; the judge fell back to json_object + schema.
    assert judge._format_mode == "json_object"
    requests = judge.client.requests
    t0 = time.monotonic()
    second = LLMJudge(cfg).judge(CRITERIA[:2], ctx)
    warm = time.monotonic() - t0
    assert [v.met for v in second] == [v.met for v in first]
    assert all(v.cached and v.tokens_in == 0 for v in second)
    assert judge.client.requests == requests
    print(f"\nreal judge: 2 criteria cold {cold:.2f} s, cached {warm:.3f} s, "
          f"{sum(v.tokens_in for v in first)} tokens in")


def test_real_judge_batched_call(llm_server, tmp_path):
    cfg = JudgeConfig(base_url=llm_server.base_url, model=llm_server.model, timeout_s=60, max_retries=1,
                      response_format="json_object", criteria_per_call=2, cache_dir=None)
    crit = [SimpleCriterion(id="a", text="The reply mentions a refund."),
            SimpleCriterion(id="b", text="The reply is written in French.", category="format")]
    verdicts = LLMJudge(cfg).judge(crit, make_context())
    for v in verdicts:
        # Either a valid verdict or an explicit judge_error: never a silent score.
        assert (v.error is None) == isinstance(v.met, bool)
