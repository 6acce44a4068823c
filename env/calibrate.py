"""Judge calibration (``supportgym judge calibrate``): does the LLM judge agree with the truth?

Principle 4 of the source paper: a criterion is calibrated when the judge agrees with the author
on a reference response and flips when the response is changed to violate it. Every criterion
with a program check gives free ground truth: replay each task's reference and wrong solutions,
take the program's verdict as the truth, ask the judge the same criterion on the same evidence,
and measure agreement (accuracy, Cohen's kappa, confusion counts) per criterion, per category and
overall. Criteria where the judge disagrees are listed.

The core, :func:`calibrate_items`, works on any iterable of :class:`CalibrationItem`
(criterion, context, truth); :func:`collect_items` builds them from the task set.

The command also runs the flip tests of :mod:`.flip_tests` (deterministic corruptions of each
reference reply that must flip the judge's verdict) and reports their flip rates.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from supportgym.env.llm_agent import select_tasks
from supportgym.rubrics.flip_tests import (
    FlipCase,
    FlipReport,
    flip_case,
    flip_tables,
    run_flip_tests,
)
from supportgym.rubrics.judge import JudgeConfig, JudgeVerdict, LLMJudge
from supportgym.rubrics.judge_context import JudgeContext, judge_context
from supportgym.tasks import get_task, prepare_task, run_solution


@dataclass
class CalibrationItem:
    task_id: str
    solution: str  # "reference" or a wrong solution's name
    criterion: Any  # CriterionLike
    context: JudgeContext
    truth: bool


class Agreement(BaseModel):
    """Confusion counts (judge vs truth) and agreement statistics over some items."""

    tp: int = 0  # truth met, judge met
    tn: int = 0  # truth unmet, judge unmet
    fp: int = 0  # truth unmet, judge met
    fn: int = 0  # truth met, judge unmet
    errors: int = Field(0, description="Items the judge could not grade (judge_error): not in the stats.")
    cannot_assess: int = Field(0, description="Items the judge answered cannot_assess: not in the stats.")

    @property
    def n(self) -> int:
        return self.tp + self.tn + self.fp + self.fn

    @property
    def accuracy(self) -> float | None:
        return (self.tp + self.tn) / self.n if self.n else None

    @property
    def kappa(self) -> float | None:
        """Cohen's kappa. 1.0 when both raters are constant and agree; None when undefined
        (no items, or chance agreement is 1 and the raters disagree)."""
        n = self.n
        if not n:
            return None
        po = (self.tp + self.tn) / n
        judge_yes = (self.tp + self.fp) / n
        truth_yes = (self.tp + self.fn) / n
        pe = judge_yes * truth_yes + (1 - judge_yes) * (1 - truth_yes)
        if pe >= 1.0:
            return 1.0 if po == 1.0 else None
        return (po - pe) / (1 - pe)

    def add(self, truth: bool, judged: bool | None, status: str = "ok") -> None:
        if status == "cannot_assess":
            self.cannot_assess += 1
        elif judged is None:
            self.errors += 1
        elif truth and judged:
            self.tp += 1
        elif truth:
            self.fn += 1
        elif judged:
            self.fp += 1
        else:
            self.tn += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "kappa": self.kappa,
            "tp": self.tp,
            "tn": self.tn,
            "fp": self.fp,
            "fn": self.fn,
            "judge_errors": self.errors,
            "cannot_assess": self.cannot_assess,
        }


class Disagreement(BaseModel):
    task_id: str
    solution: str
    criterion_id: str
    category: str
    truth: bool
    judged: bool | None
    reason: str


class CalibrationReport(BaseModel):
    judge_models: list[str]
    prompt_version: str
    overall: Agreement
    per_category: dict[str, Agreement]
    per_criterion: dict[str, Agreement]  # key: "<task_id>:<criterion_id>"
    disagreements: list[Disagreement]
    tokens_in: int = 0
    tokens_out: int = 0
    items: int = 0
    flips: FlipReport | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "judge_models": self.judge_models,
            "prompt_version": self.prompt_version,
            "items": self.items,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "overall": self.overall.as_dict(),
            "per_category": {k: v.as_dict() for k, v in self.per_category.items()},
            "per_criterion": {k: v.as_dict() for k, v in self.per_criterion.items()},
            "disagreements": [d.model_dump() for d in self.disagreements],
            "flip_tests": self.flips.model_dump(mode="json") if self.flips is not None else None,
        }


def calibrate_items(items: Iterable[CalibrationItem], judge: LLMJudge) -> CalibrationReport:
    """Judge every item (grouped per episode, so one episode's criteria share a call batch)."""
    groups: dict[tuple[str, str], list[CalibrationItem]] = defaultdict(list)
    for it in items:
        groups[(it.task_id, it.solution)].append(it)
    overall = Agreement()
    per_cat: dict[str, Agreement] = defaultdict(Agreement)
    per_crit: dict[str, Agreement] = defaultdict(Agreement)
    disagreements: list[Disagreement] = []
    tin = tout = count = 0
    for (task_id, solution), group in groups.items():
        verdicts: list[JudgeVerdict] = judge.judge([g.criterion for g in group], group[0].context)
        for it, v in zip(group, verdicts, strict=True):  # one verdict per criterion
            count += 1
            tin += v.tokens_in
            tout += v.tokens_out
            cat = str(getattr(it.criterion, "category", ""))
            for agg in (overall, per_cat[cat], per_crit[f"{task_id}:{it.criterion.id}"]):
                agg.add(it.truth, v.met, v.status)
            if v.met is None or v.met != it.truth:
                disagreements.append(
                    Disagreement(
                        task_id=task_id,
                        solution=solution,
                        criterion_id=str(it.criterion.id),
                        category=cat,
                        truth=it.truth,
                        judged=v.met,
                        reason=v.error or (f"cannot_assess: {v.reason}" if v.cannot_assess else v.reason),
                    )
                )
    return CalibrationReport(
        judge_models=list(judge.models),
        prompt_version=judge.config.prompt_version,
        overall=overall,
        per_category=dict(sorted(per_cat.items())),
        per_criterion=dict(sorted(per_crit.items())),
        disagreements=disagreements,
        tokens_in=tin,
        tokens_out=tout,
        items=count,
    )


def collect_items(
    task_ids: Sequence[str], *, solutions: str = "all", criteria: Sequence[str] | None = None
) -> list[CalibrationItem]:
    """Ground truth from the task set: replay each task's reference and wrong solutions
    (``solutions``: ``all``, ``reference``, or comma-separated names; unknown names are skipped
    for a task that lacks them); every program-checked criterion's verdict is a truth.
    ``criteria`` keeps only those criterion ids."""

    items: list[CalibrationItem] = []
    for task_id in task_ids:
        task = get_task(task_id)
        wrong = [w.name for w in task.wrong]
        if solutions == "all":
            names = ["reference", *wrong]
        elif solutions == "reference":
            names = ["reference"]
        else:
            names = [
                n.strip()
                for n in solutions.split(",")
                if n.strip() and (n.strip() == "reference" or n.strip() in wrong)
            ]
        for name in names:
            episode, grade = run_solution(task_id, name)
            try:
                ctx = JudgeContext.coerce(judge_context(prepare_task(task_id), episode.record()))
                rubric = {c.id: c for c in prepare_task(task_id).rubric}
                for r in grade.criteria:
                    if r.by != "program" or r.verdict not in ("met", "unmet"):
                        continue
                    if criteria and r.id not in criteria:
                        continue
                    items.append(
                        CalibrationItem(
                            task_id=task_id,
                            solution=name,
                            criterion=rubric[r.id],
                            context=ctx,
                            truth=r.verdict == "met",
                        )
                    )
            finally:
                episode.close()
    return items


def collect_flip_cases(task_ids: Sequence[str]) -> tuple[list[FlipCase], list[str]]:
    """Flip tests from the task set: replay each task's reference; returns the cases and the
    tasks skipped (no reply)."""

    cases, skipped = [], []
    for task_id in task_ids:
        episode, _grade = run_solution(task_id, "reference")
        try:
            case = flip_case(task_id, prepare_task(task_id), episode.record())
        finally:
            episode.close()
        if case is None:
            skipped.append(task_id)
        else:
            cases.append(case)
    return cases, skipped


def calibrate(task_ids: Sequence[str], judge: LLMJudge, **kwargs: Any) -> CalibrationReport:
    """Calibrate ``judge`` on the program-checked criteria of ``task_ids``."""
    return calibrate_items(collect_items(task_ids, **kwargs), judge)


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def report_tables(report: CalibrationReport) -> list[Any]:
    from rich.table import Table

    def table(title: str, rows: dict[str, Agreement]) -> Table:
        t = Table(title=title)
        for col in ("", "n", "accuracy", "kappa", "tp", "tn", "fp", "fn", "judge errors", "cannot assess"):
            t.add_column(col)
        for name, a in rows.items():
            t.add_row(
                name,
                str(a.n),
                _f(a.accuracy),
                _f(a.kappa),
                str(a.tp),
                str(a.tn),
                str(a.fp),
                str(a.fn),
                str(a.errors),
                str(a.cannot_assess),
            )
        return t

    out = [
        table(
            f"Judge calibration ({', '.join(report.judge_models)}, {report.prompt_version}): overall and per category",
            {"overall": report.overall, **report.per_category},
        ),
        table("Per criterion", report.per_criterion),
    ]
    if report.disagreements:
        d = Table(title=f"Disagreements ({len(report.disagreements)})")
        for col in ("task", "solution", "criterion", "truth", "judge", "reason"):
            d.add_column(col)
        for x in report.disagreements:
            d.add_row(
                x.task_id,
                x.solution,
                x.criterion_id,
                str(x.truth),
                "error" if x.judged is None else str(x.judged),
                x.reason[:100],
            )
        out.append(d)
    return out


def judge_calibrate(
    tasks: str = "",
    as_json: bool = False,
    out: str = "",
    solutions: str = "all",
    judge_model: str = "",
    judge_base_url: str = "",
    judge_api_key: str = "",
    samples: int = 1,
    criteria_per_call: int = 1,
    max_concurrency: int = 4,
    no_cache: bool = False,
    flips: bool = True,
) -> CalibrationReport:
    """``supportgym judge calibrate``: agreement of the LLM judge with program checks.

    ``tasks``: comma-separated task ids or families (default: every task). ``as_json`` prints
    JSON instead of tables; ``out`` also writes the JSON to a file. ``solutions``: ``all``
    (reference and wrong) or ``reference``. ``flips``: also run the flip tests. The judge endpoint: flags, else
    ``SUPPORTGYM_JUDGE_*``, else ``OPENAI_*``."""
    from pathlib import Path

    from rich.console import Console

    overrides: dict[str, Any] = {
        "samples": samples,
        "criteria_per_call": criteria_per_call,
        "max_concurrency": max_concurrency,
    }
    if no_cache:
        overrides["cache_dir"] = None
    cfg = JudgeConfig.from_env(
        base_url=judge_base_url or None, model=judge_model or None, api_key=judge_api_key or None, **overrides
    )
    task_ids = select_tasks(tasks)
    with LLMJudge(cfg) as judge:
        report = calibrate(task_ids, judge, solutions=solutions)
        if flips:
            cases, skipped = collect_flip_cases(task_ids)
            report.flips = run_flip_tests(cases, judge, skipped)
    doc = report.to_json()
    if out:
        Path(out).write_text(json.dumps(doc, indent=2), encoding="utf-8")
    console = Console()
    if as_json:
        console.print_json(json.dumps(doc))
    else:
        for t in report_tables(report) + (flip_tables(report.flips) if report.flips is not None else []):
            console.print(t)
    return report
