"""Setup hook of the partial_return family: the refund due for part of an order line.

The returns policy values a returned line as unit price times quantity, less the line's
discount, the discount being shared evenly by the line's units (``create_return`` reports the
same ``items_value``). A template filter cannot multiply two bound values, hence this hook.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from supportgym.schema import OrderItem


def line_value(session: Session, values: dict[str, Any], now: datetime, line_id: str, quantity: int) -> dict[str, Any]:
    """Bind ``refund_cents`` (the value of ``quantity`` units of line ``line_id``, rounded down
    as the tools do), ``refund_alt_cents`` (the same rounded up: a one-cent rounding difference
    is not a mistake), ``keep_qty`` (units the customer keeps), ``with_shipping_cents`` (the
    refund plus the order's shipping fee: a mistake) and ``ask`` (how the customer words it)."""
    item = session.get(OrderItem, line_id)
    if item is None:
        raise ValueError(f"no order line {line_id}")
    quantity = int(quantity)
    if not 1 <= quantity <= item.quantity:
        raise ValueError(f"line {line_id} has {item.quantity} units; cannot return {quantity}")
    gross = (item.unit_price_cents * item.quantity - item.discount_cents) * quantity
    refund = gross // item.quantity
    refund_alt = -(-gross // item.quantity)
    if quantity == item.quantity == 1:
        ask = f"the {item.product_name}"
    elif quantity == item.quantity:
        ask = f"all {item.quantity} of the {item.product_name} units"
    else:
        ask = f"{quantity} of the {item.quantity} {item.product_name} units"
    return {
        "refund_cents": refund,
        "refund_alt_cents": refund_alt,
        "keep_qty": item.quantity - quantity,
        "with_shipping_cents": refund + item.order.shipping_fee_cents,
        "ask": ask,
    }
