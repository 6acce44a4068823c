"""An LLM agent for ``SupportEnv`` through function calling, and the evaluation around it.

:class:`LLMAgent` talks to any OpenAI-compatible endpoint through the ``openai`` SDK
(:mod:`supportgym.services.openai_client`).
It is a policy of the one agent loop, :func:`supportgym.env.rollout.rollout` (same system prompt
as every other agent): the task's tool schemas go in ``tools``; every ``tool_call`` the model
makes is stepped into the environment and its observation returned as a ``tool`` message, until
the episode ends (``submit_response``, ``max_steps`` or too many invalid calls).

Nothing the model does crashes the loop. A text answer with no tool call, a call to an unknown
tool and arguments that are not JSON are all stepped into the environment, which answers with
an error observation (and counts a step), and the model sees it. An endpoint that keeps failing
ends the episode with ``Trajectory.infra_error`` set (exclude it from training and scores).

:func:`run_eval` runs tasks x attempts with concurrency and a progress bar, writes every
trajectory and a summary to disk, and reports mean reward, perfect-task rate, pass^k, per
category, level and difficulty, and tokens. :func:`eval_llm` is its command-line face.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from supportgym.env.rollout import POLICY_ERROR, SYSTEM_PROMPT, chat_calls, rollout
from supportgym.env.support_env import SupportEnv
from supportgym.services.openai_client import ChatClient, ChatError, ChatResponse, endpoint_from_env
from supportgym.services.tools.submit import SUBMIT_TOOL
from supportgym.tasks import TaskFormatError, get_task, list_tasks
from supportgym.trajectory import Trajectory, write_jsonl

log = logging.getLogger("supportgym.eval")

_LIMIT_KEYS = ("description", "maxLength", "minLength", "pattern", "title")


def _strip(node: Any) -> None:
    if isinstance(node, dict):
        for key in _LIMIT_KEYS:
            if isinstance(node.get(key), (str, int)):
                node.pop(key)
        for v in node.values():
            _strip(v)
    elif isinstance(node, list):
        for v in node:
            _strip(v)


def _response_calls(resp: ChatResponse, turn: int) -> list[dict[str, Any]]:
    """The answer's function calls (the SDK's typed tool calls, read by
    :attr:`ChatResponse.tool_calls`) as the chat history carries them."""
    return chat_calls(
        [{"id": c.id, "function": {"name": c.name, "arguments": c.arguments}} for c in resp.tool_calls], turn
    )


def compact_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A tool schema without parameter descriptions and string limits (``maxLength``,
    ``pattern``): shorter prompts for small context windows, and grammars that llama.cpp can
    build (a large ``maxLength`` makes its grammar builder fail and the server crash). The
    environment still validates every argument."""
    fn = dict(tool["function"])
    params = json.loads(json.dumps(fn.get("parameters") or {}))
    for prop in (params.get("properties") or {}).values():
        _strip(prop)
    fn["parameters"] = params
    fn["description"] = (fn.get("description") or "").split(". ")[0][:160]
    return {"type": "function", "function": fn}


