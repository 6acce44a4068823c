"""One rollout: a policy plays one task to the end; the result is a trajectory and its grade.

::

    from supportgym.env.rollout import ReferencePolicy, rollout

    result = rollout(ReferencePolicy("refund_within_window-01"), "refund_within_window-01")
    result.reward, result.trajectory.steps, result.grade["criteria"]

Policy
    Any callable ``policy(messages, tools) -> action | None``: ``messages`` is the chat so far
    (system, user, then assistant tool calls and tool results, OpenAI format), ``tools`` the
    OpenAI function schemas (``submit_response`` included). The action is one tool call in any
    shape :func:`supportgym.env.actions.parse_action` reads (``{"name", "arguments"}``, an OpenAI
    ``tool_call``, or an assistant message with one ``tool_calls`` entry); ``None`` gives up (:data:`GIVE_UP_REPLY`
    is submitted: the world refuses an empty reply). An object with an ``act(messages, tools)`` method (the LLM agent)
    is a policy too. A returned dict may carry ``"usage": {"prompt_tokens", "completion_tokens"}``
    and ``"content"`` (the assistant's text); both are recorded. An assistant message may carry
    several ``tool_calls``: they are stepped in order (those after the episode ended are answered
    ``not_executed``). An assistant message with no tool call is a text action: its text is
    stepped (the world answers ``invalid_action`` unless it is a JSON tool call) and the answer
    comes back as a user message.

Per-episode policies
    A policy with ``for_episode(info, attempt)`` is asked, after each reset, for the callable that
    plays that episode (the LLM agent: it needs the step budget, to force ``submit_response`` on
    the last step, and a per-attempt sampling seed). An agent may also carry ``system_prompt``,
    ``include_policies`` and ``max_observation_chars`` (observations cut to that length in the
    chat); the defaults are :data:`SYSTEM_PROMPT`, True and no cut.

One loop
    This is the only agent loop: ``supportgym eval --agent llm``, :class:`LLMAgent.run_episode
    <supportgym.env.llm_agent.LLMAgent>` and the Ray pool all play episodes through
    :func:`rollout`, with one system prompt, which the dataset exports also put in their rows.

Outcome (:attr:`RolloutResult.status`)
    ``ok``: the episode ended (submitted or truncated) and was graded. ``infra_error``: the
    environment failed (:class:`~supportgym.env.errors.EnvironmentFault`, or any exception of
    ``reset``/``step``); no reward, ``trajectory.infra_error`` says why. ``timeout``: a step or the
    episode exceeded its deadline; no reward. ``policy_error``: the policy raised; no reward.
    Only ``ok`` rollouts carry a reward; the others are excluded from training, never scored 0.

Deadlines
    ``step_timeout_s`` bounds one policy call and one environment step each; ``episode_timeout_s``
    the whole episode (reset included; a reset, which may build the task's world the first time,
    is bounded by the episode deadline only). When either is set, calls run on a helper thread and a
    call that overruns is abandoned (its environment is closed in the background).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from supportgym.env.actions import ActionParseError, parse_action
from supportgym.env.errors import EnvironmentFault, EpisodeEnded
from supportgym.env.support_env import SupportEnv
from supportgym.services.episode import DEFAULT_ALPHA, DEFAULT_BETA
from supportgym.services.tools.submit import SUBMIT_TOOL, submit_call
from supportgym.tasks import prepare_task
from supportgym.tasks.template import render
from supportgym.trail import TrailEntry
from supportgym.trajectory import Trajectory

log = logging.getLogger("supportgym.rollouts")

Policy = Callable[[list[dict[str, Any]], list[dict[str, Any]]], Any]
EnvFactory = Callable[[], Any]

SYSTEM_PROMPT = """You are a customer-support agent for an online store. You act only through the
tools provided: look things up before you act, follow the store's policies, never invent ids,
amounts or dates. Make one tool call at a time and read its result. When the task is done (or
cannot be done), call submit_response once with your final reply to the customer or requester.

