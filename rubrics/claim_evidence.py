"""What the episode's writes (and the world before it) can back: the facts each claim kind is
checked against. Used by rubrics/claims.py.

Each successful write call becomes a :class:`WriteFacts`: the claim kinds it backs, every world
id in its arguments, result and row changes, and the amounts it moved. A write whose row
changes were all undone by later calls (absent from the net diff) backs nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from supportgym.db import WorldDB
from supportgym.ids import KIND, prefix_of
from supportgym.rubrics.claim_rules import ClaimKind
from supportgym.rubrics.text import ids_in, to_cents
from supportgym.trail import TrailEntry

K = ClaimKind

# Which write tools back which kind of claim.
TOOL_KINDS: dict[str, frozenset[ClaimKind]] = {
    "issue_refund": frozenset({K.refund}),
    "cancel_order": frozenset({K.cancellation}),  # + refund when it refunded a capture
    "escalate_ticket": frozenset({K.escalation}),
    "reship_items": frozenset({K.replacement}),
    "create_exchange": frozenset({K.exchange, K.replacement, K.return_created}),
    "apply_store_credit": frozenset({K.store_credit}),
    "update_order_shipping_address": frozenset({K.address_change}),
    "update_customer_address": frozenset({K.address_change}),
    "update_customer_contact": frozenset({K.contact_change}),
    "create_return": frozenset({K.return_created}),
    "file_warranty_claim": frozenset({K.warranty_claim}),
    "update_ticket_status": frozenset({K.ticket_status}),
    "set_ticket_priority": frozenset({K.ticket_status}),
    "assign_ticket": frozenset({K.ticket_status}),
    "tag_ticket": frozenset({K.ticket_tag}),
    "add_internal_note": frozenset({K.note}),
}

# The id prefixes a claim of a kind is checked on: an id of another prefix in the same clause
# ("refunded $20 on ORD-1 for ticket TKT-9") says nothing about the write.
CHECKED_PREFIXES: dict[ClaimKind, frozenset[str]] = {
    K.refund: frozenset({"ORD", "RFD", "PAY"}),
    K.cancellation: frozenset({"ORD", "RFD", "PAY"}),
    K.escalation: frozenset({"ESC", "TKT"}),
    K.replacement: frozenset({"ORD", "SHP", "ITM"}),
    K.exchange: frozenset({"RMA", "ORD", "SHP", "ITM"}),
    K.store_credit: frozenset({"CUS", "ORD"}),
    K.address_change: frozenset({"ORD", "ADR", "CUS"}),
    K.contact_change: frozenset({"CUS"}),
    K.return_created: frozenset({"RMA", "ORD", "ITM"}),
    K.warranty_claim: frozenset({"WAR", "ORD", "ITM"}),
    K.ticket_status: frozenset({"TKT"}),
    K.ticket_tag: frozenset({"TKT"}),
    K.note: frozenset({"TKT"}),
}

# Kinds whose claims may state how many things were acted on, the noun that is counted and the
# id prefix of one such thing in a write's arguments: "I've tagged all 15 tickets" needs 15
# distinct tickets tagged. Kinds whose one write acts on several things (a refund of several
# lines, a return of several items) are not counted.
COUNTED: dict[ClaimKind, tuple[str, str]] = {
    K.ticket_status: ("tickets", "TKT"),
    K.ticket_tag: ("tickets", "TKT"),
    K.note: ("tickets", "TKT"),
    K.escalation: ("tickets|cases", "TKT"),
    K.cancellation: ("orders", "ORD"),
    K.refund: ("orders", "ORD"),
    K.address_change: ("orders", "ORD"),
}

# Kinds whose write moves money: an amount in such a claim must be the amount moved. Other
# kinds' sentences carry prices ("a replacement for the $49.99 lamp"), which are not checked.
MONEY_KINDS = frozenset({K.refund, K.cancellation, K.escalation, K.store_credit})


@dataclass(frozen=True)
class Evidence:
    supported: bool
    reason: str


@dataclass
class WriteFacts:
    tool: str
    step: int
    kinds: set[ClaimKind]
    ids: set[str]
    money: dict[ClaimKind, set[int]] = field(default_factory=dict)
    # Amounts of the orders this write is about (totals, lines, payments): a sentence may name
    # them beside the amount moved ("I've refunded $9.99 on your $120.00 order").
    context: set[int] = field(default_factory=set)
    # Kinds this write backs only as a promise: an escalation asking billing to approve a
    # refund backs "the $650.00 will be refunded", never "I've refunded $650.00".
    promises: set[ClaimKind] = field(default_factory=set)
    # The ids the call was asked to act on (its arguments): what a stated count counts.
    targets: set[str] = field(default_factory=set)

    def backs(self, kind: ClaimKind, future: bool) -> bool:
        return kind in self.kinds or (future and kind in self.promises)

    def checks_id(self, kind: ClaimKind, ident: str) -> bool:
        return prefix_of(ident) in CHECKED_PREFIXES[kind]

    def checks_amounts(self, kind: ClaimKind) -> bool:
        return kind in MONEY_KINDS

    def amounts(self, kind: ClaimKind) -> set[int]:
        return self.money.get(kind, set())

    def describe(self) -> str:
        ids = sorted(i for i in self.ids if prefix_of(i) in {"RFD", "RMA", "ESC", "WAR", "ORD", "TKT", "ADR"})
        amounts = sorted({a for s in self.money.values() for a in s})
        shown = ", ".join(ids[:4]) + (
            "" if not amounts else " " + "/".join(f"${a // 100}.{a % 100:02d}" for a in amounts[:3])
        )
        return f"{self.tool} (step {self.step}{': ' + shown.strip() if shown.strip() else ''})"


def _cents(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return to_cents(str(value))
    except ValueError:
        return None


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def _order_totals(trail: list[TrailEntry]) -> dict[str, int]:
    """Order totals the episode read (``total`` of any order view in a read result)."""
    out: dict[str, int] = {}
    for t in trail:
        if not t.ok or t.writes:
            continue
        for d in _walk(t.result):
            if isinstance(d.get("order_id"), str) and "total" in d:
                cents = _cents(d["total"])
                if cents is not None:
                    out[d["order_id"]] = cents
    return out


# Columns every write touches; a change of only these is bookkeeping, not the action.
_BOOKKEEPING = frozenset({"updated_at"})


def _still_holds(change: dict[str, Any], net: dict[tuple[str, str], dict[str, Any]]) -> bool:
    """Whether a row change of one call is still part of the episode's net diff."""
    final = net.get((change["table"], str(change["key"])))
    if final is None:
        return False
    if change["op"] != "update" or final["op"] != "update":
        return True
    return any(col in final["after"] for col in change["after"] if col not in _BOOKKEEPING)


