"""What the debugging commands share: loading trajectories, rebuilding episodes from them,
undo snapshots, grading an episode at any point, parsing typed tool calls, comparing observations
and printing grades."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supportgym.ids import KIND
from supportgym.rubrics import grade_episode
from supportgym.rubrics import judge as judge_mod
from supportgym.services.episode import EpisodeConfig
from supportgym.services.episode import EpisodeSnapshot as Snapshot
from supportgym.services.web.grades import (
    CriterionRow,
    grade_dict,
    grade_rows,
    grade_summary,
)
from supportgym.tasks import prepare_task
from supportgym.trajectory import read_jsonl

if TYPE_CHECKING:  # heavy imports happen inside functions so that ``--help`` stays fast
    from rich.console import Console
    from rich.table import Table

    from supportgym.services.episode import Episode, EpisodeConfig
    from supportgym.trajectory import Trajectory

__all__ = [
    "CallSyntaxError",
    "Snapshot",
    "config_from_trajectory",
    "episode_grade",
    "first_difference",
    "grade_table",
    "load_trajectory",
    "parse_call",
    "print_grade",
    "restore",
    "snapshot",
]


# --- trajectories --------------------------------------------------------------------------


def load_trajectory(path: str | Path, index: int = 0) -> Trajectory:
    """Trajectory number ``index`` (0-based; negative counts from the end) of a JSONL file."""

    items = list(read_jsonl(path))
    if not items:
        raise ValueError(f"{path}: no trajectories in the file")
    try:
        return items[index]
    except IndexError:
        raise ValueError(f"{path}: has {len(items)} trajectories; there is no index {index}") from None


def config_from_trajectory(t: Trajectory) -> EpisodeConfig:
    """The episode configuration a trajectory ran with, for a fresh world to replay into."""

    if t.task_id is not None:
        return EpisodeConfig(task_id=t.task_id, max_steps=t.max_steps, alpha=t.alpha, beta=t.beta)
    return EpisodeConfig(
        seed=t.seed if t.seed is not None else 7,
        scale=t.scale or "default",
        max_steps=t.max_steps,
        alpha=t.alpha,
        beta=t.beta,
    )


# --- undo ----------------------------------------------------------------------------------


def snapshot(episode: Episode) -> Snapshot:
    return episode.snapshot()


def restore(episode: Episode, snap: Snapshot) -> None:
    """Put ``episode`` back to ``snap``: world, trail, changes, clock, reply, status and grade."""
    episode.restore(snap)


# --- grading -------------------------------------------------------------------------------


def episode_grade(episode: Episode, judge: Any = None) -> Any:
    """The episode's grade object: the one it finished with, else graded now as it stands.

    With ``judge``, the episode is graded again with it (the episode's own grade has program
    checks only). Returns None for a bare world (no task, no rubric).
    """
    done = episode.grade_object
    if done is not None and judge is None:
        return done
    if episode.task_id is None:
        return None
    kwargs: dict[str, Any] = {"alpha": episode.config.alpha, "beta": episode.config.beta}
    if judge is not None:
        kwargs["judge"] = judge
    return grade_episode(prepare_task(episode.task_id), episode.db, episode.record(), **kwargs)


def configured_judge(wanted: bool | None) -> Any:
    """The LLM judge when asked for (``True``), or when ``None`` and SUPPORTGYM_JUDGE_MODEL is set."""
    import os

    if wanted is False or (wanted is None and not os.environ.get("SUPPORTGYM_JUDGE_MODEL")):
        return None

    factory = getattr(judge_mod, "judge_from_env", None)
    if callable(factory):
        return factory()
    return judge_mod.LLMJudge(judge_mod.JudgeConfig.from_env())


def grade_table(grade: Any, title: str | None = None) -> Table:
    """The grade as a rich table: the rubric's own ``to_table()`` when it has one."""
    from rich.table import Table

    to_table = getattr(grade, "to_table", None)
    if callable(to_table):
        table = to_table()
        if isinstance(table, Table):
            return table
    s = grade_summary(grade)
    table = Table(title=title or f"reward {s['reward']}  perfect {s['perfect']}  met {s['met']}/{s['total']}")
    for col in ("criterion", "type", "verdict", "evidence"):
        table.add_column(col, overflow="fold")
    for row in grade_rows(grade):
        table.add_row(row.id, row.type, _verdict_markup(row), row.evidence)
    return table


def _verdict_markup(row: CriterionRow) -> str:
    colour = {True: "green", False: "red", None: "yellow"}[row.met]
    return f"[{colour}]{row.verdict}[/{colour}]"


def print_grade(console: Console, grade: Any) -> None:
    if grade is None:
        console.print("[yellow]No grade: a bare world has no rubric.[/yellow]")
        return
    from rich.table import Table

    table = grade_table(grade)
    if isinstance(table, Table):
        console.print(table)
    else:  # a to_table() that returns text
        console.print(str(table))
    s = grade_summary(grade)
    console.print(f"reward [bold]{s['reward']}[/bold]  perfect [bold]{s['perfect']}[/bold]")


