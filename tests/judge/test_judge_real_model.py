"""The judge against a real model (SmolLM2-135M on llama.cpp). Plumbing and invariants only:
the model is tiny, its verdicts are not expected to be right."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from supportgym.rubrics import grade_episode
from supportgym.rubrics.corruptions import CORRUPTIONS
from supportgym.rubrics.flip_tests import flip_case, run_flip_tests
from supportgym.rubrics.grade import reward_terms
from supportgym.rubrics.judge import JudgeConfig, LLMJudge, SimpleCriterion
from supportgym.services.openai_client import ChatClient
from supportgym.tasks import prepare_task, run_solution
from tests.judge.test_judge_failures import CRITERIA, make_context

pytestmark = [pytest.mark.llm, pytest.mark.slow]


def test_real_judge_verdicts_are_valid_and_cached(llm_server, tmp_path):
    cfg = JudgeConfig(
        base_url=llm_server.base_url,
        model=llm_server.model,
        timeout_s=60,
        max_retries=1,
        max_concurrency=1,
        cache_dir=tmp_path / "cache",
        parse_retries=1,
    )
    judge = LLMJudge(cfg)
    ctx = make_context()
    t0 = time.monotonic()
    first = judge.judge(CRITERIA[:2], ctx)
    cold = time.monotonic() - t0
    assert [v.criterion_id for v in first] == ["c-apology", "c-refund"]
    for v in first:
        # A structured verdict came back (the grammar-constrained output parses), with its cost.
        assert v.error is None, v.error
        # met/unmet is a bool; cannot_assess (a valid answer too) has none.
        assert v.status in ("ok", "cannot_assess") and (v.status == "ok") == isinstance(v.met, bool)
        assert isinstance(v.reason, str) and v.votes[0].answer in ("met", "unmet", "cannot_assess")
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
    print(
        f"\nreal judge: 2 criteria cold {cold:.2f} s, cached {warm:.3f} s, {sum(v.tokens_in for v in first)} tokens in"
    )


def test_real_judge_batched_call(llm_server, tmp_path):
    cfg = JudgeConfig(
        base_url=llm_server.base_url,
        model=llm_server.model,
        timeout_s=60,
        max_retries=1,
        response_format="json_object",
        criteria_per_call=2,
        cache_dir=None,
    )
    crit = [
        SimpleCriterion(id="a", text="The reply mentions a refund."),
        SimpleCriterion(id="b", text="The reply is written in French.", category="format"),
    ]
    verdicts = LLMJudge(cfg).judge(crit, make_context())
    for v in verdicts:
        # Either a valid verdict or an explicit judge_error: never a silent score.
        assert (v.error is None) == (v.status != "error") and (v.status == "ok") == isinstance(v.met, bool)


# --- what the judge sees and answers, end to end (plumbing, not quality) ---------------------------


class RecordingTransport(httpx.HTTPTransport):
    """The real HTTP transport, keeping each request body and answer content for inspection."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[dict] = []
        self.contents: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        response = super().handle_request(request)
        response.read()
        if response.status_code == 200:
            self.contents.append(response.json()["choices"][0]["message"].get("content") or "")
        return response


def _real_judge(llm_server, tmp_path, transport: httpx.BaseTransport | None = None, **kw) -> LLMJudge:
    # Few, small calls with a generous timeout: on a shared 2-core machine one 3k-token judge
    # call of the 135M model took minutes under load.
    cfg = JudgeConfig(
        base_url=llm_server.base_url,
        model=llm_server.model,
        response_format="json_object",
        timeout_s=900,
        max_retries=0,
        parse_retries=0,
        max_concurrency=1,
        max_evidence_chars=3000,
        cache_dir=tmp_path / "cache",
        **kw,
    )
    client = ChatClient(cfg.base_url, timeout_s=cfg.timeout_s, max_retries=0, max_concurrency=1, transport=transport)
    return LLMJudge(cfg, client=client)


def test_real_grade_sends_trail_and_diff_and_excludes_unscored(llm_server, tmp_path):
    task = "refund_within_window-01"
    prepared = prepare_task(task)
    episode, _ = run_solution(task, "reference")
    transport = RecordingTransport()
    try:
        judge = _real_judge(llm_server, tmp_path, transport, criteria_per_call=8)  # one request
        grade = grade_episode(prepared, episode.db, episode.record(), judge=judge)
    finally:
        episode.close()
    judged = [c for c in grade.criteria if c.by == "judge"]
    assert len(judged) > 1 and len(transport.bodies) == 1
    body = transport.bodies[0]
    prompt = body["messages"][-1]["content"]
    # Write steps survive the (small) evidence bound; the diff and the money are there.
    assert "## Tool trail" in prompt and "issue_refund(" in prompt and "[write]" in prompt
    assert "## Net world diff" in prompt and "refunds RFD-" in prompt and "## Money moved" in prompt
    schema = body["response_format"]["schema"]
    assert len(schema["properties"]) == len(judged)
    assert all(list(p["properties"]) == ["reason", "verdict"] for p in schema["properties"].values())
    # The grammar built from the schema makes the model write each reason before its verdict
    # (checked on the raw text: the answer may be cut by max_tokens).
    first_keys = re.findall(r'"c\d+"\s*:\s*\{\s*"(\w+)"', transport.contents[0])
    assert first_keys and set(first_keys) == {"reason"}, transport.contents[0][:200]
    assert {c.verdict for c in judged} <= {"met", "unmet", "judge_cannot_assess", "judge_error"}
    unscored = [c for c in judged if c.verdict in ("judge_cannot_assess", "judge_error")]
    assert grade.valid_for_training == (not unscored)
    # Whatever the tiny model answered, unscored criteria are out of the reward, not zeros.
    reward, _terms = reward_terms([c for c in grade.criteria if c.graded], grade.terms.alpha, grade.terms.beta)
    assert grade.reward == pytest.approx(reward, abs=1e-6)
    print(
        f"\nreal judge on {task}: {[c.verdict for c in judged]} valid_for_training={grade.valid_for_training} "
        "(SmolLM2-135M: not a quality figure)"
    )


def test_real_flip_tests_report_shape(llm_server, tmp_path):
    task = "refund_within_window-01"
    episode, _ = run_solution(task, "reference")
    try:
        false_claim = next(c for c in CORRUPTIONS if c.name == "false_claim")
        case = flip_case(task, episode.scenario, episode.record(), corruptions=[false_claim])
    finally:
        episode.close()
    assert case is not None
    n_tests = len(case.targets["false_claim"])
    report = run_flip_tests([case], _real_judge(llm_server, tmp_path))
    o = report.overall
    assert o.flipped + o.not_flipped + o.baseline_unmet + o.unassessed == n_tests
    assert list(report.per_corruption) == ["false_claim"]
    assert (
        sum(s.flipped + s.not_flipped + s.baseline_unmet + s.unassessed for s in report.per_criterion.values())
        == n_tests
    )
    assert o.rate is None or 0.0 <= o.rate <= 1.0
    assert len(report.failures) == o.not_flipped
    doc = json.loads(json.dumps(report.model_dump(mode="json")))
    assert doc["per_corruption"]["false_claim"]["rate"] == o.rate
    print(f"\nreal flip tests: {o.model_dump()} (SmolLM2-135M: not a quality figure)")
