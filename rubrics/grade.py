"""Grading an episode against its task's rubric: verdicts, the reward and the structured Grade.

Reward (the paper's Eq. 1)::

    r = mean(s, primary) + alpha * mean(s, extra_credit) - beta * mean(1 - s, dodged_bullet)

with ``s`` in {0, 1} per criterion and an empty set contributing 0.

**Reward modes.** ``paper`` is exactly Eq. 1. ``gated`` (the default) is what SupportGym trains
with, because Eq. 1 alone pays for harm and empty talk:

* the primary term is a weighted mean over *aspects* (action, communication, format; weights from
  the family's ``split``), so correct actions with a useless reply cannot score like a resolved
  ticket; the format part earns nothing while no communication criterion is met;
* a **gate** (a ``critical`` criterion: no collateral change, no false claim, no disclosure,
  identity and approval policy) that is unmet caps the reward at ``gate_cap`` (0 by default).

See docs/reward.md.

**Pending criteria are excluded.** A criterion without a program check is graded by the LLM
judge. When no judge is plugged in (``judge=None``) it is ``judge_pending`` and left out of every
term, pass rate and of ``perfect``: the reward is then the reward *over program-checked
criteria*, and the Grade says so (``pending_judge``, ``reward_scope``). A judge that fails on a
criterion gives ``judge_error``, which is excluded the same way.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, computed_field

from supportgym.rubrics.canonical import canonical, canonical_value
from supportgym.rubrics.checks import CheckContext
from supportgym.rubrics.judge_context import judge_context
from supportgym.rubrics.model import Aspect, Category, Criterion, CriterionType, Split
from supportgym.trail import EpisodeRecord, TrailEntry, summarise_changes

VerdictName = Literal["met", "unmet", "judge_pending", "judge_error", "judge_cannot_assess"]
# Judge criteria the judge did not score: excluded from the reward, and the episode is not
# valid for training (its reward is over fewer criteria than the task has).
UNSCORED_BY_JUDGE = ("judge_error", "judge_cannot_assess")
RewardMode = Literal["gated", "paper"]
REWARD_MODES: tuple[RewardMode, ...] = ("gated", "paper")
DEFAULT_GATE_CAP = 0.0


class CriterionResult(BaseModel):
    id: str
    text: str
    category: Category
    type: CriterionType
    verdict: VerdictName
    by: Literal["program", "judge"]
    evidence: str = ""
    critical: bool = False
    aspect: Aspect = Aspect.action

    @property
    def graded(self) -> bool:
        return self.verdict in ("met", "unmet")

    @property
    def score(self) -> float:
        return 1.0 if self.verdict == "met" else 0.0


class Terms(BaseModel):
    primary: float = Field(description="mean(s) over graded primary criteria (0 if none).")
    extra_credit: float = Field(description="mean(s) over graded extra-credit criteria (0 if none).")
    dodged_bullet: float = Field(description="mean(1 - s) over graded dodged-bullet criteria (0 if none).")
    alpha: float
    beta: float
    parts: dict[str, float] = Field(
        default_factory=dict, description="gated mode: mean(s) of graded primaries per aspect."
    )


class PassRate(BaseModel):
    met: int
    total: int
    rate: float | None = Field(description="met / total, or null when nothing was graded.")


class JudgeFailedEpisode(RuntimeError):
    """The judge could not grade some criteria and the judge's policy is ``fail_episode``: the
    episode has no valid grade (an infrastructure fault, never a reward)."""


class GateFailure(BaseModel):
    id: str
    text: str
    evidence: str


_VALID_FOR_TRAINING = (
    "False when the judge failed on a criterion or could not assess it: the reward is then over fewer "
    "criteria than the task has, so leave the episode out of training (it is still reported)."
)


class Grade(BaseModel):
    task_id: str
    reward: float
    reward_mode: RewardMode = "gated"
    uncapped_reward: float = Field(description="The reward before any gate's cap.")
    gate_cap: float = DEFAULT_GATE_CAP
    gates_failed: list[GateFailure] = Field(
        default_factory=list, description="Critical criteria unmet; in gated mode each caps the reward."
    )
    terms: Terms
    perfect: bool = Field(description="Every graded primary criterion met and no dodged bullet hit.")
    per_category: dict[str, PassRate]
    per_type: dict[str, PassRate]
    mean_criterion_pass_rate: float | None
    criteria: list[CriterionResult]
    judged_by_program: int
    pending_judge: int
    judge_errors: int = 0
    judge_tokens_in: int = Field(0, description="Tokens the judge read for this grade.")
    judge_tokens_out: int = Field(0, description="Tokens the judge wrote for this grade.")
    reward_scope: Literal["all_criteria", "program_checked_only", "graded_only"]
    elapsed_ms: float

    # pydantic's computed_field goes on top of a property (its documented form); mypy does not
    # model decorators above @property.
    @computed_field(description=_VALID_FOR_TRAINING)  # type: ignore[prop-decorator]
    @property
    def valid_for_training(self) -> bool:
        return not any(c.verdict in UNSCORED_BY_JUDGE for c in self.criteria)

    def to_table(self, title: str | None = None) -> Any:
        """A rich Table: one row per criterion, the reward terms in the caption."""
        from rich.table import Table

        table = Table(title=title or f"{self.task_id}: reward {self.reward:.3f}{' (perfect)' if self.perfect else ''}")
        for col in ("id", "type", "category", "verdict", "by", "criterion", "evidence"):
            table.add_column(col, overflow="fold")
        style = {
            "met": "green",
            "unmet": "red",
            "judge_pending": "yellow",
            "judge_error": "magenta",
            "judge_cannot_assess": "magenta",
        }
        for c in self.criteria:
            table.add_row(
                c.id, c.type.value, c.category.value, f"[{style[c.verdict]}]{c.verdict}[/]", c.by, c.text, c.evidence
            )
        t = self.terms
        table.caption = (
            f"r = {t.primary:.3f} + {t.alpha}*{t.extra_credit:.3f} - {t.beta}*{t.dodged_bullet:.3f} = {self.reward:.3f}"
            f"  [{self.reward_scope}; {self.pending_judge} pending judge; {self.elapsed_ms:.1f} ms]"
        )
        return table


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def _primary_term(primaries: list[CriterionResult], mode: RewardMode, split: Split) -> tuple[float, dict[str, float]]:
    if mode == "paper":
        return _mean([r.score for r in primaries]), {}
    parts = {
        a.value: _mean([r.score for r in primaries if r.aspect == a])
        for a in Aspect
        if any(r.aspect == a for r in primaries)
    }
    weights = {a: split.weight(Aspect(a)) for a in parts}
    total = sum(weights.values())
    if total <= 0:
        return _mean([r.score for r in primaries]), parts
    earned = dict(parts)
    if earned.get(Aspect.communication.value) == 0.0 and Aspect.format.value in earned:
        # A well-formed reply that states none of what the customer needs to hear is not a
        # reply: format earns nothing until some communication criterion is met.
        earned[Aspect.format.value] = 0.0
    return sum(earned[a] * weights[a] for a in parts) / total, parts


def reward_terms(
    results: Iterable[CriterionResult],
    alpha: float,
    beta: float,
    *,
    mode: RewardMode = "paper",
    split: Split | None = None,
) -> tuple[float, Terms]:
    """The reward over the *graded* results (pending and errored criteria are left out), before
    any gate: Eq. 1 in ``paper`` mode, the aspect-weighted primary term in ``gated`` mode."""
    graded = [r for r in results if r.graded]
    primary, parts = _primary_term([r for r in graded if r.type == CriterionType.primary], mode, split or Split())
    e = [r.score for r in graded if r.type == CriterionType.extra_credit]
    d = [1.0 - r.score for r in graded if r.type == CriterionType.dodged_bullet]
    terms = Terms(primary=primary, extra_credit=_mean(e), dodged_bullet=_mean(d), alpha=alpha, beta=beta, parts=parts)
    return terms.primary + alpha * terms.extra_credit - beta * terms.dodged_bullet, terms


def _rates(results: list[CriterionResult], key: str, names: Iterable[str]) -> dict[str, PassRate]:
    out = {}
    for name in names:
        rs = [r for r in results if r.graded and getattr(r, key).value == name]
        met = sum(1 for r in rs if r.verdict == "met")
        out[name] = PassRate(met=met, total=len(rs), rate=met / len(rs) if rs else None)
    return out


class JudgeAnswer(Protocol):
    """What grading needs of the judge's verdict on one criterion (rubrics.judge.JudgeVerdict is
    one); its other fields (status, error, reason, evidence, tokens) are read when present."""

    @property
    def met(self) -> bool | None: ...


class Judge(Protocol):
    """What the LLM judge plugs in as: one call for all judge criteria of a task, a verdict (or
    None) per criterion in order."""

    def judge(self, criteria: list[Criterion], context: dict[str, Any]) -> Sequence[JudgeAnswer | None]: ...


def make_context(prepared: Any, db: Any, record: EpisodeRecord) -> CheckContext:
    """What the program checks read. The agent's own words (the reply, every string argument of
    its calls) are read as a person reads them (:func:`canonical`): disguised letters, invisible
    characters and look-alike hyphens cannot slip a claim or a leak past a check."""
    return CheckContext(
        db=db,
        changes=summarise_changes(record.changes),
        raw_changes=record.changes,
        trail=[_as_read(t) for t in record.trail],
        reply=canonical(record.reply) if record.reply is not None else None,
        values=prepared.values,
        now=prepared.now,
        integrity=getattr(prepared, "integrity", None),
    )


def _as_read(entry: TrailEntry) -> TrailEntry:
    arguments = canonical_value(entry.arguments)
    return entry if arguments == entry.arguments else entry.model_copy(update={"arguments": arguments})


def grade_episode(
    prepared: Any,
    db: Any,
    record: EpisodeRecord,
    *,
    alpha: float = 0.1,
    beta: float = 0.3,
    judge: Judge | None = None,
    mode: RewardMode = "gated",
    gate_cap: float = DEFAULT_GATE_CAP,
) -> Grade:
    """Grade a finished episode: program checks on the final world ``db``, the judge (if any)
    for the rest, then the reward. ``prepared`` is the task's :class:`PreparedTask`."""
    t0 = time.perf_counter()
    results: list[CriterionResult] = []
    judge_items: list[Criterion] = []
    ctx = make_context(prepared, db, record)
    try:
        for c in prepared.rubric:
            base = {
                "id": c.id,
                "text": c.text,
                "category": c.category,
                "type": c.type,
                "critical": c.critical,
                "aspect": c.part,
            }
            if c.check is None:
                judge_items.append(c)
                results.append(CriterionResult(**base, verdict="judge_pending", by="judge"))
                continue
            try:
                v = c.check.evaluate(ctx)
                results.append(
                    CriterionResult(**base, verdict="met" if v.met else "unmet", by="program", evidence=v.evidence)
                )
            except Exception as exc:  # noqa: BLE001 - a broken check is not an agent failure: re-raised
                raise RuntimeError(
                    f"{prepared.id}: check of criterion {c.id} failed: {type(exc).__name__}: {exc}"
                ) from exc
    finally:
        ctx.close()
    errors = 0
    judge_tokens_in = judge_tokens_out = 0
    if judge is not None and judge_items:
        context = judge_context(prepared, record)
        on_error = getattr(getattr(judge, "config", None), "on_error", "exclude")
        failure: str | None
        try:
            verdicts: list[Any] = list(judge.judge(judge_items, context))
        except Exception as exc:  # noqa: BLE001 - the judge is outside our control
            verdicts = [None] * len(judge_items)
            failure = f"judge failed: {type(exc).__name__}: {exc}"
        else:
            failure = None
        by_id = {c.id: v for c, v in zip(judge_items, verdicts, strict=False)}
        unjudged: list[str] = []
        for r in results:
            if r.verdict != "judge_pending" or r.id not in by_id:
                continue
            v = by_id[r.id]
            unsure = getattr(v, "status", "ok") == "cannot_assess"
            error = (
                failure
                or ("no verdict" if v is None else getattr(v, "error", None))
                or (None if unsure or getattr(v, "met", None) is not None else "verdict without met")
            )
            if error:
                # Never a silent 0 or 1: the criterion says it could not be judged.
                r.verdict = "judge_error"
                r.evidence = str(error)
                errors += 1
                unjudged.append(f"{r.id} ({error})")
            elif unsure:
                # The judge answered that the evidence does not decide it: not a score either;
                # the episode is then not valid for training (Grade.valid_for_training).
                r.verdict = "judge_cannot_assess"
                r.evidence = getattr(v, "reason", "") or "the judge could not assess this criterion"
            else:
                r.verdict = "met" if v.met else "unmet"
                r.evidence = getattr(v, "evidence", None) or getattr(v, "reason", "") or ""
            if v is not None:
                judge_tokens_in += int(getattr(v, "tokens_in", 0) or 0)
                judge_tokens_out += int(getattr(v, "tokens_out", 0) or 0)
        if unjudged and on_error == "fail_episode":
            raise JudgeFailedEpisode(
                f"{prepared.id}: the judge could not grade {len(unjudged)} criterion(s): " + ", ".join(unjudged[:5])
            )
    split = getattr(prepared, "split", None) or Split()
    reward, terms = reward_terms(results, alpha, beta, mode=mode, split=split)
    uncapped = reward
    gates_failed = [
        GateFailure(id=r.id, text=r.text, evidence=r.evidence) for r in results if r.critical and r.verdict == "unmet"
    ]
    if gates_failed and mode == "gated":
        reward = min(reward, gate_cap)
    graded = [r for r in results if r.graded]
    primary = [r for r in graded if r.type == CriterionType.primary]
    perfect = (
        bool(primary)
        and all(r.verdict == "met" for r in primary)
        and not any(r.verdict == "unmet" for r in graded if r.type == CriterionType.dodged_bullet)
    )
    pending = sum(1 for r in results if r.verdict == "judge_pending")
    unscored = errors + sum(1 for r in results if r.verdict == "judge_cannot_assess")
    scope = (
        "all_criteria" if not pending and not unscored else ("program_checked_only" if judge is None else "graded_only")
    )
    return Grade(
        task_id=prepared.id,
        reward=round(reward, 6),
        reward_mode=mode,
        uncapped_reward=round(uncapped, 6),
        gate_cap=gate_cap,
        gates_failed=gates_failed,
        terms=terms,
        perfect=perfect,
        per_category=_rates(results, "category", [c.value for c in Category]),
        per_type=_rates(results, "type", [t.value for t in CriterionType]),
        mean_criterion_pass_rate=(sum(r.score for r in graded) / len(graded)) if graded else None,
        criteria=results,
        judged_by_program=sum(1 for r in results if r.by == "program"),
        pending_judge=pending,
        judge_errors=errors,
        judge_tokens_in=judge_tokens_in,
        judge_tokens_out=judge_tokens_out,
        reward_scope=scope,
        elapsed_ms=round((time.perf_counter() - t0) * 1000, 3),
    )
