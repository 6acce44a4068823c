"""How grade_episode uses a judge: verdicts, errors (never a silent 0 or 1), policy, tokens.

The judge here is a named test double (``ScriptedJudgeDouble``): the real LLM judge is tested
against a real model in tests/judge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from supportgym.rubrics import grade_episode
from supportgym.rubrics.grade import JudgeFailedEpisode
from supportgym.tasks import prepare_task, run_solution

TASK = "refund_within_window-01"


@dataclass
class _Verdict:
    criterion_id: str
    met: bool | None
    reason: str
    error: str | None = None
    tokens_in: int = 100
    tokens_out: int = 10


@dataclass
class _Config:
    on_error: str = "exclude"


class ScriptedJudgeDouble:
    """Answers every criterion the same way, or fails on the ones named in ``fail``."""

    def __init__(self, met: bool, fail: set[str] | None = None, on_error: str = "exclude") -> None:
        self.met = met
        self.fail = fail or set()
        self.config = _Config(on_error)
        self.seen: list[str] = []

    def judge(self, criteria: list[Any], context: Any) -> list[_Verdict]:
        self.seen = [c.id for c in criteria]
        return [
            _Verdict(c.id, None, "", error="HTTP 500 after 3 attempts")
            if c.id in self.fail
            else _Verdict(c.id, self.met, "looks right" if self.met else "missing")
            for c in criteria
        ]


@pytest.fixture(scope="module")
def finished():
    episode, grade = run_solution(TASK, "reference")
    yield prepare_task(TASK), episode, grade
    episode.close()


def _judge_ids(grade) -> list[str]:
    return [c.id for c in grade.criteria if c.by == "judge"]


def test_without_judge_the_judge_criteria_are_pending(finished):
    _prepared, _episode, grade = finished
    assert grade.pending_judge == len(_judge_ids(grade)) > 0
    assert grade.reward_scope == "program_checked_only"


def test_judge_verdicts_count_and_tokens_are_reported(finished):
    prepared, episode, base = finished
    judge = ScriptedJudgeDouble(met=False)
    grade = grade_episode(prepared, episode.db, episode.record(), judge=judge)
    assert judge.seen == _judge_ids(base)
    assert grade.pending_judge == 0 and grade.reward_scope == "all_criteria"
    assert {c.verdict for c in grade.criteria if c.by == "judge"} == {"unmet"}
    assert grade.judge_tokens_in == 100 * len(judge.seen)
    passing = grade_episode(prepared, episode.db, episode.record(), judge=ScriptedJudgeDouble(met=True))
    assert passing.mean_criterion_pass_rate > grade.mean_criterion_pass_rate


def test_judge_error_is_marked_not_scored(finished):
    prepared, episode, base = finished
    failing = set(_judge_ids(base)[:1])
    grade = grade_episode(prepared, episode.db, episode.record(), judge=ScriptedJudgeDouble(True, failing))
    errored = [c for c in grade.criteria if c.verdict == "judge_error"]
    assert [c.id for c in errored] == sorted(failing) and "HTTP 500" in errored[0].evidence
    assert grade.judge_errors == 1 and grade.reward_scope == "graded_only"
    everything_met = grade_episode(prepared, episode.db, episode.record(), judge=ScriptedJudgeDouble(True))
    # Excluded, not counted as 0: the reward equals the all-met reward over the rest.
    assert grade.reward == pytest.approx(everything_met.reward)


def test_fail_episode_policy_raises(finished):
    prepared, episode, base = finished
    judge = ScriptedJudgeDouble(True, set(_judge_ids(base)[:1]), on_error="fail_episode")
    with pytest.raises(JudgeFailedEpisode):
        grade_episode(prepared, episode.db, episode.record(), judge=judge)
