"""The live episodes of one service process: creation under a limit, lookup, deletion, reaping.

Each :class:`~supportgym.services.episode.Episode` owns its world copy, its SQLite connection and
its lock, so calls to different episodes run in parallel threads; the manager's own lock only
guards the table of episodes and is never held while an episode works.
"""

from __future__ import annotations

import builtins
import ctypes
import ctypes.util
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from supportgym.services.access import CAPABILITY_PREFIX, Caller, new_secret
from supportgym.services.episode import Episode, EpisodeConfig
from supportgym.services.task_set import BareWorlds


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


EPISODE_ID_PREFIX = "ep-"
EPISODE_ID_HEX = 16


def episode_id_worker(text: str) -> int | None:
    """The worker number an episode id carries (its first two hex digits), or None when
    ``text`` is not an episode id (``ep-`` and 16 hex digits)."""
    digits = text[len(EPISODE_ID_PREFIX) :]
    if not text.startswith(EPISODE_ID_PREFIX) or len(digits) != EPISODE_ID_HEX:
        return None
    try:
        int(digits, 16)
    except ValueError:
        return None
    return int(digits[:2], 16)


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

    def __init__(
        self,
        max_episodes: int = 256,
        idle_ttl_s: float = 900.0,
        opener: Callable[[EpisodeConfig, str], Episode] | None = None,
        worker_index: int | None = None,
    ) -> None:
        # How a config becomes an episode: the task set's ``open_episode`` (bare worlds only
        # without one).
        self.opener = opener or BareWorlds.open_episode
        self.max_episodes = max_episodes
        self.idle_ttl_s = idle_ttl_s
        # Under `serve --workers`, ids start with this worker's number (see episode_id_worker).
        self._id_tag = "" if worker_index is None else f"{worker_index:02x}"
        self._episodes: dict[str, Episode] = {}
        # Episode capabilities: the secret that opens one episode, and back (see access.py).
        self._capability: dict[str, str] = {}
        self._episode_of: dict[str, str] = {}
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
            episode_id = EPISODE_ID_PREFIX + self._id_tag + secrets.token_hex(8 - len(self._id_tag) // 2)
            try:
                episode = self.opener(config, episode_id)
            except (KeyError, LookupError, ValueError, FileNotFoundError) as exc:
                field = "task_id" if config.task_id is not None else "scale"
                raise ServiceError(
                    422, "unknown_task" if field == "task_id" else "bad_world", _plain(exc), field
                ) from exc
            capability = new_secret(CAPABILITY_PREFIX)
            with self._lock:
                self._episodes[episode.id] = episode
                self._capability[episode.id] = capability
                self._episode_of[capability] = episode.id
                self.created += 1
            return episode
        finally:
            with self._lock:
                self._pending -= 1

    def capability(self, episode_id: str) -> str | None:
        """The secret that opens ``episode_id`` (given once to its creator)."""
        return self._capability.get(episode_id)

    def episode_of(self, capability: str) -> str | None:
        """The live episode ``capability`` opens, if any."""
        return self._episode_of.get(capability)

    def get(self, episode_id: str, caller: Caller | None = None) -> Episode:
        """The live episode; 404 when there is none or ``caller`` may not use it (an episode
        that is not yours looks exactly like one that does not exist). ``caller=None``: the
        service's own parts."""
        episode = self._episodes.get(episode_id)
        if episode is None or (caller is not None and not caller.may_use(episode_id)):
            raise ServiceError(
                404,
                "unknown_episode",
                f"No live episode '{episode_id}' (never created, deleted or reaped after being idle).",
                "episode_id",
            )
        episode.last_active = time.monotonic()
        return episode

    def list(self, caller: Caller | None = None) -> list[Episode]:
        """Live episodes ``caller`` may see (all of them for admin or ``None``)."""
        with self._lock:
            return [e for e in self._episodes.values() if caller is None or caller.may_use(e.id)]

    def _forget(self, episode_id: str) -> Episode | None:
        # Under self._lock.
        capability = self._capability.pop(episode_id, None)
        if capability is not None:
            self._episode_of.pop(capability, None)
        return self._episodes.pop(episode_id, None)

    def delete(self, episode_id: str, caller: Caller | None = None) -> None:
        with self._lock:
            allowed = caller is None or caller.may_use(episode_id)
            episode = self._forget(episode_id) if allowed else None
        if episode is None:
            raise ServiceError(404, "unknown_episode", f"No live episode '{episode_id}'.", "episode_id")
        episode.close()
        del episode
        _release_free_memory()

    def reap(self, now: float | None = None) -> builtins.list[str]:  # `list` here is the method above
        """Delete every episode idle longer than ``idle_ttl_s``; returns their ids."""
        now = time.monotonic() if now is None else now
        with self._lock:
            stale = [e for e in self._episodes.values() if now - e.last_active > self.idle_ttl_s]
            for e in stale:
                self._forget(e.id)
            # Counted as they leave the table, so no reader sees an episode gone but not counted.
            self.reaped += len(stale)
        for e in stale:
            e.close()
        if stale:
            _release_free_memory()
        return [e.id for e in stale]

    def close_all(self) -> None:
        with self._lock:
            episodes = list(self._episodes.values())
            self._episodes.clear()
            self._capability.clear()
            self._episode_of.clear()
        for e in episodes:
            e.close()
