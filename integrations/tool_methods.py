"""Python methods generated from the tools' one definition (their OpenAI function schemas).

Libraries such as TRL read tools from plain Python callables: the name, type hints, defaults and a
Google-style docstring (``Args:``). :func:`tool_method` writes such a callable for one tool schema,
so the methods can never drift from the tools the environment serves.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, Literal

# JSON schema scalar types and the Python types that transformers maps back to them.
_SCALARS: dict[str, type] = {"string": str, "integer": int, "number": float, "boolean": bool}


class UnsupportedSchema(TypeError):
    """A tool parameter whose JSON schema has no Python type hint equivalent."""


def python_type(name: str, node: dict[str, Any]) -> Any:
    """The type hint that gives back ``node``'s JSON type (Literal for an enum)."""
    kind = node.get("type")
    if "enum" in node:
        return Literal[tuple(node["enum"])]
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "array":
        items = node.get("items") or {}
        return list[python_type(name, items)] if items else list  # type: ignore[misc]
    if kind == "object":
        return dict
    raise UnsupportedSchema(f"parameter {name}: JSON schema {node!r} has no Python type")


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _shape(node: dict[str, Any]) -> str:
    """A short text of what an object or a list of objects holds: its fields and their types."""
    if node.get("type") == "array":
        inner = node.get("items") or {}
        return f"a list of {_shape(inner)}" if inner.get("type") == "object" else ""
    if node.get("type") == "object" and "properties" in node:
        required = set(node.get("required") or [])
        fields = ", ".join(
            f"{k} ({v.get('type', 'any')}{'' if k in required else ', optional'})"
            for k, v in node["properties"].items()
        )
        return f"objects with {fields}"
    return ""


def describe_parameter(name: str, node: dict[str, Any]) -> str:
    """One line for the ``Args:`` section: the schema's description, else one made from its
    constraints (every parameter needs a description for transformers' ``get_json_schema``)."""
    parts = [_one_line(node["description"])] if node.get("description") else []
    if "enum" in node and not parts:
        parts.append(f"One of {', '.join(map(str, node['enum']))}.")
    if not parts:
        parts.append(name.replace("_", " ").capitalize() + ".")
    shape = _shape(node)
    if shape:
        parts.append(f"Holds {shape}.")
    limits = []
    if "minimum" in node or "maximum" in node:
        limits.append(f"from {node.get('minimum', '-inf')} to {node.get('maximum', 'inf')}")
    if "maxLength" in node and not node.get("description"):
        limits.append(f"at most {node['maxLength']} characters")
    if "maxItems" in node:
        limits.append(f"at most {node['maxItems']} items")
    if node.get("format"):
        limits.append(f"format {node['format']}")
    if limits:
        parts.append(f"({'; '.join(limits)})")
    return " ".join(parts)


def docstring(schema: dict[str, Any]) -> str:
    """Google-style docstring of one OpenAI function schema."""
    fn = schema["function"]
    params = fn.get("parameters") or {}
    lines = [_one_line(p) for p in (fn.get("description") or fn["name"]).split("\n\n") if p.strip()]
    text = "\n\n".join(lines)
    properties = params.get("properties") or {}
    if properties:
        text += "\n\nArgs:\n" + "\n".join(
            f"    {name}: {describe_parameter(name, node)}" for name, node in properties.items()
        )
    text += '\n\nReturns:\n    The tool\'s result as JSON text, or {"error": {code, message, field}}.'
    return text


def signature(schema: dict[str, Any]) -> tuple[inspect.Signature, dict[str, Any]]:
    """``(signature, annotations)`` of the method: required parameters first, then optional ones
    with their schema default (None when the schema has none: the argument is then not sent)."""
    params = schema["function"].get("parameters") or {}
    properties: dict[str, Any] = params.get("properties") or {}
    required = set(params.get("required") or [])
    annotations: dict[str, Any] = {}
    first = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    needed, optional = [], []
    for name, node in properties.items():
        hint = python_type(name, node)
        if name in required:
            annotations[name] = hint
            needed.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=hint))
        else:
            default = node.get("default")
            hint = hint if default is not None else hint | None
            annotations[name] = hint
            optional.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=hint, default=default))
    annotations["return"] = str
    return inspect.Signature(first + needed + optional, return_annotation=str), annotations


def tool_method(schema: dict[str, Any], call: Callable[[Any, str, dict[str, Any]], str]) -> Callable[..., str]:
    """A method named after the tool whose body is ``call(self, name, arguments)``.

    Only the arguments the caller passed are sent, so the tool applies its own defaults.
    """
    name = schema["function"]["name"]
    sig, annotations = signature(schema)

    def method(self: Any, **arguments: Any) -> str:
        return call(self, name, arguments)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = docstring(schema)
    method.__signature__ = sig  # type: ignore[attr-defined]
    method.__annotations__ = annotations
    return method
