"""``{name.attr|filter}`` placeholders, resolved against the values a task's setup bound.

* ``{order.id}``, ``{order.customer.email}``, ``{order.items.0.id}``: dotted paths into the
  bound values (dict keys or list indexes). ``{params.days}`` reads the variant's params.
* Filters after ``|``: ``money`` (``$1,234.50``), ``amount`` (``1234.50``), ``cents`` (an int),
  ``date`` (``2026-03-01``), ``long_date`` (``March 1, 2026``), ``days:N`` (N days later), ``upper``,
  ``lower``, ``title``, ``int``, ``neg`` and arithmetic ``add:N`` / ``sub:N`` / ``mul:N`` / ``div:N`` (integers).
* A string that is exactly one placeholder keeps the value's type (``"{order.total_cents}"``
  is the int 4999), so checks can compare numbers; anywhere else the value is text.
* ``{{`` and ``}}`` are literal braces. An unknown name, attribute or filter raises
  :class:`TemplateError`: a task never silently renders a hole.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from supportgym.clock import parse_iso
from supportgym.money import decimal_text as amount  # the filters' names
from supportgym.money import dollars as money

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")
_WHOLE = re.compile(r"^\{([^{}]+)\}$")


class TemplateError(ValueError):
    """A placeholder that cannot be resolved; ``path`` is where in the document it sits."""

    def __init__(self, message: str, path: tuple[Any, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return parse_iso(value[:19] + "Z" if len(value) >= 19 else value + "T00:00:00Z")
    raise TemplateError(f"{value!r} is not a date")


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TemplateError(f"{value!r} is not an integer")
    try:
        return int(value)
    except ValueError as exc:
        raise TemplateError(f"{value!r} is not an integer") from exc


def _filter(value: Any, spec: str) -> Any:
    name, _, arg = spec.partition(":")
    name = name.strip()
    if name == "money":
        return money(_int(value))
    if name == "amount":
        return amount(_int(value))
    if name in ("cents", "int"):
        return _int(value)
    if name == "date":
        return _as_datetime(value).strftime("%Y-%m-%d")
    if name == "long_date":
        d = _as_datetime(value)
        return f"{d:%B} {d.day}, {d.year}"
    if name == "days":
        # Date arithmetic: {now|days:3|long_date} is three days from now (days:-2 two before).
        return (_as_datetime(value) + timedelta(days=int(_int(arg)))).strftime("%Y-%m-%dT%H:%M:%SZ")
    if name == "upper":
        return str(value).upper()
    if name == "lower":
        return str(value).lower()
    if name == "title":
        return str(value).title()
    if name == "neg":
        return -_int(value)
    if name in ("first", "last"):
        if not isinstance(value, list):
            raise TemplateError(f"'{name}' needs a list, not {type(value).__name__}")
        n = _int(arg)
        return value[:n] if name == "first" else value[-n:]
    if name == "bullets":
        # One "- a, b, c" line per row; *_cents fields shown as money.
        if not isinstance(value, list):
            raise TemplateError(f"'bullets' needs a list of rows, not {type(value).__name__}")
        fields = [f.strip() for f in arg.split(",") if f.strip()]
        if not fields:
            raise TemplateError("'bullets' needs field names, e.g. bullets:id,name,price_cents")
        lines = []
        for row in value:
            if not isinstance(row, dict) or any(f not in row for f in fields):
                raise TemplateError(f"'bullets': a row lacks one of {', '.join(fields)}")
            lines.append("- " + ", ".join(money(row[f]) if f.endswith("_cents") else str(row[f]) for f in fields))
        return "\n".join(lines)
    if name in ("add", "sub", "mul", "div"):
        n = _int(arg)
        v = _int(value)
        return {"add": v + n, "sub": v - n, "mul": v * n, "div": v // n if n else 0}[name]
    raise TemplateError(
        f"unknown filter '{name}' (known: money, amount, cents, int, date, long_date, upper, "
        "lower, title, neg, first:N, last:N, bullets:f1,f2, add:N, sub:N, mul:N, div:N, days:N)"
    )


class Deferred:
    """Bound to a name whose placeholders stay as written, to be resolved later (the reference
    solution's ``{result.<tool>.<path>}``, known only while the solution replays)."""


def lookup(values: dict[str, Any], expr: str) -> Any:
    """The value of one placeholder expression such as ``order.items.0.id|money``."""
    path, *filters = [p.strip() for p in expr.split("|")]
    parts = path.split(".")
    if isinstance(values.get(parts[0]), Deferred):
        return "{" + expr + "}"
    if parts[0] not in values:
        known = ", ".join(sorted(values)) or "nothing"
        raise TemplateError(f"unknown placeholder '{{{expr}}}': '{parts[0]}' is not bound (bound: {known})")
    node: Any = values[parts[0]]
    walked = parts[0]
    for part in parts[1:]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        else:
            if isinstance(node, dict):
                hint = f"; it has {', '.join(sorted(map(str, node)))}"
            elif isinstance(node, list):
                hint = f"; it is a list of {len(node)}"
            else:
                hint = ""
            raise TemplateError(f"unknown placeholder '{{{expr}}}': '{walked}' has no '{part}'{hint}")
        walked += "." + part
    for spec in filters:
        node = _filter(node, spec)
    return node


def render_str(text: str, values: dict[str, Any]) -> Any:
    whole = _WHOLE.match(text)
    if whole:
        return lookup(values, whole.group(1))

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "{{":
            return "{"
        if m.group(0) == "}}":
            return "}"
        v = lookup(values, m.group(1))
        return str(v)

    return _PLACEHOLDER.sub(sub, text)


def render(obj: Any, values: dict[str, Any], path: tuple[Any, ...] = ()) -> Any:
    """``obj`` with every placeholder in every string resolved (dict keys are not templated)."""
    if isinstance(obj, str):
        try:
            return render_str(obj, values)
        except TemplateError as exc:
            raise TemplateError(exc.message, path) from None
    if isinstance(obj, dict):
        return {k: render(v, values, (*path, k)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [render(v, values, (*path, i)) for i, v in enumerate(obj)]
    return obj


def placeholders(obj: Any) -> list[str]:
    """Every placeholder expression in ``obj`` (for lint and for deferred rendering)."""
    found: list[str] = []
    if isinstance(obj, str):
        found += [m.group(1) for m in _PLACEHOLDER.finditer(obj) if m.group(1)]
    elif isinstance(obj, dict):
        for v in obj.values():
            found += placeholders(v)
    elif isinstance(obj, list):
        for v in obj:
            found += placeholders(v)
    return found
