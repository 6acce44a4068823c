"""What a client may ask for when it creates an episode (HTTP or MCP).

Seeds, scales and step budgets are bounded by the service's allow-lists for anyone but the
operator, because each new world costs CPU, memory and disk, and a step budget is a promise of
work. Asking for the LLM judge where none is configured is refused at once rather than at submit.
"""

from __future__ import annotations

import os

from supportgym.services.access import Caller
from supportgym.services.episode import EpisodeConfig
from supportgym.services.manager import ServiceError
from supportgym.services.settings import Settings

JUDGE_MODEL_ENV = "SUPPORTGYM_JUDGE_MODEL"


def judge_configured() -> bool:
    return bool(os.environ.get(JUDGE_MODEL_ENV))


def admit(config: EpisodeConfig, settings: Settings, caller: Caller) -> None:
    """ServiceError (400 or 403, naming the field) when ``caller`` may not create ``config``."""
    if config.judge is True and not judge_configured():
        raise ServiceError(
            400,
            "judge_not_configured",
            f"judge=true needs an LLM judge, and this service has "
            f"none ({JUDGE_MODEL_ENV} is not set): leave judge out or false.",
            "judge",
        )
    if caller.admin:
        return
    if config.max_steps is not None and config.max_steps > settings.max_steps_limit:
        raise ServiceError(
            400,
            "over_limit",
            f"max_steps {config.max_steps} is over this service's limit of {settings.max_steps_limit}.",
            "max_steps",
        )
    if config.task_id is None:
        if config.scale not in settings.allowed_scales:
            raise ServiceError(
                403,
                "not_allowed",
                f"scale {config.scale!r} needs the service token; allowed: {', '.join(settings.allowed_scales)}.",
                "scale",
            )
        if not settings.seed_allowed(config.seed):
            raise ServiceError(
                403,
                "not_allowed",
                f"seed {config.seed} is outside this service's allowed seeds "
                f"({settings.allowed_seeds}); the service token may ask for any.",
                "seed",
            )
