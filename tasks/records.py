"""The primary records of a prepared task: the customers, orders and tickets its setup bound.

Two tasks that hand the agent the same customer, order or ticket teach it to recall ids
instead of looking them up, and a generated task that lands on a fixed task's records would
leak a test task into training. Both are checked against these ids.
"""

from __future__ import annotations

import re
from typing import Any

PRIMARY_ID = re.compile(r"^(CUS|ORD|TKT)-\d+$")
# The columns of a bound row that name a primary record: its own id and its owners'.
_ID_COLUMNS = ("id", "customer_id", "order_id")


def primary_record_ids(values: dict[str, Any]) -> set[str]:
    """Ids of every customer, order and ticket a task's setup bound (``PreparedTask.values``):
    the bound rows themselves and the customer and order each of them belongs to."""
    found: set[str] = set()
    for bound in values.values():
        if not isinstance(bound, dict) or "id" not in bound:
            continue
        for column in _ID_COLUMNS:
            value = bound.get(column)
            if isinstance(value, str) and PRIMARY_ID.match(value):
                found.add(value)
    return found


def ticket_ids(values: dict[str, Any]) -> set[str]:
    return {i for i in primary_record_ids(values) if i.startswith("TKT-")}
