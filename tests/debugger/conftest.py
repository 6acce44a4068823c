from __future__ import annotations

from pathlib import Path

import pytest

from supportgym.trajectory import Trajectory, write_jsonl


@pytest.fixture(scope="session")
def task_id() -> str:
    from supportgym.tasks import list_tasks

    ids = [t.id for t in list_tasks()]  # a task set that does not load fails here, visibly
    assert ids, "the task set is empty"
    return ids[0]


def solution_trajectory(task_id: str, which: str = "reference") -> Trajectory:
    from supportgym.tasks import run_solution

    episode, _grade = run_solution(task_id, which)
    try:
        return episode.to_trajectory(agent=which if which == "reference" else f"wrong:{which}")
    finally:
        episode.close()


@pytest.fixture(scope="session")
def reference_file(task_id: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("traj") / "reference.jsonl"
    write_jsonl(path, [solution_trajectory(task_id)])
    return path


@pytest.fixture(scope="session")
def wrong_file(task_id: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from supportgym.tasks import get_task

    wrong = get_task(task_id).wrong
    if not wrong:
        pytest.skip(f"{task_id} has no wrong solution")
    path = tmp_path_factory.mktemp("traj") / "wrong.jsonl"
    write_jsonl(path, [solution_trajectory(task_id, wrong[0].name)])
    return path
