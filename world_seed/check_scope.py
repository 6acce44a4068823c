"""Which customers' data a change to a world can have made inconsistent.

A task's setup edits a few rows of a seeded world that passes every invariant. Every relational
invariant in :mod:`supportgym.world_seed.check` is a statement about one customer's rows (their
orders with items, payments, shipments, refunds, returns; their tickets with messages and
escalations; their addresses, store credit and warranty claims) plus the rows those reference.
So a violation in the edited world needs a changed, added or removed row among them, and
checking the customers such rows touch finds every violation a full check finds, in a fraction
of the time. The column-wise invariants (enum values, foreign keys, future timestamps) stay
global: they run in SQL over every row anyway. Unique tracking numbers are the schema's UNIQUE
constraint, and the scope is only given when both worlds have the same schema.

"Touch" is taken widely: the owner of every changed row (old and new version), the owners of the
rows it references, and the owners of rows that reference it (a ticket of one customer may name
another's order).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import Any

from supportgym.schema import Base

# How each table's row reaches its customer: (fk column, parent table); None = it holds the
# customer id itself. Tables missing here are not read by any relational invariant.
OWNER_PATH: dict[str, tuple[str, str] | None] = {
    "customers": None,
    "addresses": ("customer_id", "customers"),
    "orders": ("customer_id", "customers"),
    "store_credit": ("customer_id", "customers"),
    "tickets": ("customer_id", "customers"),
    "warranty_claims": ("customer_id", "customers"),
    "order_items": ("order_id", "orders"),
    "payments": ("order_id", "orders"),
    "refunds": ("order_id", "orders"),
    "returns": ("order_id", "orders"),
    "shipments": ("order_id", "orders"),
    "return_items": ("return_id", "returns"),
    "shipment_events": ("shipment_id", "shipments"),
    "ticket_messages": ("ticket_id", "tickets"),
    "escalations": ("ticket_id", "tickets"),
}


def owner_query(table: str, schema: str = "main") -> str:
    """SQL selecting ``id`` and ``owner`` (the customer id) of every row of ``table`` in ``schema``."""
    joins: list[str] = []
    alias, current = "t0", table
    step = OWNER_PATH[current]
    while step is not None:
        column, parent = step
        nxt = f"t{len(joins) + 1}"
        if parent == "customers":
            return f"SELECT t0.id AS id, {alias}.{column} AS owner FROM {schema}.{table} t0 " + " ".join(joins)
        joins.append(f"JOIN {schema}.{parent} {nxt} ON {alias}.{column} = {nxt}.id")
        alias, current = nxt, parent
        step = OWNER_PATH[current]
    return f"SELECT t0.id AS id, t0.id AS owner FROM {schema}.{table} t0"


def _changed_ids(conn: sqlite3.Connection, table: str) -> set[str]:
    """Ids of rows added, removed or edited between ``base`` and ``main``."""
    q = f"SELECT id FROM (SELECT * FROM main.{table} EXCEPT SELECT * FROM base.{table})"
    q += f" UNION SELECT id FROM (SELECT * FROM base.{table} EXCEPT SELECT * FROM main.{table})"
    return {r[0] for r in conn.execute(q)}


def _in_both(conn: sqlite3.Connection, sql: str, ids: set[str]) -> set[Any]:
    """The first column of ``sql`` (``{schema}`` and ``{marks}`` filled in) over ``ids``, in the
    edited world and in the seeded one: a removed row counts as much as an added one."""
    if not ids:
        return set()
    wanted, marks = sorted(ids), ",".join("?" * len(ids))
    return {
        r[0]
        for schema in ("main", "base")
        for r in conn.execute(sql.format(schema=schema, marks=marks), wanted)
        if r[0] is not None
    }


def touched_customers(conn: sqlite3.Connection, base_image: bytes) -> set[str] | None:
    """The customers whose rows a full relational check must see, comparing the world open on
    ``conn`` with ``base_image``. None when the two worlds differ in their schema (check all)."""
    conn.execute("ATTACH DATABASE ':memory:' AS base")
    try:
        conn.deserialize(base_image, name="base")
        if _schema(conn, "main") != _schema(conn, "base"):
            return None
        changed = {t: _changed_ids(conn, t) for t in OWNER_PATH}
        touched: set[str] = set()
        linked: dict[str, set[str]] = defaultdict(set)  # table -> ids whose owners count too
        for table, ids in changed.items():
            if not ids:
                continue
            linked[table] |= ids
            for fk in Base.metadata.tables[table].foreign_keys:  # rows it references
                parent = fk.column.table.name
                if parent in OWNER_PATH:
                    q = f"SELECT {fk.parent.name} FROM {{schema}}.{table} WHERE id IN ({{marks}})"
                    linked[parent] |= _in_both(conn, q, ids)
            for child in OWNER_PATH:  # rows that reference it
                for fk in Base.metadata.tables[child].foreign_keys:
                    if fk.column.table.name == table:
                        q = f"SELECT id FROM {{schema}}.{child} WHERE {fk.parent.name} IN ({{marks}})"
                        linked[child] |= _in_both(conn, q, ids)
        for table, ids in linked.items():
            owners = f"SELECT owner FROM ({owner_query(table, '{schema}')}) WHERE id IN ({{marks}})"
            touched |= _in_both(conn, owners, ids)
        return touched
    finally:
        conn.execute("DETACH DATABASE base")


def _schema(conn: sqlite3.Connection, schema: str) -> list[tuple[str, str]]:
    return sorted(conn.execute(f"SELECT name, sql FROM {schema}.sqlite_master WHERE sql IS NOT NULL"))