Company policies (summary):
{policies}"""
# The system prompt's policy text when the agent is to read the policies with the tools instead.
POLICIES_BY_TOOL = "(read them with search_policies and get_policy)"

# The user message answering a text action: the chat shows what happened to it.
NO_TOOL_CALL = (
    "Your last message contained no tool call, so nothing was done; it used one step. "
    "The environment answered: {observation}\n"
    "Act only through tool calls. When you are finished, call submit_response with your reply."
)
TEXT_READ_AS_CALL = "Your last message was read as a tool call. The environment answered: {observation}"
NOT_EXECUTED = json.dumps({"error": {"code": "not_executed", "message": "the episode had already ended"}})

# What is submitted for a policy that gives up (returns None): a reply may not be empty.
GIVE_UP_REPLY = "I am sorry, I could not resolve this request."

OK = "ok"
INFRA_ERROR = "infra_error"
TIMEOUT = "timeout"
POLICY_ERROR = "policy_error"


class RolloutTimeout(Exception):
    """A step or the episode ran past its deadline."""


@dataclass
class RolloutResult:
    """One finished rollout. ``reward`` is None unless ``status == "ok"``."""

    trajectory: Trajectory
    status: str
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    index: int = 0
    attempt: int = 0
    worker: str | None = None
    error_type: str | None = None  # the class name of the exception that cut the rollout short

    @property
    def task_id(self) -> str | None:
        return self.trajectory.task_id

    @property
    def reward(self) -> float | None:
        return self.trajectory.reward if self.status == OK else None

    @property
    def grade(self) -> dict[str, Any] | None:
        return self.trajectory.grade

    @property
    def infra_error(self) -> str | None:
        return self.trajectory.infra_error

    @property
    def timed_out(self) -> bool:
        return self.status == TIMEOUT

    @property
    def trainable(self) -> bool:
        """Graded, and neither the environment nor a deadline cut it short."""
        return self.status == OK and self.trajectory.reward is not None

    def summary(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "index": self.index,
            "attempt": self.attempt,
            "status": self.status,
            "reward": self.reward,
            "steps": len(self.trajectory.steps),
            "error": self.error,
            "worker": self.worker,
        }


# --- policies ---------------------------------------------------------------------------


def _tool_results(messages: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """(number of tool calls made so far, latest successful result per tool name)."""
    names: dict[str | None, str] = {}  # tool-call id (None when the model sent none) -> tool
    calls = 0
    results: dict[str, Any] = {}
    for m in messages:
        if m.get("role") == "assistant":
            for tc in m.get("tool_calls") or []:
                calls += 1
                names[tc.get("id")] = tc["function"]["name"]
        elif m.get("role") == "tool":
            name = m.get("name") or names.get(m.get("tool_call_id"))
            try:
                value = json.loads(m.get("content") or "null")
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict) and "error" not in value and name:
                results[name] = value
    return calls, results


class ReferencePolicy:
    """Replays a task's scripted solution: the reference (default) or ``variant="wrong:<name>"``.

    Stateless: the next call is chosen from the number of tool calls already in ``messages``,
    and ``{result.<tool>.<path>}`` placeholders are filled from the tool results there, so the
    same object can serve many rollouts and survives pickling (only the task id and variant
    travel; the solution is loaded on first use).
    """

    def __init__(self, task: str | Any, variant: str = "reference") -> None:
        self.task_id: str = task if isinstance(task, str) else task.id
        self.variant = variant
        self._solution: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "variant": self.variant, "_solution": None}

    @property
    def name(self) -> str:
        return self.variant

    def solution(self) -> Any:
        if self._solution is None:
            prepared = prepare_task(self.task_id)
            if self.variant == "reference":
                self._solution = prepared.reference
            else:
                wanted = self.variant.removeprefix("wrong:")
                for w in prepared.wrong:
                    if w.name == wanted:
                        self._solution = w
                        break
                else:
                    names = ", ".join(f"wrong:{w.name}" for w in prepared.wrong)
                    raise KeyError(f"task {self.task_id} has no solution {self.variant!r} (reference, {names})")
        return self._solution

    def __call__(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> dict[str, Any] | None:

        sol = self.solution()
        done, results = _tool_results(messages)
        context = {"result": results}
        if done < len(sol.calls):
            call = sol.calls[done]
            return {"name": call.tool, "arguments": render(call.args, context)}
        if sol.reply is None:
            return None  # this solution never replies: give up
        return submit_call(render(sol.reply, context))

    def __repr__(self) -> str:
        return f"ReferencePolicy({self.task_id!r}, variant={self.variant!r})"


class ScriptedPolicy:
    """Makes the given calls in order, then submits ``reply`` (for bare worlds and tests)."""

    def __init__(self, calls: list[tuple[str, dict[str, Any]]], reply: str = "Done.") -> None:
        self.calls = list(calls)
        self.reply = reply

    @property
    def name(self) -> str:
        return "scripted"

    def __call__(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> dict[str, Any]:
        done, _ = _tool_results(messages)
        if done < len(self.calls):
            name, args = self.calls[done]
            return {"name": name, "arguments": dict(args)}
        return submit_call(self.reply)


def reference_policy(task_id: str, index: int = 0) -> ReferencePolicy:
    """Policy factory for :class:`~supportgym.env.ray_pool.RolloutPool`: the reference solution."""
    return ReferencePolicy(task_id)


def mixed_reference_policy(task_id: str, index: int = 0) -> ReferencePolicy:
    """Policy factory: rollout ``index`` plays the reference or one of the task's wrong
    trajectories, in turn (a deterministic group whose rewards differ)."""

    variants = ["reference", *(f"wrong:{w.name}" for w in prepare_task(task_id).wrong)]
    return ReferencePolicy(task_id, variants[index % len(variants)])


def policy_name(policy: Any) -> str:
    name = getattr(policy, "name", None)
    if isinstance(name, str):
        return name
    return getattr(policy, "__name__", None) or type(policy).__name__


# --- the rollout ------------------------------------------------------------------------


class _Caller:
    """Runs calls on one daemon helper thread so that each can be given a deadline.

    A call that overruns is abandoned: the thread keeps running it, but being a daemon it never
    holds up the process, and the caller moves on.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="supportgym-rollout-call", daemon=True)
        self._thread.start()
        self.abandoned = False

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, box, done = job
            try:
                box.append((True, fn()))
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller, who raises it
                box.append((False, exc))
            done.set()

    def call(self, fn: Callable[[], Any], timeout: float | None, what: str) -> Any:
        box: list[tuple[bool, Any]] = []
        done = threading.Event()
        self._jobs.put((fn, box, done))
        if not done.wait(timeout):
            self.abandoned = True
            raise RolloutTimeout(f"{what} exceeded its deadline ({timeout:.3g} s)")
        ok, value = box[0]
        if ok:
            return value
        raise value

    def stop(self) -> None:
        self._jobs.put(None)


