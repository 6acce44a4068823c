"""Setup hook of the late_delivery_perk family: move a shipment's estimated delivery date.

Whether a delivery was late is ``delivered_at`` against the shipment's ``estimated_delivery``.
The family keeps an order's real history (when it was placed, what it paid, when it arrived)
and only moves the estimate relative to the actual delivery, which a ``set`` step cannot
compute (templates have no date arithmetic), hence this hook.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from supportgym.schema import Order


def set_estimate(
    session: Session, values: dict[str, Any], now: datetime, order: str = "order", late_days: int = 2
) -> dict[str, Any]:
    """Put the estimated delivery of the bound order's only shipment at 20:00 on the day
    ``late_days`` days before the actual delivery day (negative: after it, i.e. on time).
    Binds ``shipment`` (the shipment row)."""
    row = session.get(Order, values[order]["id"])
    if row is None or len(row.shipments) != 1:
        raise ValueError(f"order {values[order]['id']} needs exactly one shipment")
    ship = row.shipments[0]
    if ship.delivered_at is None or ship.shipped_at is None:
        raise ValueError(f"shipment {ship.id} was not delivered")
    late_days = int(late_days)
    day = ship.delivered_at.replace(hour=20, minute=0, second=0, microsecond=0)
    estimate = day - timedelta(days=late_days)
    if late_days > 0 and estimate >= ship.delivered_at:
        estimate -= timedelta(days=1)
    if late_days <= 0 and estimate < ship.delivered_at:
        estimate += timedelta(days=1)
    if estimate <= ship.shipped_at:
        raise ValueError(f"shipment {ship.id}: an estimate {late_days} day(s) before delivery falls before it shipped")
    ship.estimated_delivery = estimate
    session.flush()
    return {"shipment": ship}
