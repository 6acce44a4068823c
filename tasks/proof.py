"""Proving a task: what every task, hand-written or generated, must show before it is offered.

* its reference solution runs without a failed call, submits, and is perfect with reward >= 1.0;
* each wrong trajectory fails exactly the program-checked criteria it declares, scores below
  1.0 and no more than its ceiling;
* the reward-integrity audit (``supportgym.tasks.audit``) finds no cheap policy that pays.

``tests/tasks/test_shipped_tasks.py`` asserts the same of the shipped tasks one by one;
:func:`prove_task` gathers it for the generator, which has to decide per candidate.
"""

from __future__ import annotations

from supportgym.tasks.audit import run_audit, wrong_ceiling
from supportgym.tasks.episodes import run_solution
from supportgym.tasks.loader import prepare_task


def reference_problems(task_id: str) -> list[str]:
    episode, grade = run_solution(task_id, "reference")
    problems = [f"reference call {t.step} ({t.name}) failed" for t in episode.trail if not t.ok]
    unmet = [c.id for c in grade.criteria if c.verdict == "unmet"]
    if not grade.perfect:
        problems.append(f"reference is not perfect (unmet: {', '.join(unmet)})")
    if grade.reward < 1.0:
        problems.append(f"reference reward {grade.reward:.3f} < 1.0")
    if episode.status.value != "submitted":
        problems.append(f"reference ended {episode.status.value}, not submitted")
    return problems


def wrong_problems(task_id: str) -> list[str]:
    problems = []
    for wrong in prepare_task(task_id).wrong:
        _episode, grade = run_solution(task_id, wrong.name)
        failed = {c.id for c in grade.criteria if c.by == "program" and c.verdict == "unmet"}
        declared = set(wrong.fails)
        if failed != declared:
            problems.append(
                f"wrong {wrong.name}: fails {sorted(failed - declared)} it does not declare, "
                f"meets {sorted(declared - failed)} it declares failing"
            )
        ceiling = wrong_ceiling(wrong.ceiling, [g.id for g in grade.gates_failed])
        if grade.reward > ceiling or grade.reward >= 1.0:
            problems.append(f"wrong {wrong.name}: reward {grade.reward:.3f} above its ceiling {ceiling}")
    return problems


def prove_task(task_id: str, *, audit: bool = True) -> list[str]:
    """Every reason ``task_id`` cannot be offered; empty when it is proven."""
    problems = reference_problems(task_id)
    if problems:
        return problems  # the wrong trajectories and the audit mean nothing without a reference
    problems += wrong_problems(task_id)
    if audit and not problems:
        problems += [f"audit: {v}" for v in run_audit([task_id]).violations]
    return problems
