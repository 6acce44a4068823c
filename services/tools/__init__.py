"""The tool layer: every tool defined once, and the one function that calls any of them.

``call_tool`` is the only way into the world for agents, whatever the transport (in process, the
HTTP service, a container, MCP). It turns every kind of bad input into a structured error
observation, runs the tool in a transaction that is rolled back on refusal, and reports the rows
the call changed.
"""

from __future__ import annotations

import difflib
import json
import sqlite3
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from supportgym.db import WorldDB
from supportgym.schema import ENABLED_TOOLS_KEY
from supportgym.services.tools import (  # noqa: F401
    billing,
    catalog,
    customers,
    fulfilment,
    internal,
    orders,
    tickets,
    waiting,
)
from supportgym.services.tools.base import REGISTRY, Tool, ToolContext, ToolError
from supportgym.services.tools.writes import IdCounters

__all__ = [
    "REGISTRY",
    "Tool",
    "ToolError",
    "ToolOutcome",
    "WorldFault",
    "call_tool",
    "enabled_tools",
    "openai_schemas",
    "tool_metadata",
]

MAX_ARGUMENT_BYTES = 64_000


class WorldFault(RuntimeError):
    """The world itself failed (a bug in a tool, a broken database): not the agent's fault."""


@dataclass
class ToolOutcome:
    """What one call did: its observation (result or ``{"error": ...}``) and the rows it changed."""

    name: str
    arguments: Any
    ok: bool
    result: dict[str, Any]
    changes: list[dict[str, Any]] = field(default_factory=list)
    writes: bool = False

    @property
    def error_code(self) -> str | None:
        return None if self.ok else self.result["error"]["code"]


def openai_schemas(names: list[str] | None = None) -> list[dict[str, Any]]:
    """Function-calling schemas of every tool that is on by default (or of ``names``), in
    registry order."""
    chosen = names if names is not None else [n for n, t in REGISTRY.items() if not t.opt_in]
    return [REGISTRY[n].openai_schema() for n in chosen]


def enabled_tools(conn: sqlite3.Connection) -> tuple[str, ...]:
    """The opt-in tools this world enables (``world_meta`` key ``enabled_tools``), in registry
    order."""
    row = conn.execute("SELECT value FROM world_meta WHERE key = ?", (ENABLED_TOOLS_KEY,)).fetchone()
    names = set(row[0].split(",")) if row and row[0] else set()
    return tuple(n for n, t in REGISTRY.items() if t.opt_in and n in names)


def tool_metadata() -> list[dict[str, Any]]:
    return [t.metadata() for t in REGISTRY.values()]


def _error(name: str, arguments: Any, err: ToolError) -> ToolOutcome:
    return ToolOutcome(name=name, arguments=arguments, ok=False, result=err.to_dict())


def _validation_error(exc: ValidationError) -> ToolError:
    problems = []
    for e in exc.errors(include_url=False, include_context=False):
        loc = ".".join(str(p) for p in e["loc"]) or None
        kind = e["type"]
        if kind == "extra_forbidden":
            msg = "unexpected argument"
        elif kind == "missing":
            msg = "required argument is missing"
        else:
            msg = e["msg"]
        problems.append({"field": loc, "problem": msg, "type": kind})
    first = problems[0]
    message = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5])
    return ToolError("invalid_arguments", message, first["field"], problems=problems)


