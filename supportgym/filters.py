"""Comparison operators of row filters: ``{column: value}`` or ``{column: {op: value}}``.

Task setups select rows with them (as SQL) and rubric checks match the rows an episode created
with them (in Python); both read the operator names and the ordering table here, so a filter
means the same thing in a task file wherever it appears. A contract module: it imports nothing
of the project.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any, Literal, get_args

Operator = Literal["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "like", "is_null"]
OPERATORS: tuple[str, ...] = get_args(Operator)

# The four orderings work on Python values and on SQLAlchemy columns alike (``col > v``).
ORDERING: dict[str, Callable[[Any, Any], Any]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}

# Message of a filter naming an operator not in OPERATORS: ``UNKNOWN_OPERATOR.format(op=...)``.
UNKNOWN_OPERATOR = "unknown comparison '{op}' (" + ", ".join(OPERATORS) + ")"


def like_regex(pattern: str) -> re.Pattern[str]:
    """SQL ``LIKE`` as a regular expression (``%`` any run, ``_`` one character, no case)."""
    return re.compile(re.escape(pattern).replace("%", ".*").replace("_", "."), re.IGNORECASE)