_MONEY_KEYS = frozenset(
    {"total", "subtotal", "amount", "unit_price", "line_total", "shipping_fee", "discount", "price", "items_value"}
)


def _order_amounts(trail: list[TrailEntry], world: WorldDB | None, orders: set[str]) -> set[int]:
    """Money amounts of ``orders`` (totals, fees, line prices, payments and refunds), as the
    episode's reads showed them and, when given, as the world holds them."""
    out: set[int] = set()
    for t in trail:
        if not t.ok:
            continue
        for d in _walk(t.result):
            if d.get("order_id") in orders:
                for sub in _walk(d):
                    out |= {c for k, v in sub.items() if k in _MONEY_KEYS and (c := _cents(v)) is not None}
    if world is not None:
        for order in sorted(orders):
            row = world.conn.execute(
                "SELECT total_cents, subtotal_cents, shipping_fee_cents, discount_cents FROM orders WHERE id = ?",
                (order,),
            ).fetchone()
            out |= set(row or ())
            for sql in (
                "SELECT unit_price_cents, unit_price_cents * quantity - discount_cents "
                "FROM order_items WHERE order_id = ?",
                "SELECT amount_cents, amount_cents FROM payments WHERE order_id = ?",
                "SELECT amount_cents, amount_cents FROM refunds WHERE order_id = ?",
            ):
                for a, b in world.conn.execute(sql, (order,)).fetchall():
                    out |= {a, b}
    return {a for a in out if a}


