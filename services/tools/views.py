"""How world rows look to an agent: plain JSON, money as dollar strings, dates as ISO text."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, func, select

from supportgym.clock import iso
from supportgym.policy import WARRANTY_REVIEW_DAYS, warranty_end
from supportgym.schema import (
    Address,
    Customer,
    Escalation,
    Order,
    OrderItem,
    Payment,
    Policy,
    Product,
    PromoCode,
    Refund,
    Return,
    ReturnItem,
    Shipment,
    ShipmentEvent,
    Staff,
    StoreCreditEntry,
    Ticket,
    TicketMessage,
    TicketTag,
    WarrantyClaim,
)
from supportgym.services.tools import reads
from supportgym.services.tools.base import money


def address(a: Address) -> dict[str, Any]:
    return {
        "address_id": a.id,
        "label": a.label,
        "line1": a.line1,
        "line2": a.line2,
        "city": a.city,
        "region": a.region,
        "postal_code": a.postal_code,
        "country": a.country,
        "is_default": a.is_default,
    }


def store_credit_balance(conn: sqlite3.Connection, customer_id: str) -> int:
    """The sum of a customer's store-credit ledger, in cents."""
    q = reads.query(
        "store_credit_balance",
        lambda: select(func.coalesce(func.sum(StoreCreditEntry.amount_cents), 0)).where(
            StoreCreditEntry.customer_id == bindparam("customer_id")
        ),
    )
    return int(q.scalar(conn, customer_id=customer_id))


def customer_summary(c: Customer) -> dict[str, Any]:
    return {
        "customer_id": c.id,
        "name": f"{c.first_name} {c.last_name}",
        "email": c.email,
        "tier": c.tier.value,
        "city": next((a.city for a in c.addresses if a.is_default), None),
    }


def customer_detail(conn: sqlite3.Connection, c: Customer) -> dict[str, Any]:
    order_count = reads.query(
        "customer_order_count",
        lambda: select(func.count()).select_from(Order).where(Order.customer_id == bindparam("customer_id")),
    ).scalar(conn, customer_id=c.id)
    return {
        "customer_id": c.id,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "email": c.email,
        "phone": c.phone,
        "tier": c.tier.value,
        "joined_at": iso(c.joined_at),
        "notes": c.notes,
        "addresses": [address(a) for a in c.addresses],
        "store_credit_balance": money(store_credit_balance(conn, c.id)),
        "order_count": int(order_count),
    }


def product(p: Product) -> dict[str, Any]:
    return {
        "product_id": p.id,
        "sku": p.sku,
        "name": p.name,
        "brand": p.brand,
        "category": p.category,
        "price": money(p.price_cents),
        "stock": p.stock,
        "warranty_months": p.warranty_months,
        "discontinued": p.discontinued,
    }


def product_detail(p: Product) -> dict[str, Any]:
    return {**product(p), "description": p.description}


def order_summary(o: Order) -> dict[str, Any]:
    return {
        "order_id": o.id,
        "customer_id": o.customer_id,
        "status": o.status.value,
        "placed_at": iso(o.placed_at),
        "total": money(o.total_cents),
        "item_count": sum(i.quantity for i in o.items),
    }


def order_item(i: OrderItem) -> dict[str, Any]:
    return {
        "order_item_id": i.id,
        "product_id": i.product_id,
        "sku": i.sku,
        "name": i.product_name,
        "quantity": i.quantity,
        "unit_price": money(i.unit_price_cents),
        "discount": money(i.discount_cents),
        "line_total": money(i.line_total_cents),
    }


def payment(p: Payment) -> dict[str, Any]:
    return {
        "payment_id": p.id,
        "method": p.method.value,
        "amount": money(p.amount_cents),
        "status": p.status.value,
        "created_at": iso(p.created_at),
        "card_last4": p.card_last4 or None,
        "duplicate_of": p.duplicate_of,
    }


def refund(r: Refund) -> dict[str, Any]:
    return {
        "refund_id": r.id,
        "order_id": r.order_id,
        "payment_id": r.payment_id,
        "amount": money(r.amount_cents),
        "reason": r.reason.value,
        "status": r.status.value,
        "created_at": iso(r.created_at),
        "created_by": r.created_by,
        "note": r.note,
    }


