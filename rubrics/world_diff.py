"""The world diff of an episode, and the collateral-change guard built on it.

An episode's net changes (:func:`supportgym.trail.summarise_changes`) say which rows it inserted,
updated or deleted. This module turns them into a :class:`WorldDiff` -- every changed row with
the fields it changed, the rows it hangs from (its *anchors*: the pre-existing rows its foreign
keys point at) and the money it moved per customer -- and compares that diff against what a task
allows (:class:`Footprint` of the reference solution plus declared :class:`Allowance` entries).

Why anchors: the id of a row the agent inserts (``RFD-900718``) depends on what else was inserted
before it, so two correct episodes rarely insert the same keys. What makes an insert *the same
change* is where it hangs: a refund on order ``ORD-500029`` against payment ``PAY-700029``. An
insert whose anchors the reference never used (a refund on another order, a note on another
customer's ticket) is collateral. Updates are compared per (table, row, field); deletes per row.

Money is compared per customer: the cents refunded plus the store credit granted. More money to a
customer than the reference moved, or any money to a customer the reference paid nothing, is
always collateral, whatever the rows look like.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from supportgym.money import decimal_text
from supportgym.schema import Base

# Columns a write touches as a side effect of another change: never a change of their own.
BOOKKEEPING_COLUMNS = frozenset({"updated_at"})
# Foreign keys that say who did something or which public record it names, not whose data it
# is: an escalation assigned to another staff member is not a different change.
_NOT_ANCHORS = frozenset({"staff", "policies", "promo_codes"})

# Columns that size an inserted row: more units re-shipped or returned than the task calls for is
# a different change even when it hangs from the same rows.
SIZE_COLUMNS = ("quantity", "amount_cents")

Op = Literal["insert", "update", "delete"]


def inserts_and_updates() -> list[Op]:
    """The operations an allowance covers when it names none."""
    return ["insert", "update"]


@cache
def foreign_keys(table: str) -> dict[str, str]:
    """``column -> referenced table`` of ``table``'s foreign keys that anchor a row."""
    out: dict[str, str] = {}
    for col in Base.metadata.tables[table].columns:
        for fk in col.foreign_keys:
            if fk.column.table.name not in _NOT_ANCHORS:
                out[col.name] = fk.column.table.name
    return out


@dataclass(frozen=True)
class RowChange:
    """One row the episode left different: its op, the fields it changed and its anchors."""

    op: Op
    table: str
    key: str
    fields: tuple[str, ...]
    anchors: tuple[tuple[str, str], ...]
    values: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def describe(self) -> str:
        if self.op == "insert":
            where = ", ".join(f"{k}={v}" for k, v in self.anchors) or "no anchor"
            return f"insert {self.table} {self.key} ({where})"
        if self.op == "delete":
            return f"delete {self.table} {self.key}"
        return f"update {self.table} {self.key}." + ",".join(self.fields)


@dataclass(frozen=True)
class WorldDiff:
    rows: tuple[RowChange, ...]
    money: dict[str, int]  # customer id -> cents refunded or credited in the episode

    @property
    def empty(self) -> bool:
        return not self.rows


def _customer_of_order(conn: Any, order_id: Any) -> str | None:
    row = conn.execute('SELECT customer_id FROM "orders" WHERE id = ?', (order_id,)).fetchone()
    return None if row is None else str(row[0])


def world_diff(net_changes: list[dict[str, Any]], conn: Any) -> WorldDiff:
    """The diff of ``net_changes`` (one entry per changed row), reading the final world through
    ``conn`` (a sqlite3 connection) only to find whose order a refund was for."""
    created: dict[str, set[str]] = defaultdict(set)
    for ch in net_changes:
        if ch["op"] == "insert":
            created[ch["table"]].add(str(ch["key"]))
    rows: list[RowChange] = []
    money: dict[str, int] = defaultdict(int)
    for ch in net_changes:
        table, key, op = ch["table"], str(ch["key"]), ch["op"]
        if op == "insert":
            after = ch["after"]
            anchors = tuple(
                sorted(
                    (col, str(after[col]))
                    for col, target in foreign_keys(table).items()
                    if after.get(col) is not None and str(after[col]) not in created[target]
                )
            )
            rows.append(RowChange("insert", table, key, tuple(sorted(after)), anchors, dict(after)))
            if table == "refunds" and after.get("amount_cents"):
                owner = _customer_of_order(conn, after.get("order_id"))
                money[owner or "?"] += int(after["amount_cents"])
            elif table == "store_credit" and int(after.get("amount_cents") or 0) > 0:
                money[str(after.get("customer_id"))] += int(after["amount_cents"])
        elif op == "update":
            rows.append(RowChange("update", table, key, tuple(sorted(ch["after"])), (), dict(ch["after"])))
        else:
            rows.append(RowChange("delete", table, key, (), (), dict(ch.get("before") or {})))
    return WorldDiff(tuple(rows), dict(money))


