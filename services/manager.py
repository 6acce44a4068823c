"""The live episodes of one service process: creation under a limit, lookup, deletion, reaping.

Each :class:`~supportgym.services.episode.Episode` owns its world copy, its SQLite connection and
its lock, so calls to different episodes run in parallel threads; the manager's own lock only
guards the table of episodes and is never held while an episode works.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import secrets
import threading
import time
from typing import Any

from supportgym.services.episode import Episode, EpisodeConfig


class ServiceError(Exception):
    """A protocol error: answered with ``status`` and ``{"error": {"code", "message", "field"}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


def _plain(exc: Exception) -> str:
    """The exception's message as written: ``str(KeyError("x"))`` is ``"'x'"``, which would reach
    the client double-quoted."""
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        return exc.args[0]
    return str(exc)


def _release_free_memory() -> None:
    # glibc keeps freed arenas mapped; give them back so a deleted episode's memory shows as free.
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


class EpisodeManager:
    """Thread-safe table of live episodes with a size limit and an idle reaper."""

    def __init__(self, max_episodes: int = 256, idle_ttl_s: float = 900.0) -> None:
        self.max_episodes = max_episodes
        self.idle_ttl_s = idle_ttl_s
        self._episodes: dict[str, Episode] = {}
        self._pending = 0
        self._lock = threading.Lock()
        self.created = 0
        self.reaped = 0

    def __len__(self) -> int:
        return len(self._episodes)

    def create(self, config: EpisodeConfig) -> Episode:
        """A new episode; ServiceError 429 at the limit, 422 for an unknown task or world."""
        with self._lock:
            live = len(self._episodes) + self._pending
            if live >= self.max_episodes:
                raise ServiceError(
                    429,
                    "too_many_episodes",
                    f"{live} episodes are live and the limit is {self.max_episodes}: delete "
                    "finished episodes (DELETE /episodes/{id}) or retry later.",
                    headers={"Retry-After": "1"},
                )
            self._pending += 1
        try:
            episode_id = "ep-" + secrets.token_hex(8)
            try:
                episode = Episode(config, episode_id=episode_id)
            except (KeyError, LookupError, ValueError, FileNotFoundError) as exc:
                field = "task_id" if config.task_id is not None else "scale"
                raise ServiceError(
                    422, "unknown_task" if field == "task_id" else "bad_world", _plain(exc), field
                ) from exc
            with self._lock:
                self._episodes[episode.id] = episode
                self.created += 1
            return episode
        finally:
            with self._lock:
                self._pending -= 1

    def get(self, episode_id: str) -> Episode:
        episode = self._episodes.get(episode_id)
        if episode is None:
            raise ServiceError(
                404, "unknown_episode", f"No live episode '{episode_id}' (never created, deleted "
                "or reaped after being idle).", "episode_id"
            )
        episode.last_active = time.monotonic()
        return episode

    def list(self) -> list[Episode]:
        with self._lock:
            return list(self._episodes.values())

    def delete(self, episode_id: str) -> None:
        with self._lock:
            episode = self._episodes.pop(episode_id, None)
        if episode is None:
            raise ServiceError(404, "unknown_episode", f"No live episode '{episode_id}'.", "episode_id")
        episode.close()
        del episode
        _release_free_memory()

    def reap(self, now: float | None = None) -> list[str]:
        """Delete every episode idle longer than ``idle_ttl_s``; returns their ids."""
        now = time.monotonic() if now is None else now
        with self._lock:
            stale = [e for e in self._episodes.values() if now - e.last_active > self.idle_ttl_s]
            for e in stale:
                del self._episodes[e.id]
        for e in stale:
            e.close()
        if stale:
            self.reaped += len(stale)
            _release_free_memory()
        return [e.id for e in stale]

    def close_all(self) -> None:
        with self._lock:
            episodes = list(self._episodes.values())
            self._episodes.clear()
        for e in episodes:
            e.close()
