"""The tool layer: every tool defined once, and the one function that calls any of them.

``call_tool`` is the only way into the world for agents, whatever the transport (in process, the
HTTP service, a container, MCP). It turns every kind of bad input into a structured error
observation, runs the tool in a transaction that is rolled back on refusal, and reports the rows
the call changed.
"""

from __future__ import annotations

import difflib
import enum
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from supportgym.services.tools import billing, catalog, customers, fulfilment, orders, tickets  # noqa: F401
from supportgym.services.tools.base import REGISTRY, Tool, ToolContext, ToolError
from supportgym.db import WorldDB

__all__ = [
    "REGISTRY",
    "Tool",
    "ToolError",
    "ToolOutcome",
    "WorldFault",
    "call_tool",
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
    """Function-calling schemas of all tools (or of ``names``), in registry order."""
    chosen = names if names is not None else list(REGISTRY)
    return [REGISTRY[n].openai_schema() for n in chosen]


def tool_metadata() -> list[dict[str, Any]]:
    return [t.metadata() for t in REGISTRY.values()]


def _value(v: Any) -> Any:
    # Plain JSON values, so a change log reads the same in process as over HTTP (an enum
    # member would otherwise stay a member here and become a string there).
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, enum.Enum):
        return v.value
    return v


def _row_key(state: Any) -> str:
    return "/".join(str(k) for k in state.mapper.primary_key_from_instance(state.obj()))


def _keep_old_value(*_args: Any) -> None:
    """No-op ``set`` listener; registered with ``active_history`` so SQLAlchemy loads a column's
    old value before it is overwritten, and the change log always knows ``before``."""


def _track_old_values() -> None:
    from supportgym.schema import Base

    for mapper in Base.registry.mappers:
        for attr in mapper.column_attrs:
            event.listen(getattr(mapper.class_, attr.key), "set", _keep_old_value, active_history=True)


_track_old_values()


class _ChangeRecorder:
    """Collects row-level changes from a session's flushes (inserts, updates, deletes).

    Within a flush, rows are ordered by (table, key): SQLAlchemy's own order of new and dirty
    objects follows memory addresses and would make trails differ between runs.
    """

    def __init__(self, session: Session) -> None:
        self.changes: list[dict[str, Any]] = []
        # Parents whose loaded collections gained or lost a row: expired once the call commits.
        self.stale_parents: list[tuple[Any, str]] = []
        event.listen(session, "after_flush", self._after_flush)

    def _parents(self, session: Session, obj: Any) -> None:
        state = inspect(obj)
        for rel in state.mapper.relationships:
            if rel.direction.name != "MANYTOONE" or not rel.back_populates:
                continue
            keys = []
            for col in rel.local_columns:
                keys.append(getattr(obj, state.mapper.get_property_by_column(col).key))
            if any(k is None for k in keys):
                continue
            parent = session.identity_map.get(session.identity_key(rel.mapper.class_, tuple(keys)))
            if parent is not None:
                self.stale_parents.append((parent, rel.back_populates))

    def _after_flush(self, session: Session, _ctx: Any) -> None:
        batch: list[dict[str, Any]] = []
        for obj in session.new:
            state = inspect(obj)
            batch.append(
                {
                    "op": "insert",
                    "table": state.mapper.local_table.name,
                    "key": _row_key(state),
                    "after": {c.key: _value(getattr(obj, c.key)) for c in state.mapper.column_attrs},
                }
            )
            self._parents(session, obj)
        for obj in session.dirty:
            state = inspect(obj)
            before: dict[str, Any] = {}
            after: dict[str, Any] = {}
            for attr in state.mapper.column_attrs:
                hist = state.attrs[attr.key].history
                if hist.added and list(hist.added) != list(hist.deleted):
                    before[attr.key] = _value(hist.deleted[0]) if hist.deleted else None
                    after[attr.key] = _value(hist.added[0])
            if after:
                batch.append(
                    {
                        "op": "update",
                        "table": state.mapper.local_table.name,
                        "key": _row_key(state),
                        "before": before,
                        "after": after,
                    }
                )
        for obj in session.deleted:
            state = inspect(obj)
            batch.append(
                {
                    "op": "delete",
                    "table": state.mapper.local_table.name,
                    "key": _row_key(state),
                    "before": {c.key: _value(getattr(obj, c.key)) for c in state.mapper.column_attrs},
                }
            )
            self._parents(session, obj)
        batch.sort(key=lambda c: (c["table"], c["key"]))
        self.changes.extend(batch)


def _recorder_for(session: Session) -> _ChangeRecorder:
    recorder = session.info.get("change_recorder")
    if recorder is None:
        recorder = session.info["change_recorder"] = _ChangeRecorder(session)
    return recorder


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


def _end_read(session: Session) -> None:
    # Every session shares the world's one SQLite connection: never leave a BEGIN open.
    if session.in_transaction():
        session.commit()


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
            raise ToolError(
                "invalid_json", f"arguments are not valid JSON: {exc.msg} at char {exc.pos}", None
            ) from exc
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
    try:
        parsed = parse_arguments(arguments)
        args = spec.args_model.model_validate(parsed)
    except ToolError as err:
        return _error(name, arguments, err)
    except ValidationError as exc:
        return _error(name, arguments, _validation_error(exc))

    session = db.tool_session()
    ctx = ToolContext(session=session, now=now, episode_start=episode_start, actor=actor, world=db.conn)
    if spec.annotations.read_only:
        # Reads go through ``ctx.conn`` (compiled queries, no ORM), need no savepoint and
        # leave the session untouched; a read-only tool that wrote would be caught below.
        try:
            result = spec.fn(ctx, args)
        except ToolError as err:
            _end_read(session)
            return _error(name, parsed, err)
        except Exception as exc:
            session.rollback()
            raise WorldFault(f"tool {name} failed: {type(exc).__name__}: {exc}") from exc
        if session.new or session.dirty or session.deleted:
            session.rollback()
            raise WorldFault(f"read-only tool {name} changed the world")
        _end_read(session)
        return ToolOutcome(name=name, arguments=parsed, ok=True, result=result)
    recorder = _recorder_for(session)
    recorder.changes = []
    recorder.stale_parents = []
    try:
        savepoint = session.begin_nested()
        try:
            result = spec.fn(ctx, args)
            session.flush()
        except ToolError as err:
            # Only the savepoint is undone: rows loaded by earlier calls stay cached.
            savepoint.rollback()
            session.commit()
            return _error(name, parsed, err)
        savepoint.commit()
        session.commit()
        # Tools may add a row by foreign key (a refund with order_id) without appending it to
        # the parent's cached collection (order.refunds): reload exactly those collections.
        for parent, collection in recorder.stale_parents:
            session.expire(parent, [collection])
    except Exception as exc:  # a bug or a broken database: the environment's fault
        session.rollback()
        raise WorldFault(f"tool {name} failed: {type(exc).__name__}: {exc}") from exc
    return ToolOutcome(
        name=name,
        arguments=parsed,
        ok=True,
        result=result,
        changes=recorder.changes,
        writes=not spec.annotations.read_only,
    )