@dataclass(frozen=True)
class Footprint:
    """What a solution changed, in the terms the guard compares: updated (table, key, field),
    deleted (table, key), inserted (table, anchors) and money per customer."""

    updates: frozenset[tuple[str, str, str]] = frozenset()
    deletes: frozenset[tuple[str, str]] = frozenset()
    inserts: frozenset[tuple[str, tuple[tuple[str, str], ...]]] = frozenset()
    money: dict[str, int] = field(default_factory=dict, hash=False)
    # The largest quantity / amount an insert of that (table, anchors) carried.
    sizes: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, int]] = field(default_factory=dict, hash=False)

    @classmethod
    def of(cls, diff: WorldDiff) -> Footprint:
        sizes: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, int]] = {}
        for r in diff.rows:
            if r.op != "insert":
                continue
            mine = sizes.setdefault((r.table, r.anchors), {})
            for col in SIZE_COLUMNS:
                if isinstance(r.values.get(col), int):
                    mine[col] = max(mine.get(col, 0), int(r.values[col]))
        return cls(
            updates=frozenset((r.table, r.key, f) for r in diff.rows if r.op == "update" for f in r.fields),
            deletes=frozenset((r.table, r.key) for r in diff.rows if r.op == "delete"),
            inserts=frozenset((r.table, r.anchors) for r in diff.rows if r.op == "insert"),
            money=dict(diff.money),
            sizes=sizes,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "updates": sorted(f"{t}.{k}.{f}" for t, k, f in self.updates),
            "deletes": sorted(f"{t}.{k}" for t, k in self.deletes),
            "inserts": sorted(f"{t}({', '.join(f'{c}={v}' for c, v in a)})" for t, a in self.inserts),
            "money": dict(sorted(self.money.items())),
        }


class Allowance(BaseModel):
    """A change a task allows beyond its reference solution's (e.g. a note on the task ticket).

    ``where`` is matched against an inserted (or deleted) row's values, ``key`` against an
    updated or deleted row's key, ``fields`` (updates) lists the fields that may change."""

    model_config = ConfigDict(extra="forbid")
    table: str
    ops: list[Op] = Field(default_factory=inserts_and_updates)
    key: str | None = None
    where: dict[str, str] = Field(default_factory=dict)
    fields: list[str] | None = None
    why: str = ""

    def allows(self, row: RowChange) -> bool:
        if row.table != self.table or row.op not in self.ops:
            return False
        if self.key is not None and row.op != "insert" and row.key != self.key:
            return False
        if row.op == "insert" or (row.op == "delete" and self.where):
            return all(str(row.values.get(k)) == str(v) for k, v in self.where.items())
        if self.key is None and self.where:
            return False  # an update/delete allowance must name its row
        return self.fields is None or set(row.fields) <= set(self.fields) | BOOKKEEPING_COLUMNS


@dataclass(frozen=True)
class Collateral:
    """One change outside what the task allows."""

    row: RowChange | None
    why: str

    def __str__(self) -> str:
        return self.why


def collateral(diff: WorldDiff, allowed: Footprint, allowances: list[Allowance]) -> list[Collateral]:
    """Every change of ``diff`` that neither the footprint ``allowed`` nor an allowance covers,
    and every customer paid more than ``allowed.money`` grants."""
    out: list[Collateral] = []
    for row in diff.rows:
        if any(a.allows(row) for a in allowances):
            continue
        if row.op == "insert":
            if (row.table, row.anchors) not in allowed.inserts:
                out.append(Collateral(row, f"unrequested {row.describe()}"))
                continue
            limits = allowed.sizes.get((row.table, row.anchors), {})
            over = [
                f"{col} {row.values[col]} > {limit}"
                for col, limit in limits.items()
                if isinstance(row.values.get(col), int) and int(row.values[col]) > limit
            ]
            if over:
                out.append(Collateral(row, f"larger than the task allows: {row.describe()} ({', '.join(over)})"))
        elif row.op == "delete":
            if (row.table, row.key) not in allowed.deletes:
                out.append(Collateral(row, f"unrequested {row.describe()}"))
        else:
            extra = [
                f
                for f in row.fields
                if (row.table, row.key, f) not in allowed.updates
                and not (
                    f in BOOKKEEPING_COLUMNS
                    and any((row.table, row.key, g) in allowed.updates for g in row.fields if g != f)
                )
            ]
            if extra:
                out.append(Collateral(row, f"unrequested update {row.table} {row.key}." + ",".join(extra)))
    for customer, cents in sorted(diff.money.items()):
        limit = allowed.money.get(customer, 0)
        if cents > limit:
            out.append(
                Collateral(
                    None, f"money moved to {customer}: {decimal_text(cents)} (the task allows {decimal_text(limit)})"
                )
            )
    return out
