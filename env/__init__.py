"""The Gymnasium environment. Importing this package registers ``SupportGym-v0``::

import gymnasium, supportgym.env
env = gymnasium.make("SupportGym-v0", task_id=..., transport="inprocess")
"""

from __future__ import annotations

import gymnasium

from supportgym.env.errors import (
    EnvironmentFault,
    EpisodeEnded,
    EpisodeLost,
    GradingFault,
    ServerUnavailable,
    ServiceBusy,
    WorldFault,
)

ENV_ID = "SupportGym-v0"

if ENV_ID not in gymnasium.registry:
    gymnasium.register(id=ENV_ID, entry_point="supportgym.env.support_env:SupportEnv")


def __getattr__(name: str):  # lazy: importing the package stays cheap
    if name == "SupportEnv":
        # deferred: SupportEnv loads the task set, the services and the Docker SDK; the errors
        # and ENV_ID of this package stay a cheap import
        from supportgym.env.support_env import SupportEnv

        return SupportEnv
    raise AttributeError(name)


__all__ = [
    "ENV_ID",
    "EnvironmentFault",
    "EpisodeEnded",
    "EpisodeLost",
    "GradingFault",
    "ServerUnavailable",
    "ServiceBusy",
    "SupportEnv",
    "WorldFault",
]
