"""One episode: a private copy of a world, its clock, its trail, its end and its grade.

The same :class:`Episode` runs in process (``SupportEnv(transport="inprocess")``), behind the
HTTP service, in a container and behind MCP, so an action sequence means the same thing
everywhere. Termination rules live here too, for the same reason.
"""

from __future__ import annotations

import enum
import functools
import itertools
import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select

from supportgym.clock import STEP, SimClock, iso, parse_iso
from supportgym.db import WorldDB, world_hash
from supportgym.schema import Policy
from supportgym.services.conversation import MESSAGE_TOOL, Conversation
from supportgym.services.customer_sim import (
    CustomerUnavailable,
    approval_pending,
    conversation_over,
    make_customer,
)
from supportgym.services.limits import check_arguments, recorded_arguments
from supportgym.services.tools import (
    REGISTRY,
    ToolOutcome,
    WorldFault,
    _validation_error,
    call_tool,
    enabled_tools,
    openai_schemas,
    parse_arguments,
    reads,
)
from supportgym.services.tools.base import LongText, ToolError
from supportgym.services.tools.submit import SUBMIT_SCHEMA, SUBMIT_TOOL, SubmitResponseArgs  # noqa: F401 - re-exported
from supportgym.services.upstream import (
    UpstreamUnavailable,
    call_with_deadline,
    log_failure,
)
from supportgym.services.worlds import get_snapshot
from supportgym.trail import EpisodeRecord, TrailEntry, summarise_changes
from supportgym.trajectory import Trajectory
from supportgym.world_seed.scales import SCALES

# The name an action that could not be parsed is recorded under: it still takes a step, shows in
# the trail and counts as an invalid call. Its arguments are ``{"raw": ..., "problem": ...}``.
INVALID_ACTION = "<unparsable>"
MAX_RAW_ACTION_CHARS = 1000
DEFAULT_MAX_STEPS = 50
DEFAULT_MAX_INVALID = 10
DEFAULT_ALPHA = 0.1
DEFAULT_BETA = 0.3


_SCHEMA_TEXT: dict[tuple[bool, tuple[str, ...]], str] = {}


def _schemas(conversational: bool, opt_in: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    # Every reset hands the agent ~30 KB of schemas; a private copy from cached JSON text costs
    # a fifth of a deepcopy of the same structure. ``opt_in``: tools the task's world enables.
    text = _SCHEMA_TEXT.get((conversational, opt_in))
    if text is None:
        extra = [MESSAGE_SCHEMA] if conversational else []
        tools = [*openai_schemas(), *openai_schemas(list(opt_in))]
        text = _SCHEMA_TEXT[(conversational, opt_in)] = json.dumps([*tools, *extra, SUBMIT_SCHEMA])
    return json.loads(text)


def every_tool_schema() -> list[dict[str, Any]]:
    """Every tool some episode offers (opt-in ones and ``message_customer`` included), for
    adapters that need one fixed tool list for all tasks: an episode answers a tool it does not
    offer with an error observation (``tool_not_enabled``, ``not_conversational``)."""
    return _schemas(True, tuple(name for name, spec in REGISTRY.items() if spec.opt_in))


def episode_tool_schemas() -> list[dict[str, Any]]:
    """Every world tool plus the final ``submit_response`` action, in OpenAI format (a copy)."""
    return _schemas(False)


# --- conversational tasks ----------------------------------------------------------------------
# A task with a ``conversation:`` block has a live (simulated) customer. The agent talks to it
# with the pseudo-tool ``message_customer`` (handled here, not a world tool: it is only in the
# tool schemas of conversational episodes). Rules:
#
# * The observation is ``{"customer": <answer>, "conversation_over": bool}``; the trail records
#   the call as ``message_customer`` with ``{"message": ...}``.
# * When the customer ends the conversation the episode goes on: the agent finishes with
#   ``submit_response`` (its final summary). Later ``message_customer`` calls are answered with
#   the error ``conversation_over``.
# * Approval: after the customer approves a write ("yes, go ahead") and until a write succeeds,
#   the customer never leaves, and the step budget cannot end the episode: when it runs out the
#   episode gets up to APPROVAL_GRACE_STEPS more steps, so the approved write can always follow.
# * A customer simulator that fails (LLM endpoint down) gives the error ``customer_unavailable``
#   (not counted as an invalid call), never a crash.
APPROVAL_GRACE_STEPS = 3


class MessageCustomerArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: LongText = Field(description="What you say to the customer in the live chat.")


MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": MESSAGE_TOOL,
        "description": "Send a message to the customer you are chatting with and get their answer "
        "(ask for details you need, confirm before changes, tell them the outcome). Returns "
        "{customer, conversation_over}.",
        "parameters": {
            **{k: v for k, v in MessageCustomerArgs.model_json_schema().items() if k != "title"},
            "additionalProperties": False,
        },
    },
}