def grade_json(grade: Any) -> dict[str, Any] | None:
    return grade_dict(grade)


# --- typed tool calls ----------------------------------------------------------------------


class CallSyntaxError(ValueError):
    """A line that is not ``name key=value ...`` nor ``name {json}``."""


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


# How to write a list or an object in ``key=value`` form; shown with every syntax error.
CALL_FORMS = (
    f"write a tool call as  name key=value ...  e.g.  create_return order_id={KIND['ORD'].example} "
    f'items=[{{"order_item_id": "{KIND["ITM"].example}", "quantity": 1}}] reason="arrived broken"  '
    '(lists and objects as JSON, no shell quoting needed), or  name {"key": value, ...}'
)


def _split_arguments(rest: str) -> list[str]:
    """Split ``key=value`` pairs on spaces outside quotes and outside JSON brackets, so that
    ``items=[{"order_item_id": "ITM-1", "quantity": 1}]`` stays one pair."""
    tokens: list[str] = []
    current: list[str] = []
    depth = 0
    quote: str | None = None
    escaped = False
    for ch in rest:
        if quote is not None:
            current.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch.isspace() and depth <= 0:
            if current:
                tokens.append("".join(current))
                current = []
            continue
        current.append(ch)
    if quote is not None:
        raise CallSyntaxError(f"a {quote} quote is not closed; {CALL_FORMS}")
    if depth > 0:
        raise CallSyntaxError(f"a [ or {{ is not closed; {CALL_FORMS}")
    if current:
        tokens.append("".join(current))
    return tokens


def _key_value(key: str, text: str) -> Any:
    if len(text) >= 2 and text[0] == text[-1] == "'":
        text = text[1:-1]  # 'a shell-style quoted value', JSON or not
    elif len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text[1:-1]
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CallSyntaxError(
                f"{key}: {text!r} looks like JSON but does not parse ({exc.msg} at char {exc.pos}); {CALL_FORMS}"
            ) from exc
    return _value(text)


def parse_call(line: str) -> tuple[str, dict[str, Any]]:
    """``get_order order_id=ORD-500023``, ``name {"json": ...}`` or ``{"name":..., "arguments":...}``.

    ``key=value`` values are read as JSON when they parse (numbers, booleans, lists, objects),
    else as strings. Lists and objects need no quoting (``items=[{"order_item_id": "ITM-1",
    "quantity": 1}]``); quote strings with spaces (``note="two words"``).
    """
    line = line.strip()
    if not line:
        raise CallSyntaxError(f"empty line; {CALL_FORMS}")
    if line.startswith("{"):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CallSyntaxError(f"not JSON: {exc.msg} at char {exc.pos}") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
            raise CallSyntaxError('a JSON call needs {"name": "<tool>", "arguments": {...}}')
        args = obj.get("arguments") or {}
        if isinstance(args, str):
            args = _value(args)
        if not isinstance(args, dict):
            raise CallSyntaxError("arguments must be a JSON object")
        return obj["name"], args
    name, _, rest = line.partition(" ")
    rest = rest.strip()
    if not rest:
        return name, {}
    if rest.startswith("{"):
        try:
            args = json.loads(rest)
        except json.JSONDecodeError as exc:
            raise CallSyntaxError(f"arguments are not JSON: {exc.msg} at char {exc.pos}; {CALL_FORMS}") from exc
        if not isinstance(args, dict):
            raise CallSyntaxError("arguments must be a JSON object")
        return name, args
    args = {}
    for tok in _split_arguments(rest):
        key, eq, val = tok.partition("=")
        if not eq or not key:
            raise CallSyntaxError(f"expected key=value, got {tok!r}; {CALL_FORMS}")
        args[key] = _key_value(key, val)
    return name, args


# --- comparing observations ----------------------------------------------------------------

_MISSING = object()


def _short(value: Any, limit: int = 60) -> str:
    text = "<missing>" if value is _MISSING else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """Where two JSON values first differ, as ``path: a != b``; None when equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                return f"{sub}: {_short(a.get(key, _MISSING))} != {_short(b.get(key, _MISSING))}"
            found = first_difference(a[key], b[key], sub)
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):  # lengths compared below
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        if len(a) != len(b):
            return f"{path or '.'}: {len(a)} items != {len(b)} items"
        return None
    if a == b and (type(a) is type(b) or _numbers(a, b)):
        return None
    return f"{path or '.'}: {_short(a)} != {_short(b)}"


def _numbers(a: Any, b: Any) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))


def as_json(value: Any) -> Any:
    """``value`` as it reads back from a JSON file (what a recorded observation went through)."""
    return json.loads(json.dumps(value, default=str))


@dataclass
class StepComparison:
    step: int
    tool: str
    match: bool
    difference: str | None = None
    recorded: Any = None
    replayed: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "tool": self.tool, "match": self.match, "difference": self.difference}
