"""Bounds on what one tool call may carry, checked before any tool sees it.

A call's arguments are walked without recursion, so a 2,000-deep object is an
``arguments_too_deep`` tool error rather than a ``RecursionError``, and the walk stops as soon as a
bound is passed, so a 10 MB argument costs no more than the bound to refuse. A refused call is
still a step (and a trail entry) but the trail keeps only a short description of what was sent,
never the payload itself.
"""

from __future__ import annotations

import json
from typing import Any

from supportgym.services.tools import MAX_ARGUMENT_BYTES
from supportgym.services.tools.base import ToolError

MAX_ARGUMENT_DEPTH = 32
# A rejected call's recorded arguments are cut to this (JSON characters).
MAX_RECORDED_REJECTED_CHARS = 2_000
PREVIEW_CHARS = 200
_SCALAR_BYTES = 8


def measure(value: Any, *, max_bytes: int = MAX_ARGUMENT_BYTES, max_depth: int = MAX_ARGUMENT_DEPTH) -> tuple[int, int]:
    """``(approximate JSON bytes, depth)`` of ``value``; stops early once either bound is passed."""
    size = 0
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if size > max_bytes or deepest > max_depth:
            break
        if isinstance(item, str):
            size += len(item) + 2
        elif isinstance(item, dict):
            size += 2
            for k, v in item.items():
                size += len(str(k)) + 4
                stack.append((v, depth + 1))
        elif isinstance(item, (list, tuple)):
            size += 2
            stack.extend((v, depth + 1) for v in item)
        else:
            size += _SCALAR_BYTES
    return size, deepest


def check_arguments(arguments: Any) -> ToolError | None:
    """The tool error for arguments too large or too deep to take (None when they are fine)."""
    if isinstance(arguments, (str, bytes)):
        if len(arguments) > MAX_ARGUMENT_BYTES:
            return _too_large(len(arguments))
        try:
            arguments = json.loads(arguments)
        except RecursionError:
            return _too_deep(None)
        except ValueError:
            return None  # not JSON: the tool explains that itself
    size, depth = measure(arguments)
    if depth > MAX_ARGUMENT_DEPTH:
        return _too_deep(depth)
    if size > MAX_ARGUMENT_BYTES:
        return _too_large(size)
    return None


def _too_large(size: int) -> ToolError:
    return ToolError(
        "arguments_too_large",
        f"The arguments are about {size} bytes; at most {MAX_ARGUMENT_BYTES} are accepted. Send a shorter call.",
        "arguments",
    )


def _too_deep(depth: int | None) -> ToolError:
    found = f"nested {depth}+ levels deep" if depth else "nested too deeply to read"
    return ToolError(
        "arguments_too_deep",
        f"The arguments are {found}; at most {MAX_ARGUMENT_DEPTH} levels are accepted.",
        "arguments",
    )


def recorded_arguments(arguments: Any) -> Any:
    """What the trail keeps of a refused call's ``arguments``: small ones as they are, big or deep
    ones as ``{"truncated": true, "type", "approx_bytes", "preview"}``."""
    if isinstance(arguments, (str, bytes)):
        if len(arguments) <= MAX_RECORDED_REJECTED_CHARS:
            return arguments
        text = arguments if isinstance(arguments, str) else arguments[:PREVIEW_CHARS].decode("utf-8", "replace")
        return {
            "truncated": True,
            "type": type(arguments).__name__,
            "approx_bytes": len(arguments),
            "preview": text[:PREVIEW_CHARS],
        }
    size, depth = measure(arguments, max_bytes=MAX_RECORDED_REJECTED_CHARS)
    if size <= MAX_RECORDED_REJECTED_CHARS and depth <= MAX_ARGUMENT_DEPTH:
        return arguments
    return {"truncated": True, "type": type(arguments).__name__, "approx_bytes": measure(arguments)[0], "preview": ""}
