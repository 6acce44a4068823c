"""The judge against ``MisbehavingOpenAIServer``: retries, backoff, errors, cache, votes, bounds."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from supportgym.rubrics.judge import (
    JudgeConfig,
    JudgeContext,
    JudgeEpisodeError,
    LLMJudge,
    SimpleCriterion,
    check_policy,
    usage_totals,
)
from supportgym.rubrics.judge_context import JudgeContext as ContextModel
from supportgym.rubrics.judge_prompt import parse_verdicts, render_evidence
from supportgym.trail import TrailEntry
from tests.judge.misbehaving_server import MisbehavingOpenAIServer

CRITERIA = [
    SimpleCriterion(id="c-apology", text="The reply apologises for the late delivery.", category="format"),
    SimpleCriterion(id="c-refund", text="The reply states the refund amount of $49.99.", category="correctness"),
    SimpleCriterion(
        id="c-noleak", text="The reply does not reveal internal notes.", category="constraint", type="penalty"
    ),
]


def make_context(reply: str = "Sorry for the delay: we refunded $49.99 to your card.") -> JudgeContext:
    trail = [
        TrailEntry(
            step=1,
            name="get_order",
            arguments={"order_id": "ORD-500123"},
            ok=True,
            result={"order": {"id": "ORD-500123", "total": "49.99", "status": "delivered"}},
            sim_time="2026-03-01T10:00:30Z",
        ),
        TrailEntry(
            step=2,
            name="issue_refund",
            arguments={"order_id": "ORD-500123", "amount": 49.99},
            ok=True,
            result={"refund": {"id": "RF-1", "amount": "49.99"}},
            writes=True,
            sim_time="2026-03-01T10:01:00Z",
        ),
        TrailEntry(
            step=3,
            name="submit_response",
            arguments={"response": reply},
            ok=True,
            result={"submitted": True},
            sim_time="2026-03-01T10:01:30Z",
        ),
    ]
    return JudgeContext.from_parts(
        "Customer says order ORD-500123 arrived late; refund it.",
        trail,
        reply,
        [
            {
                "op": "insert",
                "table": "refunds",
                "key": "RFD-1",
                "after": {"amount_cents": 4999, "order_id": "ORD-500123"},
            }
        ],
    )


def judge_for(srv: MisbehavingOpenAIServer, tmp_path: Path, **kw) -> LLMJudge:
    cfg = dict(
        base_url=srv.base_url,
        model="double",
        api_key="k",
        timeout_s=2.0,
        max_retries=3,
        cache_dir=tmp_path / "cache",
    )
    cfg.update(kw)
    return LLMJudge(JudgeConfig(**cfg))


def test_valid_verdicts_and_request_shape(tmp_path):
    with MisbehavingOpenAIServer("ok", met=True) as srv:
        judge = judge_for(srv, tmp_path)
        verdicts = judge.judge(CRITERIA, make_context())
    assert [v.criterion_id for v in verdicts] == [c.id for c in CRITERIA]
    assert all(v.status == "ok" and v.error is None and not v.cached for v in verdicts)
    # The double answers "met" to every statement; the penalty is shown as the mistake, so
    # "met" there means the mistake happened: the criterion is not met.
    assert [v.met for v in verdicts] == [True, True, False]
    assert [x.answer for v in verdicts for x in v.votes] == ["met", "met", "met"]
    assert all(v.tokens_in == 100 and v.tokens_out == 10 for v in verdicts)
    body = srv.requests[0]
    assert body["model"] == "double"
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["reason", "verdict"]
    assert body["max_tokens"] > 0
    prompt = body["messages"][-1]["content"]
    assert "ORD-500123" in prompt and "issue_refund" in prompt and "refunded $49.99" in prompt
    assert "refunds RFD-1 inserted" in prompt and "refund RFD-1 on order ORD-500123: $49.99" in prompt
    assert usage_totals(verdicts)["judge_tokens_in"] == 300


def test_500_then_ok_is_retried_with_growing_waits(tmp_path):
    with MisbehavingOpenAIServer("500_then_ok", fail_first=2) as srv:
        v = judge_for(srv, tmp_path).judge_one(CRITERIA[0], make_context())
    assert v.met is True and v.error is None
    assert srv.count == 3  # two failures, one success
    # The openai SDK's backoff: 0.5 s then 1 s, each less up to a quarter of jitter.
    first, second = srv.times[1] - srv.times[0], srv.times[2] - srv.times[1]
    assert 0.35 <= first < 1.5 and 0.7 <= second < 2.5 and second > first


def test_always_500_gives_judge_error_not_a_score(tmp_path):
    with MisbehavingOpenAIServer("always_500") as srv:
        v = judge_for(srv, tmp_path, max_retries=2).judge_one(CRITERIA[0], make_context())
    assert v.met is None
    assert v.error is not None and "judge_error" in v.error and "HTTP 500" in v.error
    assert "3 attempt" in v.error
    assert srv.count == 3
    # errors are not cached: a second try asks again
    with MisbehavingOpenAIServer("ok") as srv2:
        v2 = judge_for(srv2, tmp_path).judge_one(CRITERIA[0], make_context())
    assert v2.met is True and srv2.count == 1


def test_429_retry_after_is_honoured(tmp_path):
    with MisbehavingOpenAIServer("429", fail_first=1, retry_after=0.3) as srv:
        v = judge_for(srv, tmp_path).judge_one(CRITERIA[0], make_context())
    assert v.met is True and srv.count == 2
    gap = srv.times[1] - srv.times[0]
    assert 0.25 <= gap < 2.0


def test_timeout_then_judge_error(tmp_path):
    with MisbehavingOpenAIServer("timeout", delay=1.5) as srv:
        t0 = time.monotonic()
        v = judge_for(srv, tmp_path, timeout_s=0.3, max_retries=1).judge_one(CRITERIA[0], make_context())
        elapsed = time.monotonic() - t0
    assert v.met is None and "timeout" in v.error
    assert srv.count == 2
    assert elapsed < 3.0


@pytest.mark.parametrize(
    "mode, words",
    [
        ("invalid_json", "not JSON"),
        ("missing_fields", "verdict"),
    ],
)
def test_invalid_verdict_content_is_a_judge_error(tmp_path, mode, words):
    with MisbehavingOpenAIServer(mode) as srv:
        v = judge_for(srv, tmp_path, parse_retries=1).judge_one(CRITERIA[0], make_context())
    assert v.met is None and "not a valid verdict" in v.error and words in v.error
    assert srv.count == 2  # asked once more after the bad answer
    assert v.tokens_in == 200  # both calls cost tokens


def test_bad_body_and_dropped_connection_are_retried_then_error(tmp_path):
    for mode, kind in (("bad_body", "bad_response"), ("drop", "connection")):
        with MisbehavingOpenAIServer(mode) as srv:
            v = judge_for(srv, tmp_path, max_retries=2).judge_one(CRITERIA[0], make_context())
        assert v.met is None and kind in v.error, v.error
        assert srv.count == 3


def test_cache_hit_makes_no_request(tmp_path):
    ctx = make_context()
    with MisbehavingOpenAIServer("ok") as srv:
        judge = judge_for(srv, tmp_path)
        first = judge.judge(CRITERIA, ctx)
        n = srv.count
        second = judge_for(srv, tmp_path).judge(CRITERIA, ctx)  # a fresh judge, same cache dir
        assert srv.count == n == 3
        assert [v.met for v in second] == [v.met for v in first]
        assert all(v.cached and v.tokens_in == 0 for v in second)
        # Other evidence, other prompt version or other model: a miss.
        judge.judge(CRITERIA[:1], make_context(reply="Different reply."))
        assert srv.count == 4
        judge_for(srv, tmp_path, prompt_version="other").judge(CRITERIA[:1], ctx)
        assert srv.count == 5
        judge_for(srv, tmp_path, model="double-2").judge(CRITERIA[:1], ctx)
        assert srv.count == 6


def test_majority_vote_over_samples(tmp_path):
    answers = [json.dumps({"reason": f"vote {i}", "verdict": m}) for i, m in enumerate(["met", "unmet", "met"])]
    with MisbehavingOpenAIServer("ok", content_fn=lambda body, i: answers[i % 3]) as srv:
        judge = judge_for(srv, tmp_path, samples=3, max_concurrency=1)
        v = judge.judge_one(CRITERIA[0], make_context())
    assert v.met is True and len(v.votes) == 3 and srv.count == 3
    assert [x.met for x in v.votes] == [True, False, True]
    assert "2 of 3" in v.reason
    assert srv.requests[0]["temperature"] > 0  # sampling, not greedy


def test_ensemble_of_models_and_tie_is_not_met(tmp_path):
    with MisbehavingOpenAIServer(
        "ok",
        content_fn=lambda body, i: json.dumps(
            {"reason": body["model"], "verdict": "met" if body["model"] == "a" else "unmet"}
        ),
    ) as srv:
        v = judge_for(srv, tmp_path, models=["a", "b"]).judge_one(CRITERIA[0], make_context())
    assert {b["model"] for b in srv.requests} == {"a", "b"}
    assert v.met is False and "tie" in v.reason


def test_mostly_failed_votes_are_a_judge_error(tmp_path):
    with MisbehavingOpenAIServer("500_then_ok", fail_first=100) as srv:
        v = judge_for(srv, tmp_path, samples=3, max_retries=0).judge_one(CRITERIA[0], make_context())
    assert v.met is None and "3 of 3 vote(s) failed" in v.error


def test_concurrency_bound_is_respected(tmp_path):
    many = [SimpleCriterion(id=f"c{i}", text=f"criterion number {i}") for i in range(10)]
    with MisbehavingOpenAIServer("ok", delay=0.15) as srv:
        judge_for(srv, tmp_path, max_concurrency=3).judge(many, make_context())
    assert srv.count == 10
    assert 2 <= srv.max_in_flight <= 3


def test_several_criteria_per_call(tmp_path):
    with MisbehavingOpenAIServer("ok", met=False) as srv:
        verdicts = judge_for(srv, tmp_path, criteria_per_call=2).judge(CRITERIA, make_context())
    assert srv.count == 2
    assert [v.met for v in verdicts] == [False, False, True]  # "unmet" on the mistake: avoided
    required = sorted(tuple(b["response_format"]["json_schema"]["schema"]["required"]) for b in srv.requests)
    assert required == [("c1", "c2"), ("reason", "verdict")]  # a batch of two, then the rest
    assert sum(v.tokens_in for v in verdicts) == 200  # batched tokens are split, not duplicated


def test_auto_format_falls_back_to_llama_cpp_json_object(tmp_path):
    with MisbehavingOpenAIServer("reject_schema") as srv:
        judge = judge_for(srv, tmp_path)
        v = judge.judge(CRITERIA[:2], make_context())
    assert all(x.met is True for x in v)
    types = [b["response_format"]["type"] for b in srv.requests]
    assert types[0] == "json_schema" and types[-1] == "json_object"
    assert srv.requests[-1]["response_format"]["schema"]["required"] == ["reason", "verdict"]
    assert types.count("json_schema") <= 2  # remembered after the first refusal


def test_policy_exclude_and_fail_episode(tmp_path):
    with MisbehavingOpenAIServer("always_500") as srv:
        verdicts = judge_for(srv, tmp_path, max_retries=0).judge(CRITERIA[:2], make_context())
    assert check_policy(verdicts, "exclude") == []
    with pytest.raises(JudgeEpisodeError, match="could not grade 2 criterion"):
        check_policy(verdicts, "fail_episode")


def test_config_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fallback")
    monkeypatch.setenv("SUPPORTGYM_JUDGE_BASE_URL", "http://127.0.0.1:1234/v1/")
    monkeypatch.setenv("SUPPORTGYM_JUDGE_MODEL", "judge-model")
    monkeypatch.setenv("SUPPORTGYM_CACHE", str(tmp_path))
    cfg = JudgeConfig.from_env()
    assert cfg.base_url == "http://127.0.0.1:1234/v1" and cfg.model == "judge-model"
    assert cfg.api_key.get_secret_value() == "sk-fallback"
    assert cfg.cache_dir == tmp_path / "judge"
    assert "sk-fallback" not in cfg.model_dump_json() and "sk-fallback" not in repr(cfg)
    assert cfg.on_error == "exclude"
    monkeypatch.delenv("SUPPORTGYM_JUDGE_MODEL")
    monkeypatch.delenv("OPENAI_MODEL", raising=False)
    with pytest.raises(ValueError, match="no judge model"):
        LLMJudge(JudgeConfig.from_env())


def test_parse_verdicts_edge_cases():
    assert parse_verdicts('```json\n{"reason": "ok", "verdict": "met"}\n```', 1)[0].verdict == "met"
    assert parse_verdicts('{"reason": "s", "verdict": "UNMET"}', 1)[0].verdict == "unmet"
    assert parse_verdicts('{"reason": "s", "verdict": "Cannot assess"}', 1)[0].verdict == "cannot_assess"
    assert isinstance(parse_verdicts('{"reason": "s", "verdict": true}', 1)[0], str)
    assert isinstance(parse_verdicts('{"reason": "s", "verdict": "maybe"}', 1)[0], str)
    assert isinstance(parse_verdicts('{"met": true, "reason": "old schema"}', 1)[0], str)
    out = parse_verdicts('{"c1": {"reason": "", "verdict": "met"}}', 2)
    assert out[0].verdict == "met" and "no verdict for c2" in out[1]
    with pytest.raises(ValueError):
        parse_verdicts("[1, 2]", 1)


def test_evidence_is_bounded_and_deterministic():
    ctx = make_context()
    long_trail = [
        TrailEntry(
            step=i,
            name="search_orders",
            arguments={"q": "x" * 50},
            ok=True,
            result={"orders": ["y" * 500]},
            sim_time="t",
        )
        for i in range(1, 200)
    ]
    long_ctx = ContextModel.from_parts(ctx.instruction, long_trail, "r", [])
    a = render_evidence(long_ctx, max_chars=5000)
    b = render_evidence(long_ctx, max_chars=5000)
    assert a == b and len(a) < 6000 and "step(s) omitted" in a and "199. search_orders" in a
    assert "(no reply" in render_evidence(ContextModel.from_parts("i", [], None, []))


def test_dict_context_as_grade_episode_builds_it(tmp_path):
    ctx = make_context()
    as_dict = {"task_id": "t", **ctx.model_dump(mode="json")}
    with MisbehavingOpenAIServer("ok") as srv:
        judge = judge_for(srv, tmp_path)
        a = judge.judge_one(CRITERIA[0], as_dict)
        b = judge.judge_one(CRITERIA[0], ctx)
    assert a.met is True and b.cached and srv.count == 1  # same evidence, same cache key
    assert a.evidence == a.reason