def parse_arguments(raw: Any) -> dict[str, Any]:
    """Arguments as a dict, from a dict, a JSON string or nothing; ToolError otherwise."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, (str, bytes)):
        if len(raw) > MAX_ARGUMENT_BYTES:
            raise ToolError(
                "invalid_arguments",
                f"arguments are {len(raw)} bytes; at most {MAX_ARGUMENT_BYTES} are accepted",
                None,
            )
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ToolError("invalid_json", f"arguments are not valid JSON: {exc.msg} at char {exc.pos}", None) from exc
    if not isinstance(raw, dict):
        raise ToolError(
            "invalid_arguments",
            f"arguments must be a JSON object, not {type(raw).__name__}",
            None,
        )
    return raw


def call_tool(
    db: WorldDB,
    name: Any,
    arguments: Any,
    *,
    now: datetime,
    episode_start: datetime,
    actor: str = "agent",
) -> ToolOutcome:
    """Call tool ``name`` with ``arguments`` (dict or JSON text) on world ``db``.

    Never raises for anything the caller sent: unknown tools, bad JSON, missing, extra or
    mistyped arguments, unknown ids and refused business rules all come back as an outcome with
    ``ok=False`` and ``{"error": {"code", "message", "field"}}``, and leave the world unchanged.
    Raises :class:`WorldFault` only when the world itself breaks.
    """
    if not isinstance(name, str) or name not in REGISTRY:
        shown = name if isinstance(name, str) else repr(name)
        close = difflib.get_close_matches(str(name), list(REGISTRY), n=3) if isinstance(name, str) else []
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        return _error(
            str(shown)[:100],
            arguments,
            ToolError(
                "unknown_tool",
                f"There is no tool named '{str(shown)[:100]}'.{hint}",
                "name",
                available=list(REGISTRY),
            ),
        )
    spec = REGISTRY[name]
    if spec.opt_in and name not in enabled_tools(db.conn):
        return _error(
            name, arguments, ToolError("tool_not_enabled", f"The tool '{name}' is not available in this task.", "name")
        )
    try:
        parsed = parse_arguments(arguments)
        args = spec.args_model.model_validate(parsed)
    except ToolError as err:
        return _error(name, arguments, err)
    except ValidationError as exc:
        return _error(name, arguments, _validation_error(exc))

    conn = db.conn
    counters = _COUNTERS.get(db)
    if counters is None:
        counters = _COUNTERS[db] = IdCounters()
    ctx = ToolContext(now=now, episode_start=episode_start, actor=actor, world=conn, counters=counters)
    if spec.annotations.read_only:
        # Reads go through ``ctx.conn`` (compiled queries) and need no savepoint; a read-only
        # tool that wrote would be caught below.
        try:
            result = spec.fn(ctx, args)
        except ToolError as err:
            return _error(name, parsed, err)
        except Exception as exc:  # noqa: BLE001 - a bug or a broken database: typed as the world's fault
            raise WorldFault(f"tool {name} failed: {type(exc).__name__}: {exc}") from exc
        if ctx.rows.pending or ctx.rows.changes:
            raise WorldFault(f"read-only tool {name} changed the world")
        return ToolOutcome(name=name, arguments=parsed, ok=True, result=result)
    try:
        conn.execute(f"SAVEPOINT {_SAVEPOINT}")
        try:
            result = spec.fn(ctx, args)
            ctx.rows.flush()
        except ToolError as err:
            # Everything the call wrote is undone; the refusal is the observation.
            _undo(conn, counters)
            return _error(name, parsed, err)
        except BaseException:
            _undo(conn, counters)
            raise
        conn.execute(f"RELEASE {_SAVEPOINT}")
    except Exception as exc:  # noqa: BLE001 - a bug or a broken database: typed as the world's fault
        raise WorldFault(f"tool {name} failed: {type(exc).__name__}: {exc}") from exc
    return ToolOutcome(
        name=name,
        arguments=parsed,
        ok=True,
        result=result,
        changes=ctx.rows.changes,
        writes=True,
    )


_SAVEPOINT = "tool_call"


def _undo(conn: sqlite3.Connection, counters: IdCounters) -> None:
    conn.execute(f"ROLLBACK TO {_SAVEPOINT}")
    conn.execute(f"RELEASE {_SAVEPOINT}")
    counters.forget()  # ids the call took are free again


# Each world's id counters, alive as long as the world (see ``writes.IdCounters``).
_COUNTERS: weakref.WeakKeyDictionary[WorldDB, IdCounters] = weakref.WeakKeyDictionary()
