"""The task set: families of tasks in ``tasks/data/*.yaml``, each with its rubric in
``rubrics/data/*.yaml``. See ``tasks/AUTHORING.md``.

Public API: :func:`prepare_task`, :class:`PreparedTask`, :func:`list_tasks`, :func:`get_task`,
:func:`load_task_set`, :func:`broken_families`, :class:`Task`, :class:`TaskFormatError`,
:func:`open_episode`, :func:`run_solution`.
"""

from supportgym.tasks.episodes import open_episode, run_solution
from supportgym.tasks.loader import (
    PreparedTask,
    Problem,
    Task,
    TaskFormatError,
    broken_families,
    clear_caches,
    get_task,
    list_tasks,
    load_task_set,
    prepare_task,
)

__all__ = [
    "PreparedTask",
    "Problem",
    "Task",
    "TaskFormatError",
    "broken_families",
    "clear_caches",
    "get_task",
    "list_tasks",
    "load_task_set",
    "prepare_task",
    "open_episode",
    "run_solution",
]
