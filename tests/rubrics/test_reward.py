"""The reward formula, pending criteria, perfect, and the Grade's serialisation."""

from __future__ import annotations

import json

import pytest

from supportgym.rubrics.grade import CriterionResult, reward_terms


def _r(type_: str, verdict: str, cid: str = "c") -> CriterionResult:
    return CriterionResult(
        id=cid,
        text="t" * 8,
        category="correctness",
        type=type_,
        verdict=verdict,
        by="program" if verdict in ("met", "unmet") else "judge",
    )


def test_primary_only_is_fraction_met() -> None:
    r, t = reward_terms(
        [_r("primary", "met"), _r("primary", "unmet"), _r("primary", "met"), _r("primary", "met")], 0.0, 0.0
    )
    assert r == pytest.approx(0.75) and t.primary == pytest.approx(0.75)


def test_alpha_beta_terms() -> None:
    rs = [
        _r("primary", "met"),
        _r("primary", "met"),
        _r("extra_credit", "met"),
        _r("extra_credit", "unmet"),
        _r("dodged_bullet", "unmet"),
        _r("dodged_bullet", "met"),
        _r("dodged_bullet", "met"),
        _r("dodged_bullet", "met"),
    ]
    r, t = reward_terms(rs, alpha=0.2, beta=0.4)
    assert t.extra_credit == pytest.approx(0.5) and t.dodged_bullet == pytest.approx(0.25)
    assert r == pytest.approx(1.0 + 0.2 * 0.5 - 0.4 * 0.25)


def test_empty_sets_contribute_zero() -> None:
    assert reward_terms([], 0.5, 0.5)[0] == 0.0
    assert reward_terms([_r("extra_credit", "met")], 0.5, 0.5)[0] == pytest.approx(0.5)
    assert reward_terms([_r("dodged_bullet", "unmet")], 0.5, 0.5)[0] == pytest.approx(-0.5)
    assert reward_terms([_r("primary", "met")], 0.5, 0.5)[0] == pytest.approx(1.0)


def test_pending_and_errors_are_excluded() -> None:
    rs = [_r("primary", "met"), _r("primary", "judge_pending"), _r("dodged_bullet", "judge_error")]
    r, t = reward_terms(rs, 0.1, 0.3)
    assert r == pytest.approx(1.0) and t.dodged_bullet == 0.0


def test_grade_perfect_table_json_and_judge_hook() -> None:
    from rich.console import Console

    from supportgym.rubrics import Verdict, grade_episode
    from supportgym.tasks import list_tasks, run_solution

    tid = list_tasks()[0].id
    episode, grade = run_solution(tid)
    assert grade.perfect and grade.pending_judge > 0 and grade.reward_scope == "program_checked_only"
    data = json.loads(grade.model_dump_json())
    assert {
        "task_id",
        "reward",
        "terms",
        "perfect",
        "per_category",
        "per_type",
        "criteria",
        "mean_criterion_pass_rate",
        "pending_judge",
        "elapsed_ms",
    } <= set(data)
    Console(file=open("/dev/null", "w")).print(grade.to_table())

    class FailingJudge:
        def judge(self, criteria, context):
            assert context["reply"] == episode.reply
            return [Verdict(False, "judge says no") for _ in criteria]

    judged = grade_episode(episode.scenario, episode.db, episode.record(), alpha=0.1, beta=0.3, judge=FailingJudge())
    assert judged.pending_judge == 0 and judged.reward_scope == "all_criteria"
    judge_primary = [c for c in judged.criteria if c.by == "judge" and c.type.value == "primary"]
    assert judge_primary and not judged.perfect and judged.reward < grade.reward

    class BrokenJudge:
        def judge(self, criteria, context):
            raise TimeoutError("down")

    broken = grade_episode(episode.scenario, episode.db, episode.record(), judge=BrokenJudge())
    assert broken.judge_errors == broken.judged_by_program * 0 + len([c for c in broken.criteria if c.by == "judge"])
    assert broken.reward == grade.reward
