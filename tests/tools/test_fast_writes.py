"""The writing tools' fast path (``services.tools.writes``) against the ORM versions it replaced.

Every writing tool is called on many rows of two copies of one world, through ``call_tool`` on
one and through the ORM reference (``orm_reference``) on the other, in the same order with the
same clock: results, refusals and change records must be identical call by call, and the two
worlds equal at the end. Refused calls must leave the world (hash) and the trail unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from supportgym.clock import parse_iso
from supportgym.db import WorldDB, world_hash
from supportgym.schema import (
    ENABLED_TOOLS_KEY,
    Address,
    Customer,
    Order,
    OrderItem,
    Product,
    Staff,
    Ticket,
)
from supportgym.services.tools import REGISTRY, call_tool
from tests.tools.conftest import World
from tests.tools.orm_reference import ORM_TOOLS, call_orm


def _rows(db: WorldDB, stmt: Any) -> list[Any]:
    with db.session() as s:
        return list(s.execute(stmt).all())


def _calls(db: WorldDB) -> Iterator[tuple[str, dict[str, Any]]]:
    """Calls of every writing tool over the world's rows: some succeed, many are refused."""
    orders = _rows(db, select(Order.id, Customer.email).join(Customer).order_by(Order.id))
    items = {oid: iid for oid, iid in _rows(db, select(OrderItem.order_id, OrderItem.id).order_by(OrderItem.id.desc()))}
    # For an exchange: the cheapest product of the same category as the item.
    item_category = dict(_rows(db, select(OrderItem.id, Product.category).join(Product)))
    cheapest: dict[str, str] = {}
    for pid, category in _rows(
        db,
        select(Product.id, Product.category)
        .where(Product.discontinued.is_(False))
        .order_by(Product.price_cents.desc()),
    ):
        cheapest[category] = pid
    customers = _rows(db, select(Customer.id, Customer.email).order_by(Customer.id))
    addresses = {
        cid: aid for cid, aid in _rows(db, select(Address.customer_id, Address.id).order_by(Address.id.desc()))
    }
    tickets = [t for (t,) in _rows(db, select(Ticket.id).order_by(Ticket.id))]
    staff = [s for (s,) in _rows(db, select(Staff.id).order_by(Staff.id))]
    for n, (order_id, email) in enumerate(orders):
        item = items.get(order_id, "ITM-000001")
        yield (
            "create_return",
            {"order_id": order_id, "items": [{"order_item_id": item, "quantity": 1}], "reason": "too small"},
        )
        yield (
            "issue_refund",
            {"order_id": order_id, "amount": 5.25, "reason": ["damaged_item", "goodwill", "duplicate_charge"][n % 3]},
        )
        yield "issue_refund", {"order_id": order_id, "amount": 900.0, "reason": "returned_item"}
        yield (
            "reship_items",
            {"order_id": order_id, "items": [{"order_item_id": item, "quantity": 1}], "reason": "arrived damaged"},
        )
        yield (
            "create_exchange",
            {
                "order_id": order_id,
                "order_item_id": item,
                "new_product_id": cheapest.get(item_category.get(item, ""), "PRD-1001"),
                "reason": "wrong size",
            },
        )
        yield "file_warranty_claim", {"order_id": order_id, "order_item_id": item, "issue": "stopped working"}
        yield (
            "update_order_shipping_address",
            {
                "order_id": order_id,
                "verification_email": email,
                "name": "A B",
                "line1": f"{n} Main St",
                "city": "Springfield",
                "region": "IL",
                "postal_code": "62701",
            },
        )
        if n % 2:
            yield "cancel_order", {"order_id": order_id, "reason": "changed my mind"}
    for n, (customer_id, email) in enumerate(customers):
        yield (
            "apply_store_credit",
            {
                "customer_id": customer_id,
                "amount": 7.5 + n,
                "reason": "sorry",
                **({"order_id": orders[n % len(orders)][0]} if n % 3 == 0 else {}),
            },
        )
        yield (
            "update_customer_contact",
            {"customer_id": customer_id, "verification_email": email, "new_phone": f"555-01{n:02d}"},
        )
        yield (
            "update_customer_contact",
            {
                "customer_id": customer_id,
                "verification_email": email,
                "new_email": customers[(n + 1) % len(customers)][1] if n % 4 == 0 else f"new{n}@example.com",
            },
        )
        address = {
            "verification_email": email,
            "line1": f"{n} Oak Ave",
            "city": "Salem",
            "region": "OR",
            "postal_code": "97301",
        }
        yield "update_customer_address", {"customer_id": customer_id, **address, "make_default": n % 2 == 0}
        if customer_id in addresses:
            yield (
                "update_customer_address",
                {"customer_id": customer_id, **address, "address_id": addresses[customer_id], "make_default": True},
            )
    for n, ticket_id in enumerate(tickets):
        yield "tag_ticket", {"ticket_id": ticket_id, "add": ["refund", "vip"], "remove": ["refund"] if n % 2 else []}
        yield "tag_ticket", {"ticket_id": ticket_id, "remove": ["vip", "billing"]}
        yield "reply_to_customer", {"ticket_id": ticket_id, "message": "We are on it."}
        yield "add_internal_note", {"ticket_id": ticket_id, "note": "checked the order"}
        yield "set_ticket_priority", {"ticket_id": ticket_id, "priority": ["low", "high", "urgent"][n % 3]}
        yield "assign_ticket", {"ticket_id": ticket_id, "staff_id": staff[n % len(staff)]}
        if n % 3 == 0:
            yield (
                "escalate_ticket",
                {"ticket_id": ticket_id, "team": "billing", "reason": "refund above limit", "requested_amount": 300},
            )
        yield "update_ticket_status", {"ticket_id": ticket_id, "status": ["solved", "closed", "pending", "open"][n % 4]}
        if n % 10 == 0:  # time passes now and then: parcels arrive, tickets pass deadlines
            yield "advance_time", {"hours": 1 + n % 30}
    yield "advance_time", {"days": 5}
    yield "cancel_order", {"order_id": "ORD-999999", "reason": "unknown order"}
    yield "assign_ticket", {"ticket_id": tickets[0], "staff_id": "STF-999"}


