"""Episodes of tasks: the one place a task becomes a running :class:`Episode`.

The services layer runs episodes of anything that fulfils its :class:`Scenario` contract; a
prepared task (:class:`supportgym.tasks.PreparedTask`) does. Everything above this layer (the
Gymnasium env, the HTTP service, the debugger) opens task episodes here.
"""

from __future__ import annotations

from typing import Any

from supportgym.rubrics import Grade
from supportgym.services.episode import SUBMIT_TOOL, Episode, EpisodeConfig
from supportgym.tasks.loader import PreparedTask, prepare_task
from supportgym.tasks.model import Solution
from supportgym.tasks.replay import play_calls, replay_episode
from supportgym.tasks.template import render


def open_episode(config: EpisodeConfig, episode_id: str | None = None, *, customer: Any = None) -> Episode:
    """A new episode of ``config.task_id`` (a bare world when it is None).

    ``customer`` replaces a conversational task's simulated customer (tests, custom simulators).
    """
    scenario = prepare_task(config.task_id) if config.task_id is not None else None
    return Episode(config, episode_id, scenario=scenario, customer=customer)


def _solution(prepared: PreparedTask, which: str | Solution) -> Solution:
    if isinstance(which, Solution):
        return which
    if which == "reference":
        return prepared.reference
    for w in prepared.wrong:
        if w.name == which:
            return w
    names = ", ".join(w.name for w in prepared.wrong)
    raise KeyError(f"task {prepared.id} has no solution {which!r} (reference, {names})")


def run_solution(
    task_id: str,
    which: str | Solution = "reference",
    *,
    alpha: float | None = None,
    beta: float | None = None,
    customer: str | None = "scripted",
) -> tuple[Episode, Grade]:
    """Run ``which`` ("reference", a wrong trajectory's name, or a Solution) on ``task_id``.

    Returns ``(episode, grade)``: the finished :class:`Episode` (its trail, reply, world) and
    its :class:`supportgym.rubrics.Grade`. ``{result.<tool>.<path>}`` in a call's arguments or
    the reply is the value at ``<path>`` in the result of the latest earlier call of ``<tool>``.

    Conversational tasks: ``message_customer`` calls are answered by the ``customer`` simulator,
    scripted by default so that a replay is exact (None: the task's own ``simulator``).
    """
    config: dict[str, Any] = {}
    if alpha is not None:
        config["alpha"] = alpha
    if beta is not None:
        config["beta"] = beta
    prepared = prepare_task(task_id)
    episode = replay_episode(
        task_id, prepared, conversational=prepared.conversation is not None, customer=customer, **config
    )
    solution = _solution(prepared, which)
    results: dict[str, Any] = {}
    for _played in play_calls(episode, solution.calls, results):
        pass
    if episode.grade is None and solution.reply is not None:
        reply = render(solution.reply, {"result": results})
        episode.step(SUBMIT_TOOL, {"response": reply})
    grade = episode.grade_object
    if grade is None:  # the solution ran out of steps before its reply: grade where it stopped
        grade = prepared.grade(episode.db, episode.record(), episode.config)
    # The episode was graded by the task (PreparedTask.grade), so its grade is a rubric Grade.
    assert isinstance(grade, Grade)
    return episode, grade
