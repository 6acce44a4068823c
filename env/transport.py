"""How :class:`~supportgym.env.support_env.SupportEnv` reaches an episode.

Every transport runs the same :class:`~supportgym.services.episode.Episode` (in this process, or
behind ``supportgym serve``), so an action sequence gives the same observations and reward on all
of them. A transport hosts at most one episode at a time: ``create`` ends the previous one.
A container transport only needs to start a container and hand its URL to :class:`HttpTransport`.
"""

from __future__ import annotations

import copy
import http.client
import json
import os
import select
import urllib.parse
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from supportgym.env.errors import (
    EnvironmentFault,
    EpisodeEnded,
    EpisodeLost,
    GradingFault,
    ServerUnavailable,
    ServiceBusy,
    WorldFault,
)
from supportgym.services.episode import EpisodeClosed, EpisodeConfig
from supportgym.services.tools import WorldFault as ToolWorldFault
from supportgym.tasks import open_episode

TOKEN_ENV = "SUPPORTGYM_TOKEN"


@dataclass
class EpisodeInfo:
    """What a new episode tells the agent."""

    episode_id: str
    task_id: str | None
    instruction: str
    policy_summary: str
    tools: list[dict[str, Any]]
    max_steps: int
    max_invalid_calls: int


@runtime_checkable
class Transport(Protocol):
    """The small interface between the environment and an episode host."""

    name: str

    def create(self, config: EpisodeConfig) -> EpisodeInfo:
        """Start a new episode (ending the current one, if any)."""
        ...

    def step(self, name: str, arguments: Any) -> dict[str, Any]:
        """One action; returns ``StepResult.to_dict()`` (step, observation, ok, status, done, grade)."""
        ...

    def close_episode(self) -> None:
        """End and free the current episode, if any. Never raises for a vanished server."""
        ...

    def close(self) -> None:
        """Free everything (the current episode, connections)."""
        ...


def _json_copy(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value))
    except RecursionError:
        # Nested too deeply to copy: the episode refuses it (arguments_too_deep) and keeps
        # none of it, so there is nothing the caller could later change.
        return value
    except (TypeError, ValueError):  # not JSON (a caller driving the transport directly)
        try:
            return copy.deepcopy(value)
        except RecursionError:
            return value


class InProcessTransport:
    """Runs the episode in this process: no server, no sockets."""

    name = "inprocess"

    def __init__(self) -> None:
        self.episode: Any = None

    def create(self, config: EpisodeConfig) -> EpisodeInfo:
        self.close_episode()
        try:
            ep = open_episode(config)
        except (KeyError, LookupError, ValueError):
            raise
        except Exception as exc:  # noqa: BLE001 - the world could not be built or opened: typed for the worker
            raise WorldFault(f"could not create the episode: {type(exc).__name__}: {exc}") from exc
        self.episode = ep
        return EpisodeInfo(
            episode_id=ep.id,
            task_id=ep.task_id,
            instruction=ep.instruction,
            policy_summary=ep.policy_summary(),
            tools=ep.tool_schemas(),
            max_steps=ep.max_steps,
            max_invalid_calls=config.max_invalid_calls,
        )

    def step(self, name: str, arguments: Any) -> dict[str, Any]:

        if self.episode is None:
            raise EpisodeEnded("no episode: call reset() first")
        try:
            # Arguments and result are copied so that later edits by the caller cannot reach the
            # trail. A JSON round trip is the copy: 3-4x cheaper than deepcopy, and it gives the
            # caller exactly what the HTTP transport would (lists, not tuples).
            result = self.episode.step(name, _json_copy(arguments)).to_dict()
        except EpisodeClosed as exc:
            raise EpisodeEnded(str(exc)) from exc
        except ToolWorldFault as exc:
            raise WorldFault(str(exc)) from exc
        except EnvironmentFault:
            raise
        except Exception as exc:  # noqa: BLE001 - grading or another part broke: typed for the worker
            raise GradingFault(f"{type(exc).__name__}: {exc}") from exc
        return _json_copy(result)

    def close_episode(self) -> None:
        if self.episode is not None:
            ep, self.episode = self.episode, None
            ep.close()

    def close(self) -> None:
        self.close_episode()


class _Response:
    def __init__(self, status: int, data: bytes) -> None:
        self.status_code = status
        self.data = data

    def json(self) -> Any:
        return json.loads(self.data)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


