"""Per-episode action scripts on the tiny world: reads, writes, refusals and mistakes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from supportgym.schema import Customer, Order, OrderStatus, Ticket
from supportgym.services.worlds import get_snapshot


def script(i: int, seed: int = 7, scale: str = "tiny") -> list[tuple[str, Any]]:
    """A different sequence for each ``i``, touching different rows, ending with a submit."""
    db = get_snapshot(seed, scale).open()
    try:
        with db.session() as s:
            customers = s.execute(select(Customer.id).order_by(Customer.id)).scalars().all()
            tickets = s.execute(select(Ticket.id).order_by(Ticket.id)).scalars().all()
            orders = s.execute(select(Order.id).order_by(Order.id)).scalars().all()
            paid = (
                s.execute(select(Order.id).where(Order.status == OrderStatus.paid).order_by(Order.id)).scalars().all()
            )
    finally:
        db.close()
    c = customers[i % len(customers)]
    t = tickets[i % len(tickets)]
    o = orders[(7 * i) % len(orders)]
    steps: list[tuple[str, Any]] = [
        ("get_customer", {"customer_id": c}),
        ("search_orders", {"customer_id": c}),
        ("get_order", {"order_id": o}),
        ("get_ticket", {"ticket_id": t}),
        ("add_internal_note", {"ticket_id": t, "note": f"note from episode script {i}"}),
        ("set_ticket_priority", {"ticket_id": t, "priority": ["low", "normal", "high", "urgent"][i % 4]}),
        ("tag_ticket", {"ticket_id": t, "add": [f"script-{i}"]}),
        ("get_order", {"order_id": "ORD-1"}),  # refused: not found
        ("get_customer", '{"customer_id": '),  # bad JSON arguments
        ("apply_store_credit", {"customer_id": c, "amount": 5 + i % 3, "reason": "goodwill"}),
        ("reply_to_customer", {"ticket_id": t, "message": f"Hello from script {i}."}),
    ]
    if paid:
        steps.append(("cancel_order", {"order_id": paid[i % len(paid)], "reason": "customer asked"}))
    steps.append(("get_ticket", {"ticket_id": t}))
    steps.append(("submit_response", {"response": f"Done ({i})."}))
    return steps
