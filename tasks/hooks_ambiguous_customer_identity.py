"""Setup hook of the ambiguous_customer_identity family: pick a customer who shares their full
name with one or two other customers.

A ``select`` step cannot express "another customer row has the same first and last name" (the
filters only follow foreign keys), so this hook finds the same-name groups of the world and
binds one member of a group. The bound ``customer`` is never the group's lowest id: a name
search lists customers by id, so the *first* result is always a namesake, which is exactly the
row a careless agent acts on.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supportgym.policy import GOODWILL_CREDIT_LIMIT_CENTS
from supportgym.schema import Customer, Order


def _city(c: Customer) -> str:
    return next((a.city for a in c.addresses if a.is_default), "")


def pick_namesake(
    session: Session,
    values: dict[str, Any],
    now: datetime,
    pick: int = 0,
    group_size: int = 0,
    min_orders: int = 0,
    namesake_min_orders: int = 0,
    order_status: str | None = None,
) -> dict[str, Any]:
    """Bind ``customer`` (a non-first member of a same-name group of ``group_size`` members, 0
    for any size, with at least ``min_orders`` orders, one of them ``order_status`` if given)
    and ``namesake`` (the group's first member by id, with at least ``namesake_min_orders``
    orders).

    Plain values: ``customer_city``, ``namesake_city``, and for *every* other member of the
    group ``other_ids``, ``other_emails``, ``other_phones``, ``other_order_ids`` (what the reply
    must never reveal), ``group_size`` and ``namesake_limit_cents`` (the namesake's goodwill
    credit limit).
    """
    groups: dict[tuple[str, str], list[Customer]] = defaultdict(list)
    for c in session.scalars(select(Customer).order_by(Customer.id)):
        groups[(c.first_name, c.last_name)].append(c)

    def n_orders(c: Customer, status: str | None = None) -> int:
        stmt = select(func.count()).select_from(Order).where(Order.customer_id == c.id)
        if status is not None:
            stmt = stmt.where(Order.status == status)
        return int(session.execute(stmt).scalar_one())

    candidates: list[tuple[Customer, list[Customer]]] = []
    for key in sorted(groups):
        members = groups[key]
        if len(members) < 2 or (int(group_size) and len(members) != int(group_size)):
            continue
        if n_orders(members[0]) < int(namesake_min_orders):
            continue
        for c in members[1:]:
            if n_orders(c) < int(min_orders):
                continue
            if order_status is not None and n_orders(c, order_status) < 1:
                continue
            candidates.append((c, members))
    if not candidates or not -len(candidates) <= int(pick) < len(candidates):
        raise ValueError(f"pick_namesake: {len(candidates)} candidates, pick {pick} out of range")
    customer, members = candidates[int(pick)]
    others = [m for m in members if m.id != customer.id]
    other_orders = session.scalars(
        select(Order.id).where(Order.customer_id.in_([m.id for m in others])).order_by(Order.id)
    ).all()
    return {
        "customer": customer,
        "namesake": members[0],
        "customer_city": _city(customer),
        "namesake_city": _city(members[0]),
        "group_size": len(members),
        "namesake_limit_cents": GOODWILL_CREDIT_LIMIT_CENTS[members[0].tier],
        "other_ids": [m.id for m in others],
        "other_emails": [m.email for m in others],
        "other_phones": [m.phone for m in others],
        "other_order_ids": list(other_orders),
    }
