"""Service settings, from keyword arguments or ``SUPPORTGYM_*`` environment variables."""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ENV_PREFIX = "SUPPORTGYM_"


class Settings(BaseModel):
    """How the service runs. ``Settings.from_env()`` reads ``SUPPORTGYM_<FIELD>`` variables."""

    model_config = ConfigDict(extra="forbid")
    host: str = Field("127.0.0.1", description="Interface to bind.")
    port: int = Field(8000, ge=0, le=65535)
    max_episodes: int = Field(256, ge=1, description="Live episodes allowed at once (429 beyond).")
    idle_ttl_s: float = Field(900.0, gt=0, description="Episodes idle longer than this are reaped.")
    reap_interval_s: float = Field(30.0, gt=0, description="How often the reaper looks.")
    warm_worlds: list[str] = Field(
        default_factory=lambda: ["7/default"],
        description="Worlds loaded at start-up as seed/scale; /readyz waits for them.",
    )
    log_level: str = "info"

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = os.environ.get(ENV_PREFIX + name.upper())
            if raw is None:
                continue
            values[name] = [w for w in raw.split(",") if w.strip()] if name == "warm_worlds" else raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
