"""Replaying a scripted solution (the reference or a named wrong trajectory) as a real episode.

The calls go through :class:`supportgym.services.episode.Episode`, the object the environment
and the HTTP service use, so a replay means exactly what an agent's episode means.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from supportgym.tasks.model import Call, Solution
from supportgym.tasks.template import TemplateError, render


def _solution(prepared: Any, which: str | Solution) -> Solution:
    if isinstance(which, Solution):
        return which
    if which == "reference":
        return prepared.reference
    for w in prepared.wrong:
        if w.name == which:
            return w
    names = ", ".join(w.name for w in prepared.wrong)
    raise KeyError(f"task {prepared.id} has no solution {which!r} (reference, {names})")


def play_calls(
    episode: Any, calls: list[Call], results: dict[str, Any], *, skip_unrenderable: bool = False
) -> Iterator[tuple[int, Call, dict[str, Any], Any]]:
    """Step ``episode`` through scripted ``calls``, yielding ``(index, call, rendered arguments,
    step result)``, until the episode ends. ``results`` collects the observation of the latest
    successful call of each tool, for ``{result.<tool>.<path>}`` in later arguments and the reply.
    A call whose arguments name a result that never came raises, or is skipped with
    ``skip_unrenderable`` (a policy improvising around a refused call)."""
    for n, call in enumerate(calls):
        try:
            args = render(call.args, {"result": results})
        except TemplateError as exc:
            if skip_unrenderable:
                continue
            raise RuntimeError(f"{episode.task_id} call {n + 1} ({call.tool}): {exc.message}") from None
        step = episode.step(call.tool, args)
        if step.ok:
            results[call.tool] = step.observation
        yield n, call, args, step
        if step.done:
            return


def run_solution(
    task_id: str,
    which: str | Solution = "reference",
    *,
    alpha: float | None = None,
    beta: float | None = None,
    customer: str | None = "scripted",
) -> tuple[Any, Any]:
    """Run ``which`` ("reference", a wrong trajectory's name, or a Solution) on ``task_id``.

    Returns ``(episode, grade)``: the finished :class:`Episode` (its trail, reply, world) and
    its :class:`supportgym.rubrics.Grade`. ``{result.<tool>.<path>}`` in a call's arguments or
    the reply is the value at ``<path>`` in the result of the latest earlier call of ``<tool>``.

    Conversational tasks: ``message_customer`` calls are answered by the ``customer`` simulator,
    scripted by default so that a replay is exact (None: the task's own ``simulator``).
    """
    from supportgym.rubrics import grade_episode
    from supportgym.services.episode import SUBMIT_TOOL, Episode, EpisodeConfig

    cfg: dict[str, Any] = {"task_id": task_id}
    if alpha is not None:
        cfg["alpha"] = alpha
    if beta is not None:
        cfg["beta"] = beta
    if customer is not None:
        from supportgym.tasks import get_task

        if get_task(task_id).conversation is not None:
            cfg["customer"] = customer
    episode = Episode(EpisodeConfig(**cfg))
    solution = _solution(episode.prepared, which)
    results: dict[str, Any] = {}
    for _played in play_calls(episode, solution.calls, results):
        pass
    if episode.grade is None and solution.reply is not None:
        reply = render(solution.reply, {"result": results})
        episode.step(SUBMIT_TOOL, {"response": reply})
    grade = episode._grade_obj
    if grade is None:
        grade = grade_episode(
            episode.prepared, episode.db, episode.record(), alpha=episode.config.alpha, beta=episode.config.beta,
            mode=episode.config.reward_mode, gate_cap=episode.config.gate_cap,
        )
    return episode, grade
