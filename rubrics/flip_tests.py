"""Flip tests of the LLM judge: does its verdict flip when the reply is corrupted?

For each task the reference solution is replayed, and its reply is corrupted in each way of
:mod:`.corruptions` (drop the ids, change the amounts, add a false claim, add an enumeration,
pad with filler). The judge is asked the criteria each corruption targets, on the reference
evidence and on the same evidence with the corrupted reply. A test *flips* when the judge says
met on the reference and not met on the corruption (for a dodged bullet: avoided, then hit).

Tests where the judge already says "not met" on the reference are counted apart
(``baseline_unmet``: the judge disagrees with the reference, which calibration reports), and
so are tests where either answer was a judge error or cannot_assess (``unassessed``). The flip
rate is ``flipped / (flipped + not_flipped)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, computed_field

from supportgym.rubrics.corruptions import CORRUPTIONS, PROBES, Corruption, targets
from supportgym.rubrics.judge import JudgeVerdict, LLMJudge
from supportgym.rubrics.judge_context import JudgeContext, judge_context

Outcome = Literal["flipped", "not_flipped", "baseline_unmet", "unassessed"]


@dataclass
class FlipCase:
    """One task's reference evidence and the criteria each corruption must flip."""

    task_id: str
    context: JudgeContext
    corrupted: dict[str, str]  # corruption name -> corrupted reply
    targets: dict[str, list[Any]]  # corruption name -> criteria


class FlipResult(BaseModel):
    task_id: str
    corruption: str
    criterion_id: str
    probe: bool
    baseline: str  # met | unmet | cannot_assess | error
    corrupted: str
    outcome: Outcome
    reason: str = ""


class FlipStats(BaseModel):
    flipped: int = 0
    not_flipped: int = 0
    baseline_unmet: int = 0
    unassessed: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rate(self) -> float | None:
        """Flip rate over the tests whose reference verdict was met (None when there are none)."""
        n = self.flipped + self.not_flipped
        return self.flipped / n if n else None

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


class FlipReport(BaseModel):
    tasks: int
    skipped: list[str]  # tasks without a reference reply
    overall: FlipStats
    per_corruption: dict[str, FlipStats]
    per_criterion: dict[str, FlipStats]  # key: "<task_id>:<criterion_id>"
    failures: list[FlipResult]  # not flipped: the judge can be gamed this way


def flip_case(
    task_id: str, prepared: Any, record: Any, corruptions: Sequence[Corruption] = CORRUPTIONS
) -> FlipCase | None:
    """The flip tests of one finished reference episode, or None when it has no reply."""
    reply = record.reply
    if not reply or not reply.strip():
        return None
    ctx = JudgeContext.coerce(judge_context(prepared, record))
    rubric = list(prepared.rubric)
    return FlipCase(
        task_id=task_id,
        context=ctx,
        corrupted={c.name: c.apply(reply) for c in corruptions},
        targets={c.name: targets(c, rubric, reply) for c in corruptions},
    )


def _word(v: JudgeVerdict) -> str:
    if v.status == "ok":
        return "met" if v.met else "unmet"
    return v.status


def classify(baseline: JudgeVerdict, corrupted: JudgeVerdict) -> Outcome:
    if baseline.status != "ok" or corrupted.status != "ok":
        return "unassessed"
    if not baseline.met:
        return "baseline_unmet"
    return "not_flipped" if corrupted.met else "flipped"


def run_flip_tests(cases: Iterable[FlipCase], judge: LLMJudge, skipped: Sequence[str] = ()) -> FlipReport:
    overall = FlipStats()
    per_corruption: dict[str, FlipStats] = defaultdict(FlipStats)
    per_criterion: dict[str, FlipStats] = defaultdict(FlipStats)
    failures: list[FlipResult] = []
    probe_ids = {p.id for p in PROBES.values()}
    n_tasks = 0
    for case in cases:
        n_tasks += 1
        # Each criterion once on the reference evidence (the judge caches it anyway).
        unique = {str(c.id): c for crits in case.targets.values() for c in crits}
        base = dict(zip(unique, judge.judge(list(unique.values()), case.context), strict=True))
        for name, crits in case.targets.items():
            if not crits:
                continue
            after = judge.judge(crits, case.context.with_reply(case.corrupted[name]))
            for c, v in zip(crits, after, strict=True):
                b = base[str(c.id)]
                outcome = classify(b, v)
                for stats in (overall, per_corruption[name], per_criterion[f"{case.task_id}:{c.id}"]):
                    stats.add(outcome)
                if outcome == "not_flipped":
                    failures.append(
                        FlipResult(
                            task_id=case.task_id,
                            corruption=name,
                            criterion_id=str(c.id),
                            probe=str(c.id) in probe_ids,
                            baseline=_word(b),
                            corrupted=_word(v),
                            outcome=outcome,
                            reason=v.reason,
                        )
                    )
    return FlipReport(
        tasks=n_tasks,
        skipped=list(skipped),
        overall=overall,
        per_corruption={c.name: per_corruption[c.name] for c in CORRUPTIONS if c.name in per_corruption},
        per_criterion=dict(sorted(per_criterion.items())),
        failures=failures,
    )


def flip_tables(report: FlipReport) -> list[Any]:
    from rich.table import Table

    def table(title: str, rows: dict[str, FlipStats]) -> Table:
        t = Table(title=title)
        for col in ("", "flip rate", "flipped", "not flipped", "baseline unmet", "unassessed"):
            t.add_column(col)
        for name, s in rows.items():
            t.add_row(
                name,
                "-" if s.rate is None else f"{s.rate:.3f}",
                str(s.flipped),
                str(s.not_flipped),
                str(s.baseline_unmet),
                str(s.unassessed),
            )
        return t

    out = [
        table(
            f"Flip tests over {report.tasks} task(s): per corruption",
            {"overall": report.overall, **report.per_corruption},
        ),
        table("Flip tests per criterion", report.per_criterion),
    ]
    if report.failures:
        f = Table(title=f"Not flipped ({len(report.failures)}): the judge can be gamed this way")
        for col in ("task", "corruption", "criterion", "reason"):
            f.add_column(col)
        for x in report.failures:
            f.add_row(x.task_id, x.corruption, x.criterion_id + (" (probe)" if x.probe else ""), x.reason[:100])
        out.append(f)
    return out
