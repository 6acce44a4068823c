"""Failures of the environment itself, as typed exceptions a rollout worker can catch and mask.

None of these is the agent's fault, so none may become a reward: a worker catches
:class:`EnvironmentFault`, drops (masks) the episode and starts another. Agent mistakes are never
exceptions; they come back as error observations.
"""

from __future__ import annotations


class EnvironmentFault(RuntimeError):
    """Base class: the environment (not the policy) failed; mask the episode, do not train on it."""


class ServerUnavailable(EnvironmentFault):
    """The HTTP service could not be reached, dropped the connection or timed out."""


class ServiceBusy(EnvironmentFault):
    """The service is at its live-episode limit (HTTP 429); retry later."""


class EpisodeLost(EnvironmentFault):
    """The service no longer knows the episode (reaped when idle, or the server restarted)."""


class WorldFault(EnvironmentFault):
    """A tool or the world database failed (wraps ``supportgym.services.tools.WorldFault``)."""


class GradingFault(EnvironmentFault):
    """The rubric grader failed at the end of the episode."""


class EpisodeEnded(RuntimeError):
    """``step`` was called after the episode ended, or before ``reset``: a caller error."""


__all__ = [
    "EnvironmentFault",
    "EpisodeEnded",
    "EpisodeLost",
    "GradingFault",
    "ServerUnavailable",
    "ServiceBusy",
    "WorldFault",
]
