"""Every shipped task, replayed through the real Episode: the reference is perfect, and each
wrong trajectory fails exactly the program-checked criteria it declares. Parametrised over
list_tasks(), so a new family is tested as soon as its files exist."""

from __future__ import annotations

import pytest

from supportgym.tasks import list_tasks, prepare_task, run_solution
from supportgym.tasks.audit import wrong_ceiling


def _tier(task_id: str) -> tuple[pytest.MarkDecorator, ...]:
    """The first variant of each family runs in the unit tier (make test-fast) as a smoke test;
    the other variants, minutes of replays on 2 cores, run with the full suite."""
    return () if task_id.endswith("-01") else (pytest.mark.slow,)


TASK_IDS = [t.id for t in list_tasks()]
TASKS = [pytest.param(t, marks=_tier(t)) for t in TASK_IDS]
WRONG = [pytest.param(t.id, w.name, marks=_tier(t.id)) for t in list_tasks() for w in t.wrong]


@pytest.mark.parametrize("task_id", TASKS)
def test_reference_is_perfect(task_id: str) -> None:
    episode, grade = run_solution(task_id, "reference")
    failed_calls = [(t.step, t.name, t.result) for t in episode.trail if not t.ok]
    assert not failed_calls, f"reference calls failed: {failed_calls}"
    unmet = [(c.id, c.evidence) for c in grade.criteria if c.verdict == "unmet"]
    assert grade.perfect, f"unmet: {unmet}"
    assert grade.reward >= 1.0
    assert episode.status.value == "submitted"


@pytest.mark.parametrize(("task_id", "wrong"), WRONG)
def test_wrong_trajectory_fails_exactly_its_criteria(task_id: str, wrong: str) -> None:
    prepared = prepare_task(task_id)
    declared = next(w for w in prepared.wrong if w.name == wrong)
    _episode, grade = run_solution(task_id, wrong)
    failed = {c.id for c in grade.criteria if c.by == "program" and c.verdict == "unmet"}
    expected = set(declared.fails)
    assert failed == expected, (
        f"unexpected failures: {sorted(failed - expected)}; expected but met: {sorted(expected - failed)}"
    )
    assert not grade.perfect or not any(prepared.criterion(f).type.value == "primary" for f in expected)
    # A wrong trajectory never scores like a right one, and one that trips a gate (harm, a false
    # claim, a disclosure, a skipped check) scores no more than its ceiling (0.2 by default).
    gates = [g.id for g in grade.gates_failed]
    ceiling = wrong_ceiling(declared.ceiling, gates)
    assert grade.reward <= ceiling, f"reward {grade.reward} above ceiling {ceiling} (gates failed: {gates})"
    assert grade.reward < 1.0


def test_task_set_shape() -> None:
    tasks = list_tasks()
    for t in tasks:
        assert 10 <= len(prepare_task(t.id).rubric) <= 40, t.id
        assert t.wrong, f"{t.id} has no wrong trajectory"
    fams = {t.family for t in tasks}
    assert len(tasks) >= 5 * len(fams)


def test_prepare_is_cached_and_image_restores() -> None:
    from supportgym.db import WorldDB

    tid = TASK_IDS[0]
    a = prepare_task(tid)
    assert prepare_task(tid) is a
    db = WorldDB.from_image(a.image)
    try:
        assert db.conn.execute("SELECT count(*) FROM orders").fetchone()[0] > 0
    finally:
        db.close()