class _Direct:
    abandoned = False

    def call(self, fn: Callable[[], Any], timeout: float | None, what: str) -> Any:
        return fn()

    def stop(self) -> None:
        pass


def default_env_factory(**env_kwargs: Any) -> Callable[[], Any]:
    """An environment factory for an in-process :class:`SupportEnv` with ``env_kwargs``."""

    def make() -> Any:

        return SupportEnv(**env_kwargs)

    return make


@dataclass
class _Turn:
    """What a policy returned on one turn, ready for the chat and for ``env.step``."""

    message: dict[str, Any]  # the assistant message of the transcript
    actions: list[Any]  # stepped in order: one per tool call, or the text of a text action
    text: bool  # a text action: its answer comes back as a user message
    usage: dict[str, Any]


def chat_calls(calls: list[Any], turn: int) -> list[dict[str, Any]]:
    """Tool calls with an id, a name and string arguments, as the next chat request must carry
    them (a model may leave the id out or send the arguments as an object)."""
    out = []
    for i, c in enumerate(calls):
        if not isinstance(c, dict):
            continue
        fn = c.get("function") or {}
        args = fn.get("arguments")
        if not isinstance(args, str):
            args = json.dumps(args if args is not None else {})
        out.append(
            {
                "id": str(c.get("id") or f"call_{turn}_{i}"),
                "type": "function",
                "function": {"name": str(fn.get("name") or ""), "arguments": args},
            }
        )
    return out