def shipment_summary(s: Shipment) -> dict[str, Any]:
    return {
        "shipment_id": s.id,
        "carrier": s.carrier,
        "tracking_number": s.tracking_number,
        "status": s.status.value,
        "shipped_at": iso(s.shipped_at),
        "estimated_delivery": iso(s.estimated_delivery),
        "delivered_at": iso(s.delivered_at),
        "is_replacement": s.is_replacement,
    }


def shipment_detail(s: Shipment) -> dict[str, Any]:
    return {
        **shipment_summary(s),
        "order_id": s.order_id,
        "events": [
            {
                "occurred_at": iso(e.occurred_at),
                "status": e.status.value,
                "location": e.location,
                "description": e.description,
            }
            for e in s.events
        ],
    }


def return_summary(r: Return) -> dict[str, Any]:
    return {
        "return_id": r.id,
        "order_id": r.order_id,
        "status": r.status.value,
        "reason": r.reason,
        "resolution": r.resolution.value,
        "created_at": iso(r.created_at),
        "exchange_product_id": r.exchange_product_id,
        "items": [{"order_item_id": i.order_item_id, "quantity": i.quantity} for i in r.items],
    }


def order_detail(o: Order) -> dict[str, Any]:
    captured = sum(p.amount_cents for p in o.payments if p.status.value == "captured")
    refunded = sum(r.amount_cents for r in o.refunds if r.status.value != "rejected")
    return {
        "order_id": o.id,
        "customer_id": o.customer_id,
        "status": o.status.value,
        "placed_at": iso(o.placed_at),
        "paid_at": iso(o.paid_at),
        "shipped_at": iso(o.shipped_at),
        "delivered_at": iso(o.delivered_at),
        "cancelled_at": iso(o.cancelled_at),
        "items": [order_item(i) for i in o.items],
        "subtotal": money(o.subtotal_cents),
        "discount": money(o.discount_cents),
        "shipping_fee": money(o.shipping_fee_cents),
        "total": money(o.total_cents),
        "promo_code": o.promo_code,
        "payment_method": o.payment_method.value,
        "shipping_address": {
            "name": o.ship_name,
            "line1": o.ship_line1,
            "line2": o.ship_line2,
            "city": o.ship_city,
            "region": o.ship_region,
            "postal_code": o.ship_postal_code,
            "country": o.ship_country,
        },
        "payments": [payment(p) for p in o.payments],
        "refunds": [refund(r) for r in o.refunds],
        "amount_captured": money(captured),
        "amount_refunded": money(refunded),
        "shipments": [shipment_summary(s) for s in o.shipments],
        "returns": [return_summary(r) for r in o.returns],
        "replaces_order_id": o.replaces_order_id,
    }


def ticket_summary(t: Ticket) -> dict[str, Any]:
    return {
        "ticket_id": t.id,
        "customer_id": t.customer_id,
        "order_id": t.order_id,
        "subject": t.subject,
        "status": t.status.value,
        "priority": t.priority.value,
        "created_at": iso(t.created_at),
        "assignee_id": t.assignee_id,
        "tags": [tg.tag for tg in t.tags],
    }


def message(m: TicketMessage) -> dict[str, Any]:
    return {
        "message_id": m.id,
        "author_type": m.author_type.value,
        "author_id": m.author_id,
        "internal": m.internal,
        "created_at": iso(m.created_at),
        "body": m.body,
    }


def ticket_detail(t: Ticket) -> dict[str, Any]:
    return {
        **ticket_summary(t),
        "channel": t.channel.value,
        "updated_at": iso(t.updated_at),
        "escalated_team": t.escalated_team.value if t.escalated_team else None,
        "messages": [message(m) for m in t.messages],
    }


def staff(s: Staff) -> dict[str, Any]:
    return {
        "staff_id": s.id,
        "name": s.name,
        "email": s.email,
        "role": s.role.value,
        "team": s.team.value,
        "active": s.active,
    }


def escalation(e: Escalation) -> dict[str, Any]:
    return {
        "escalation_id": e.id,
        "ticket_id": e.ticket_id,
        "team": e.team.value,
        "reason": e.reason,
        "requested_amount": money(e.requested_amount_cents) if e.requested_amount_cents else None,
        "created_at": iso(e.created_at),
    }


