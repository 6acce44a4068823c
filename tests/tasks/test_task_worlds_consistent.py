"""A task's setup edits the seeded world (moves a delivery, opens a ticket...); the world it
leaves must still pass every integrity check, temporal order included: an agent that reads a
payment captured a year before its order was placed is being told a contradictory story.

The seeded worlds themselves pass the full check (tests/world); here the relational invariants
are checked on the customers the setup touched (world_seed/check_scope.py: a violation needs a
changed row), the column-wise ones on every row. That the scoped check finds what the full one
finds is tested on every corruption (tests/world/test_world_corruption.py) and on the task
worlds below whose setups change the most."""

from __future__ import annotations

import pytest

from supportgym.tasks import list_tasks
from supportgym.tasks.world_check import check_task_world
from supportgym.world_seed.check import summarize

# Each task builds its own world copy, so this is not in the unit tier.
pytestmark = pytest.mark.slow

TASKS = [t.id for t in list_tasks()]
# Setups that touch many customers, move the clock, or write across tables.
WIDE = ["queue_triage-01", "bulk_priority_sweep-01", "refund_settles_wait-01", "sla_breach_exception-01"]


@pytest.mark.parametrize("task_id", TASKS)
def test_task_world_passes_world_check(task_id: str) -> None:
    report, scope = check_task_world(task_id)
    violations = report.violations
    assert scope is not None, "the task world's schema differs from its seeded world's"
    assert not violations, summarize(violations)


@pytest.mark.parametrize("task_id", [t for t in WIDE if t in TASKS])
def test_scoped_check_equals_the_full_check_on_wide_setups(task_id: str) -> None:
    scoped, scope = check_task_world(task_id)
    full, _ = check_task_world(task_id, full=True)
    assert scope is not None and [str(v) for v in scoped.violations] == [str(v) for v in full.violations]