def _text_turn(text: str, usage: dict[str, Any]) -> _Turn:
    # "" rather than null content: llama.cpp refuses null and its chat template needs the key.
    return _Turn({"role": "assistant", "content": text}, [text], True, usage)


def _turn(k: int, raw: Any) -> _Turn:
    """Read what a policy returned: a bare action, an assistant message, or text."""
    usage: dict[str, Any] = {}
    if isinstance(raw, dict):
        raw = dict(raw)
        usage = dict(raw.pop("usage", None) or {})
        if "tool_calls" in raw or raw.get("role") == "assistant":  # an assistant message
            content = raw.get("content") or ""
            calls = chat_calls(raw.get("tool_calls") or [], k)
            if not calls:
                return _text_turn(content, usage)
            return _Turn({"role": "assistant", "content": content, "tool_calls": calls}, list(calls), False, usage)
        if raw.get("type") == "text":  # LLMAgent.act's answer without a tool call
            return _text_turn(str(raw.get("content") or ""), usage)
        content = raw.pop("content", None)
    else:
        content = None
    try:
        name, arguments = parse_action(raw)
    except ActionParseError:
        text = raw if isinstance(raw, str) else repr(raw)
        turn = _text_turn(text if content is None else f"{content}\n{text}", usage)
        turn.actions = [raw]  # the world reads (and refuses) the action itself
        return turn
    args_text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    call = {"id": f"call_{k}", "type": "function", "function": {"name": name, "arguments": args_text}}
    return _Turn({"role": "assistant", "content": content or "", "tool_calls": [call]}, [raw], False, usage)


def _episode_steps(env: Any) -> list[TrailEntry] | None:
    """The finished episode's trail, from whichever transport hosts it."""
    transport = getattr(env, "unwrapped", env).transport
    episode = getattr(transport, "episode", None)
    if episode is not None and hasattr(episode, "trail"):
        return [t.model_copy(deep=True) for t in episode.trail]
    getter = getattr(transport, "get", None)  # the http and docker transports
    if callable(getter):
        return [TrailEntry.model_validate(t) for t in getter("trail")["trail"]]
    return None


