"""Service settings, from keyword arguments or ``SUPPORTGYM_*`` environment variables."""

from __future__ import annotations

import ipaddress
import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

ENV_PREFIX = "SUPPORTGYM_"
# Settings given as comma-separated lists in the environment.
LIST_FIELDS = ("warm_worlds", "allowed_hosts", "allowed_origins", "allowed_scales", "cors_origins")
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]", "testserver"]


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` exposes the service to this machine only."""
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
    # --- access (see docs/security.md) ---
    token: str | None = Field(
        None,
        min_length=16,
        repr=False,
        description="The service (admin) token. When set, every route needs it or an episode's "
        "capability; required to bind anything but loopback. Unset: a random admin token is made "
        "per process (printed by `supportgym serve`) for the author's view.",
    )
    admin_token: str | None = Field(
        None,
        min_length=16,
        repr=False,
        description="The author's-view token when no service token is set (default: random per "
        "process). `serve --workers` gives its workers one, so /ui works whichever answers.",
    )
    worker_index: int | None = Field(
        None,
        ge=0,
        le=255,
        description="Set by `serve --workers` on each worker: its number, carried in the first two hex "
        "digits of every episode id it makes so the front routes requests to the owner.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=lambda: list(LOOPBACK_HOSTS),
        description="Host header values served (DNS-rebinding guard); '*' allows any.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Browser Origins allowed besides the service's own (same-origin pages).",
    )
    cors_origins: list[str] = Field(default_factory=list, description="CORS allowed origins (off when empty).")
    # --- limits ---
    max_body_bytes: int = Field(2_000_000, ge=1024, description="Largest request body (413 beyond).")
    max_upload_bytes: int = Field(50_000_000, ge=1024, description="Largest trajectory upload (/ui).")
    max_steps_limit: int = Field(200, ge=1, description="Largest max_steps a non-admin client may ask for.")
    allowed_seeds: str = Field(
        "0-9999", description="World seeds a non-admin client may ask for: ranges and numbers, e.g. '0-99,1234'."
    )
    allowed_scales: list[str] = Field(
        default_factory=lambda: ["tiny", "default"], description="World scales a non-admin client may ask for."
    )
    world_cache_bytes: int = Field(
        512_000_000, ge=0, description="World snapshots kept in memory (least recently used dropped beyond)."
    )
    step_deadline_s: float = Field(
        25.0,
        gt=0,
        description="Deadline of one step (below the docker pool's 30 s and the HTTP transport's "
        "60 s); upstream calls (customer, judge) get 80% of it.",
    )

    @field_validator("allowed_seeds")
    @classmethod
    def _seed_ranges(cls, value: str) -> str:
        parse_ranges(value)
        return value

    def seed_allowed(self, seed: int) -> bool:
        return any(lo <= seed <= hi for lo, hi in parse_ranges(self.allowed_seeds))

    @property
    def upstream_deadline_s(self) -> float:
        """What an upstream call (LLM customer, judge) may take: below the step deadline."""
        return max(0.5, self.step_deadline_s * 0.8)

    def check_exposure(self) -> None:
        """Refuse to expose an unauthenticated service beyond this machine."""
        if not is_loopback(self.host) and not self.token:
            raise ValueError(
                f"refusing to bind {self.host!r} without a token: anyone who can reach it could drive "
                "every episode. Set --token (or SUPPORTGYM_TOKEN, 16+ characters), or bind 127.0.0.1."
            )

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = os.environ.get(ENV_PREFIX + name.upper())
            if raw is None or (raw == "" and name == "token"):
                continue
            values[name] = [w.strip() for w in raw.split(",") if w.strip()] if name in LIST_FIELDS else raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)


def settings_env(settings: Settings) -> dict[str, str]:
    """``settings`` as ``SUPPORTGYM_*`` variables that ``Settings.from_env`` reads back (unset
    fields left out): how ``serve --workers`` hands its settings to worker processes."""
    out: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        out[ENV_PREFIX + name.upper()] = ",".join(value) if name in LIST_FIELDS else str(value)
    return out


def parse_ranges(text: str) -> list[tuple[int, int]]:
    """``'0-99,1234'`` -> ``[(0, 99), (1234, 1234)]``; ValueError naming the bad part."""
    out = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            pair = (int(lo), int(hi) if sep else int(lo))
        except ValueError:
            raise ValueError(f"bad seed range {part!r}: use numbers and ranges like 0-99") from None
        if pair[0] > pair[1]:
            raise ValueError(f"bad seed range {part!r}: the start is above the end")
        out.append(pair)
    return out
