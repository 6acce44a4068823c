"""Substring search with LIKE where the searched text is literal: ``%`` and ``_`` typed by the
agent match themselves, not "anything" (``name: "%"`` must not list every customer)."""

from __future__ import annotations

from typing import Any

ESCAPE = "\\"


def literal(text: str) -> str:
    """``text`` for a LIKE pattern built with :func:`contains` (escape char, ``%``, ``_`` escaped)."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def contains(column: Any, value: Any) -> Any:
    """``column LIKE '%' || value || '%' ESCAPE '\\'``; bind ``value`` through :func:`literal`."""
    return column.contains(value, escape=ESCAPE)
