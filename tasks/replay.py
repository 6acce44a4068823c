"""Stepping a scripted list of calls through a real episode (solutions, the audit's policies).

The calls go through :class:`supportgym.services.episode.Episode`, the object the environment
and the HTTP service use, so a replay means exactly what an agent's episode means.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from supportgym.services.episode import Episode, EpisodeConfig, Scenario, StepResult
from supportgym.tasks.model import Call
from supportgym.tasks.template import TemplateError, render

SCRIPTED_CUSTOMER = "scripted"


def replay_episode(
    task_id: str,
    scenario: Scenario,
    *,
    conversational: bool,
    customer: str | None = SCRIPTED_CUSTOMER,
    **config: Any,
) -> Episode:
    """An episode of a prepared task to replay calls on. A conversational task's customer
    answers from its script by default, so that a replay is exact (``customer=None``: the task's
    own simulator). ``config``: further :class:`EpisodeConfig` fields (alpha, beta)."""
    if conversational and customer is not None:
        config["customer"] = customer
    return Episode(EpisodeConfig(task_id=task_id, **config), scenario=scenario)


def play_calls(
    episode: Episode, calls: list[Call], results: dict[str, Any], *, skip_unrenderable: bool = False
) -> Iterator[tuple[int, Call, dict[str, Any], StepResult]]:
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