def test_fast_writes_match_the_orm_path_call_by_call(tiny_snapshot):
    fast = tiny_snapshot.open()
    orm = tiny_snapshot.open()
    for db in (fast, orm):
        db.conn.execute("INSERT INTO world_meta (key, value) VALUES (?, 'advance_time')", (ENABLED_TOOLS_KEY,))
        db.conn.commit()
    world = World(fast)
    try:
        seen: dict[str, list[bool]] = {}
        deleted_tags = 0
        for name, arguments in _calls(fast):
            world.now += timedelta(seconds=30)
            out = call_tool(fast, name, arguments, now=world.now, episode_start=world.start)
            ok, result, changes = call_orm(orm, name, arguments, now=world.now, episode_start=world.start)
            assert (out.ok, out.result) == (ok, result), (name, arguments)
            # The ORM path never recorded a tag removed from ``ticket.tags`` (a delete-orphan
            # cascade happens inside the flush, after ``session.deleted`` is read); the rows
            # were deleted all the same. The fast path records those deletes.
            orphans = [c for c in out.changes if c["op"] == "delete" and c["table"] == "ticket_tags"]
            assert [c for c in out.changes if c not in orphans] == changes, (name, arguments)
            removed = set(arguments.get("remove", [])) if name == "tag_ticket" else set()
            assert {c["before"]["tag"] for c in orphans} <= removed
            assert all(c["before"]["ticket_id"] == arguments.get("ticket_id") for c in orphans)
            deleted_tags += len(orphans)
            seen.setdefault(name, []).append(out.ok)
            if name == "advance_time" and out.ok:  # the caller's clock follows the world's
                world.now = parse_iso(out.result["now"])
        # Every writing tool was exercised, and both succeeded and was refused somewhere.
        assert set(seen) == set(ORM_TOOLS) == {n for n, t in REGISTRY.items() if not t.annotations.read_only}
        assert sum(sum(v) for v in seen.values()) > 100
        assert deleted_tags > 0
        assert all(any(v) for v in seen.values()), {n: (sum(v), len(v)) for n, v in seen.items()}
        refused = [n for n, v in seen.items() if not all(v)]
        assert len(refused) >= 12 and sum(len(v) - sum(v) for v in seen.values()) > 100
        with fast.session() as a, orm.session() as b:
            assert world_hash(a) == world_hash(b)
    finally:
        fast.close()
        orm.close()


def test_a_refused_write_changes_nothing_after_it_wrote(world):
    """issue_refund writes the refund, then refuses nothing; create_return refuses before
    writing; cancel_order refuses on state: each refusal leaves the world hash and trail."""
    delivered = world.first(select(Order.id).where(Order.status == "delivered").order_by(Order.id))
    world.error(
        "create_return",
        {"order_id": delivered, "items": [{"order_item_id": "ITM-000001", "quantity": 1}], "reason": "x"},
    )
    world.error("issue_refund", {"order_id": delivered, "amount": 999999, "reason": "goodwill"})
    world.error("cancel_order", {"order_id": delivered, "reason": "too late"})


def test_a_fault_inside_a_write_rolls_back_what_it_wrote(world, monkeypatch):
    """A tool that writes and then fails (a bug, not a refusal) leaves the world unchanged."""
    from supportgym.services.tools import WorldFault
    from supportgym.services.tools import tickets as ticket_tools

    ticket = world.first(select(Ticket.id).order_by(Ticket.id))
    before = world.hash()
    real = ticket_tools.views.message

    def broken(message: Any) -> Any:
        raise RuntimeError("view broke after the write")

    monkeypatch.setattr(ticket_tools.views, "message", broken)
    try:
        world.call("add_internal_note", ticket_id=ticket, note="never kept")
    except WorldFault:
        pass
    else:  # pragma: no cover - the call must fail
        raise AssertionError("the broken tool did not raise WorldFault")
    monkeypatch.setattr(ticket_tools.views, "message", real)
    assert world.hash() == before
    kept = world.ok("add_internal_note", ticket_id=ticket, note="kept")["message"]["message_id"]
    assert world.hash() != before
    # The undone call's id is free again: the kept note got the id the first note would have.
    top = world.db.conn.execute("SELECT max(id) FROM ticket_messages WHERE id < ?", (kept,)).fetchone()[0]
    assert kept == top + 1
