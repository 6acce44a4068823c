"""Setup hook of the exchange_request family: the price difference an exchange leaves to refund.

``create_exchange`` accepts a replacement at the same or a lower price and reports the
difference (unit price paid minus the replacement's price, times the quantity) for the agent to
refund. A template filter cannot subtract one bound value from another, hence this hook.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from supportgym.schema import OrderItem, Product


def price_difference(
    session: Session, values: dict[str, Any], now: datetime, line_id: str, product_id: str
) -> dict[str, Any]:
    """Bind ``diff_cents``: what the customer paid per unit of line ``line_id`` minus the price
    of product ``product_id``, for the one unit exchanged."""
    item = session.get(OrderItem, line_id)
    product = session.get(Product, product_id)
    if item is None or product is None:
        raise ValueError(f"no order line {line_id} or product {product_id}")
    diff = item.unit_price_cents - product.price_cents
    if diff <= 0:
        raise ValueError(f"{product_id} does not cost less than line {line_id}")
    return {"diff_cents": diff}
