"""After-sale tools: shipments, returns (RMA), replacements, exchanges and warranty claims."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import bindparam, or_, select

from supportgym.policy import (
    DAMAGE_REPORT_WINDOW_DAYS,
    FINAL_SALE_CATEGORIES,
    RETURN_WINDOW_DAYS,
    RETURNABLE_STATUSES,
    warranty_end,
)
from supportgym.schema import (
    Order,
    OrderItem,
    OrderStatus,
    Product,
    Return,
    ReturnItem,
    ReturnResolution,
    ReturnStatus,
    Shipment,
    ShipmentEvent,
    ShipmentStatus,
    WarrantyClaim,
    WarrantyStatus,
)
from supportgym.services.tools import reads, views
from supportgym.services.tools.base import (
    Args,
    CustomerId,
    LongText,
    OrderId,
    OrderItemId,
    ProductId,
    ReturnId,
    ShipmentId,
    ShortText,
    ToolContext,
    ToolError,
    WarrantyClaimId,
    tool,
)


class GetShipmentArgs(Args):
    shipment_id: ShipmentId


@tool(group="fulfilment", read_only=True)
def get_shipment(ctx: ToolContext, args: GetShipmentArgs) -> dict[str, Any]:
    """Get a shipment with its carrier, tracking number, status, estimated and actual delivery
    dates and every tracking event."""
    shipment = views.load_shipment(ctx.conn, args.shipment_id)
    return views.shipment_detail(ctx.found(shipment, Shipment, args.shipment_id, "shipment_id"))


class GetReturnArgs(Args):
    return_id: ReturnId


@tool(group="fulfilment", read_only=True)
def get_return(ctx: ToolContext, args: GetReturnArgs) -> dict[str, Any]:
    """Get a return (RMA) with its items, status and resolution."""
    rma = views.load_return(ctx.conn, args.return_id)
    return views.return_summary(ctx.found(rma, Return, args.return_id, "return_id", "return"))


class LineSelection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_item_id: OrderItemId
    quantity: int = Field(ge=1, le=100)


def _item_of(order: Order, item_id: str, field_name: str) -> OrderItem:
    item = next((i for i in order.items if i.id == item_id), None)
    if item is None:
        raise ToolError("not_found", f"Order {order.id} has no line item {item_id}.", field_name)
    return item


def _returned_qty(order: Order, item_id: str) -> int:
    return sum(
        ri.quantity
        for r in order.returns
        if r.status != ReturnStatus.rejected
        for ri in r.items
        if ri.order_item_id == item_id
    )


def _require_delivered_within(ctx: ToolContext, order: Order, days: int, what: str) -> None:
    if order.status.value not in RETURNABLE_STATUSES or order.delivered_at is None:
        raise ToolError(
            "invalid_state",
            f"Order {order.id} is {order.status.value}; {what} applies to delivered orders only.",
            "order_id",
            status=order.status.value,
        )
    age = (ctx.now - order.delivered_at).days
    if age > days:
        raise ToolError(
            "outside_window",
            f"Order {order.id} was delivered {age} days ago; {what} is possible within {days} days of delivery.",
            "order_id",
            days_since_delivery=age,
            window_days=days,
        )


def _check_lines(order: Order, items: list[LineSelection], *, for_return: bool) -> None:
    seen: set[str] = set()
    for n, line in enumerate(items):
        field_name = f"items[{n}].order_item_id"
        if line.order_item_id in seen:
            raise ToolError("invalid_argument", f"{line.order_item_id} listed twice", field_name)
        seen.add(line.order_item_id)
        item = _item_of(order, line.order_item_id, field_name)
        if for_return and item.product.category in FINAL_SALE_CATEGORIES:
            raise ToolError(
                "final_sale",
                f"{item.product_name} is in {item.product.category}, which is final sale.",
                field_name,
            )
        available = item.quantity - (_returned_qty(order, item.id) if for_return else 0)
        if line.quantity > available:
            raise ToolError(
                "invalid_argument",
                f"Only {available} of {item.product_name} can be selected on this order.",
                f"items[{n}].quantity",
                available=available,
            )


class CreateReturnArgs(Args):
    order_id: OrderId
    items: list[LineSelection] = Field(min_length=1, max_length=50)
    reason: ShortText
    resolution: ReturnResolution = Field(
        ReturnResolution.refund,
        description="refund (issue the refund with issue_refund afterwards) or store_credit. "
        "Use create_exchange for exchanges.",
    )


@tool(group="fulfilment", read_only=False)
def create_return(ctx: ToolContext, args: CreateReturnArgs) -> dict[str, Any]:
    """Open an approved return (RMA) for some or all items of a delivered order, within the
    return window of the customer's tier (see the returns policy). Final-sale categories cannot
    be returned. Creating the RMA does not move money: issue the refund separately."""
    if args.resolution == ReturnResolution.exchange:
        raise ToolError("invalid_argument", "use create_exchange for an exchange", "resolution")
    order = ctx.get(Order, args.order_id, "order_id")
    window = RETURN_WINDOW_DAYS[order.customer.tier]
    _require_delivered_within(ctx, order, window, "a return")
    _check_lines(order, args.items, for_return=True)
    rma = ctx.add(
        Return,
        id=ctx.next_id(Return, "RMA"),
        order_id=order.id,
        status=ReturnStatus.approved,
        reason=args.reason,
        resolution=args.resolution,
        created_at=ctx.now,
    )
    next_item = ctx.next_int_id(ReturnItem)
    rma.items = [
        ctx.add(
            ReturnItem, id=next_item + n, return_id=rma.id, order_item_id=line.order_item_id, quantity=line.quantity
        )
        for n, line in enumerate(args.items)
    ]
    ctx.refresh(order)
    if all(_returned_qty(order, i.id) >= i.quantity for i in order.items):
        order.status = OrderStatus.returned
    ctx.flush()
    value = 0
    for line in args.items:
        item = _item_of(order, line.order_item_id, "items")
        # A line's discount is shared evenly by its units.
        value += (item.unit_price_cents * item.quantity - item.discount_cents) * line.quantity // item.quantity
    return {
        "return": views.return_summary(rma),
        "order_status": order.status.value,
        "items_value": views.money(value),
    }


def _replacement_order(ctx: ToolContext, order: Order, lines: list[tuple[Product, int]]) -> tuple[Order, Shipment]:
    for n, (product, qty) in enumerate(lines):
        if product.stock < qty:
            raise ToolError(
                "out_of_stock",
                f"{product.name} has {product.stock} in stock; {qty} needed.",
                f"items[{n}]",
                stock=product.stock,
            )
    new = ctx.add(
        Order,
        id=ctx.next_id(Order, "ORD"),
        customer_id=order.customer_id,
        status=OrderStatus.fulfilled,
        placed_at=ctx.now,
        paid_at=ctx.now,
        subtotal_cents=0,
        discount_cents=0,
        shipping_fee_cents=0,
        total_cents=0,
        payment_method=order.payment_method,
        ship_name=order.ship_name,
        ship_line1=order.ship_line1,
        ship_line2=order.ship_line2,
        ship_city=order.ship_city,
        ship_region=order.ship_region,
        ship_postal_code=order.ship_postal_code,
        ship_country=order.ship_country,
        replaces_order_id=order.id,
    )
    ctx.flush()
    first_item = ctx.next_id(OrderItem, "ITM")
    prefix, number = first_item.split("-")
    new.items = []
    for n, (product, qty) in enumerate(lines):
        new.items.append(
            ctx.add(
                OrderItem,
                id=f"{prefix}-{int(number) + n:0{len(number)}d}",
                order_id=new.id,
                product_id=product.id,
                sku=product.sku,
                product_name=product.name,
                quantity=qty,
                unit_price_cents=0,
                discount_cents=0,
            )
        )
        product.stock -= qty
    shipment = ctx.add(
        Shipment,
        id=ctx.next_id(Shipment, "SHP"),
        order_id=new.id,
        carrier="ParcelPoint",
        tracking_number=f"PP{new.id.split('-')[1]}R",
        status=ShipmentStatus.label_created,
        shipped_at=None,
        estimated_delivery=ctx.now + timedelta(days=4),
        delivered_at=None,
        is_replacement=True,
    )
    ctx.flush()
    shipment.events = [
        ctx.add(
            ShipmentEvent,
            id=ctx.next_int_id(ShipmentEvent),
            shipment_id=shipment.id,
            occurred_at=ctx.now,
            status=ShipmentStatus.label_created,
            location="Fulfilment centre",
            description=f"Replacement for order {order.id}: label created",
        )
    ]
    ctx.flush()
    return new, shipment


class ReshipItemsArgs(Args):
    order_id: OrderId
    items: list[LineSelection] = Field(min_length=1, max_length=50)
    reason: ShortText = Field(description="e.g. 'arrived damaged', 'lost in transit'.")


@tool(group="fulfilment", read_only=False)
def reship_items(ctx: ToolContext, args: ReshipItemsArgs) -> dict[str, Any]:
    """Send free replacements for items that arrived damaged or defective (reported within the
    damage window after delivery) or whose shipment was lost. Creates a zero-cost replacement
    order and shipment; no return is needed."""
    order = ctx.get(Order, args.order_id, "order_id")
    lost = any(s.status == ShipmentStatus.lost for s in order.shipments)
    if not lost:
        _require_delivered_within(ctx, order, DAMAGE_REPORT_WINDOW_DAYS, "a free replacement")
    _check_lines(order, args.items, for_return=False)
    lines = [(_item_of(order, ln.order_item_id, "items").product, ln.quantity) for ln in args.items]
    new, shipment = _replacement_order(ctx, order, lines)
    return {
        "replacement_order_id": new.id,
        "shipment": views.shipment_summary(shipment),
        "items": [views.order_item(i) for i in new.items],
    }


class CreateExchangeArgs(Args):
    order_id: OrderId
    order_item_id: OrderItemId
    new_product_id: ProductId
    quantity: int = Field(1, ge=1, le=100)
    reason: ShortText


@tool(group="fulfilment", read_only=False)
def create_exchange(ctx: ToolContext, args: CreateExchangeArgs) -> dict[str, Any]:
    """Exchange a delivered item, within the tier's return window, for a different product of
    the same category at the same or a lower price. Opens an RMA with resolution 'exchange' and
    ships the new product free. A lower price leaves a difference to refund with issue_refund."""
    order = ctx.get(Order, args.order_id, "order_id")
    _require_delivered_within(ctx, order, RETURN_WINDOW_DAYS[order.customer.tier], "an exchange")
    line = LineSelection(order_item_id=args.order_item_id, quantity=args.quantity)
    _check_lines(order, [line], for_return=True)
    item = _item_of(order, args.order_item_id, "order_item_id")
    new_product = ctx.get(Product, args.new_product_id, "new_product_id")
    if new_product.discontinued:
        raise ToolError("invalid_argument", f"{new_product.name} is discontinued.", "new_product_id")
    if new_product.category != item.product.category:
        raise ToolError(
            "invalid_argument",
            f"Exchanges must stay in the same category ({item.product.category}); "
            f"{new_product.name} is in {new_product.category}.",
            "new_product_id",
        )
    if new_product.price_cents > item.unit_price_cents:
        raise ToolError(
            "invalid_argument",
            f"{new_product.name} costs more than the item paid; exchanges are for the same or a lower price.",
            "new_product_id",
        )
    rma = ctx.add(
        Return,
        id=ctx.next_id(Return, "RMA"),
        order_id=order.id,
        status=ReturnStatus.approved,
        reason=args.reason,
        resolution=ReturnResolution.exchange,
        created_at=ctx.now,
        exchange_product_id=new_product.id,
    )
    rma.items = [
        ctx.add(
            ReturnItem, id=ctx.next_int_id(ReturnItem), return_id=rma.id, order_item_id=item.id, quantity=args.quantity
        )
    ]
    ctx.flush()
    new, shipment = _replacement_order(ctx, order, [(new_product, args.quantity)])
    difference = (item.unit_price_cents - new_product.price_cents) * args.quantity
    return {
        "return": views.return_summary(rma),
        "replacement_order_id": new.id,
        "shipment": views.shipment_summary(shipment),
        "price_difference_to_refund": views.money(difference),
    }


class FileWarrantyClaimArgs(Args):
    order_id: OrderId
    order_item_id: OrderItemId
    issue: LongText = Field(description="What is wrong with the item, in the customer's words.")


@tool(group="fulfilment", read_only=False)
def file_warranty_claim(ctx: ToolContext, args: FileWarrantyClaimArgs) -> dict[str, Any]:
    """File a manufacturer-warranty claim for an item that failed after the return window but
    within its warranty period (warranty_months from delivery). The warranty team handles it."""
    order = ctx.get(Order, args.order_id, "order_id")
    item = _item_of(order, args.order_item_id, "order_item_id")
    if order.delivered_at is None:
        raise ToolError("invalid_state", f"Order {order.id} has not been delivered.", "order_id")
    months = item.product.warranty_months
    expires = warranty_end(order.delivered_at, months)
    if months == 0 or ctx.now > expires:
        raise ToolError(
            "warranty_expired",
            f"{item.product_name} has a {months}-month warranty from delivery "
            f"({order.delivered_at:%Y-%m-%d}); it ended {expires:%Y-%m-%d}.",
            "order_item_id",
            warranty_months=months,
        )
    existing = reads.query(
        "file_warranty_claim.open",
        lambda: select(WarrantyClaim.id).where(
            WarrantyClaim.order_item_id == bindparam("order_item_id"),
            or_(WarrantyClaim.status == WarrantyStatus.submitted, WarrantyClaim.status == WarrantyStatus.approved),
        ),
    ).first(ctx.conn, order_item_id=item.id)
    if existing is not None:
        raise ToolError(
            "conflict",
            f"Claim {existing.id} is already open for this item.",
            "order_item_id",
            claim_id=existing.id,
        )
    claim = ctx.add(
        WarrantyClaim,
        id=ctx.next_id(WarrantyClaim, "WAR"),
        order_item_id=item.id,
        customer_id=order.customer_id,
        product_id=item.product_id,
        issue=args.issue,
        status=WarrantyStatus.submitted,
        created_at=ctx.now,
    )
    ctx.flush()
    return {"claim": views.warranty_claim(claim), "warranty_ends": f"{expires:%Y-%m-%d}"}


# --- reading claims filed earlier ------------------------------------------------------------
# A claim row names only its order line; the customer asks about "my claim for the headphones on
# order X", so the read joins the line, its order and its product, and states when the warranty
# ends and when the warranty team's decision is due (POL-WARRANTY).


_CLAIM_FILTERS = {"id": WarrantyClaim.id, "customer_id": WarrantyClaim.customer_id, "order_id": OrderItem.order_id}


def _claims_query(by: str) -> reads.Query:
    def build() -> Any:
        return (
            select(
                WarrantyClaim.id,
                WarrantyClaim.order_item_id,
                WarrantyClaim.customer_id,
                WarrantyClaim.product_id,
                WarrantyClaim.issue,
                WarrantyClaim.status,
                WarrantyClaim.created_at,
                OrderItem.order_id,
                OrderItem.product_name,
                Product.warranty_months,
                Order.delivered_at,
            )
            .join(OrderItem, OrderItem.id == WarrantyClaim.order_item_id)
            .join(Order, Order.id == OrderItem.order_id)
            .join(Product, Product.id == WarrantyClaim.product_id)
            .where(_CLAIM_FILTERS[by] == bindparam("value"))
            .order_by(WarrantyClaim.created_at, WarrantyClaim.id)
        )

    return reads.query(("warranty_claims", by), build)


class GetWarrantyClaimArgs(Args):
    claim_id: WarrantyClaimId


@tool(group="fulfilment", read_only=True)
def get_warranty_claim(ctx: ToolContext, args: GetWarrantyClaimArgs) -> dict[str, Any]:
    """Get one warranty claim filed earlier: its order line, product, the fault reported, its
    status (submitted = waiting for the warranty team's decision, due {warranty_review_days} days
    after filing; approved = replacement or repair on its way; completed = replacement sent or
    repair done; rejected = not covered) and when the product's warranty ends."""
    claim = _claims_query("id").first(ctx.conn, value=args.claim_id)
    return views.warranty_claim_detail(ctx.found(claim, WarrantyClaim, args.claim_id, "claim_id", "warranty claim"))


class ListWarrantyClaimsArgs(Args):
    customer_id: CustomerId | None = Field(None, description="Every claim of this customer.")
    order_id: OrderId | None = Field(None, description="Every claim on a line of this order.")


@tool(group="fulfilment", read_only=True)
def list_warranty_claims(ctx: ToolContext, args: ListWarrantyClaimsArgs) -> dict[str, Any]:
    """List the warranty claims of a customer or of an order (give exactly one), oldest first,
    each with its status, order line, product and filing date."""
    given = [(name, value) for name, value in (("customer_id", args.customer_id), ("order_id", args.order_id)) if value]
    if len(given) != 1:
        raise ToolError("invalid_argument", "give exactly one of customer_id or order_id", "customer_id")
    ((by, value),) = given
    claims = _claims_query(by).rows(ctx.conn, value=value)
    return {"claims": [views.warranty_claim_detail(c) for c in claims], "total": len(claims)}
