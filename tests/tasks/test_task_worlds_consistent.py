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

from supportgym.services.episode import EpisodeConfig
from supportgym.tasks import get_task, list_tasks, open_episode
from supportgym.world_seed.cache import load_world
from supportgym.world_seed.check import check_world, summarize
from supportgym.world_seed.check_scope import touched_customers

# Each task builds its own world copy, so this is not in the unit tier.
pytestmark = pytest.mark.slow

TASKS = [t.id for t in list_tasks()]
# Setups that touch many customers, move the clock, or write across tables.
WIDE = ["queue_triage-01", "bulk_priority_sweep-01", "refund_settles_wait-01", "sla_breach_exception-01"]


def _violations(task_id: str, *, scoped: bool) -> tuple[list, set[str] | None]:
    task = get_task(task_id)
    episode = open_episode(EpisodeConfig(task_id=task_id))
    try:
        base = load_world(task.world.seed, task.world.scale).image
        scope = touched_customers(episode.db.conn, base)
        with episode.db.session() as s:  # "now" is the world's own, from world_meta
            return check_world(s, customers=scope if scoped else None), scope
    finally:
        episode.close()


@pytest.mark.parametrize("task_id", TASKS)
def test_task_world_passes_world_check(task_id: str) -> None:
    violations, scope = _violations(task_id, scoped=True)
    assert scope is not None, "the task world's schema differs from its seeded world's"
    assert not violations, summarize(violations)


@pytest.mark.parametrize("task_id", [t for t in WIDE if t in TASKS])
def test_scoped_check_equals_the_full_check_on_wide_setups(task_id: str) -> None:
    scoped, scope = _violations(task_id, scoped=True)
    full, _ = _violations(task_id, scoped=False)
    assert scope is not None and [str(v) for v in scoped] == [str(v) for v in full]