class _Connection:
    """One keep-alive HTTP/1.1 connection (stdlib ``http.client``).

    Chosen over httpx for the step path: it costs about a millisecond less per request, which is
    most of the service's latency budget. A connection the server closed while idle is noticed
    before it is reused (the socket reads as ready), so a request is never sent into it.
    """

    def __init__(self, base_url: str, timeout: float) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be http(s)://host:port, not {base_url!r}")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _get(self) -> http.client.HTTPConnection:
        conn = self._conn
        if conn is not None and conn.sock is not None:
            readable, _, _ = select.select([conn.sock], [], [], 0)
            if readable:  # EOF (or junk) on an idle connection: the server closed it
                conn.close()
                conn = self._conn = None
        if conn is None:
            cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            conn = self._conn = cls(self.host, self.port, timeout=self.timeout)
        return conn

    def request(self, method: str, path: str, body: Any = None, secret: str | None = None) -> _Response:
        conn = self._get()
        headers = {"user-agent": "supportgym-env", "accept": "application/json"}
        if secret:
            headers["authorization"] = f"Bearer {secret}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        try:
            conn.request(method, self.prefix + path, body=data, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            kind = "timed out" if isinstance(exc, TimeoutError) else f"failed: {type(exc).__name__}: {exc}"
            raise ServerUnavailable(f"{method} {self.host}:{self.port}{path} {kind}") from exc
        if resp.will_close:
            self.close()
        return _Response(resp.status, payload)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class HttpTransport:
    """Runs the episode in a ``supportgym serve`` process at ``base_url``.

    Credentials are carried for the caller: the service token (``token``, else
    ``SUPPORTGYM_TOKEN``) when there is one, else the current episode's capability (the
    ``episode_token`` its creation returned).
    """

    name = "http"

    def __init__(self, base_url: str, *, timeout: float = 60.0, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.conn = _Connection(self.base_url, timeout)
        self.token = token or os.environ.get(TOKEN_ENV) or None
        self.episode_id: str | None = None
        self.episode_token: str | None = None

    def _send(self, method: str, path: str, body: Any = None) -> _Response:
        return self.conn.request(method, path, body, self.token or self.episode_token)

    def request(self, method: str, path: str, body: Any = None, *, expect: int = 200, what: str = "") -> Any:
        """One call to the service: the JSON body of an ``expect`` answer. Any other answer raises
        its typed error (:class:`ServiceBusy`, :class:`EpisodeLost`, :class:`EpisodeEnded`,
        :class:`WorldFault`, :class:`GradingFault`, else :class:`EnvironmentFault`; ``ValueError``
        for a refused episode configuration); an unreachable server :class:`ServerUnavailable`."""
        resp = self._send(method, path, body)
        if resp.status_code != expect:
            self._raise(resp, what or f"{method} {path}")
        return resp.json()

    def get(self, what: str) -> dict[str, Any]:
        """``GET /episodes/{id}/<what>`` (``trail``, ``changes``, ``grade``) of the current episode."""
        if self.episode_id is None:
            raise EpisodeEnded("no episode: call reset() first")
        return self.request("GET", f"/episodes/{self.episode_id}/{what}", what=what)

    @staticmethod
    def _error(resp: _Response) -> tuple[str, str]:
        try:
            err = resp.json()["error"]
            return str(err.get("code")), str(err.get("message"))
        except (ValueError, KeyError, TypeError, AttributeError):  # not our JSON: a proxy, a crash page
            return "http_error", resp.text[:300]

    def _raise(self, resp: _Response, what: str) -> None:
        code, message = self._error(resp)
        text = f"{what}: HTTP {resp.status_code} {code}: {message}"
        if resp.status_code == 429:
            raise ServiceBusy(text)
        if resp.status_code == 404 and code == "unknown_episode":
            raise EpisodeLost(text)
        if resp.status_code == 409:
            raise EpisodeEnded(text)
        if resp.status_code == 422 and what == "create episode":
            raise ValueError(text)
        if code == "world_fault":
            raise WorldFault(text)
        if code == "judge_unavailable":
            raise GradingFault(text)
        raise EnvironmentFault(text)

    def create(self, config: EpisodeConfig) -> EpisodeInfo:
        self.close_episode()
        # Unset options are left out, so a client newer than the server still works.
        body = self.request(
            "POST", "/episodes", config.model_dump(mode="json", exclude_none=True), expect=201, what="create episode"
        )
        self.episode_id = body["episode_id"]
        self.episode_token = body.get("episode_token")
        return EpisodeInfo(
            episode_id=body["episode_id"],
            task_id=body["task_id"],
            instruction=body["instruction"],
            policy_summary=body["policy_summary"],
            tools=body["tools"],
            max_steps=body["max_steps"],
            max_invalid_calls=body["max_invalid_calls"],
        )

    def step(self, name: str, arguments: Any) -> dict[str, Any]:
        if self.episode_id is None:
            raise EpisodeEnded("no episode: call reset() first")
        return self.request(
            "POST", f"/episodes/{self.episode_id}/step", {"name": name, "arguments": arguments}, what="step"
        )

    def close_episode(self) -> None:
        if self.episode_id is None:
            return
        episode_id, self.episode_id = self.episode_id, None
        try:
            # Whatever the answer (gone already, or removed), the episode is over for this client.
            self._send("DELETE", f"/episodes/{episode_id}")
        except ServerUnavailable:
            pass  # the server is gone, and the episode with it
        finally:
            self.episode_token = None

    def close(self) -> None:
        try:
            self.close_episode()
        finally:
            self.conn.close()
