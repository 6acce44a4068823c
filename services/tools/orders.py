"""Order tools: find and read orders, cancel one, change where it ships."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import EmailStr, Field
from sqlalchemy import bindparam, select

from supportgym.policy import ADDRESS_CHANGE_STATUSES, CANCELLABLE_STATUSES
from supportgym.schema import (
    Order,
    OrderItem,
    OrderStatus,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
)
from supportgym.services.tools import reads, views
from supportgym.services.tools.base import (
    Args,
    CustomerId,
    DateArg,
    OrderId,
    PageArgs,
    ProductId,
    ShortText,
    ToolContext,
    ToolError,
    paginate,
    parse_date,
    tool,
)
from supportgym.services.tools.customers import verify_identity


class SearchOrdersArgs(PageArgs):
    customer_id: CustomerId | None = None
    status: OrderStatus | None = None
    product_id: ProductId | None = Field(None, description="Only orders containing this product.")
    placed_after: DateArg | None = Field(None, description="Placed on or after this date.")
    placed_before: DateArg | None = Field(None, description="Placed before this date.")


@tool(group="orders", read_only=True)
def search_orders(ctx: ToolContext, args: SearchOrdersArgs) -> dict[str, Any]:
    """Search orders by customer, status, product or placement date, newest first. Results are
    paginated: check has_more and request the next page to see them all."""
    params: dict[str, Any] = {}
    if args.customer_id:
        params["customer_id"] = args.customer_id
    if args.status:
        params["status"] = args.status
    if args.product_id:
        params["product_id"] = args.product_id
    if args.placed_after:
        params["placed_after"] = parse_date(args.placed_after, "placed_after")
    if args.placed_before:
        params["placed_before"] = parse_date(args.placed_before, "placed_before")

    def build() -> Any:
        stmt = reads.equal_to(select(Order), Order, params, "customer_id", "status")
        if "product_id" in params:
            with_product = select(OrderItem.order_id).where(OrderItem.product_id == bindparam("product_id"))
            stmt = stmt.where(Order.id.in_(with_product))
        if "placed_after" in params:
            stmt = stmt.where(Order.placed_at >= bindparam("placed_after"))
        if "placed_before" in params:
            stmt = stmt.where(Order.placed_at < bindparam("placed_before"))
        return stmt.order_by(Order.placed_at.desc(), Order.id.desc())

    return paginate(
        ctx,
        ("search_orders", *sorted(params)),
        build,
        params,
        args,
        views.order_summary,
        children={"items": (OrderItem.__table__, "order_id")},
    )


class GetOrderArgs(Args):
    order_id: OrderId


@tool(group="orders", read_only=True)
def get_order(ctx: ToolContext, args: GetOrderArgs) -> dict[str, Any]:
    """Get an order with its line items (order_item_id for each), payments, refunds, shipments,
    returns and shipping address."""
    order = ctx.found(views.load_order(ctx.conn, args.order_id), Order, args.order_id, "order_id")
    return views.order_detail(order)


class CancelOrderArgs(Args):
    order_id: OrderId
    reason: ShortText = Field(description="Why the customer wants to cancel.")


@tool(group="orders", read_only=False, destructive=True)
def cancel_order(ctx: ToolContext, args: CancelOrderArgs) -> dict[str, Any]:
    """Cancel an order that has not shipped yet (status pending, paid or fulfilled). Captured
    payments are refunded in full automatically and authorizations voided; items go back to
    stock. An order that has shipped or been delivered cannot be cancelled: start a return."""
    order = ctx.get(Order, args.order_id, "order_id")
    if order.status.value not in CANCELLABLE_STATUSES:
        raise ToolError(
            "invalid_state",
            f"Order {order.id} is {order.status.value}; only orders that are "
            f"{', '.join(CANCELLABLE_STATUSES)} can be cancelled.",
            "order_id",
            status=order.status.value,
        )
    refunds = []
    for pay in order.payments:
        if pay.status == PaymentStatus.authorized:
            pay.status = PaymentStatus.voided
        elif pay.status == PaymentStatus.captured:
            already = sum(r.amount_cents for r in order.refunds if r.payment_id == pay.id)
            remaining = pay.amount_cents - already
            if remaining > 0:
                refund = ctx.add(
                    Refund,
                    id=ctx.next_id(Refund, "RFD"),
                    order_id=order.id,
                    payment_id=pay.id,
                    amount_cents=remaining,
                    reason=RefundReason.cancelled_order,
                    status=RefundStatus.processed,
                    created_at=ctx.now,
                    created_by=ctx.actor,
                    note=args.reason,
                )
                ctx.flush()
                refunds.append(refund)
    for item in order.items:
        item.product.stock += item.quantity
    order.status = OrderStatus.cancelled
    order.cancelled_at = ctx.now
    ctx.flush()
    return {
        "cancelled": True,
        "order_id": order.id,
        "status": order.status.value,
        "refunds": [views.refund(r) for r in refunds],
    }


class UpdateShippingAddressArgs(Args):
    order_id: OrderId
    verification_email: EmailStr = Field(
        description="The email the requester gave, used to verify identity. Must match the "
        "email on file of the order's customer."
    )
    name: ShortText = Field(description="Recipient name.")
    line1: ShortText
    line2: str = Field("", max_length=200)
    city: ShortText
    region: ShortText = Field(description="State or region code, e.g. CA.")
    postal_code: str = Field(pattern=r"^[A-Za-z0-9 \-]{3,10}$")
    country: str = Field("US", pattern=r"^[A-Z]{2}$", description="ISO country code.")


@tool(group="orders", read_only=False, idempotent=True)
def update_order_shipping_address(ctx: ToolContext, args: UpdateShippingAddressArgs) -> dict[str, Any]:
    """Change where an order ships. Only possible before it ships (status pending, paid or
    fulfilled); afterwards the carrier has the parcel. Requires identity verification."""
    order = ctx.get(Order, args.order_id, "order_id")
    if order.status.value not in ADDRESS_CHANGE_STATUSES:
        raise ToolError(
            "invalid_state",
            f"Order {order.id} is {order.status.value}; the shipping address can only be "
            f"changed while it is {', '.join(ADDRESS_CHANGE_STATUSES)}.",
            "order_id",
            status=order.status.value,
        )
    verify_identity(order.customer, str(args.verification_email))
    order.ship_name = args.name
    order.ship_line1 = args.line1
    order.ship_line2 = args.line2
    order.ship_city = args.city
    order.ship_region = args.region
    order.ship_postal_code = args.postal_code
    order.ship_country = args.country
    ctx.flush()
    return {"updated": True, "order_id": order.id, "shipping_address": views.order_detail(order)["shipping_address"]}


class CurrentTimeArgs(Args):
    pass


@tool(group="knowledge", read_only=True)
def get_current_time(ctx: ToolContext, args: CurrentTimeArgs) -> dict[str, Any]:
    """The current date and time in the world (UTC). Use it to compute return windows and
    delivery delays; never assume today's date."""
    now = ctx.now
    return {
        "now": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "date": now.strftime("%Y-%m-%d"),
        "weekday": now.strftime("%A"),
        "thirty_days_ago": (now - timedelta(days=30)).strftime("%Y-%m-%d"),
    }
