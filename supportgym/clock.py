"""The world's simulated clock. Nothing in SupportGym reads the real clock.

Every world has a fixed ``now`` (stored in ``world_meta``); generated dates are relative to it.
During an episode each tool call advances the clock by a fixed step so that the trail and any
rows the agent creates carry deterministic, increasing timestamps.
"""

from __future__ import annotations

from datetime import datetime, timedelta

WORLD_NOW = datetime(2026, 3, 16, 9, 0, 0)
"""The default simulated 'now' of a generated world (naive UTC)."""

STEP = timedelta(seconds=30)
"""Simulated time one tool call takes."""

ISO = "%Y-%m-%dT%H:%M:%SZ"


def iso(value: datetime | None) -> str | None:
    """Render a world datetime the way every tool result shows it."""
    return None if value is None else value.strftime(ISO)


def parse_iso(value: str) -> datetime:
    """Parse what :func:`iso` writes (a trailing Z, or none)."""
    return datetime.strptime(value.rstrip("Z"), ISO.rstrip("Z"))


class SimClock:
    """A clock that starts at the world's ``now`` and moves only when told to."""

    def __init__(self, start: datetime = WORLD_NOW) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def tick(self, delta: timedelta = STEP) -> datetime:
        self._now = self._now + delta
        return self._now
