"""World integrity checks: ``check_world(session) -> list[Violation]``.

Every generated world must pass every invariant below, on every seed and scale. The checks read
rows through SQLAlchemy Core with enum columns read as raw strings, so a corrupted value is
reported as a violation instead of crashing the reader. Foreign keys are checked explicitly per
FK column from the metadata (not through SQLite's pragma), so they also hold for worlds copied
to other databases. The column-wise invariants (enum values, foreign keys, no future timestamps)
run as one query per column; the others read the rows of the tables they need.

After an episode, pass the episode clock's time as ``now``: rows the agent created carry
timestamps after the world's stored ``now``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, String, Table, and_, bindparam, func, or_, select, text, true, type_coerce
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Session

from supportgym.clock import WORLD_NOW, parse_iso
from supportgym.schema import Base
from supportgym.world_seed.check_scope import OWNER_PATH, owner_query

INVARIANTS: dict[str, str] = {
    "enum_values": "every enum column holds one of its enum's values",
    "foreign_keys": "every non-null foreign key value resolves to a row of the referenced table",
    "amounts_valid": "quantities >= 1, prices/amounts >= 0, refunds and payments > 0",
    "order_subtotal": "order subtotal = sum(unit_price x qty - item discount)",
    "order_total": "order total = subtotal - discount + shipping fee",
    "order_payments": "captured non-duplicate payments of a paid-or-later order sum to its total",
    "duplicate_payments": "duplicate_of points at another captured payment of the same order",
    "refund_per_payment": "processed refunds of a payment sum to at most that payment, same order",
    "refund_per_order": "processed refunds of an order sum to at most its captured payments",
    "timestamps_ordered": "placed <= paid <= shipped <= delivered, cancelled after placed, "
    "children after parents, events and messages in order",
    "events_after_causes": "each event after what caused it: a payment's capture no earlier than the "
    "order's placement and a duplicate charge after the original, a refund after the payment it "
    "refunds, a return after the delivery, a ticket after the order it is about was placed, a "
    "warranty claim after the delivery, store credit after the order it names",
    "timestamps_not_future": "no timestamp after the world's now (except estimates, promo end "
    "dates and scheduled internal messages)",
    "order_status_dates": "status and dates agree (cancelled has cancelled_at, pending unpaid, shipped has shipped_at)",
    "store_credit_balance": "each customer's store-credit balance is >= 0",
    "default_address": "each customer has exactly one default address",
    "shipment_present": "shipped and delivered orders have a shipment",
    "delivered_date": "delivered orders have delivered_at",
    "tracking_unique": "shipment tracking numbers are unique",
    "return_items": "return items reference lines of the same order, 1 <= qty, total returned <= ordered",
}

# Columns whose values may legitimately lie after now.
# A scheduled internal message (a task's ``post_internal`` with a later age) is the world's plan:
# the tools show it only once its time has come.
_FUTURE_OK = frozenset(
    {("promo_codes", "valid_until"), ("shipments", "estimated_delivery"), ("internal_messages", "posted_at")}
)
_PAID_OR_LATER = frozenset({"paid", "fulfilled", "shipped", "delivered", "returned", "refunded"})


@dataclass(frozen=True)
class Violation:
    invariant: str
    entity: str
    message: str

    def __str__(self) -> str:
        return f"[{self.invariant}] {self.entity}: {self.message}"


@dataclass
class CheckReport:
    """Per-invariant number of checked facts, and the violations found."""

    checked: dict[str, int] = field(default_factory=lambda: dict.fromkeys(INVARIANTS, 0))
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def failures(self) -> dict[str, int]:
        out = dict.fromkeys(INVARIANTS, 0)
        for v in self.violations:
            out[v.invariant] += 1
        return out


class _Rows(dict[str, list[dict[str, Any]]]):
    """A table's rows, read when an invariant first asks for them (the generic checks run in
    SQL and need none)."""

    def __init__(self, load: Callable[[str], list[dict[str, Any]]]) -> None:
        super().__init__()
        self._load = load

    def __missing__(self, name: str) -> list[dict[str, Any]]:
        rows = self[name] = self._load(name)
        return rows


class _Checker:
    def __init__(self, session: Session, now: datetime | None, customers: set[str] | None = None) -> None:
        self.s = session
        self.scope = customers
        self.report = CheckReport()
        self.t = _Rows(self._load)
        if now is None:
            meta = {r["key"]: r["value"] for r in self.t["world_meta"]}
            now = parse_iso(meta["now"]) if "now" in meta else WORLD_NOW
        self.now = now

    def _load(self, name: str) -> list[dict[str, Any]]:
        table = Base.metadata.tables[name]
        cols = [type_coerce(c, String()).label(c.name) if isinstance(c.type, SAEnum) else c for c in table.columns]
        stmt = select(*cols).order_by(*table.primary_key.columns)
        if self.scope is not None and name in OWNER_PATH:
            owned = text(f"SELECT id FROM ({owner_query(name)}) WHERE owner IN :owners").bindparams(
                bindparam("owners", expanding=True)
            )
            ids = [r[0] for r in self.s.execute(owned, {"owners": sorted(self.scope)})]
            stmt = stmt.where(table.c.id.in_(ids))
        result = self.s.execute(stmt)
        keys = list(result.keys())
        return [dict(zip(keys, r, strict=True)) for r in result]

    def count(self, inv: str, n: int = 1) -> None:
        self.report.checked[inv] += n

    def fail(self, inv: str, entity: object, message: str) -> None:
        self.report.violations.append(Violation(inv, str(entity), message))

    def expect(self, inv: str, cond: bool, entity: object, message: str) -> None:
        self.report.checked[inv] += 1
        if not cond:
            self.fail(inv, entity, message)

    # ------------------------------------------------------------------ generic
    # One query per column: the database does the row-by-row work, and only offending rows come
    # back to Python (a task's world is checked in a fraction of the time a row loop takes).
    def _column_check(self, inv: str, table: Table, checked: Any, bad: Any, value: Any, message: str) -> None:
        """Count the rows ``checked`` selects and report each row ``bad`` selects; ``message``
        is formatted with ``v`` (the row's ``value``)."""
        n = self.s.execute(select(func.count()).select_from(table).where(checked)).scalar_one()
        self.count(inv, n)
        pk = list(table.primary_key.columns)
        for row in self.s.execute(select(value.label("v"), *pk).where(bad).order_by(*pk)).mappings():
            self.fail(inv, "/".join(str(row[c.name]) for c in pk), message.format(v=row["v"]))

    def enums(self) -> None:
        for table in Base.metadata.sorted_tables:
            for col in table.columns:
                if not isinstance(col.type, SAEnum):
                    continue
                allowed = sorted(col.type.enums)
                raw = type_coerce(col, String())
                checked = raw.is_not(None) if col.nullable else true()
                self._column_check(
                    "enum_values",
                    table,
                    checked,
                    and_(checked, or_(raw.is_(None), raw.not_in(allowed))),
                    raw,
                    f"{table.name}.{col.name} = {{v!r}} is not one of {allowed}",
                )

    def foreign_keys(self) -> None:
        for table in Base.metadata.sorted_tables:
            for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
                parent, ref = fk.parent, fk.column
                self._column_check(
                    "foreign_keys",
                    table,
                    parent.is_not(None),
                    and_(parent.is_not(None), parent.not_in(select(ref))),
                    parent,
                    f"{table.name}.{parent.name} = {{v!r}} has no {ref.table.name}.{ref.name}",
                )

    def future(self) -> None:
        for table in Base.metadata.sorted_tables:
            for col in table.columns:
                if not isinstance(col.type, DateTime) or (table.name, col.name) in _FUTURE_OK:
                    continue
                self._column_check(
                    "timestamps_not_future",
                    table,
                    col.is_not(None),
                    col > self.now,
                    col,
                    f"{table.name}.{col.name} = {{v}} is after now ({self.now})",
                )

    # ------------------------------------------------------------------ orders & money
    def orders(self) -> None:
        items_by_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for it in self.t["order_items"]:
            items_by_order[it["order_id"]].append(it)
            self.expect(
                "amounts_valid",
                it["quantity"] >= 1
                and it["unit_price_cents"] >= 0
                and 0 <= it["discount_cents"] <= it["unit_price_cents"] * it["quantity"],
                it["id"],
                "invalid quantity, price or line discount",
            )
        pays_by_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
        pay_by_id = {p["id"]: p for p in self.t["payments"]}
        for p in self.t["payments"]:
            pays_by_order[p["order_id"]].append(p)
            self.expect("amounts_valid", p["amount_cents"] >= 0, p["id"], "negative payment")
            if p["duplicate_of"] is not None:
                orig = pay_by_id.get(p["duplicate_of"])
                self.expect(
                    "duplicate_payments",
                    orig is not None
                    and orig["order_id"] == p["order_id"]
                    and orig["status"] == "captured"
                    and orig["id"] != p["id"]
                    and orig["duplicate_of"] is None,
                    p["id"],
                    f"duplicate_of {p['duplicate_of']} is not another captured original payment of the same order",
                )
        ships_by_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for sh in self.t["shipments"]:
            ships_by_order[sh["order_id"]].append(sh)
        joined = {c["id"]: c["joined_at"] for c in self.t["customers"]}
        self.orders_by_id = {o["id"]: o for o in self.t["orders"]}
        self.items_by_id = {i["id"]: i for i in self.t["order_items"]}
        self.captured_by_order: dict[str, int] = defaultdict(int)
        for p in self.t["payments"]:
            if p["status"] == "captured":
                self.captured_by_order[p["order_id"]] += p["amount_cents"]
        for o in self.t["orders"]:
            oid, st = o["id"], o["status"]
            sub = sum(i["unit_price_cents"] * i["quantity"] - i["discount_cents"] for i in items_by_order[oid])
            self.expect(
                "order_subtotal",
                o["subtotal_cents"] == sub,
                oid,
                f"subtotal {o['subtotal_cents']} != sum of lines {sub}",
            )
            total = o["subtotal_cents"] - o["discount_cents"] + o["shipping_fee_cents"]
            self.expect(
                "order_total",
                o["total_cents"] == total,
                oid,
                f"total {o['total_cents']} != subtotal - discount + shipping {total}",
            )
            self.expect(
                "amounts_valid",
                o["discount_cents"] >= 0 and o["shipping_fee_cents"] >= 0 and o["total_cents"] >= 0,
                oid,
                "negative discount, fee or total",
            )
            if st in _PAID_OR_LATER:
                cap = sum(
                    p["amount_cents"]
                    for p in pays_by_order[oid]
                    if p["status"] == "captured" and p["duplicate_of"] is None
                )
                self.expect(
                    "order_payments",
                    cap == o["total_cents"],
                    oid,
                    f"captured payments {cap} != total {o['total_cents']} ({st})",
                )
            # Dates.
            placed, paid, shipped = o["placed_at"], o["paid_at"], o["shipped_at"]
            delivered, cancelled = o["delivered_at"], o["cancelled_at"]
            ok = True
            if oid and o["customer_id"] in joined and joined[o["customer_id"]] > placed:
                ok = False
            if paid is not None and paid < placed:
                ok = False
            if shipped is not None and (paid is None or shipped < paid):
                ok = False
            if delivered is not None and (shipped is None or delivered < shipped):
                ok = False
            if cancelled is not None and (cancelled < placed or (paid and cancelled < paid)):
                ok = False
            self.expect(
                "timestamps_ordered",
                ok,
                oid,
                f"dates out of order: joined={joined.get(o['customer_id'])} "
                f"placed={placed} paid={paid} shipped={shipped} delivered={delivered} "
                f"cancelled={cancelled}",
            )
            status_ok = (
                (cancelled is not None) == (st == "cancelled")
                and (st != "pending" or paid is None)
                and (st not in ("shipped", "delivered", "returned") or shipped is not None)
                and (st in ("cancelled", "pending") or paid is not None)
            )
            self.expect("order_status_dates", status_ok, oid, f"status {st} inconsistent with its dates")
            if st in ("shipped", "delivered"):
                self.expect("shipment_present", bool(ships_by_order[oid]), oid, f"{st} order has no shipment")
            if st == "delivered":
                self.expect("delivered_date", delivered is not None, oid, "delivered order has no delivered_at")
            for p in pays_by_order[oid]:
                self.expect(
                    "timestamps_ordered",
                    p["created_at"] >= placed,
                    p["id"],
                    "payment created before its order was placed",
                )
            for sh in ships_by_order[oid]:
                s_at, d_at = sh["shipped_at"], sh["delivered_at"]
                self.expect(
                    "timestamps_ordered",
                    (s_at is None or s_at >= placed) and (d_at is None or (s_at is not None and d_at >= s_at)),
                    sh["id"],
                    "shipment dates out of order",
                )

    def refunds(self) -> None:
        pay_by_id = {p["id"]: p for p in self.t["payments"]}
        per_payment: dict[str, int] = defaultdict(int)
        per_order: dict[str, int] = defaultdict(int)
        for r in self.t["refunds"]:
            self.expect("amounts_valid", r["amount_cents"] > 0, r["id"], "refund amount <= 0")
            o = self.orders_by_id.get(r["order_id"])
            if o is not None:
                self.expect(
                    "timestamps_ordered",
                    r["created_at"] >= o["placed_at"],
                    r["id"],
                    "refund created before its order was placed",
                )
            if r["status"] != "processed":
                continue
            per_payment[r["payment_id"]] += r["amount_cents"]
            per_order[r["order_id"]] += r["amount_cents"]
            p = pay_by_id.get(r["payment_id"])
            if p is not None:
                self.expect(
                    "refund_per_payment",
                    p["order_id"] == r["order_id"],
                    r["id"],
                    f"refund of {r['order_id']} against payment {p['id']} of {p['order_id']}",
                )
        for pid, amount in sorted(per_payment.items()):
            p = pay_by_id.get(pid)
            cap = p["amount_cents"] if p and p["status"] == "captured" else 0
            self.expect(
                "refund_per_payment", amount <= cap, pid, f"processed refunds {amount} exceed captured payment {cap}"
            )
        for oid, amount in sorted(per_order.items()):
            cap = self.captured_by_order.get(oid, 0)
            self.expect(
                "refund_per_order", amount <= cap, oid, f"processed refunds {amount} exceed captured payments {cap}"
            )

    # ------------------------------------------------------------------ others
    def customers(self) -> None:
        defaults: dict[str, int] = defaultdict(int)
        for a in self.t["addresses"]:
            defaults[a["customer_id"]] += bool(a["is_default"])
        balance: dict[str, int] = defaultdict(int)
        for e in self.t["store_credit"]:
            balance[e["customer_id"]] += e["amount_cents"]
        for c in self.t["customers"]:
            n = defaults.get(c["id"], 0)
            self.expect("default_address", n == 1, c["id"], f"{n} default addresses")
            if c["id"] in balance:
                self.expect(
                    "store_credit_balance",
                    balance[c["id"]] >= 0,
                    c["id"],
                    f"store-credit balance {balance[c['id']]} < 0",
                )

    def shipments(self) -> None:
        seen: dict[str, str] = {}
        for sh in self.t["shipments"]:
            tn = sh["tracking_number"]
            self.expect(
                "tracking_unique", tn not in seen, sh["id"], f"tracking number {tn} also used by {seen.get(tn)}"
            )
            seen.setdefault(tn, sh["id"])
        ship_by_id = {s["id"]: s for s in self.t["shipments"]}
        last: dict[str, datetime] = {}
        for ev in self.t["shipment_events"]:
            ev_ship = ship_by_id.get(ev["shipment_id"])
            prev = last.get(ev["shipment_id"])
            ok = (prev is None or ev["occurred_at"] >= prev) and (
                ev_ship is None or ev_ship["shipped_at"] is None or ev["occurred_at"] >= ev_ship["shipped_at"]
            )
            self.expect("timestamps_ordered", ok, ev["id"], f"event of {ev['shipment_id']} out of order")
            last[ev["shipment_id"]] = ev["occurred_at"]

    def returns(self) -> None:
        rma_by_id = {r["id"]: r for r in self.t["returns"]}
        returned: dict[str, int] = defaultdict(int)
        for r in self.t["returns"]:
            o = self.orders_by_id.get(r["order_id"])
            if o is not None:
                self.expect(
                    "timestamps_ordered",
                    r["created_at"] >= o["placed_at"],
                    r["id"],
                    "return created before its order was placed",
                )
        for ri in self.t["return_items"]:
            rma = rma_by_id.get(ri["return_id"])
            item = self.items_by_id.get(ri["order_item_id"])
            ok = rma is not None and item is not None and item["order_id"] == rma["order_id"]
            self.expect(
                "return_items",
                ok and ri["quantity"] >= 1,
                ri["id"],
                f"return item {ri['order_item_id']} is not a line of the return's order "
                f"or has quantity {ri['quantity']}",
            )
            if ok and rma is not None and rma["status"] != "rejected":
                returned[ri["order_item_id"]] += ri["quantity"]
        for iid, qty in sorted(returned.items()):
            ordered = self.items_by_id[iid]["quantity"]
            self.expect("return_items", qty <= ordered, iid, f"{qty} returned but only {ordered} ordered")

    def tickets(self) -> None:
        tickets = {t["id"]: t for t in self.t["tickets"]}
        last: dict[str, datetime] = {}
        for t in self.t["tickets"]:
            self.expect(
                "timestamps_ordered",
                t["updated_at"] >= t["created_at"],
                t["id"],
                "ticket updated before it was created",
            )
        for m in self.t["ticket_messages"]:
            m_ticket = tickets.get(m["ticket_id"])
            prev = last.get(m["ticket_id"])
            ok = (m_ticket is None or m_ticket["created_at"] <= m["created_at"]) and (
                prev is None or m["created_at"] >= prev
            )
            self.expect("timestamps_ordered", ok, m["id"], f"message of {m['ticket_id']} out of order")
            last[m["ticket_id"]] = m["created_at"]
        for e in self.t["escalations"]:
            e_ticket = tickets.get(e["ticket_id"])
            self.expect(
                "timestamps_ordered",
                e_ticket is None or e["created_at"] >= e_ticket["created_at"],
                e["id"],
                "escalation before its ticket",
            )

    def causes(self) -> None:
        """What happened because of something else happened after it: the contradictions a
        reader notices first (a payment a year before its order was placed)."""
        inv = "events_after_causes"
        orders, items = self.orders_by_id, self.items_by_id
        pay_by_id = {p["id"]: p for p in self.t["payments"]}
        for p in self.t["payments"]:
            o = orders.get(p["order_id"])
            if o is not None:
                self.expect(
                    inv,
                    p["created_at"] >= o["placed_at"],
                    p["id"],
                    f"payment at {p['created_at']} before order {o['id']} was placed at {o['placed_at']}",
                )
            orig = pay_by_id.get(p["duplicate_of"]) if p["duplicate_of"] else None
            if orig is not None:
                self.expect(
                    inv,
                    p["created_at"] >= orig["created_at"],
                    p["id"],
                    f"duplicate charge at {p['created_at']} before the original {orig['id']} at {orig['created_at']}",
                )
        for r in self.t["refunds"]:
            paid = pay_by_id.get(r["payment_id"])
            if paid is not None:
                self.expect(
                    inv,
                    r["created_at"] >= paid["created_at"],
                    r["id"],
                    f"refund at {r['created_at']} before payment {paid['id']} at {paid['created_at']}",
                )
        for rma in self.t["returns"]:
            o = orders.get(rma["order_id"])
            if o is not None and o["delivered_at"] is not None:
                self.expect(
                    inv,
                    rma["created_at"] >= o["delivered_at"],
                    rma["id"],
                    f"return at {rma['created_at']} before order {o['id']} was delivered at {o['delivered_at']}",
                )
        for t in self.t["tickets"]:
            o = orders.get(t["order_id"]) if t["order_id"] else None
            if o is not None:
                self.expect(
                    inv,
                    t["created_at"] >= o["placed_at"],
                    t["id"],
                    f"ticket at {t['created_at']} about order {o['id']} placed later, at {o['placed_at']}",
                )
        for w in self.t["warranty_claims"]:
            item = items.get(w["order_item_id"])
            o = orders.get(item["order_id"]) if item else None
            if o is not None:
                start = o["delivered_at"] or o["placed_at"]
                self.expect(
                    inv,
                    w["created_at"] >= start,
                    w["id"],
                    f"warranty claim at {w['created_at']} before order {o['id']} was delivered ({start})",
                )
        for e in self.t["store_credit"]:
            o = orders.get(e["order_id"]) if e["order_id"] else None
            if o is not None:
                self.expect(
                    inv,
                    e["created_at"] >= o["placed_at"],
                    e["id"],
                    f"store credit at {e['created_at']} for order {o['id']} placed later, at {o['placed_at']}",
                )

    def run(self) -> CheckReport:
        self.enums()
        self.foreign_keys()
        self.future()
        self.orders()
        self.refunds()
        self.customers()
        self.shipments()
        self.returns()
        self.tickets()
        self.causes()
        return self.report


def run_checks(session: Session, now: datetime | None = None, *, customers: set[str] | None = None) -> CheckReport:
    """All invariants, with per-invariant counts of what was checked. ``customers``: check the
    relational invariants on these customers' rows only (``touched_customers`` of a world that
    changed from one known to pass; the column-wise invariants always cover every row)."""
    return _Checker(session, now, customers).run()


def check_world(session: Session, now: datetime | None = None, *, customers: set[str] | None = None) -> list[Violation]:
    """Every invariant violation in the world (empty list = the world is consistent)."""
    return run_checks(session, now, customers=customers).violations


def summarize(violations: Iterable[Violation], limit: int = 20) -> str:
    """A short human-readable list of violations."""
    lines = [str(v) for v in violations]
    extra = f"\n... and {len(lines) - limit} more" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + extra
