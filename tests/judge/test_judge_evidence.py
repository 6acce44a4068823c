"""What the judge sees (trail, world diff, money, bounded), how it is asked (reason first,
dodged bullets as the mistake), and what its answers do to the grade, against the
``MisbehavingOpenAIServer`` test double and real task episodes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from rich.console import Console

from supportgym.env.calibrate import collect_flip_cases
from supportgym.rubrics import grade_episode
from supportgym.rubrics.flip_tests import flip_case, run_flip_tests
from supportgym.rubrics.judge import JudgeConfig, LLMJudge, SimpleCriterion
from supportgym.rubrics.judge_context import JudgeContext, judge_context, render_context
from supportgym.rubrics.judge_prompt import mistake_text, question_for, response_format, verdict_schema
from supportgym.tasks import prepare_task, run_solution
from supportgym.trail import EpisodeRecord, TrailEntry
from tests.judge.misbehaving_server import MisbehavingOpenAIServer

TASK = "refund_within_window-01"


@pytest.fixture(scope="module")
def finished():
    episode, grade = run_solution(TASK, "reference")
    yield prepare_task(TASK), episode, grade
    episode.close()


def _judge(srv: MisbehavingOpenAIServer, tmp_path, **kw) -> LLMJudge:
    cfg = dict(base_url=srv.base_url, model="double", timeout_s=5, max_retries=0, cache_dir=tmp_path / "cache")
    cfg.update(kw)
    return LLMJudge(JudgeConfig(**cfg))


# --- the evidence --------------------------------------------------------------------------------


def test_context_of_a_real_episode_has_trail_diff_and_money(finished):
    prepared, episode, _grade = finished
    record = episode.record()
    ctx = judge_context(prepared, record)
    json.dumps(ctx)  # plain JSON
    assert ctx["task_id"] == TASK and ctx["reply"] == record.reply
    tools = [s["tool"] for s in ctx["trail"]]
    assert tools == [e.name for e in record.trail] and "issue_refund" in tools
    submit = ctx["trail"][-1]
    assert submit["tool"] == "submit_response" and record.reply not in json.dumps(submit)
    refund = next(r for r in ctx["world_diff"] if r["table"] == "refunds")
    assert refund["op"] == "insert" and refund["after"]["amount_cents"] > 0
    order = next(r for r in ctx["world_diff"] if r["table"] == "orders")
    assert order["op"] == "update" and order["before"] == {"status": "delivered"}
    assert order["after"] == {"status": "returned"}
    assert [(m["kind"], m["amount_cents"]) for m in ctx["money_moved"]] == [("refund", refund["after"]["amount_cents"])]
    text = render_context(JudgeContext.coerce(ctx))
    assert "## Tool trail" in text and "issue_refund(" in text and "[write]" in text
    assert f'orders {order["key"]} updated: status: "delivered" -> "returned"' in text
    assert "## Money moved" in text and f"refund {refund['key']} on order" in text
    assert text.rstrip().endswith(record.reply.strip())


def _entry(i: int, name: str, writes: bool = False, size: int = 500) -> TrailEntry:
    return TrailEntry(
        step=i,
        name=name,
        arguments={"order_id": f"ORD-{500000 + i}"},
        ok=True,
        writes=writes,
        result={"blob": "y" * size},
        sim_time="2026-03-01T10:00:00Z",
    )


def test_trail_and_diff_are_bounded_with_markers_and_writes_kept():
    # 120 steps of ~600 characters; the 12 writes (~200 each) fit the budget, the reads do not.
    trail = [
        _entry(i, "refund_order", writes=True, size=100) if i % 10 == 0 else _entry(i, "get_order")
        for i in range(1, 121)
    ]
    changes = [
        {
            "op": "update",
            "table": "tickets",
            "key": f"TKT-{i}",
            "before": {"status": "open"},
            "after": {"status": "closed"},
        }
        for i in range(300)
    ]
    ctx = JudgeContext.from_parts("Do it.", trail, "Done.", changes)
    a = render_context(ctx, max_chars=8000)
    assert a == render_context(ctx, max_chars=8000)  # deterministic
    assert len(a) < 8000 + 1500
    assert re.search(r"\.\.\. \[\d+ step\(s\) omitted\] \.\.\.", a)
    assert re.search(r"\.\.\. \[\d+ more changed row\(s\) omitted\]", a)
    # Every write step survives; reads were dropped first; the first and last call stay.
    for i in range(10, 121, 10):
        assert f"\n{i}. refund_order(" in a
    assert "\n1. get_order(" in a and "120. refund_order(" in a
    # Before any step goes, read results are shortened (a marker says how much was cut).
    assert re.search(r"\n1\. get_order\(.*\.\.\.\[\d+ more chars\]\n", a)
    assert "...[" in render_context(JudgeContext.from_parts("i", [_entry(1, "get_order", size=5000)], "r", []))


def test_a_tight_bound_keeps_the_write_steps_of_a_real_episode(finished):
    prepared, episode, _grade = finished
    ctx = JudgeContext.coerce(judge_context(prepared, episode.record()))
    full = render_context(ctx)
    tight = render_context(ctx, max_chars=3000)  # 1,000 characters left for the trail
    assert len(tight) < len(full) and "more chars]" in tight
    for step in ctx.trail:
        if step.writes:
            assert f"{step.step}. {step.tool}(" in tight
    assert tight.rstrip().endswith(episode.reply.strip())


def test_context_round_trips_through_the_dict_grade_passes(finished):
    prepared, episode, _grade = finished
    ctx = judge_context(prepared, episode.record())
    assert JudgeContext.coerce(ctx).model_dump(mode="json") == {k: v for k, v in ctx.items() if k != "task_id"}
    with pytest.raises(TypeError):
        JudgeContext.coerce(42)


# --- the question ---------------------------------------------------------------------------------


def test_schema_puts_the_reason_before_the_verdict():
    one = verdict_schema(1)
    assert list(one["properties"]) == ["reason", "verdict"] and one["required"] == ["reason", "verdict"]
    assert one["properties"]["verdict"]["enum"] == ["met", "unmet", "cannot_assess"]
    many = verdict_schema(3)
    assert all(list(p["properties"]) == ["reason", "verdict"] for p in many["properties"].values())
    assert list(response_format("json_object", 1)["schema"]["properties"]) == ["reason", "verdict"]
    assert list(response_format("json_schema", 1)["json_schema"]["schema"]["properties"]) == ["reason", "verdict"]


@pytest.mark.parametrize(
    "rule, mistake",
    [
        (
            "The agent does not try to cancel the delivered order ORD-1.",
            "The agent tries to cancel the delivered order ORD-1.",
        ),
        ("The agent does not grant store credit: the customer asked for a refund.", "The agent grants store credit."),
        (
            "The agent never reveals the account holder's email, a@b.c.",
            "The agent reveals the account holder's email, a@b.c.",
        ),
        (
            "The final reply does not promise that the refund will be approved; it says a specialist will review it.",
            "The final reply promises that the refund will be approved.",
        ),
        ("The original payment PAY-1 is not refunded.", "The original payment PAY-1 is refunded."),
        (
            "The reply adds no commentary, advice or customer details.",
            "The reply adds some commentary, advice or customer details.",
        ),
        ("No refund is issued on any order other than ORD-1.", "Some refund is issued on any order other than ORD-1."),
        (
            "At most one refund is issued on order ORD-1 (no split or repeated refunds).",
            "More than one refund is issued on order ORD-1.",
        ),
        (
            "At most one refund is issued on order ORD-1 (the fee is not refunded twice).",
            "More than one refund is issued on order ORD-1.",
        ),
        (
            "The agent never attempts a credit above the cap (no store-credit call is refused).",
            "The agent attempts a credit above the cap.",
        ),
        (
            "The agent never tells the requester what was ordered (HDMI Cable (3 m)).",
            "The agent tells the requester what was ordered (HDMI Cable (3 m)).",
        ),
        ("Nothing is changed on the order.", "Something is changed on the order."),
        ("The agent does not apply a discount.", "The agent applies a discount."),
        ("The email of customer CUS-1 stays a@b.c; only the phone was to change.", None),
    ],
)
def test_dodged_bullets_are_reworded_as_the_mistake(rule, mistake):
    assert mistake_text(rule) == mistake
    q = question_for(SimpleCriterion(id="x", text=rule, type="dodged_bullet"))
    assert q.inverted and "MISTAKE" in q.text and rule in q.text
    if mistake:
        assert mistake in q.text
    plain = question_for(SimpleCriterion(id="x", text=rule, type="primary"))
    assert not plain.inverted and "MISTAKE" not in plain.text


def test_the_judge_is_shown_the_mistake_and_its_answer_is_turned_around(tmp_path):
    bullet = SimpleCriterion(id="no-cancel", text="The agent does not cancel order ORD-1.", type="dodged_bullet")
    primary = SimpleCriterion(id="refund", text="The reply states the refund of $5.00.")
    ctx = JudgeContext.from_parts("Refund ORD-1.", [], "Refunded $5.00.", [])
    with MisbehavingOpenAIServer("ok", answer="met") as srv:
        said_met = _judge(srv, tmp_path).judge([bullet, primary], ctx)
    prompts = [r["messages"][-1]["content"] for r in srv.requests]
    assert sum("MISTAKE: The agent cancels order ORD-1." in p for p in prompts) == 1
    assert [v.met for v in said_met] == [False, True]  # "met" on the mistake: the bullet was hit
    assert said_met[0].asked.startswith("[correctness] MISTAKE")
    with MisbehavingOpenAIServer("ok", answer="unmet") as srv:
        said_unmet = _judge(srv, tmp_path, cache_dir=None).judge([bullet, primary], ctx)
    assert [v.met for v in said_unmet] == [True, False]


def test_cannot_assess_is_a_status_not_a_score(tmp_path):
    c = SimpleCriterion(id="tone", text="The reply is courteous.", category="format")
    ctx = JudgeContext.from_parts("i", [], "Fine.", [])
    with MisbehavingOpenAIServer("ok", answer="cannot_assess") as srv:
        v = _judge(srv, tmp_path).judge_one(c, ctx)
        again = _judge(srv, tmp_path).judge_one(c, ctx)
    assert v.status == "cannot_assess" and v.met is None and v.error is None and v.cannot_assess
    assert again.cached and again.status == "cannot_assess" and srv.count == 1  # a real answer: cached
    # Votes: cannot_assess wins when at least half the answers say so; else the majority decides.
    for answers, status, met in (
        (["cannot_assess", "met", "cannot_assess"], "cannot_assess", None),
        (["cannot_assess", "met", "met"], "ok", True),
        (["met", "unmet", "cannot_assess", "cannot_assess"], "cannot_assess", None),
        (["met", "unmet", "unmet"], "ok", False),
    ):
        with MisbehavingOpenAIServer(
            "ok", content_fn=lambda body, i, a=answers: json.dumps({"reason": f"vote {i}", "verdict": a[i % len(a)]})
        ) as srv:
            v = _judge(srv, tmp_path, cache_dir=None, samples=len(answers), max_concurrency=1).judge_one(c, ctx)
        assert (v.status, v.met) == (status, met), answers


# --- the grade ------------------------------------------------------------------------------------


def test_grade_marks_cannot_assess_and_errors_not_valid_for_training(finished, tmp_path):
    prepared, episode, _base = finished
    judge_ids = [c.id for c in prepared.rubric if c.check is None]
    assert judge_ids
    with MisbehavingOpenAIServer("ok", answer="met") as srv:
        ok = grade_episode(prepared, episode.db, episode.record(), judge=_judge(srv, tmp_path, cache_dir=None))
        prompt = srv.requests[0]["messages"][-1]["content"]
    # grade_episode hands the judge the trail and the world diff (judge_context), not only the reply.
    assert "## Tool trail" in prompt and "issue_refund(" in prompt and "refunds RFD-" in prompt
    assert "## Money moved" in prompt
    assert ok.valid_for_training and ok.model_dump()["valid_for_training"] is True

    first = judge_ids[0]
    with MisbehavingOpenAIServer(
        "ok",
        content_fn=lambda body, i: json.dumps(
            {
                "reason": "the evidence does not show it" if i == 0 else "fine",
                "verdict": "cannot_assess" if i == 0 else "met",
            }
        ),
    ) as srv:
        unsure = grade_episode(
            prepared, episode.db, episode.record(), judge=_judge(srv, tmp_path, cache_dir=None, max_concurrency=1)
        )
    row = next(c for c in unsure.criteria if c.id == first)
    assert row.verdict == "judge_cannot_assess" and "does not show" in row.evidence
    assert not unsure.valid_for_training and unsure.judge_errors == 0
    assert unsure.model_dump(mode="json")["valid_for_training"] is False
    # Excluded from the reward, not scored 0: the same reward as every judge criterion met minus it.
    graded_primary = [c for c in unsure.criteria if c.graded and c.type.value == "primary"]
    assert all(c.id != first for c in graded_primary)
    assert row.type.value == "primary" and unsure.reward == pytest.approx(ok.reward)
    with MisbehavingOpenAIServer(
        "ok", content_fn=lambda body, i: json.dumps({"reason": "no", "verdict": "unmet" if i == 0 else "met"})
    ) as srv:
        scored = grade_episode(
            prepared, episode.db, episode.record(), judge=_judge(srv, tmp_path, cache_dir=None, max_concurrency=1)
        )
    assert scored.reward < unsure.reward and scored.valid_for_training  # an answer is a score
    console = Console(record=True, width=300)
    console.print(unsure.to_table())
    assert "judge_cannot_assess" in console.export_text()

    with MisbehavingOpenAIServer("always_500") as srv:
        broken = grade_episode(prepared, episode.db, episode.record(), judge=_judge(srv, tmp_path, cache_dir=None))
    assert broken.judge_errors == len(judge_ids) and not broken.valid_for_training
    no_judge = grade_episode(prepared, episode.db, episode.record())
    assert no_judge.valid_for_training  # pending criteria are a scope, not a judge failure


# --- flip tests -----------------------------------------------------------------------------------


def _reply_of(body: dict) -> str:
    return body["messages"][-1]["content"].split("## Final reply\n", 1)[1].split("\n## Statement", 1)[0].strip()


def _sharp_double(reference: str):
    """Answers as a judge that sees every corruption: statements are true of the reference
    reply and mistakes are not; on any other reply, the reverse."""

    def answer(body: dict, _i: int) -> str:
        is_reference = _reply_of(body) == reference.strip()
        is_mistake = "MISTAKE" in body["messages"][-1]["content"].rsplit("## Statement", 1)[1]
        said = "met" if is_reference != is_mistake else "unmet"
        return json.dumps({"reason": "compared with the trail", "verdict": said})

    return answer


def test_flip_tests_count_flips_and_failures(finished, tmp_path):
    prepared, episode, _grade = finished
    case = flip_case(TASK, prepared, episode.record())
    assert case is not None
    assert set(case.targets) == {"drop_ids", "change_amount", "false_claim", "enumeration", "filler"}
    assert all(case.targets[name] for name in ("false_claim", "enumeration", "filler"))  # probes at least
    n_tests = sum(len(v) for v in case.targets.values())
    with MisbehavingOpenAIServer("ok", content_fn=_sharp_double(episode.reply)) as srv:
        sharp = run_flip_tests([case], _judge(srv, tmp_path, cache_dir=None))
    assert sharp.overall.flipped == n_tests and sharp.overall.rate == 1.0 and not sharp.failures
    assert all(s.rate == 1.0 for s in sharp.per_corruption.values())
    assert sum(s.flipped for s in sharp.per_criterion.values()) == n_tests

    # A gullible judge: every statement true, no mistake ever happened. Nothing flips.
    def gullible(body: dict[str, Any], i: int) -> str:
        statement = body["messages"][-1]["content"].rsplit("## Statement", 1)[1]
        return json.dumps({"reason": "looks fine", "verdict": "unmet" if "MISTAKE" in statement else "met"})

    with MisbehavingOpenAIServer("ok", content_fn=gullible) as srv:
        fooled = run_flip_tests([case], _judge(srv, tmp_path, cache_dir=None))
    assert fooled.overall.rate == 0.0 and len(fooled.failures) == n_tests == fooled.overall.not_flipped
    assert {f.corruption for f in fooled.failures} == {n for n, v in case.targets.items() if v}
    assert any(f.probe for f in fooled.failures)

    with MisbehavingOpenAIServer("ok", answer="cannot_assess") as srv:
        unsure = run_flip_tests([case], _judge(srv, tmp_path, cache_dir=None))
    assert unsure.overall.unassessed == n_tests and unsure.overall.rate is None
    doc = json.loads(json.dumps(unsure.model_dump(mode="json")))
    assert set(doc) == {"tasks", "skipped", "overall", "per_corruption", "per_criterion", "failures"}
    assert doc["overall"]["rate"] is None


def test_flip_cases_skip_tasks_without_a_reply(finished):
    prepared, episode, _grade = finished
    silent = EpisodeRecord(task_id=TASK, trail=episode.record().trail, reply=None, changes=[])
    assert flip_case(TASK, prepared, silent) is None
    cases, skipped = collect_flip_cases([TASK])
    assert len(cases) == 1 and skipped == [] and cases[0].context.reply == episode.reply