def rollout(
    policy: Policy | Any,
    task_id: str | None,
    *,
    env: Any = None,
    env_factory: EnvFactory | None = None,
    alpha: float = DEFAULT_ALPHA,
    beta: float = DEFAULT_BETA,
    step_timeout_s: float | None = None,
    episode_timeout_s: float | None = None,
    reset_options: dict[str, Any] | None = None,
    agent: str | None = None,
    model: str | None = None,
    index: int = 0,
    attempt: int = 0,
    should_stop: Callable[[], bool] | None = None,
) -> RolloutResult:
    """Run one episode of ``task_id`` with ``policy`` and return its trajectory and grade.

    Args:
        policy: ``policy(messages, tools) -> action | None`` or an object with ``act``.
        task_id: The task (None: a bare world, set by ``reset_options`` ``seed``/``scale``;
            it has no grade).
        env: An environment to reuse (a :class:`SupportEnv`; it is reset, not closed).
        env_factory: ``() -> env`` used when ``env`` is not given (default: in-process
            :class:`SupportEnv` with ``alpha``/``beta``); that env is closed at the end.
        alpha, beta: Reward weights (for the default factory).
        step_timeout_s: Deadline of one policy call and of one environment step.
        episode_timeout_s: Deadline of the whole episode, reset included.
        reset_options: Extra ``reset`` options (``seed``/``scale`` of a bare world, ``max_steps``).
        agent, model: Recorded in the trajectory (default agent: the policy's name).
        index, attempt: Position in a group and retry number (recorded).
        should_stop: Checked before every turn; when it returns True the rollout stops and is
            reported as ``timeout`` (how a pool cancels the rest of an expired group).
    """
    act = getattr(policy, "act", None)
    decide: Callable[[list[dict[str, Any]], list[dict[str, Any]]], Any] = act if callable(act) else policy
    agent = agent or policy_name(policy)
    model = model or getattr(policy, "model", None)
    if not isinstance(model, str):
        model = None
    t_start = time.perf_counter()
    deadline = None if episode_timeout_s is None else t_start + episode_timeout_s
    caller: Any = _Caller() if (step_timeout_s is not None or episode_timeout_s is not None) else _Direct()
    timings = {"reset_s": 0.0, "policy_s": 0.0, "env_s": 0.0, "total_s": 0.0}
    own_env = env is None
    messages: list[dict[str, Any]] = []
    tokens = {"in": 0, "out": 0}
    info: dict[str, Any] = {}
    status, error, infra = OK, None, None
    error_type: str | None = None
    grade: dict[str, Any] | None = None
    ep_status = "running"
    max_steps = 0

    def budget(what: str, per_step: bool = True) -> float | None:
        if should_stop is not None and should_stop():
            raise RolloutTimeout(f"cancelled before {what} (its group's deadline passed)")
        limits = [step_timeout_s] if step_timeout_s is not None and per_step else []
        if deadline is not None:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise RolloutTimeout(f"the episode exceeded its deadline ({episode_timeout_s:.3g} s) before {what}")
            limits.append(left)
        return min(limits) if limits else None

    def env_call(fn: Callable[[], Any], what: str, per_step: bool = True) -> Any:
        t0 = time.perf_counter()
        try:
            return caller.call(fn, budget(what, per_step), what)
        finally:
            timings["env_s"] += time.perf_counter() - t0

    try:
        try:
            if env is None:
                factory = env_factory or default_env_factory(alpha=alpha, beta=beta)
                env = caller.call(factory, budget("building the environment", False), "building the environment")
            options = dict(reset_options or {})
            if task_id is not None:
                options["task_id"] = task_id
            t0 = time.perf_counter()
            # A reset may build the task's world the first time: only the episode deadline applies.
            _, info = env_call(lambda: env.reset(options=options), "reset", per_step=False)
            timings["reset_s"] = time.perf_counter() - t0
        except (RolloutTimeout, EnvironmentFault):
            raise
        except Exception as exc:  # noqa: BLE001 - the environment could not start the episode: an infra error, typed
            raise EnvironmentFault(f"reset failed: {type(exc).__name__}: {exc}") from exc
        tools = info.get("tools") or []
        base = getattr(env, "unwrapped", env)
        alpha = float(getattr(base, "alpha", alpha))
        beta = float(getattr(base, "beta", beta))
        max_steps = int(info.get("max_steps") or 0)
        prompt = getattr(policy, "system_prompt", None) or SYSTEM_PROMPT
        policies = info.get("policy_summary") or "(none)"
        if not getattr(policy, "include_policies", True):
            policies = POLICIES_BY_TOOL
        cut_at = getattr(policy, "max_observation_chars", None)
        messages.append({"role": "system", "content": prompt.format(policies=policies)})
        messages.append({"role": "user", "content": info.get("instruction") or "(no instruction: explore the world)"})
        for_episode = getattr(policy, "for_episode", None)
        play = for_episode(info, attempt) if callable(for_episode) else decide
        k = n_steps = 0
        ended = False
        while not ended:
            k += 1
            t0 = time.perf_counter()
            view = [dict(m) for m in messages]
            try:
                # partial binds this turn's view (and below, action): a call left running after a
                # timeout must not see the next turn's.
                raw = caller.call(partial(play, view, tools), budget("the policy's turn"), "the policy's turn")
            except RolloutTimeout:
                raise
            except Exception as exc:  # noqa: BLE001 - whatever the policy raised ends this rollout only
                timings["policy_s"] += time.perf_counter() - t0
                status, error, error_type = POLICY_ERROR, f"{type(exc).__name__}: {exc}", type(exc).__name__
                break
            timings["policy_s"] += time.perf_counter() - t0
            turn = _turn(k, submit_call(GIVE_UP_REPLY) if raw is None else raw)
            tokens["in"] += int(turn.usage.get("prompt_tokens", 0) or 0)
            tokens["out"] += int(turn.usage.get("completion_tokens", 0) or 0)
            messages.append(turn.message)
            for i, action in enumerate(turn.actions):
                if ended:
                    messages.append(
                        {"role": "tool", "tool_call_id": turn.message["tool_calls"][i]["id"], "content": NOT_EXECUTED}
                    )
                    continue
                n_steps += 1
                try:
                    obs, _, terminated, truncated, info = env_call(partial(env.step, action), f"step {n_steps}")
                except (RolloutTimeout, EnvironmentFault):
                    raise
                except Exception as exc:  # noqa: BLE001 - not the policy's doing: the env broke on a parsed action
                    raise EnvironmentFault(f"step {n_steps} failed: {type(exc).__name__}: {exc}") from exc
                shown = obs if cut_at is None or len(obs) <= cut_at else obs[:cut_at] + "...[cut]"
                if terminated or truncated:
                    ended = True
                    ep_status = info.get("status", "submitted")
                    grade = info.get("grade")
                if not turn.text:
                    call_id = turn.message["tool_calls"][i]["id"]
                    messages.append({"role": "tool", "tool_call_id": call_id, "content": shown})
                elif not ended:
                    answer = TEXT_READ_AS_CALL if info.get("ok") else NO_TOOL_CALL
                    messages.append({"role": "user", "content": answer.format(observation=shown)})
    except RolloutTimeout as exc:
        status, error, error_type = TIMEOUT, str(exc), type(exc).__name__
    except EnvironmentFault as exc:
        status, error, error_type = INFRA_ERROR, f"{type(exc).__name__}: {exc}", type(exc).__name__
        infra = error

    steps: list[TrailEntry] = []
    reply = None
    if env is not None and not caller.abandoned:
        try:
            steps = _episode_steps(env) or []
        except (EnvironmentFault, EpisodeEnded, ValueError, KeyError) as exc:  # ValueError: a malformed trail
            problem = f"could not read the trail: {type(exc).__name__}: {exc}"
            if status == OK:
                status, error, error_type, infra = INFRA_ERROR, problem, type(exc).__name__, problem
            else:
                log.warning("%s (the rollout had already ended: %s)", problem, error)
    for s in steps:
        if s.name == SUBMIT_TOOL and s.ok and isinstance(s.arguments, dict):
            reply = s.arguments.get("response")
    if status == OK and ep_status == "running":
        ep_status = "ended"
    if status != OK:
        ep_status = status
    caller.stop()
    if own_env and env is not None:
        if caller.abandoned:  # a call is still running on the env: close it when it returns
            threading.Thread(target=_close_quietly, args=(env,), daemon=True).start()
        else:
            _close_quietly(env)
    timings["total_s"] = time.perf_counter() - t_start
    reward = None
    if status == OK and grade is not None:
        reward = float(grade["reward"])
    trajectory = Trajectory(
        task_id=task_id,
        seed=None if task_id else (reset_options or {}).get("seed"),
        scale=None if task_id else (reset_options or {}).get("scale"),
        alpha=alpha,
        beta=beta,
        max_steps=max_steps,
        agent=agent,
        model=model,
        attempt=attempt,
        prompt=messages[1]["content"] if len(messages) > 1 else "",
        messages=messages,
        steps=steps,
        reply=reply,
        status=ep_status,
        reward=reward,
        perfect=None if grade is None or status != OK else grade.get("perfect"),
        grade=grade if status == OK else None,
        tokens_in=tokens["in"],
        tokens_out=tokens["out"],
        elapsed_s=timings["total_s"],
        infra_error=infra,
    )
    return RolloutResult(
        trajectory=trajectory,
        status=status,
        error=error,
        timings=timings,
        index=index,
        attempt=attempt,
        error_type=error_type,
    )


def _close_quietly(env: Any) -> None:
    try:
        env.close()
    except Exception as exc:  # noqa: BLE001 - cleanup (maybe on a background thread) must never raise
        log.warning("closing the environment failed: %s: %s", type(exc).__name__, exc)