def conversation_tool_schemas() -> list[dict[str, Any]]:
    """The tools of a conversational episode: the world tools, ``message_customer``, submit."""
    return _schemas(True)


class EpisodeStatus(enum.StrEnum):
    running = "running"
    submitted = "submitted"
    truncated_max_steps = "truncated_max_steps"
    truncated_invalid_calls = "truncated_invalid_calls"


class EpisodeConfig(BaseModel):
    """What an episode is made from: a task (or a bare world) and its overrides."""

    model_config = ConfigDict(extra="forbid")
    task_id: str | None = Field(None, description="Task to run; omit for a bare world.")
    seed: int = Field(7, ge=0, le=2**31 - 1, description="World seed (bare worlds only).")
    scale: str = Field("default", description="World scale: tiny, default or large (bare worlds).")
    max_steps: int | None = Field(None, ge=1, le=1000, description="Step budget override.")
    max_invalid_calls: int = Field(DEFAULT_MAX_INVALID, ge=1, le=1000)
    alpha: float = Field(DEFAULT_ALPHA, ge=0, le=10, description="Weight of extra credit.")
    beta: float = Field(DEFAULT_BETA, ge=0, le=10, description="Weight of dodged-bullet penalties.")
    reward_mode: Literal["gated", "paper"] = Field(
        "gated",
        description="gated (default): aspect-weighted primaries and gates that cap the reward; "
        "paper: exactly Eq. 1 of the rubric paper, for reproducing it.",
    )
    gate_cap: float = Field(0.0, ge=-10, le=10, description="The reward cap when a gate fails (gated mode).")
    customer: Literal["scripted", "llm"] | None = Field(
        None, description="Customer simulator of a conversational task (default: the task's)."
    )
    judge: bool | None = Field(
        None,
        description="Grade judge-only criteria with the LLM judge. Default: only when "
        "SUPPORTGYM_JUDGE_MODEL is set; otherwise they stay judge_pending and out of the reward.",
    )

    @field_validator("scale")
    @classmethod
    def _known_scale(cls, value: str) -> str:
        if value not in SCALES:
            raise ValueError(f"unknown scale {value!r}; choose one of {', '.join(SCALES)}")
        return value


class EpisodeClosed(RuntimeError):
    """A call arrived after the episode ended (a protocol error, not an agent mistake)."""


@dataclass
class StepResult:
    """What one action produced, for any transport."""

    step: int
    observation: dict[str, Any]
    ok: bool
    status: EpisodeStatus
    grade: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        return self.status != EpisodeStatus.running

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "observation": self.observation,
            "ok": self.ok,
            "status": self.status.value,
            "done": self.done,
            "grade": self.grade,
        }


@dataclass
class EpisodeSnapshot:
    """A saved moment of an episode (see :meth:`Episode.snapshot`)."""

    image: bytes
    trail_len: int
    changes_len: int
    now: datetime
    reply: str | None
    status: EpisodeStatus
    consecutive_invalid: int
    grade: dict[str, Any] | None
    grade_obj: Any = None
    conversation_len: int = 0
    grace: int = 0


_ids = itertools.count(1)
JUDGE_MODEL_ENV = "SUPPORTGYM_JUDGE_MODEL"


