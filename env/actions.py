"""Turning what agent code has into one tool call ``(name, arguments)``.

Accepted, in the shapes agent code naturally holds:

* a JSON string ``'{"name": "get_order", "arguments": {"order_id": "ORD-500123"}}'``
  (``arguments`` may itself be a JSON string; ``parameters`` is accepted as a synonym);
* a dict of that shape;
* an OpenAI tool call, as a dict ``{"type": "function", "function": {"name": ..., "arguments":
  "<json>"}}`` or as an SDK object with ``.function.name`` and ``.function.arguments``;
* a one-element list of any of the above.

Anything else raises :class:`ActionParseError`; the environment turns it into an
``invalid_action`` error observation that still takes a step.
"""

from __future__ import annotations

import json
from typing import Any


class ActionParseError(ValueError):
    """The action is not one tool call; ``problem`` says why (shown to the agent)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _from_mapping(d: dict[str, Any]) -> tuple[str, Any]:
    fn = d.get("function")
    if isinstance(fn, dict) or (fn is not None and hasattr(fn, "name")):
        return _from_function(fn)
    if "name" not in d:
        raise ActionParseError('no tool name: expected {"name": ..., "arguments": {...}}')
    name = d["name"]
    if not isinstance(name, str) or not name.strip():
        raise ActionParseError("the tool name must be a non-empty string")
    arguments = d.get("arguments", d.get("parameters"))
    return name.strip(), arguments


def _from_function(fn: Any) -> tuple[str, Any]:
    if isinstance(fn, dict):
        name, arguments = fn.get("name"), fn.get("arguments")
    else:
        name, arguments = getattr(fn, "name", None), getattr(fn, "arguments", None)
    if not isinstance(name, str) or not name.strip():
        raise ActionParseError("the tool call has no function name")
    return name.strip(), arguments


def parse_action(action: Any) -> tuple[str, Any]:
    """``(tool name, arguments)`` of one tool call; arguments are left for the tool to validate."""
    if isinstance(action, bytes):
        try:
            action = action.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ActionParseError("the action bytes are not UTF-8") from exc
    if isinstance(action, str):
        text = action.strip()
        if not text:
            raise ActionParseError("the action is empty")
        try:
            action = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ActionParseError(f"the action is not valid JSON ({exc.msg} at char {exc.pos})") from exc
    if isinstance(action, list):
        if len(action) != 1:
            raise ActionParseError(f"expected exactly one tool call per step, got {len(action)}")
        return parse_action(action[0])
    if isinstance(action, dict):
        return _from_mapping(action)
    fn = getattr(action, "function", None)
    if fn is not None:
        return _from_function(fn)
    if hasattr(action, "model_dump"):  # a pydantic model of some other shape
        return _from_mapping(action.model_dump())
    raise ActionParseError(f"cannot read a tool call from a {type(action).__name__}")
