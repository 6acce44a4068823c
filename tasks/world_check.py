"""The integrity check of a task's world after its setup (``supportgym world check --task``,
tests/tasks/test_task_worlds_consistent.py): the relational invariants on the customers the
setup touched (world_seed/check_scope.py), the column-wise ones on every row."""

from __future__ import annotations

from supportgym.services.episode import EpisodeConfig
from supportgym.tasks.episodes import open_episode
from supportgym.tasks.loader import get_task
from supportgym.world_seed.cache import load_world
from supportgym.world_seed.check import CheckReport, run_checks
from supportgym.world_seed.check_scope import touched_customers


def check_task_world(task_id: str, *, full: bool = False) -> tuple[CheckReport, set[str] | None]:
    """The report, and the customers checked relationally (None: all of them, as with ``full``
    or when the task's world has another schema than its seeded world)."""
    task = get_task(task_id)
    episode = open_episode(EpisodeConfig(task_id=task_id))
    try:
        base = load_world(task.world.seed, task.world.scale).image
        scope = None if full else touched_customers(episode.db.conn, base)
        with episode.db.session() as s:  # "now" is the world's own, from world_meta
            return run_checks(s, customers=scope), scope
    finally:
        episode.close()
