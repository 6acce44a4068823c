"""A task's setup edits the seeded world (moves a delivery, opens a ticket...); the world it
leaves must still pass every integrity check, temporal order included: an agent that reads a
payment captured a year before its order was placed is being told a contradictory story."""

from __future__ import annotations

import pytest

from supportgym.services.episode import EpisodeConfig
from supportgym.tasks import list_tasks, open_episode
from supportgym.world_seed.check import check_world, summarize

# Each task builds its own world copy: about a second each, so this is not in the unit tier.
pytestmark = pytest.mark.slow

TASKS = [t.id for t in list_tasks()]


@pytest.mark.parametrize("task_id", TASKS)
def test_task_world_passes_world_check(task_id: str) -> None:
    episode = open_episode(EpisodeConfig(task_id=task_id))
    try:
        with episode.db.session() as s:
            violations = check_world(s)  # "now" is the world's own, from world_meta
    finally:
        episode.close()
    assert not violations, summarize(violations)