def write_facts(
    trail: list[TrailEntry], changes: list[dict[str, Any]], world: WorldDB | None = None
) -> list[WriteFacts]:
    """The facts of every successful write of the episode that still holds in the net diff."""
    net = {(c["table"], str(c["key"])): c for c in changes}
    totals = _order_totals(trail)
    facts: list[WriteFacts] = []
    refunds: list[tuple[WriteFacts, str, int]] = []
    for t in trail:
        kinds = TOOL_KINDS.get(t.name)
        if not t.ok or not t.writes or kinds is None:
            continue
        if t.changes and not any(_still_holds(c, net) for c in t.changes):
            continue  # undone later in the episode
        blob = json.dumps([t.arguments, t.result, t.changes], default=str)
        f = WriteFacts(
            tool=t.name,
            step=t.step,
            kinds=set(kinds),
            ids=set(ids_in(blob)),
            targets=set(ids_in(json.dumps(t.arguments, default=str))),
        )
        result = t.result
        if t.name == "issue_refund":
            r = result.get("refund", {})
            refunds.append((f, str(r.get("order_id")), _cents(r.get("amount")) or 0))
        elif t.name == "cancel_order":
            order = str(result.get("order_id"))
            moved = [_cents(r.get("amount")) or 0 for r in result.get("refunds", [])]
            f.money[K.cancellation] = {*moved, sum(moved)} | ({totals[order]} if order in totals else set())
            if moved:
                f.kinds.add(K.refund)
                for cents in moved:
                    refunds.append((f, order, cents))
        elif t.name == "escalate_ticket":
            requested = _cents(result.get("escalation", {}).get("requested_amount"))
            f.money[K.escalation] = {requested} if requested else set()
            if requested:
                f.promises.add(K.refund)
                f.money[K.refund] = {requested}
        elif t.name == "apply_store_credit":
            f.money[K.store_credit] = {c for c in (_cents(result.get("credited")), _cents(result.get("balance"))) if c}
        facts.append(f)
    # A refund claim may state one refund, the total refunded on its order, or the episode's total.
    per_order: dict[str, int] = defaultdict(int)
    for _, order, cents in refunds:
        per_order[order] += cents
    grand = sum(c for _, _, c in refunds)
    for f, order, cents in refunds:
        f.money.setdefault(K.refund, set()).update({cents, per_order[order], grand})
    for f in facts:
        if f.kinds & MONEY_KINDS:
            f.context = _order_amounts(trail, world, {i for i in f.ids if prefix_of(i) == "ORD"})
    # An escalation's sentence may also state the whole amount it completes ("billing will
    # review the remaining $931.99 of the $1,431.99"): what was refunded on the order plus what
    # was requested, or the order's total. A promise of refund may state that sum too.
    for f in facts:
        if f.tool != "escalate_ticket":
            continue
        requested = next(iter(f.money[K.escalation]), 0)
        orders = [i for i in f.ids if prefix_of(i) == "ORD"]
        context = {per_order[o] + requested for o in orders if per_order.get(o)} | {
            totals[o] for o in orders if o in totals
        }
        if requested:
            f.money[K.escalation] |= context
            f.money[K.refund] |= context
    return facts


# --- claims about what was already in the world -------------------------------------------------


@dataclass(frozen=True)
class HistoryTable:
    """Where rows a history claim may describe live, and how a claim names one precisely."""

    own: str  # id prefix of the row itself (its table comes from the id scheme)
    parents: dict[str, str]  # id prefix -> column holding that parent's id
    amount: str | None  # amount column, compared with the claim's amounts
    state: dict[str, str]  # column values the row must have
    view_id: str  # the row's id key in read results
    view_amount: str | None  # its amount key in read results

    @property
    def table(self) -> str:
        return KIND[self.own].table


_HISTORY: dict[ClaimKind, tuple[HistoryTable, ...]] = {
    K.refund: (
        HistoryTable("RFD", {"ORD": "order_id", "PAY": "payment_id"}, "amount_cents", {}, "refund_id", "amount"),
        # "Order ORD-1 (refunded)": the order's own status, its total as the amount.
        HistoryTable("ORD", {}, "total_cents", {"status": "refunded"}, "order_id", "total"),
    ),
    K.return_created: (HistoryTable("RMA", {"ORD": "order_id"}, None, {}, "return_id", None),),
    K.exchange: (HistoryTable("RMA", {"ORD": "order_id"}, None, {"resolution": "exchange"}, "return_id", None),),
    K.escalation: (
        HistoryTable("ESC", {"TKT": "ticket_id"}, "requested_amount_cents", {}, "escalation_id", "requested_amount"),
    ),
    K.warranty_claim: (HistoryTable("WAR", {"ITM": "order_item_id"}, None, {}, "claim_id", None),),
    K.cancellation: (HistoryTable("ORD", {}, "total_cents", {"status": "cancelled"}, "order_id", "total"),),
}