# Read tools hand the two views below a plain reads row (see the loaders' note at the end).
def promo(p: PromoCode | SimpleNamespace) -> dict[str, Any]:
    return {
        "code": p.code,
        "description": p.description,
        "percent_off": p.percent_off,
        "amount_off": money(p.amount_off_cents),
        "min_order": money(p.min_order_cents),
        "tier_required": p.tier_required.value if p.tier_required else None,
        "valid_from": iso(p.valid_from),
        "valid_until": iso(p.valid_until),
        "active": p.active,
    }


def policy_summary(p: Policy | SimpleNamespace) -> dict[str, Any]:
    return {"policy_id": p.id, "title": p.title, "category": p.category, "summary": p.summary}


def policy_detail(p: Policy) -> dict[str, Any]:
    return {**policy_summary(p), "body": p.body, "updated_at": iso(p.updated_at)}


def warranty_claim(w: WarrantyClaim) -> dict[str, Any]:
    return {
        "claim_id": w.id,
        "order_item_id": w.order_item_id,
        "customer_id": w.customer_id,
        "product_id": w.product_id,
        "issue": w.issue,
        "status": w.status.value,
        "created_at": iso(w.created_at),
    }


def warranty_claim_detail(w: SimpleNamespace) -> dict[str, Any]:
    """A claim read with its order line, order and product (``fulfilment._claims_query``)."""
    ends = warranty_end(w.delivered_at, w.warranty_months) if w.delivered_at is not None else None
    return {
        **warranty_claim(w),  # type: ignore[arg-type]  # same attributes as the ORM row
        "order_id": w.order_id,
        "product_name": w.product_name,
        "warranty_months": w.warranty_months,
        "delivered_at": iso(w.delivered_at),
        "warranty_ends": iso(ends),
        "decision_due": iso(w.created_at + timedelta(days=WARRANTY_REVIEW_DAYS)),
    }


# --- loaders -------------------------------------------------------------------------------------
# The views above render ORM objects (what write tools hold) and the plain namespaces these
# loaders return (what read tools use: see ``reads``). The attributes are the same, so one view
# renders both and the output cannot differ.


def load_order(conn: sqlite3.Connection, order_id: str) -> SimpleNamespace | None:
    """An order and its items, payments, refunds, shipments and returns, for :func:`order_detail`."""
    order = reads.load_one(
        conn,
        Order.__table__,
        order_id,
        items=(OrderItem.__table__, "order_id"),
        payments=(Payment.__table__, "order_id"),
        refunds=(Refund.__table__, "order_id"),
        shipments=(Shipment.__table__, "order_id"),
        returns=(Return.__table__, "order_id"),
    )
    if order is not None:
        for i in order.items:
            i.line_total_cents = i.unit_price_cents * i.quantity - i.discount_cents
        reads.children_of(conn, order.returns, "items", ReturnItem.__table__, "return_id")
    return order


def load_customer(conn: sqlite3.Connection, customer_id: str) -> SimpleNamespace | None:
    """A customer and their addresses, for :func:`customer_detail`."""
    return reads.load_one(conn, Customer.__table__, customer_id, addresses=(Address.__table__, "customer_id"))


def load_ticket(conn: sqlite3.Connection, ticket_id: str) -> SimpleNamespace | None:
    """A ticket with its messages and tags, for :func:`ticket_detail`."""
    return reads.load_one(
        conn,
        Ticket.__table__,
        ticket_id,
        messages=(TicketMessage.__table__, "ticket_id"),
        tags=(TicketTag.__table__, "ticket_id", ["tag"]),
    )


def load_shipment(conn: sqlite3.Connection, shipment_id: str) -> SimpleNamespace | None:
    """A shipment with its tracking events, for :func:`shipment_detail`."""
    return reads.load_one(conn, Shipment.__table__, shipment_id, events=(ShipmentEvent.__table__, "shipment_id"))


def load_return(conn: sqlite3.Connection, return_id: str) -> SimpleNamespace | None:
    """A return (RMA) with its items, for :func:`return_summary`."""
    return reads.load_one(conn, Return.__table__, return_id, items=(ReturnItem.__table__, "return_id"))
