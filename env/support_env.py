"""``SupportGym-v0``: one customer-support task per episode, one tool call per step.

Spaces
    ``observation_space``: :class:`gymnasium.spaces.Text` of at most ``max_observation_chars``
    (default :data:`MAX_OBS_CHARS`) printable ASCII characters. Every observation is JSON text
    (``json.dumps(..., ensure_ascii=True)``; non-ASCII is escaped as ``\\uXXXX``). After
    ``reset`` it is ``{"instruction": <task prompt>}``; after ``step`` it is the tool's result,
    or ``{"error": {"code", "message", "field"}}`` for a refused or malformed call. A longer
    observation is cut and ends with :data:`TRUNCATION_MARKER` (``info["truncated_observation"]``).

    ``action_space``: :class:`gymnasium.spaces.Text` of printable ASCII up to
    :data:`MAX_ACTION_CHARS`: one tool call as JSON text,
    ``{"name": "<tool>", "arguments": {...}}``. ``step`` also accepts a dict of that shape and an
    OpenAI ``tool_call`` (object or dict; ``function.arguments`` as JSON text) — see
    :mod:`supportgym.env.actions`. Random samples are valid inputs: they are answered with an
    ``invalid_action`` error observation and count as a step. The final action is the tool
    ``submit_response`` with ``{"response": "<reply to the customer>"}``.

Reward
    0.0 on every step but the last. When the episode ends (submitted, or truncated) the reward is
    the rubric grade's ``reward`` (``supportgym.rubrics``), with weights ``alpha`` (extra credit)
    and ``beta`` (dodged-bullet penalties). In the default ``gated`` mode a failed gate (harm, a
    false claim, a disclosure, a list of guesses, an attempt at a forbidden write) caps it at
    ``gate_cap`` (0); ``info["grade"]["gates_failed"]`` says which and why. A perfect episode
    earns ``1 + alpha``. A bare world (no task) has no grade: reward 0.0.

Termination and truncation
    ``terminated`` is True after a successful ``submit_response``. ``truncated`` is True when the
    step budget is spent (``max_steps``: the task's, default 50) or after ``max_invalid_calls``
    (default 10) invalid calls in a row (``info["truncation_reason"]`` says which).

Info
    Every call: ``task_id``, ``transport``, ``step``, ``status`` (running, submitted,
    truncated_max_steps, truncated_invalid_calls), ``invalid_calls`` (consecutive), ``max_steps``.
    ``reset`` adds ``episode_id`` (also :attr:`SupportEnv.episode_id`; kept out of step infos so
    that equal seeds give equal infos), ``instruction``, ``policy_summary`` and ``tools`` (OpenAI
    function schemas, ``submit_response`` included).
    ``step`` adds ``ok``, ``error_code`` (None when ok), ``truncated_observation``,
    ``observation_chars`` (length before truncation), ``action`` (the parsed name), and at the end
    ``grade`` (every criterion's verdict, per-category and per-type scores and reward terms;
    None for a bare world) and ``truncation_reason`` (None, max_steps or invalid_calls).

Faults
    Failures of the environment itself (server gone, world or grader error) raise a subclass of
    :class:`supportgym.env.errors.EnvironmentFault`; they never become a reward.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import gymnasium as gym
from gymnasium import spaces

from supportgym.env.actions import ActionParseError, parse_action
from supportgym.env.docker_pool import DockerTransport
from supportgym.env.errors import EpisodeEnded
from supportgym.env.transport import (
    EpisodeInfo,
    HttpTransport,
    InProcessTransport,
    Transport,
)
from supportgym.services.episode import (
    DEFAULT_ALPHA,
    DEFAULT_BETA,
    DEFAULT_MAX_INVALID,
    INVALID_ACTION,
    EpisodeConfig,
    EpisodeStatus,
    invalid_action_arguments,
)
from supportgym.tasks import list_tasks
from supportgym.tasks.splits import SPLITS, draw_train_task, load_split

MAX_OBS_CHARS = 16_384
MAX_ACTION_CHARS = 8_192
TRUNCATION_MARKER = '..."[observation truncated: {n} of {total} chars shown]"'
# Every character json.dumps(..., ensure_ascii=True) can emit, plus the whitespace agents type.
CHARSET = "".join(chr(c) for c in range(0x20, 0x7F)) + "\n\t"


def encode_observation(value: Any, limit: int) -> tuple[str, bool, int]:
    """``(text, truncated, full_length)``: JSON text of ``value`` cut to ``limit`` characters."""
    text = json.dumps(value, ensure_ascii=True)
    total = len(text)
    if total <= limit:
        return text, False, total
    for _ in range(3):  # the marker's own length depends on the number shown
        marker = TRUNCATION_MARKER.format(n=limit, total=total)
        keep = max(0, limit - len(marker))
        marker = TRUNCATION_MARKER.format(n=keep, total=total)
        if keep + len(marker) <= limit:
            break
    return text[:keep] + marker, True, total


def _task_ids() -> list[str]:
    return sorted(t.id for t in list_tasks())


def _split_tasks(split: str) -> list[str] | None:
    """The fixed tasks of ``split``; None for ``train`` (drawn per reset, without end)."""

    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; splits: {', '.join(SPLITS)}")
    return None if split == "train" else load_split(split)


class SupportEnv(gym.Env[str, str]):
    """A customer-support episode as a Gymnasium environment (see the module docstring).

    Args:
        task_id: Task to run on every reset (``options["task_id"]`` overrides it). Without one,
            ``reset`` picks from ``tasks`` (default: every task) with the seeded RNG; when there
            are no tasks it opens a bare world (``world_seed``, ``world_scale``).
        tasks: Task ids to sample from.
        split: Sample from a split instead (``dev``, ``test``, ``heldout-families``, or
            ``train``: a freshly generated, proven task drawn by the seeded RNG on every reset;
            the first reset of a new train task replays its solutions, a few seconds). See
            docs/tasks.md.
        transport: ``"inprocess"`` (default: no server), ``"http"`` (needs ``base_url``),
            ``"docker"`` (a container from ``pool``), or a
            :class:`~supportgym.env.transport.Transport` object.
        base_url: URL of a ``supportgym serve`` for the http transport.
        alpha, beta: Reward weights passed to the rubric grader.
        reward_mode: ``"gated"`` (default: aspect-weighted primaries; a failed gate caps the
            reward at ``gate_cap``) or ``"paper"`` (exactly Eq. 1). See docs/reward.md.
        gate_cap: The reward when a gate (critical criterion) fails, in gated mode.
        max_steps: Step budget override (default: the task's, else 50).
        max_invalid_calls: Consecutive invalid calls that truncate the episode (default 10).
        max_observation_chars: Observation length cap (default 16384).
        world_seed, world_scale: The bare world used when there is no task.
        timeout: Seconds to wait for the server (http).
        render_mode: None or ``"ansi"`` (``render()`` returns the last observation).
        pool: A :class:`~supportgym.env.docker_pool.ContainerPool` for the docker transport
            (without one, a private one-container pool is started and removed on close).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        task_id: str | None = None,
        *,
        tasks: list[str] | None = None,
        split: str | None = None,
        transport: str | Transport = "inprocess",
        base_url: str | None = None,
        alpha: float = DEFAULT_ALPHA,
        beta: float = DEFAULT_BETA,
        reward_mode: str = "gated",
        gate_cap: float = 0.0,
        max_steps: int | None = None,
        max_invalid_calls: int = DEFAULT_MAX_INVALID,
        max_observation_chars: int = MAX_OBS_CHARS,
        world_seed: int = 7,
        world_scale: str = "default",
        timeout: float = 60.0,
        render_mode: str | None = None,
        pool: Any = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or 'ansi', not {render_mode!r}")
        self.render_mode = render_mode
        if split is not None and (task_id is not None or tasks is not None):
            raise ValueError("give split, or task_id / tasks, not both")
        self.task_id = task_id
        self.split = split
        self.tasks = list(tasks) if tasks is not None else (_split_tasks(split) if split is not None else None)
        self.alpha = alpha
        self.beta = beta
        self.reward_mode = reward_mode
        self.gate_cap = gate_cap
        self.max_steps = max_steps
        self.max_invalid_calls = max_invalid_calls
        self.max_observation_chars = max_observation_chars
        self.world_seed = world_seed
        self.world_scale = world_scale
        self.observation_space = spaces.Text(max_length=max_observation_chars, min_length=0, charset=CHARSET)
        self.action_space = spaces.Text(max_length=MAX_ACTION_CHARS, min_length=0, charset=CHARSET)
        self.transport: Transport = make_transport(transport, base_url, timeout, pool=pool)
        self._info: EpisodeInfo | None = None
        self._done = True
        self._invalid = 0
        self._last_obs = ""

    # --- gymnasium API ---------------------------------------------------------------------

    def _config(self, options: dict[str, Any]) -> EpisodeConfig:
        task_id = options.get("task_id", self.task_id)
        if task_id is None and "seed" not in options and "scale" not in options and self.split == "train":
            task_id = draw_train_task(random.Random(int(self.np_random.integers(2**62))))
        elif task_id is None and "seed" not in options and "scale" not in options:
            candidates = self.tasks if self.tasks is not None else _task_ids()
            if candidates:
                task_id = candidates[int(self.np_random.integers(len(candidates)))]
        return EpisodeConfig(
            task_id=task_id,
            seed=int(options.get("seed", self.world_seed)),
            scale=str(options.get("scale", self.world_scale)),
            max_steps=options.get("max_steps", self.max_steps),
            max_invalid_calls=options.get("max_invalid_calls", self.max_invalid_calls),
            alpha=self.alpha,
            beta=self.beta,
            reward_mode=self.reward_mode,
            gate_cap=self.gate_cap,
        )

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """Start a new episode. ``options``: ``task_id``; or ``seed`` and ``scale`` of a bare
        world; ``max_steps``, ``max_invalid_calls`` overrides. Returns ``(observation, info)``."""
        super().reset(seed=seed)
        config = self._config(dict(options or {}))
        self._info = self.transport.create(config)
        self._done = False
        self._invalid = 0
        obs, cut, total = encode_observation({"instruction": self._info.instruction}, self.max_observation_chars)
        self._last_obs = obs
        info = self._base_info(0, EpisodeStatus.running.value)
        info.update(
            episode_id=self._info.episode_id,
            instruction=self._info.instruction,
            policy_summary=self._info.policy_summary,
            tools=self._info.tools,  # the transport made a fresh copy; the env never reads it
            truncated_observation=cut,
            observation_chars=total,
        )
        return obs, info

    def step(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """One tool call. Returns ``(observation, reward, terminated, truncated, info)``."""
        if self._info is None or self._done:
            raise EpisodeEnded("the episode has ended (or never started): call reset()")
        try:
            name, arguments = parse_action(action)
            # Same arguments on every transport: what JSON carries.
            arguments = json.loads(json.dumps(arguments))
        except ActionParseError as exc:
            name, arguments = INVALID_ACTION, invalid_action_arguments(action, exc.problem)
        except (TypeError, ValueError) as exc:
            name, arguments = (
                INVALID_ACTION,
                invalid_action_arguments(action, f"the arguments are not JSON-serialisable ({exc})"),
            )
        except RecursionError:
            # Too deep for any JSON codec: an invalid action like any other unreadable one.
            name, arguments = (
                INVALID_ACTION,
                invalid_action_arguments(
                    "<action nested too deeply to read>", "the action is nested too deeply (over 32 levels)"
                ),
            )
        result = self.transport.step(name, arguments)
        ok = bool(result["ok"])
        self._invalid = 0 if ok else self._invalid + 1
        status = result["status"]
        obs, cut, total = encode_observation(result["observation"], self.max_observation_chars)
        self._last_obs = obs
        terminated = status == EpisodeStatus.submitted.value
        truncated = status in (
            EpisodeStatus.truncated_max_steps.value,
            EpisodeStatus.truncated_invalid_calls.value,
        )
        info = self._base_info(int(result["step"]), status)
        info.update(
            ok=ok,
            error_code=None if ok else (result["observation"].get("error") or {}).get("code"),
            truncated_observation=cut,
            observation_chars=total,
            action=name,
        )
        reward = 0.0
        if terminated or truncated:
            self._done = True
            grade = result.get("grade")
            info["grade"] = copy.deepcopy(grade)
            info["truncation_reason"] = {
                EpisodeStatus.truncated_max_steps.value: "max_steps",
                EpisodeStatus.truncated_invalid_calls.value: "invalid_calls",
            }.get(status)
            if grade is not None:
                reward = float(grade["reward"])
        return obs, reward, terminated, truncated, info

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self._last_obs
        return None

    def close(self) -> None:
        """End the current episode (frees it on the server) and close connections."""
        transport = getattr(self, "transport", None)
        if transport is not None:
            transport.close()
        self._done = True
        super().close()

    # --- helpers ---------------------------------------------------------------------------

    def _base_info(self, step: int, status: str) -> dict[str, Any]:
        assert self._info is not None
        return {
            "task_id": self._info.task_id,
            "transport": self.transport.name,
            "step": step,
            "status": status,
            "invalid_calls": self._invalid,
            "max_steps": self._info.max_steps,
        }

    @property
    def episode_id(self) -> str | None:
        return None if self._info is None else self._info.episode_id


def make_transport(
    transport: str | Transport,
    base_url: str | None = None,
    timeout: float = 60.0,
    pool: Any = None,
) -> Transport:
    """A transport from its name (``inprocess``, ``http`` or ``docker``), or the given object.

    ``docker`` takes an episode slot from ``pool`` (a ``ContainerPool``); without one it starts
    a private one-container pool and removes it on close.
    """
    if not isinstance(transport, str):
        return transport
    if transport == "inprocess":
        return InProcessTransport()
    if transport == "http":
        if not base_url:
            raise ValueError('transport="http" needs base_url="http://host:port"')
        return HttpTransport(base_url, timeout=timeout)
    if transport == "docker":
        return DockerTransport(pool, timeout=timeout)
    raise ValueError(f"unknown transport {transport!r}; use 'inprocess', 'http' or 'docker'")


def docker_env(
    size: int = 1, *, image: str | None = None, pool_kwargs: dict[str, Any] | None = None, **env_kwargs: Any
) -> SupportEnv:
    """Shortcut: a :class:`SupportEnv` on a new private pool of ``size`` containers; closing the env
    removes the containers."""

    transport = DockerTransport(None, timeout=env_kwargs.get("timeout"), image=image, size=size, **(pool_kwargs or {}))
    try:
        return SupportEnv(transport=transport, **env_kwargs)
    except BaseException:
        transport.close()
        raise
