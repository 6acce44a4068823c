"""Where clauses over the world schema: ``{column: value | {op: value}}`` with relative dates.

One query language for everything that picks rows by a condition: a task's setup selections
(:mod:`supportgym.tasks.setup`) and the rubric checks that count rows
(:mod:`supportgym.rubrics.checks`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select

from supportgym.filters import ORDERING, UNKNOWN_OPERATOR, Operator
from supportgym.schema import Base

MODELS: dict[str, type[Base]] = {m.class_.__tablename__: m.class_ for m in Base.registry.mappers}


class QueryError(ValueError):
    """A where clause names an unknown table, column or comparison."""


# --- relative dates --------------------------------------------------------------------------

_REL = re.compile(r"^(now)?\s*((?:[+-]\s*\d+\s*[dhm]\s*)*)$")


def relative_time(value: Any, now: datetime) -> Any:
    """``-40d`` / ``+2h`` / ``now`` / ``now-3d+2h`` -> a datetime; anything else unchanged."""
    if not isinstance(value, str) or not value.strip():
        return value
    m = _REL.match(value.strip())
    if not m or not (m.group(1) or m.group(2)):
        return value
    out = now
    for sign, n, unit in re.findall(r"([+-])\s*(\d+)\s*([dhm])", m.group(2)):
        delta = {"d": timedelta(days=int(n)), "h": timedelta(hours=int(n)), "m": timedelta(minutes=int(n))}[unit]
        out = out + delta if sign == "+" else out - delta
    return out


# --- filters ---------------------------------------------------------------------------------

Comparison = dict[Operator, Any]


def compare(col: Any, cond: Any) -> Any:
    """One column against a value (equality; None is IS NULL) or against `{op: value}`."""
    if not isinstance(cond, dict):
        return col.is_(None) if cond is None else col == cond
    parts = []
    for op, v in cond.items():
        if op == "eq":
            parts.append(col.is_(None) if v is None else col == v)
        elif op == "ne":
            parts.append(col.is_not(None) if v is None else col != v)
        elif op == "in":
            parts.append(col.in_(list(v)))
        elif op == "not_in":
            parts.append(col.not_in(list(v)))
        elif op in ORDERING:
            parts.append(ORDERING[op](col, v))
        elif op == "like":
            parts.append(col.like(v))
        elif op == "is_null":
            parts.append(col.is_(None) if v else col.is_not(None))
        else:
            raise QueryError(UNKNOWN_OPERATOR.format(op=op))
    return and_(*parts)


def where_clause(model: type[Base], where: dict[str, Any], now: datetime | None = None) -> list[Any]:
    """SQL conditions for ``where``: ``{column: value | {op: value}}``.

    A key ``rel.column`` filters through a foreign key named ``rel_id`` (``customer.tier``,
    ``product.category``, ``order.status``): the row's ``rel_id`` must point at a matching row.
    Relative dates (``-40d``) are resolved against ``now``.
    """
    table = model.__table__
    out = []
    for key, cond in where.items():
        if now is not None:
            cond = (
                {k: relative_time(v, now) for k, v in cond.items()}
                if isinstance(cond, dict)
                else relative_time(cond, now)
            )
        if "." in key:
            rel, _, rest = key.partition(".")
            fk = f"{rel}_id"
            if fk not in table.c:
                raise QueryError(f"table {table.name} has no column {fk} for filter '{key}'")
            fk_col = table.c[fk]
            (fk_obj,) = fk_col.foreign_keys or [None]
            if fk_obj is None:
                raise QueryError(f"{table.name}.{fk} is not a foreign key (filter '{key}')")
            target = MODELS[fk_obj.column.table.name]
            sub = select(fk_obj.column).where(*where_clause(target, {rest: cond}, now))
            out.append(fk_col.in_(sub))
            continue
        if key not in table.c:
            raise QueryError(f"table {table.name} has no column '{key}' (columns: {', '.join(table.c.keys())})")
        out.append(compare(table.c[key], cond))
    return out
