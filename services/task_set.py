"""What the service needs of a task set, and the set it has when it is given none.

The services layer knows episodes and worlds, not tasks: the task set is handed to
:func:`supportgym.services.app.create_app` by a layer above (``supportgym.tasks.service`` wires
in the shipped one). A module or object with these four functions will do.
"""

from __future__ import annotations

from typing import Any, Protocol

from supportgym.services.episode import Episode, EpisodeConfig


class TaskSet(Protocol):
    """Opens task episodes, and lists tasks for the web debugger."""

    def open_episode(self, config: EpisodeConfig, episode_id: str | None = None) -> Episode:
        """A new episode of ``config.task_id`` (a bare world when it is None)."""
        ...

    def list_tasks(self) -> list[Any]: ...

    def get_task(self, task_id: str) -> Any: ...

    def prepare_task(self, task_id: str) -> Any: ...


class BareWorlds:
    """The task set of a service given none: bare worlds only; a task id is unknown."""

    @staticmethod
    def open_episode(config: EpisodeConfig, episode_id: str | None = None) -> Episode:
        if config.task_id is not None:
            raise LookupError(f"unknown task {config.task_id!r}: this service was started without a task set")
        return Episode(config, episode_id)

    @staticmethod
    def list_tasks() -> list[Any]:
        return []

    @staticmethod
    def get_task(task_id: str) -> Any:
        raise LookupError(f"unknown task {task_id!r}: this service was started without a task set")

    @staticmethod
    def prepare_task(task_id: str) -> Any:
        raise LookupError(f"unknown task {task_id!r}: this service was started without a task set")