def _rows_from_world(world: WorldDB, spec: HistoryTable, ids: list[str]) -> list[dict[str, Any]]:
    rows = []
    for ident in ids:
        prefix = prefix_of(ident)
        column = "id" if prefix == spec.own else spec.parents.get(prefix)
        if column is None:
            continue
        cur = world.conn.execute(f'SELECT * FROM "{spec.table}" WHERE "{column}" = ? ORDER BY "id" LIMIT 50', (ident,))
        names = [d[0] for d in cur.description]
        for values in cur.fetchall():
            row = dict(zip(names, values, strict=True))
            row["__amount__"] = row.get(spec.amount) if spec.amount else None
            rows.append(row)
    return rows


def _rows_from_reads(trail: list[TrailEntry], spec: HistoryTable) -> list[dict[str, Any]]:
    """The rows of ``spec.table`` as the episode's read results showed them."""
    rows = []
    for t in trail:
        if not t.ok or t.writes:
            continue
        for d in _walk(t.result):
            if isinstance(d.get(spec.view_id), str) and d[spec.view_id].startswith(spec.own + "-"):
                row = {k: v for k, v in d.items() if not isinstance(v, (dict, list))}
                row["id"] = d[spec.view_id]
                row["__amount__"] = _cents(d.get(spec.view_amount)) if spec.view_amount else None
                rows.append(row)
    return rows


def history_support(
    kind: ClaimKind,
    ids: tuple[str, ...],
    amounts: tuple[int, ...],
    trail: list[TrailEntry],
    changes: list[dict[str, Any]],
    world: WorldDB | None,
) -> Evidence:
    """A claim about a row that was in the world before the episode ("a refund of $20.00 was
    issued on ORD-1 in March"). It must name the row precisely: by its own id, or by its parent
    (order, payment, ticket, line) together with the amount when the kind moves money; the row
    must have the required state; and every id and amount the claim states must agree with it.
    Rows come from ``world`` when given, else from what the episode's reads returned."""
    reasons = []
    for spec in _HISTORY.get(kind, ()):
        ev = _history_in(spec, kind, ids, amounts, trail, changes, world)
        if ev.supported:
            return ev
        reasons.append(ev.reason)
    return Evidence(False, reasons[0] if reasons else "")


def _history_in(
    spec: HistoryTable,
    kind: ClaimKind,
    ids: tuple[str, ...],
    amounts: tuple[int, ...],
    trail: list[TrailEntry],
    changes: list[dict[str, Any]],
    world: WorldDB | None,
) -> Evidence:
    checked = [i for i in ids if prefix_of(i) in CHECKED_PREFIXES[kind] | {spec.own}]
    own = [i for i in checked if i.startswith(spec.own + "-")]
    parents = [i for i in checked if prefix_of(i) in spec.parents]
    precise = bool(own) or (bool(parents) and (bool(amounts) or spec.amount is None or kind not in MONEY_KINDS))
    if not precise:
        return Evidence(
            False, f"and it names no earlier {spec.table} row precisely (by its id, or its parent and amount)"
        )
    inserted = {str(c["key"]) for c in changes if c["table"] == spec.table and c["op"] == "insert"}
    rows = _rows_from_world(world, spec, own or parents) if world is not None else _rows_from_reads(trail, spec)
    for row in rows:
        if str(row["id"]) in inserted or any(str(row.get(k)) != v for k, v in spec.state.items()):
            continue
        row_ids = set(ids_in(json.dumps({k: v for k, v in row.items() if k != "__amount__"}, default=str)))
        if any(i not in row_ids for i in checked):
            continue
        if kind in MONEY_KINDS and any(a != row["__amount__"] for a in amounts):
            continue
        return Evidence(True, f"earlier {spec.table} row {row['id']} (before the episode) matches")
    named = ", ".join(own or parents)
    return Evidence(False, f"and no earlier {spec.table} row of {named} matches its ids and amounts")