def judge_wanted(config: EpisodeConfig) -> bool:
    """Whether this episode's judge-only criteria go to the LLM judge: when asked explicitly, or
    by default when ``SUPPORTGYM_JUDGE_MODEL`` names one."""
    if config.judge is None:
        return bool(os.environ.get(JUDGE_MODEL_ENV))
    return config.judge


class Scenario(Protocol):
    """What an episode needs from a task: the world after the task's setup, what the agent is
    told, the step budget, the simulated customer (chat tasks) and how the end is graded.

    The services layer knows no task format and no rubric: :mod:`supportgym.tasks` builds a
    scenario from a task (``supportgym.tasks.open_episode``) and hands it in. A bare world is an
    episode without one.
    """

    @property
    def image(self) -> bytes: ...

    @property
    def instruction(self) -> str: ...

    @property
    def max_steps(self) -> int: ...

    @property
    def conversation(self) -> Conversation | None: ...

    def grade(self, db: WorldDB, record: EpisodeRecord, config: EpisodeConfig) -> BaseModel:
        """The grade of a finished episode (a pydantic model, sent as JSON)."""
        ...


class Episode:
    """A running episode. Thread-safe: one lock serialises the calls of one episode.

    ``scenario`` is the task to run (see :class:`Scenario`); without one the episode is a bare
    world of ``config.seed`` / ``config.scale`` that ends ungraded.
    """

    def __init__(
        self,
        config: EpisodeConfig,
        episode_id: str | None = None,
        *,
        scenario: Scenario | None = None,
        customer: Any = None,
    ) -> None:
        self.id = episode_id or f"ep-{next(_ids):06d}"
        self.config = config
        if config.judge is True and not os.environ.get(JUDGE_MODEL_ENV):
            # Refused now, not at submit (where it would leave the episode ended without a grade).
            raise ValueError(f"judge=true needs an LLM judge and none is configured ({JUDGE_MODEL_ENV} is unset)")
        if (config.task_id is None) != (scenario is None):
            raise ValueError(
                "a task episode is opened with its scenario: supportgym.tasks.open_episode(config)"
                if scenario is None
                else "a scenario needs config.task_id (the task it was built from)"
            )
        self.scenario = scenario
        if scenario is not None:
            self.db = WorldDB.from_image(scenario.image)
            self.instruction: str = scenario.instruction
            self.max_steps = config.max_steps or scenario.max_steps
        else:
            self.db = get_snapshot(config.seed, config.scale).open()
            self.instruction = ""
            self.max_steps = config.max_steps or DEFAULT_MAX_STEPS
        self.lock = threading.Lock()
        start = self._world_now()
        self.clock = SimClock(start)
        self.start = start
        self.trail: list[TrailEntry] = []
        self.changes: list[dict[str, Any]] = []
        self.reply: str | None = None
        self.status = EpisodeStatus.running
        self.consecutive_invalid = 0
        self.grade: dict[str, Any] | None = None
        self._grade_obj: BaseModel | None = None
        self.closed = False
        # Monotonic time of the last action (the service reaps episodes idle for too long).
        self.last_active = time.monotonic()
        self._policy_summary: str | None = None
        # Conversational tasks: the simulated customer and the chat so far (see module notes).
        self.customer: Any = None
        self.conversation: list[dict[str, Any]] = []
        self.grace = 0  # extra steps granted so an approved write can follow (APPROVAL_GRACE_STEPS)
        conv = scenario.conversation if scenario is not None else None
        if conv is not None:
            self.customer = customer if customer is not None else make_customer(conv, config.customer)
            self.conversation = [
                {
                    "role": "customer",
                    "text": conv.opening.strip(),
                    "revealed": [],
                    "rules": [],
                    "approve": False,
                    "over": False,
                }
            ]

    def _world_now(self) -> datetime:
        row = self.db.conn.execute("SELECT value FROM world_meta WHERE key='now'").fetchone()
        return parse_iso(row[0]) if row else SimClock().now()

    @property
    def task_id(self) -> str | None:
        return self.config.task_id

    @property
    def conversational(self) -> bool:
        return self.customer is not None

    def tool_schemas(self) -> list[dict[str, Any]]:
        """This episode's tools in OpenAI format (``message_customer`` only when conversational)."""
        return _schemas(self.conversational, enabled_tools(self.db.conn))

    @property
    def steps(self) -> int:
        return len(self.trail)

    def policy_summary(self) -> str:
        if self._policy_summary is None:
            with self.lock:
                rows = reads.query("policy_summary", lambda: select(Policy).order_by(Policy.id)).rows(self.db.conn)
                self._policy_summary = "\n".join(f"- {p.id} {p.title}: {p.summary}" for p in rows)
        return self._policy_summary

    # --- actions -------------------------------------------------------------------------

    def step(self, name: Any, arguments: Any) -> StepResult:
        """Apply one action: a world tool, or ``submit_response`` to finish."""
        with self.lock:
            if self.closed:
                raise EpisodeClosed(f"episode {self.id} was deleted")
            if self.status != EpisodeStatus.running:
                raise EpisodeClosed(f"episode {self.id} has ended ({self.status.value})")
            self.last_active = time.monotonic()
            before = self.clock.now()
            now = self.clock.tick(STEP)
            too_big = None if name == INVALID_ACTION else check_arguments(arguments)
            try:
                if too_big is not None:
                    outcome = ToolOutcome(_recorded_name(name), arguments, False, too_big.to_dict())
                elif name == SUBMIT_TOOL:
                    outcome = self._submit(arguments)
                elif name == MESSAGE_TOOL and self.conversational:
                    outcome = self._message(arguments)
                elif name == INVALID_ACTION:
                    outcome = _invalid_action(arguments)
                else:
                    outcome = call_tool(self.db, name, arguments, now=now, episode_start=self.start)
                    if outcome.ok and any(c.get("table") == "world_meta" for c in outcome.changes):
                        # The call moved the world's time (advance_time): the clock follows.
                        self.clock = SimClock(self._world_now())
            except WorldFault:
                # The world rolled the call back: the clock goes back too, and the trail keeps
                # the attempt (not the agent's fault: the invalid-call streak is unchanged).
                self.clock = SimClock(before)
                failed = ToolOutcome(
                    _recorded_name(name),
                    arguments,
                    False,
                    ToolError("world_fault", "The world failed to apply this call; nothing changed.", None).to_dict(),
                )
                failed.infra_error = True  # type: ignore[attr-defined]
                self._record(failed, before)
                raise
            if not outcome.ok:
                # A refused call's payload is not kept whole: the trail must not grow with junk.
                outcome.arguments = recorded_arguments(outcome.arguments)
            self._record(outcome, now)
            if self.conversational and outcome.ok and outcome.writes and outcome.changes:
                self.conversation.append({"role": "event", "text": f"write:{outcome.name}", "step": len(self.trail)})
            if self.status == EpisodeStatus.running:
                if len(self.trail) >= self.max_steps and self._grant_grace():
                    pass
                elif len(self.trail) >= self.max_steps:
                    self.status = EpisodeStatus.truncated_max_steps
                elif self.consecutive_invalid >= self.config.max_invalid_calls:
                    self.status = EpisodeStatus.truncated_invalid_calls
            if self.status != EpisodeStatus.running:
                self._finish()
            return StepResult(
                step=len(self.trail),
                observation=outcome.result,
                ok=outcome.ok,
                status=self.status,
                grade=self.grade,
            )

    def _submit(self, arguments: Any) -> ToolOutcome:
        try:
            args = SubmitResponseArgs.model_validate(parse_arguments(arguments))
        except ToolError as err:
            return ToolOutcome(SUBMIT_TOOL, arguments, False, err.to_dict())
        except ValidationError as exc:
            return ToolOutcome(SUBMIT_TOOL, arguments, False, _validation_error(exc).to_dict())
        self.reply = args.response
        self.status = EpisodeStatus.submitted
        return ToolOutcome(SUBMIT_TOOL, {"response": args.response}, True, {"submitted": True})

    def _grant_grace(self) -> bool:
        """At the end of the step budget with an approved write still pending: one more step,
        at most APPROVAL_GRACE_STEPS in an episode (the approved write can always follow)."""
        if not self.conversational or not approval_pending(self.conversation):
            return False
        if len(self.trail) >= self.max_steps + APPROVAL_GRACE_STEPS:
            return False
        self.grace = len(self.trail) - self.max_steps + 1
        return True

    def _message(self, arguments: Any) -> ToolOutcome:
        try:
            args = MessageCustomerArgs.model_validate(parse_arguments(arguments))
        except ToolError as err:
            return ToolOutcome(MESSAGE_TOOL, arguments, False, err.to_dict())
        except ValidationError as exc:
            return ToolOutcome(MESSAGE_TOOL, arguments, False, _validation_error(exc).to_dict())
        sent = {"message": args.message}
        if conversation_over(self.conversation):
            over = ToolError(
                "conversation_over",
                "The customer has left the conversation. Finish with submit_response (your final summary).",
                None,
            )
            return ToolOutcome(MESSAGE_TOOL, sent, False, over.to_dict())
        try:
            # Under the upstream deadline: a hung simulator must not hold the episode's lock.
            turn = call_with_deadline(
                "customer_unavailable", self.customer.respond, list(self.conversation), args.message
            )
        except (CustomerUnavailable, UpstreamUnavailable) as exc:
            # The agent gets a fixed message; the endpoint's words (URLs, keys, bodies) go to the log.
            if isinstance(exc, CustomerUnavailable):
                log_failure("customer_unavailable", exc)
            unavailable = UpstreamUnavailable("customer_unavailable")
            refusal = ToolError(unavailable.code, str(unavailable), None)
            out = ToolOutcome(MESSAGE_TOOL, sent, False, refusal.to_dict())
            out.infra_error = True  # type: ignore[attr-defined]
            return out
        self.conversation.append({"role": "agent", "text": args.message, "step": len(self.trail) + 1})
        self.conversation.append(
            {
                "role": "customer",
                "text": turn.text,
                "revealed": list(turn.revealed),
                "rules": list(turn.rules),
                "approve": bool(turn.approve),
                "over": bool(turn.over),
                "reason": turn.reason,
                "step": len(self.trail) + 1,
            }
        )
        return ToolOutcome(MESSAGE_TOOL, sent, True, {"customer": turn.text, "conversation_over": bool(turn.over)})

    def _record(self, outcome: ToolOutcome, now: datetime) -> None:
        if getattr(outcome, "infra_error", False):
            pass  # the simulator failed, not the agent: the invalid-call streak is unchanged
        else:
            self.consecutive_invalid = 0 if outcome.ok else self.consecutive_invalid + 1
        self.changes.extend(outcome.changes)
        self.trail.append(
            TrailEntry(
                step=len(self.trail) + 1,
                name=outcome.name,
                arguments=outcome.arguments,
                ok=outcome.ok,
                result=outcome.result,
                error_code=outcome.error_code,
                writes=outcome.writes,
                changes=outcome.changes,
                sim_time=iso(now) or "",
            )
        )

    def _finish(self) -> None:
        if self.scenario is None:
            return
        grade = functools.partial(self.scenario.grade, self.db, self.record(), self.config)
        # With the LLM judge, grading waits on an endpoint: under the upstream deadline, so a hung
        # judge is a typed judge_unavailable and the lock is released (the episode stays ended,
        # without a grade). Program-only grading is local and runs as it is.
        self._grade_obj = grade() if not judge_wanted(self.config) else call_with_deadline("judge_unavailable", grade)
        self.grade = self._grade_obj.model_dump(mode="json")

    # --- reading -------------------------------------------------------------------------

    def record(self) -> EpisodeRecord:
        return EpisodeRecord(task_id=self.task_id, trail=list(self.trail), reply=self.reply, changes=list(self.changes))

    def net_changes(self) -> list[dict[str, Any]]:
        return summarise_changes(self.changes)

    def world_hash(self) -> str:
        """Canonical hash of this episode's world as it is now (see ``supportgym.db.world_hash``)."""
        with self.lock:
            if self.closed:
                raise EpisodeClosed(f"episode {self.id} was deleted")
            with self.db.session() as s:
                return world_hash(s)

    def describe(self) -> dict[str, Any]:
        return {
            "episode_id": self.id,
            "task_id": self.task_id,
            "status": self.status.value,
            "steps": self.steps,
            "max_steps": self.max_steps,
            "sim_time": iso(self.clock.now()),
        }

    @property
    def grade_object(self) -> BaseModel | None:
        """The rubric ``Grade`` this episode finished with (None while running or without a task)."""
        return self._grade_obj

    def snapshot(self) -> EpisodeSnapshot:
        """Everything needed to put the episode back to this moment (the debugger's undo)."""
        with self.lock:
            return EpisodeSnapshot(
                image=self.db.image(),
                trail_len=len(self.trail),
                changes_len=len(self.changes),
                now=self.clock.now(),
                reply=self.reply,
                status=self.status,
                consecutive_invalid=self.consecutive_invalid,
                grade=self.grade,
                grade_obj=self._grade_obj,
                conversation_len=len(self.conversation),
                grace=self.grace,
            )

    def restore(self, snap: EpisodeSnapshot) -> None:
        """Return to ``snap``: world, trail, changes, clock, reply, status and grade."""
        with self.lock:
            old = self.db
            self.db = WorldDB.from_image(snap.image)
            old.close()
            del self.trail[snap.trail_len :]
            del self.changes[snap.changes_len :]
            self.clock = SimClock(snap.now)
            self.reply = snap.reply
            self.status = snap.status
            self.consecutive_invalid = snap.consecutive_invalid
            self.grade = snap.grade
            self._grade_obj = snap.grade_obj
            del self.conversation[max(snap.conversation_len, 1 if self.conversational else 0) :]
            self.grace = snap.grace

    def to_trajectory(self, agent: str, **fields: Any) -> Any:
        """This episode as a :class:`supportgym.trajectory.Trajectory` (for JSONL files)."""
        grade = self.grade
        return Trajectory(
            task_id=self.task_id,
            seed=None if self.task_id else self.config.seed,
            scale=None if self.task_id else self.config.scale,
            alpha=self.config.alpha,
            beta=self.config.beta,
            max_steps=self.max_steps,
            agent=agent,
            prompt=self.instruction,
            steps=list(self.trail),
            reply=self.reply,
            status=self.status.value,
            reward=None if grade is None else grade.get("reward"),
            perfect=None if grade is None else grade.get("perfect"),
            grade=grade,
            **fields,
        )

    def close(self) -> None:
        """Free the world copy. Waits for a running call; later calls raise EpisodeClosed."""
        with self.lock:
            if not self.closed:
                self.closed = True
                self.db.close()


def _recorded_name(name: Any) -> str:
    text = name if isinstance(name, str) else repr(name)[:100]
    return text[:100]


def invalid_action_arguments(raw: Any, problem: str) -> dict[str, str]:
    """The arguments of an :data:`INVALID_ACTION` step for an action that could not be parsed."""
    text = raw if isinstance(raw, str) else repr(raw)
    if len(text) > MAX_RAW_ACTION_CHARS:
        text = text[:MAX_RAW_ACTION_CHARS] + f"...[{len(text) - MAX_RAW_ACTION_CHARS} more chars]"
    return {"raw": text, "problem": problem}


def _invalid_action(arguments: Any) -> ToolOutcome:
    problem = arguments.get("problem") if isinstance(arguments, dict) else None
    message = (
        f"The action could not be read as a tool call: {problem or 'unparsable action'}. "
        'Send exactly one tool call: {"name": "<tool>", "arguments": {...}}.'
    )
    err = ToolError("invalid_action", message, None)
    return ToolOutcome(INVALID_ACTION, arguments, False, err.to_dict())
