"""Find concrete examples of each deliberate trap (see generate.py's docstring) in a world.

``trap_examples(session)`` returns ``{trap name: [ids...]}`` (up to ``limit`` each) so task
authors can pick real entities instead of guessing ids. It only reads the world.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supportgym import policy as P
from supportgym.clock import WORLD_NOW
from supportgym.schema import (
    Customer,
    Order,
    Payment,
    Product,
    Refund,
    Return,
    Shipment,
    Ticket,
    TicketMessage,
)
from supportgym.world_seed.catalog import TRAP_BRANDS
from supportgym.world_seed.templates import MISMATCHES


def _prefix(template: str) -> str:
    return template.split("{", 1)[0]


def mismatched_tickets(session: Session) -> list[str]:
    """Tickets whose subject and first message come from a ``templates.MISMATCHES`` entry."""
    first_msg = (
        select(TicketMessage.ticket_id, func.min(TicketMessage.id).label("mid"))
        .group_by(TicketMessage.ticket_id)
        .subquery()
    )
    rows = session.execute(
        select(Ticket.id, Ticket.subject, TicketMessage.body)
        .join(first_msg, first_msg.c.ticket_id == Ticket.id)
        .join(TicketMessage, TicketMessage.id == first_msg.c.mid)
        .order_by(Ticket.id)
    ).all()
    out = []
    for tid, subject, body in rows:
        for m in MISMATCHES:
            if subject == m.subject and body.startswith(_prefix(m.body)):
                out.append(tid)
                break
    return out


def trap_examples(session: Session, limit: int = 5, now: datetime = WORLD_NOW) -> dict[str, list[str]]:
    ex: dict[str, list[str]] = {}
    for b in TRAP_BRANDS:
        n = session.scalar(select(func.count()).select_from(Product).where(Product.brand == b.name))
        ex[f"brand {b.name} (said '{b.spoken}')"] = [f"{n} products"]

    names: dict[tuple[str, str], list[str]] = defaultdict(list)
    for cid, first, last in session.execute(
        select(Customer.id, Customer.first_name, Customer.last_name).order_by(Customer.id)
    ):
        names[(first, last)].append(cid)
    groups = [f"{f} {l_}: " + ", ".join(ids) for (f, l_), ids in sorted(names.items()) if len(ids) > 1]
    ex["same-name customers"] = groups[:limit]

    counts = session.execute(
        select(Order.customer_id, func.count())
        .group_by(Order.customer_id)
        .having(func.count() > 25)
        .order_by(func.count().desc(), Order.customer_id)
    ).all()
    ex["customers with > 25 orders"] = [f"{c} ({n} orders)" for c, n in counts[:limit]]

    ex["one order per status"] = [
        f"{s}: {session.scalar(select(func.min(Order.id)).where(Order.status == s))}"
        for s in ("pending", "paid", "fulfilled", "shipped", "delivered", "cancelled", "returned", "refunded")
    ]

    dups = session.execute(
        select(Payment.order_id, Payment.id).where(Payment.duplicate_of.is_not(None)).order_by(Payment.order_id)
    ).all()
    refunded = set(
        session.scalars(
            select(Refund.payment_id).where(Refund.reason == "duplicate_charge", Refund.status == "processed")
        )
    )
    ex["duplicate charge, not yet refunded"] = [f"{o} ({p})" for o, p in dups if p not in refunded][:limit]
    ex["duplicate charge, already refunded"] = [f"{o} ({p})" for o, p in dups if p in refunded][:limit]

    ex["mismatched-subject tickets"] = mismatched_tickets(session)[:limit]
    ex["lost shipments"] = list(
        session.scalars(select(Shipment.order_id).where(Shipment.status == "lost").order_by(Shipment.id).limit(limit))
    )
    ex["shipped orders past their estimate"] = list(
        session.scalars(
            select(Order.id)
            .join(Shipment)
            .where(Order.status == "shipped", Shipment.status != "lost", Shipment.estimated_delivery < now)
            .order_by(Order.id)
            .limit(limit)
        )
    )
    ex["delivered late with a shipping fee"] = list(
        session.scalars(
            select(Order.id)
            .join(Shipment)
            .where(
                Order.status == "delivered",
                Order.shipping_fee_cents > 0,
                Shipment.delivered_at > Shipment.estimated_delivery,
            )
            .order_by(Order.id)
            .limit(limit)
        )
    )
    ex["upgraded platinum customers"] = list(
        session.scalars(
            select(Customer.id)
            .where(Customer.notes.like("Upgraded from Silver to Platinum%"))
            .order_by(Customer.id)
            .limit(limit)
        )
    )
    ex["delivered orders above the agent refund limit"] = list(
        session.scalars(
            select(Order.id)
            .where(Order.status == "delivered", Order.total_cents > P.AGENT_REFUND_LIMIT_CENTS)
            .order_by(Order.id.desc())
            .limit(limit)
        )
    )
    ex["open returns (requested/approved/received)"] = list(
        session.scalars(
            select(Return.id)
            .where(Return.status.in_(("requested", "approved", "received")))
            .order_by(Return.id)
            .limit(limit)
        )
    )
    ex["unlinked tickets about an order"] = list(
        session.scalars(
            select(Ticket.id)
            .join(TicketMessage, TicketMessage.ticket_id == Ticket.id)
            .where(
                Ticket.order_id.is_(None), TicketMessage.body.like("%ORD-%"), TicketMessage.author_type == "customer"
            )
            .distinct()
            .order_by(Ticket.id)
            .limit(limit)
        )
    )
    return ex
