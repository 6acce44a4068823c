"""Judge calibration: the statistics, ground truth from the task set, the command."""

from __future__ import annotations

import json

import pytest

from supportgym.env.calibrate import Agreement, calibrate_items, collect_items, judge_calibrate
from supportgym.rubrics.judge import JudgeConfig, LLMJudge
from tests.judge.misbehaving_server import MisbehavingOpenAIServer


def test_agreement_statistics():
    a = Agreement()
    for truth, judged in [(True, True)] * 4 + [(False, False)] * 3 + [(True, False), (False, True), (True, None)]:
        a.add(truth, judged)
    assert (a.tp, a.tn, a.fp, a.fn, a.errors, a.n) == (4, 3, 1, 1, 1, 9)
    assert a.accuracy == pytest.approx(7 / 9)
    # po = 7/9; judge yes 5/9, truth yes 5/9 -> pe = (25 + 16) / 81
    pe = 41 / 81
    assert a.kappa == pytest.approx((7 / 9 - pe) / (1 - pe))
    const = Agreement(tp=5)
    assert const.kappa == 1.0 and Agreement().kappa is None and Agreement().accuracy is None
    assert Agreement(tp=2, fp=2).kappa == 0.0  # a judge that always says "met"


def _task_with_wrong() -> str:
    from supportgym.tasks import list_tasks

    return next(t.id for t in list_tasks() if t.wrong)


def test_ground_truth_flips_between_reference_and_wrong():
    items = collect_items([_task_with_wrong()])
    sols = {i.solution for i in items}
    assert "reference" in sols and len(sols) >= 2
    assert all(i.context.trail for i in items)
    # A wrong solution fails at least one criterion the reference meets: the truth flips.
    ref = {i.criterion.id: i.truth for i in items if i.solution == "reference"}
    assert any(ref.get(i.criterion.id) and not i.truth for i in items if i.solution != "reference")
    assert all(i.criterion.check is not None for i in items)


def test_calibrate_with_an_always_met_judge(tmp_path):
    items = collect_items([_task_with_wrong()])
    with MisbehavingOpenAIServer("ok", met=True) as srv:
        judge = LLMJudge(JudgeConfig(base_url=srv.base_url, model="double", cache_dir=tmp_path))
        report = calibrate_items(items, judge)
    # The double answers "met" to every statement; dodged bullets are asked as the mistake, so
    # for them "met" means the bullet was hit. An always-yes judge cannot pay on both kinds.
    judged = [str(i.criterion.type) != "dodged_bullet" for i in items]
    truths = [i.truth for i in items]
    assert any(judged) and not all(judged)
    o = report.overall
    assert o.n == len(items) == report.items
    pairs = list(zip(truths, judged, strict=True))
    assert o.tp == sum(t and j for t, j in pairs) and o.fp == sum(j and not t for t, j in pairs)
    assert o.fn == sum(t and not j for t, j in pairs)
    assert o.accuracy == pytest.approx(sum(t == j for t, j in pairs) / len(truths))
    assert len(report.disagreements) == o.fp + o.fn
    assert all(d.judged == (d.truth is False) for d in report.disagreements)
    assert set(report.per_category) <= {"completeness", "correctness", "constraint", "format"}
    assert sum(a.n for a in report.per_criterion.values()) == o.n
    doc = report.to_json()
    json.dumps(doc)
    assert doc["overall"]["tp"] == o.tp and doc["tokens_in"] == 100 * len(items)


def test_judge_errors_are_counted_apart(tmp_path):
    items = collect_items([_task_with_wrong()], solutions="reference")[:2]
    with MisbehavingOpenAIServer("always_500") as srv:
        judge = LLMJudge(JudgeConfig(base_url=srv.base_url, model="double", cache_dir=tmp_path, max_retries=0))
        report = calibrate_items(items, judge)
    assert report.overall.n == 0 and report.overall.errors == 2
    assert all(d.judged is None and "judge_error" in d.reason for d in report.disagreements)


def test_command_prints_json(tmp_path, monkeypatch, capsys):
    task = _task_with_wrong()
    monkeypatch.setenv("SUPPORTGYM_CACHE", str(tmp_path))
    with MisbehavingOpenAIServer("ok", met=False) as srv:
        report = judge_calibrate(
            tasks=task,
            as_json=True,
            out=str(tmp_path / "cal.json"),
            judge_model="double",
            judge_base_url=srv.base_url,
            judge_api_key="k",
        )
        judge_calibrate(tasks=task, judge_model="double", judge_base_url=srv.base_url)  # tables; cached
    printed = capsys.readouterr().out
    assert '"overall"' in printed and "Judge calibration" in printed and "Disagreements" in printed
    saved = json.loads((tmp_path / "cal.json").read_text())
    # An always-"unmet" judge: unmet on every criterion, except dodged bullets (asked as the
    # mistake, "unmet" means avoided): those are met.
    assert saved["overall"] == json.loads(json.dumps(report.overall.as_dict()))
    items = collect_items([task])
    dodged = [str(i.criterion.type) == "dodged_bullet" for i in items]
    assert saved["overall"]["tp"] == sum(i.truth and d for i, d in zip(items, dodged, strict=True))
    assert saved["overall"]["tn"] == sum(not i.truth and not d for i, d in zip(items, dodged, strict=True))
    assert "Flip tests" in printed and saved["flip_tests"]["tasks"] == 1
    assert set(saved["flip_tests"]["per_corruption"]) <= {
        "drop_ids",
        "change_amount",
        "false_claim",
        "enumeration",
        "filler",
    }
    assert (tmp_path / "judge").is_dir()


@pytest.mark.llm
@pytest.mark.slow
def test_calibrate_with_the_real_model(llm_server, tmp_path):
    from supportgym.tasks import get_task

    task = _task_with_wrong()
    wrong = get_task(task).wrong[0]
    # One criterion whose truth flips between the reference and a wrong solution: two calls.
    items = collect_items([task], criteria=wrong.fails[:1], solutions=f"reference,{wrong.name}")
    assert sorted(i.truth for i in items) == [False, True]
    # timeout: a ~3.3k-token prompt took minutes on the shared 2-core machine (load average ~11).
    judge = LLMJudge(
        JudgeConfig(
            base_url=llm_server.base_url,
            model=llm_server.model,
            response_format="json_object",
            cache_dir=tmp_path,
            max_concurrency=1,
            timeout_s=600,
            max_retries=0,
            parse_retries=0,
            max_evidence_chars=4000,
        )
    )
    report = calibrate_items(items, judge)
    o = report.overall
    assert report.items == o.n + o.errors + o.cannot_assess == 2
    # Each item is a verdict, a cannot_assess answer or an explicit judge error (the tiny model
    # may ramble past max_tokens); the last two are listed as disagreements, never scored.
    assert o.accuracy is None or 0.0 <= o.accuracy <= 1.0
    assert report.tokens_in > 0 and len(report.disagreements) == o.fp + o.fn + o.errors + o.cannot_assess
    json.dumps(report.to_json())
    print(
        f"\nreal calibration: {report.items} items, accuracy {o.accuracy}, kappa {o.kappa}, errors {o.errors}, "
        f"cannot_assess {o.cannot_assess} (SmolLM2-135M: not a quality figure)"
    )