class LLMAgent:
    """A chat model acting in ``SupportEnv``.

    Args:
        client: a :class:`ChatClient` for the model's endpoint.
        model: model name sent to the endpoint.
        max_tokens: bound on each answer. Always set: some servers otherwise run to the context
            limit.
        temperature, seed: sampling (seed is offset by the attempt number).
        tool_choice: ``"auto"`` (default), ``"required"``, ``"none"`` or an OpenAI tool-choice
            object; ``"none"`` makes the model answer in text, which is still stepped.
        tools: names of the tools to offer (default: all the environment's). ``submit_response``
            is always offered.
        compact_tools: drop parameter descriptions and string limits from the schemas (small
            context windows; llama.cpp, whose grammar builder fails on a large ``maxLength``).
        force_submit_last: on the last step of the budget, force ``submit_response`` (when the
            endpoint supports naming a function in ``tool_choice``), so the episode ends with a
            reply instead of a truncation.
        max_observation_chars: observations are cut to this many characters in the chat.
        include_policies: put the world's policy summary in the system prompt (the model can
            still read policies with the policy tools).
    """

    def __init__(
        self,
        client: ChatClient,
        model: str,
        *,
        max_tokens: int = 1024,
        temperature: float = 0.0,
        seed: int | None = None,
        tool_choice: Any = "auto",
        tools: Iterable[str] | None = None,
        compact_tools: bool = False,
        force_submit_last: bool = True,
        max_observation_chars: int = 6000,
        system_prompt: str = SYSTEM_PROMPT,
        include_policies: bool = True,
        name: str = "llm",
    ) -> None:
        if max_tokens is None or max_tokens < 1:
            raise ValueError("max_tokens must be a positive bound")
        self.client = client
        self.model = model
        self.max_tokens = int(max_tokens)
        self.temperature = temperature
        self.seed = seed
        self.tool_choice = tool_choice
        self.tool_names = None if tools is None else set(tools) | {SUBMIT_TOOL}
        self.compact_tools = compact_tools
        self.force_submit_last = force_submit_last
        self.max_observation_chars = max_observation_chars
        self.system_prompt = system_prompt
        self.include_policies = include_policies
        self.name = name

    # --- policy-style interface ----------------------------------------------------------------

    def select_tools(self, tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = [t for t in tools if self.tool_names is None or t["function"]["name"] in self.tool_names]
        return [compact_tool(t) for t in out] if self.compact_tools else out

    def complete(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        *,
        tool_choice: Any = None,
        seed: int | None = None,
    ) -> ChatResponse:
        """One chat completion."""
        choice = self.tool_choice if tool_choice is None else tool_choice
        return self.client.chat(
            model=self.model,
            messages=messages,
            tools=tools or None,
            tool_choice=choice if tools else None,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            seed=seed if seed is not None else self.seed,
        )

    def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> dict[str, Any]:
        """The next action for a message history: the model's first tool call (an OpenAI
        ``tool_call`` dict), or ``{"type": "text", "content": ...}`` when it answered in text.
        Either can be passed to ``SupportEnv.step`` as is (text becomes an ``invalid_action``
        observation, unless it is a JSON tool call). Raises ChatError if the endpoint fails."""
        resp = self.complete(messages, tools)
        calls = _response_calls(resp, 0)
        if calls:
            return calls[0]
        return {"type": "text", "content": resp.content or ""}

    __call__ = act

    # --- episodes ------------------------------------------------------------------------------

    def for_episode(self, info: dict[str, Any], attempt: int = 0) -> _EpisodeTurns:
        """The policy of one episode (the rollout loop asks for it after reset)."""
        return _EpisodeTurns(self, info, attempt)

    def run_episode(
        self, env: Any, task_id: str | None, *, attempt: int = 0, max_steps: int | None = None
    ) -> Trajectory:
        """Run one episode of ``env`` (a ``SupportEnv``, reset here, not closed) on ``task_id``
        through the rollout loop; returns the trajectory with the chat transcript, tokens and
        (when graded) the grade. An endpoint that fails for good sets ``infra_error``."""
        options = {} if max_steps is None else {"max_steps": max_steps}
        result = rollout(
            self, task_id, env=env, reset_options=options, agent=self.name, model=self.model, attempt=attempt
        )
        trajectory = result.trajectory
        if result.status == POLICY_ERROR and result.error_type == ChatError.__name__:
            trajectory.infra_error = f"model endpoint failed: {result.error}"
        return trajectory


class _EpisodeTurns:
    """One episode of an :class:`LLMAgent`: it counts the steps its calls use, so that the last
    step of the budget can force ``submit_response``, and samples with the attempt's seed."""

    def __init__(self, agent: LLMAgent, info: dict[str, Any], attempt: int) -> None:
        self.agent = agent
        self.tools = agent.select_tools(info["tools"])
        self.budget = int(info.get("max_steps") or 50)
        self.seed = None if agent.seed is None else agent.seed + attempt
        self.steps = 0
        self.turn = 0

    def __call__(self, messages: list[dict[str, Any]], _tools: list[dict[str, Any]]) -> dict[str, Any]:
        agent = self.agent
        self.turn += 1
        choice = None
        if self.steps + 1 >= self.budget and agent.force_submit_last and agent.tool_choice != "none":
            choice = {"type": "function", "function": {"name": SUBMIT_TOOL}}
        resp = agent.complete(messages, self.tools, tool_choice=choice, seed=self.seed)
        calls = _response_calls(resp, self.turn)
        self.steps += max(1, len(calls))  # a text answer is stepped too
        return {
            "role": "assistant",
            "content": resp.content or "",
            "tool_calls": calls,
            "usage": {"prompt_tokens": resp.tokens_in, "completion_tokens": resp.tokens_out},
        }


# --- evaluation ------------------------------------------------------------------------------


def _task_meta(task_id: str) -> dict[str, Any]:
    try:
        t = get_task(task_id)
    except (KeyError, TaskFormatError) as exc:  # a task id of another task set: the report still shows it
        log.warning("no metadata for task %s in the summary: %s", task_id, exc)
        return {"family": task_id.split("-")[0], "levels": [], "difficulty": None}
    return {"family": t.family, "levels": [str(x) for x in t.levels], "difficulty": str(t.difficulty)}


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def summarise(trajectories: list[Trajectory], k: int) -> dict[str, Any]:
    """Mean reward, perfect rate, pass^k, per group, tokens, over trajectories of k attempts."""
    by_task: dict[str, list[Trajectory]] = defaultdict(list)
    for t in trajectories:
        by_task[str(t.task_id)].append(t)

    def block(task_ids: list[str]) -> dict[str, Any]:
        runs = [t for tid in task_ids for t in by_task[tid]]
        scored = [t for t in runs if t.infra_error is None and t.reward is not None]
        passk = [all(bool(t.perfect) for t in by_task[tid]) and len(by_task[tid]) >= k for tid in task_ids]
        return {
            "tasks": len(task_ids),
            "episodes": len(runs),
            "infra_errors": sum(1 for t in runs if t.infra_error),
            "mean_reward": _mean([float(t.reward) for t in scored if t.reward is not None]),
            "perfect_rate": _mean([1.0 if t.perfect else 0.0 for t in scored]),
            f"pass^{k}": _mean([1.0 if p else 0.0 for p in passk]),
        }

    groups: dict[str, dict[str, list[str]]] = {
        "family": defaultdict(list),
        "level": defaultdict(list),
        "difficulty": defaultdict(list),
    }
    for tid in by_task:
        meta = _task_meta(tid)
        groups["family"][meta["family"]].append(tid)
        groups["difficulty"][str(meta["difficulty"])].append(tid)
        for lv in meta["levels"] or ["unknown"]:
            groups["level"][lv].append(tid)
    # Per criterion category / type: pass rates pooled over every graded criterion.
    crit: dict[str, dict[str, list[int]]] = {
        "category": defaultdict(lambda: [0, 0]),
        "type": defaultdict(lambda: [0, 0]),
    }
    for t in trajectories:
        for c in (t.grade or {}).get("criteria", []) or []:
            if c.get("verdict") not in ("met", "unmet"):
                continue
            for key in ("category", "type"):
                cell = crit[key][str(c.get(key))]
                cell[0] += c["verdict"] == "met"
                cell[1] += 1
    return {
        "k": k,
        "overall": block(list(by_task)),
        **{f"by_{g}": {name: block(ids) for name, ids in sorted(v.items())} for g, v in groups.items()},
        **{
            f"criteria_by_{key}": {
                n: {"met": m, "total": tot, "rate": m / tot if tot else None} for n, (m, tot) in sorted(v.items())
            }
            for key, v in crit.items()
        },
        "tokens_in": sum(t.tokens_in for t in trajectories),
        "tokens_out": sum(t.tokens_out for t in trajectories),
    }


def run_eval(
    agent_factory: Callable[[], LLMAgent],
    task_ids: list[str],
    *,
    k: int = 1,
    concurrency: int = 4,
    out_dir: str | Path | None = None,
    max_steps: int | None = None,
    env_factory: Callable[[], Any] | None = None,
    progress: bool = True,
) -> tuple[dict[str, Any], list[Trajectory]]:
    """Run every task ``k`` times. Writes ``trajectories.jsonl`` (appended as episodes finish)
    and ``summary.json`` to ``out_dir`` when given. Returns ``(summary, trajectories)``."""

    if env_factory is None:

        def env_factory() -> Any:
            return SupportEnv(transport="inprocess")

    jobs = [(tid, a) for tid in task_ids for a in range(k)]
    out = Path(out_dir) if out_dir is not None else None
    traj_path = None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        traj_path = out / "trajectories.jsonl"
        traj_path.write_text("", encoding="utf-8")
    lock = threading.Lock()
    results: list[Trajectory] = []

    def one(tid: str, attempt: int) -> Trajectory:
        env = env_factory()
        try:
            return agent_factory().run_episode(env, tid, attempt=attempt, max_steps=max_steps)
        except Exception as exc:  # noqa: BLE001 - one failed episode must not end the whole evaluation
            return Trajectory(
                task_id=tid,
                alpha=0.0,
                beta=0.0,
                max_steps=max_steps or 0,
                agent="llm",
                attempt=attempt,
                steps=[],
                reply=None,
                status="error",
                infra_error=f"{type(exc).__name__}: {exc}",
            )
        finally:
            env.close()

    def record(t: Trajectory) -> None:
        with lock:
            results.append(t)
            if traj_path is not None:
                write_jsonl(traj_path, [t], append=True)

    bar_ctx = None
    if progress:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TimeElapsedColumn,
        )

        bar_ctx = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=False,
        )
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="eval") as pool:
        futures = [pool.submit(one, tid, a) for tid, a in jobs]
        if bar_ctx is not None:
            with bar_ctx as bar:
                task = bar.add_task("episodes", total=len(futures))
                for f in as_completed(futures):
                    record(f.result())
                    bar.advance(task)
        else:
            for f in as_completed(futures):
                record(f.result())
    results.sort(key=lambda t: (str(t.task_id), t.attempt))
    summary = summarise(results, k)
    if out is not None:
        (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary, results


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return "nan" if math.isnan(x) else f"{x:.3f}"
    return str(x)


def summary_table(summary: dict[str, Any]) -> Any:
    from rich.table import Table

    k = summary["k"]
    table = Table(title=f"LLM agent evaluation (k={k}, tokens in {summary['tokens_in']}, out {summary['tokens_out']})")
    for col in ("group", "tasks", "episodes", "mean reward", "perfect", f"pass^{k}", "infra errors"):
        table.add_column(col)
    rows = [("overall", summary["overall"])]
    for g in ("family", "level", "difficulty"):
        rows += [(f"{g}: {n}", b) for n, b in summary[f"by_{g}"].items()]
    for name, b in rows:
        table.add_row(
            name,
            _fmt(b["tasks"]),
            _fmt(b["episodes"]),
            _fmt(b["mean_reward"]),
            _fmt(b["perfect_rate"]),
            _fmt(b[f"pass^{k}"]),
            _fmt(b["infra_errors"]),
        )
    return table


def run_llm_eval(
    model: str = "",
    base_url: str = "",
    api_key: str = "",
    tasks: str = "",
    k: int = 1,
    concurrency: int = 4,
    max_tokens: int = 1024,
    temperature: float = 0.0,
    seed: int | None = None,
    max_steps: int | None = None,
    timeout: float = 120.0,
    tool_choice: str = "auto",
    out: str = "runs/llm-eval",
    progress: bool = True,
) -> dict[str, Any]:
    """Run the LLM agent ``k`` times on each task and write the run to ``out``
    (``trajectories.jsonl`` + ``summary.json``); returns the summary.

    ``model``/``base_url``/``api_key`` default to ``SUPPORTGYM_LLM_*`` then ``OPENAI_*``.
    ``tasks``: comma-separated ids or families (default: every task)."""
    ep = endpoint_from_env("SUPPORTGYM_LLM", base_url=base_url or None, api_key=api_key or None, model=model or None)
    if not ep.model:
        raise SystemExit("no model: pass --model or set SUPPORTGYM_LLM_MODEL (or OPENAI_MODEL)")
    task_ids = select_tasks(tasks)
    client = ChatClient(ep.base_url, ep.api_key, timeout_s=timeout, max_concurrency=max(1, concurrency))
    try:
        summary, _ = run_eval(
            lambda: LLMAgent(
                client,
                ep.model or "",
                max_tokens=max_tokens,
                temperature=temperature,
                seed=seed,
                tool_choice=tool_choice,
            ),
            task_ids,
            k=k,
            concurrency=concurrency,
            out_dir=out,
            max_steps=max_steps,
            progress=progress,
        )
    finally:
        client.close()
    return summary


def eval_llm(as_json: bool = False, **options: Any) -> dict[str, Any]:
    """``supportgym eval --agent llm``: :func:`run_llm_eval` with ``options``, then the summary
    as a table (or JSON)."""
    from rich.console import Console

    summary = run_llm_eval(progress=not as_json, **options)
    out = options.get("out", "runs/llm-eval")
    console = Console()
    if as_json:
        console.print_json(json.dumps(summary))
    else:
        console.print(summary_table(summary))
        console.print(f"trajectories: {Path(out) / 'trajectories.jsonl'}; summary: {Path(out) / 'summary.json'}")
    return summary


def select_tasks(spec: str) -> list[str]:
    """Task ids from ``"id1,id2"`` or family names (every variant); empty: every task."""

    every = [t.id for t in list_tasks()]
    if not spec.strip():
        return every
    out: list[str] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        if part in every:
            out.append(part)
            continue
        fam = [t.id for t in list_tasks(family=part)]
        if not fam:
            raise SystemExit(f"unknown task or family {part!r}")
        out.extend(fam)
    return list(dict.fromkeys(out))
