"""Setup hook of the sla_breach_exception family: an SLA credit granted earlier.

POL-SLA grants a Gold or Platinum member a credit for a breached ticket once per order. Whether
it is still due depends on the customer's store-credit ledger: a line with reason
``SLA_CREDIT_REASON`` naming the same order means it was already given. No setup step inserts a
ledger line, hence this hook.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supportgym.policy import SLA_BREACH_CREDIT_CENTS, SLA_CREDIT_REASON
from supportgym.schema import Customer, Order, StoreCreditEntry


def earlier_sla_credit(session: Session, values: dict[str, Any], now: datetime, order: str = "order") -> dict[str, Any]:
    """Add to the ledger of the bound ``order``'s customer the SLA credit of their tier for that
    order, granted halfway between the order's placing and now (a credit naming an order
    cannot predate it). Binds ``earlier_credit`` (the ledger row)."""
    row = session.get(Order, values[order]["id"])
    if row is None:
        raise ValueError(f"no order {values[order]['id']}")
    customer = session.get(Customer, row.customer_id)
    assert customer is not None  # a foreign key
    cents = SLA_BREACH_CREDIT_CENTS.get(customer.tier)
    if cents is None:
        raise ValueError(f"customer {customer.id} is {customer.tier.value}: POL-SLA grants that tier no credit")
    next_id = (session.scalar(select(func.max(StoreCreditEntry.id))) or 0) + 1
    entry = StoreCreditEntry(
        id=next_id,
        customer_id=customer.id,
        amount_cents=cents,
        reason=SLA_CREDIT_REASON,
        created_at=(row.placed_at + (now - row.placed_at) / 2).replace(microsecond=0),
        order_id=row.id,
    )
    session.add(entry)
    session.flush()
    return {"earlier_credit": entry}
