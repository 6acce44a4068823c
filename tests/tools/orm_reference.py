"""The writing tools as they were before the fast path (ORM objects, session flushes, the
change log read from the flush), kept as the reference the fast path must agree with.

Test code only: ``test_fast_writes`` runs every writing tool both ways on copies of one world
and compares results, change records and the final world. The function bodies are the ORM
versions verbatim; ``OrmContext`` is the ``ToolContext`` they were written for.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, bindparam, cast, event, func, inspect, select
from sqlalchemy.orm import Session

from supportgym.clock import iso
from supportgym.db import WorldDB
from supportgym.policy import (
    ADDRESS_CHANGE_STATUSES,
    AGENT_REFUND_LIMIT_CENTS,
    CANCELLABLE_STATUSES,
    DAMAGE_REPORT_WINDOW_DAYS,
    GOODWILL_CREDIT_LIMIT_CENTS,
    RETURN_WINDOW_DAYS,
)
from supportgym.progression import apply_to_session, plan_for_session
from supportgym.schema import (
    Address,
    AuthorType,
    Base,
    Customer,
    Escalation,
    Order,
    OrderItem,
    OrderStatus,
    PaymentStatus,
    Product,
    Refund,
    RefundReason,
    RefundStatus,
    Return,
    ReturnItem,
    ReturnResolution,
    ReturnStatus,
    Shipment,
    ShipmentEvent,
    ShipmentStatus,
    Staff,
    StoreCreditEntry,
    Ticket,
    TicketMessage,
    TicketStatus,
    TicketTag,
    WarrantyClaim,
    WarrantyStatus,
)
from supportgym.services.tools import REGISTRY, ToolError, reads, views
from supportgym.services.tools.base import money, to_cents

# The tool modules' argument models, by the names the function bodies use.
from supportgym.services.tools.billing import (
    ApplyStoreCreditArgs,
    IssueRefundArgs,
    _refunded_on,
)
from supportgym.services.tools.customers import (
    UpdateCustomerAddressArgs,
    UpdateCustomerContactArgs,
    verify_identity,
)
from supportgym.services.tools.fulfilment import (
    CreateExchangeArgs,
    CreateReturnArgs,
    FileWarrantyClaimArgs,
    LineSelection,
    ReshipItemsArgs,
    _check_lines,
    _item_of,
    _require_delivered_within,
    _returned_qty,
)
from supportgym.services.tools.orders import CancelOrderArgs, UpdateShippingAddressArgs
from supportgym.services.tools.tickets import (
    AssignArgs,
    EscalateArgs,
    NoteArgs,
    PriorityArgs,
    ReplyArgs,
    TagArgs,
    UpdateStatusArgs,
)
from supportgym.services.tools.waiting import AdvanceTimeArgs
from supportgym.services.tools.writes import plain

ToolContext = Any  # the bodies' annotations name it


@dataclass
class OrmContext:
    session: Session
    now: datetime
    episode_start: datetime
    world: sqlite3.Connection
    actor: str = "agent"

    @property
    def conn(self) -> sqlite3.Connection:
        session = self.session
        if session.new or session.dirty or session.deleted:
            session.flush()
        return self.world

    def get(self, model: type[Any], key: str, field_name: str, label: str | None = None) -> Any:
        row = self.session.get(model, key)
        if row is None:
            label = label or model.__tablename__.rstrip("s").replace("_", " ")
            raise ToolError("not_found", f"No {label} with id '{key}' exists.", field_name)
        return row

    def next_id(self, model: type[Any], prefix: str, width: int | None = None) -> str:
        table = model.__table__
        suffix = func.substr(table.c.id, bindparam("start"))
        stmt = select(func.max(cast(suffix, Integer))).where(
            table.c.id.like(bindparam("pattern")), func.length(suffix) > 0, suffix.op("NOT GLOB")("*[^0-9]*")
        )
        top = reads.query(("orm_ref.next_id", table.name), lambda: stmt).scalar(
            self.conn, pattern=f"{prefix}-%", start=len(prefix) + 2
        )
        if top is not None:
            digits = width or len(str(top))
            return f"{prefix}-{top + 1:0{digits}d}"
        return f"{prefix}-{1:0{width or 6}d}"

    def next_int_id(self, model: type[Any]) -> int:
        table = model.__table__
        top = reads.query(("orm_ref.next_int_id", table.name), lambda: select(func.max(table.c.id))).scalar(self.conn)
        return int(top or 0) + 1


def _keep_old_value(*_args: Any) -> None:
    """Registered with ``active_history`` so the ORM loads a column's old value before a set."""


for _mapper in Base.registry.mappers:
    for _attr in _mapper.column_attrs:
        if not event.contains(getattr(_mapper.class_, _attr.key), "set", _keep_old_value):
            event.listen(getattr(_mapper.class_, _attr.key), "set", _keep_old_value, active_history=True)


def _row_key(state: Any) -> str:
    return "/".join(str(k) for k in state.mapper.primary_key_from_instance(state.obj()))


def _record_flush(changes: list[dict[str, Any]]) -> Any:
    def after_flush(session: Session, _ctx: Any) -> None:
        batch: list[dict[str, Any]] = []
        for obj in session.new:
            state = inspect(obj)
            batch.append(
                {
                    "op": "insert",
                    "table": state.mapper.local_table.name,
                    "key": _row_key(state),
                    "after": {c.key: plain(getattr(obj, c.key)) for c in state.mapper.column_attrs},
                }
            )
        for obj in session.dirty:
            state = inspect(obj)
            before: dict[str, Any] = {}
            after: dict[str, Any] = {}
            for attr in state.mapper.column_attrs:
                hist = state.attrs[attr.key].history
                if hist.added and list(hist.added) != list(hist.deleted):
                    before[attr.key] = plain(hist.deleted[0]) if hist.deleted else None
                    after[attr.key] = plain(hist.added[0])
            if after:
                batch.append(
                    {
                        "op": "update",
                        "table": state.mapper.local_table.name,
                        "key": _row_key(state),
                        "before": before,
                        "after": after,
                    }
                )
        for obj in session.deleted:
            state = inspect(obj)
            batch.append(
                {
                    "op": "delete",
                    "table": state.mapper.local_table.name,
                    "key": _row_key(state),
                    "before": {c.key: plain(getattr(obj, c.key)) for c in state.mapper.column_attrs},
                }
            )
        batch.sort(key=lambda c: (c["table"], c["key"]))
        changes.extend(batch)

    return after_flush


def call_orm(
    db: WorldDB, name: str, arguments: dict[str, Any], *, now: datetime, episode_start: datetime
) -> tuple[bool, dict[str, Any], list[dict[str, Any]]]:
    """Run the ORM version of writing tool ``name``: (ok, result, changes), as ``call_tool`` did."""
    args = REGISTRY[name].args_model.model_validate(arguments)
    session = db.session()
    changes: list[dict[str, Any]] = []
    event.listen(session, "after_flush", _record_flush(changes))
    ctx = OrmContext(session=session, now=now, episode_start=episode_start, world=db.conn)
    try:
        with session.begin():
            savepoint = session.begin_nested()
            try:
                result = ORM_TOOLS[name](ctx, args)
                session.flush()
            except ToolError as err:
                savepoint.rollback()
                return False, err.to_dict(), []
            savepoint.commit()
        return True, result, changes
    finally:
        session.close()


# from services/tools/orders.py
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
                refund = Refund(
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
                ctx.session.add(refund)
                ctx.session.flush()
                refunds.append(refund)
    for item in order.items:
        item.product.stock += item.quantity
    order.status = OrderStatus.cancelled
    order.cancelled_at = ctx.now
    ctx.session.flush()
    return {
        "cancelled": True,
        "order_id": order.id,
        "status": order.status.value,
        "refunds": [views.refund(r) for r in refunds],
    }


# from services/tools/orders.py
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
    ctx.session.flush()
    return {"updated": True, "order_id": order.id, "shipping_address": views.order_detail(order)["shipping_address"]}


# from services/tools/billing.py
def issue_refund(ctx: ToolContext, args: IssueRefundArgs) -> dict[str, Any]:
    """Refund money to the customer's original payment. The amount cannot exceed what is left
    of that payment after earlier refunds. An agent may refund at most the policy limit per
    order (${refund_limit} in total across the agent's refunds, duplicate-charge refunds included);
    above it, escalate the ticket to the billing team instead. For a duplicate charge use reason
    duplicate_charge and the payment_id of the duplicate payment."""
    order = ctx.get(Order, args.order_id, "order_id")
    cents = to_cents(args.amount)
    captured = [p for p in order.payments if p.status == PaymentStatus.captured]
    if not captured:
        raise ToolError(
            "invalid_state",
            f"Order {order.id} has no captured payment to refund (status {order.status.value}).",
            "order_id",
        )
    if args.payment_id is not None:
        payment = next((p for p in order.payments if p.id == args.payment_id), None)
        if payment is None:
            raise ToolError(
                "not_found",
                f"Payment {args.payment_id} does not belong to order {order.id}.",
                "payment_id",
            )
        if payment.status != PaymentStatus.captured:
            raise ToolError(
                "invalid_state",
                f"Payment {payment.id} is {payment.status.value}, not captured.",
                "payment_id",
            )
    else:
        originals = [p for p in captured if p.duplicate_of is None] or captured
        payment = originals[0]
    is_duplicate = payment.duplicate_of is not None
    if args.reason == RefundReason.duplicate_charge and not is_duplicate:
        raise ToolError(
            "invalid_argument",
            f"Payment {payment.id} is not a duplicate charge; give the payment_id of the "
            "duplicate payment (its duplicate_of field is set).",
            "payment_id",
        )
    remaining = payment.amount_cents - _refunded_on(order, payment.id)
    if cents > remaining:
        raise ToolError(
            "exceeds_paid",
            f"Refund of {money(cents)} exceeds the {money(remaining)} still refundable on payment {payment.id}.",
            "amount",
            refundable=money(remaining),
        )
    # Cancellation refunds are automatic; every refund the agent chooses counts to the limit.
    by_agent = ctx.session.execute(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.order_id == order.id,
            Refund.created_by == ctx.actor,
            Refund.created_at >= ctx.episode_start,
            Refund.reason != RefundReason.cancelled_order,
        )
    ).scalar_one()
    if by_agent + cents > AGENT_REFUND_LIMIT_CENTS:
        raise ToolError(
            "requires_escalation",
            f"Refunds on order {order.id} would total {money(by_agent + cents)}, above the "
            f"agent limit of {money(AGENT_REFUND_LIMIT_CENTS)}. Escalate the ticket to the "
            "billing team with the amount instead.",
            "amount",
            limit=money(AGENT_REFUND_LIMIT_CENTS),
        )
    refund = Refund(
        id=ctx.next_id(Refund, "RFD"),
        order_id=order.id,
        payment_id=payment.id,
        amount_cents=cents,
        reason=args.reason,
        status=RefundStatus.processed,
        created_at=ctx.now,
        created_by=ctx.actor,
        note=args.note,
    )
    ctx.session.add(refund)
    ctx.session.flush()
    ctx.session.refresh(order)
    refunded_originals = sum(_refunded_on(order, p.id) for p in captured if p.duplicate_of is None)
    if refunded_originals >= order.total_cents and order.status in (
        OrderStatus.paid,
        OrderStatus.fulfilled,
        OrderStatus.shipped,
        OrderStatus.delivered,
    ):
        order.status = OrderStatus.refunded
        ctx.session.flush()
    return {
        "refund": views.refund(refund),
        "order_status": order.status.value,
        "payment_refundable_remaining": money(remaining - cents),
    }


# from services/tools/billing.py
def apply_store_credit(ctx: ToolContext, args: ApplyStoreCreditArgs) -> dict[str, Any]:
    """Add goodwill store credit to a customer's account. The total an agent may grant per
    customer in one episode depends on tier (see the tier perks policy)."""
    customer = ctx.get(Customer, args.customer_id, "customer_id")
    if args.order_id is not None:
        order = ctx.get(Order, args.order_id, "order_id")
        if order.customer_id != customer.id:
            raise ToolError(
                "invalid_argument",
                f"Order {order.id} belongs to another customer.",
                "order_id",
            )
    cents = to_cents(args.amount)
    granted = ctx.session.execute(
        select(func.coalesce(func.sum(StoreCreditEntry.amount_cents), 0)).where(
            StoreCreditEntry.customer_id == customer.id,
            StoreCreditEntry.created_at >= ctx.episode_start,
            StoreCreditEntry.amount_cents > 0,
        )
    ).scalar_one()
    limit = GOODWILL_CREDIT_LIMIT_CENTS[customer.tier]
    if granted + cents > limit:
        raise ToolError(
            "exceeds_goodwill_limit",
            f"A {customer.tier.value} customer may receive at most {money(limit)} goodwill "
            f"credit; {money(granted)} already granted.",
            "amount",
            limit=money(limit),
        )
    entry = StoreCreditEntry(
        id=ctx.next_int_id(StoreCreditEntry),
        customer_id=customer.id,
        amount_cents=cents,
        reason=args.reason,
        created_at=ctx.now,
        order_id=args.order_id,
    )
    ctx.session.add(entry)
    ctx.session.flush()
    return {
        "credited": money(cents),
        "customer_id": customer.id,
        "balance": money(views.store_credit_balance(ctx.conn, customer.id)),
    }


# from services/tools/customers.py
def update_customer_contact(ctx: ToolContext, args: UpdateCustomerContactArgs) -> dict[str, Any]:
    """Change a customer's email and/or phone number. Requires identity verification: pass the
    email the requester gave as verification_email; it must match the email on file."""
    customer = ctx.get(Customer, args.customer_id, "customer_id")
    verify_identity(customer, str(args.verification_email))
    if args.new_email is None and args.new_phone is None:
        raise ToolError("invalid_argument", "give new_email, new_phone or both", "new_email")
    if args.new_email is not None:
        taken = ctx.session.execute(
            select(Customer.id).where(
                func.lower(Customer.email) == str(args.new_email).lower(),
                Customer.id != customer.id,
            )
        ).first()
        if taken:
            raise ToolError("conflict", "that email belongs to another customer account", "new_email")
        customer.email = str(args.new_email)
    if args.new_phone is not None:
        customer.phone = args.new_phone
    return {"updated": True, "customer": views.customer_detail(ctx.conn, customer)}


# from services/tools/customers.py
def update_customer_address(ctx: ToolContext, args: UpdateCustomerAddressArgs) -> dict[str, Any]:
    """Add or change an address in a customer's address book (not on existing orders: use
    update_order_shipping_address for an order that has not shipped). Requires identity
    verification."""
    customer = ctx.get(Customer, args.customer_id, "customer_id")
    verify_identity(customer, str(args.verification_email))
    if args.address_id is not None:
        addr = ctx.get(Address, args.address_id, "address_id")
        if addr.customer_id != customer.id:
            raise ToolError(
                "not_found",
                f"Address {args.address_id} does not belong to customer {customer.id}.",
                "address_id",
            )
    else:
        addr = Address(id=ctx.next_id(Address, "ADR"), is_default=False)
        customer.addresses.append(addr)
    addr.label = args.label
    addr.line1 = args.line1
    addr.line2 = args.line2
    addr.city = args.city
    addr.region = args.region
    addr.postal_code = args.postal_code
    addr.country = args.country
    if args.make_default:
        for other in customer.addresses:
            other.is_default = other is addr
        addr.is_default = True
    ctx.session.flush()
    return {"updated": True, "address": views.address(addr)}


# from services/tools/fulfilment.py
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
    rma = Return(
        id=ctx.next_id(Return, "RMA"),
        order_id=order.id,
        status=ReturnStatus.approved,
        reason=args.reason,
        resolution=args.resolution,
        created_at=ctx.now,
    )
    ctx.session.add(rma)
    next_item = ctx.next_int_id(ReturnItem)
    for n, line in enumerate(args.items):
        rma.items.append(ReturnItem(id=next_item + n, order_item_id=line.order_item_id, quantity=line.quantity))
    ctx.session.flush()
    ctx.session.refresh(order)
    if all(_returned_qty(order, i.id) >= i.quantity for i in order.items):
        order.status = OrderStatus.returned
    ctx.session.flush()
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


# from services/tools/fulfilment.py
def _replacement_order(ctx: ToolContext, order: Order, lines: list[tuple[Product, int]]) -> tuple[Order, Shipment]:
    for n, (product, qty) in enumerate(lines):
        if product.stock < qty:
            raise ToolError(
                "out_of_stock",
                f"{product.name} has {product.stock} in stock; {qty} needed.",
                f"items[{n}]",
                stock=product.stock,
            )
    new = Order(
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
    ctx.session.add(new)
    ctx.session.flush()
    first_item = ctx.next_id(OrderItem, "ITM")
    prefix, number = first_item.split("-")
    for n, (product, qty) in enumerate(lines):
        new.items.append(
            OrderItem(
                id=f"{prefix}-{int(number) + n:0{len(number)}d}",
                product_id=product.id,
                sku=product.sku,
                product_name=product.name,
                quantity=qty,
                unit_price_cents=0,
                discount_cents=0,
            )
        )
        product.stock -= qty
    shipment = Shipment(
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
    ctx.session.add(shipment)
    ctx.session.flush()
    shipment.events.append(
        ShipmentEvent(
            id=ctx.next_int_id(ShipmentEvent),
            occurred_at=ctx.now,
            status=ShipmentStatus.label_created,
            location="Fulfilment centre",
            description=f"Replacement for order {order.id}: label created",
        )
    )
    ctx.session.flush()
    return new, shipment


# from services/tools/fulfilment.py
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


# from services/tools/fulfilment.py
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
    rma = Return(
        id=ctx.next_id(Return, "RMA"),
        order_id=order.id,
        status=ReturnStatus.approved,
        reason=args.reason,
        resolution=ReturnResolution.exchange,
        created_at=ctx.now,
        exchange_product_id=new_product.id,
    )
    ctx.session.add(rma)
    rma.items.append(ReturnItem(id=ctx.next_int_id(ReturnItem), order_item_id=item.id, quantity=args.quantity))
    ctx.session.flush()
    new, shipment = _replacement_order(ctx, order, [(new_product, args.quantity)])
    difference = (item.unit_price_cents - new_product.price_cents) * args.quantity
    return {
        "return": views.return_summary(rma),
        "replacement_order_id": new.id,
        "shipment": views.shipment_summary(shipment),
        "price_difference_to_refund": views.money(difference),
    }


# from services/tools/fulfilment.py
def file_warranty_claim(ctx: ToolContext, args: FileWarrantyClaimArgs) -> dict[str, Any]:
    """File a manufacturer-warranty claim for an item that failed after the return window but
    within its warranty period (warranty_months from delivery). The warranty team handles it."""
    order = ctx.get(Order, args.order_id, "order_id")
    item = _item_of(order, args.order_item_id, "order_item_id")
    if order.delivered_at is None:
        raise ToolError("invalid_state", f"Order {order.id} has not been delivered.", "order_id")
    months = item.product.warranty_months
    expires = order.delivered_at + timedelta(days=round(months * 30.44))
    if months == 0 or ctx.now > expires:
        raise ToolError(
            "warranty_expired",
            f"{item.product_name} has a {months}-month warranty from delivery "
            f"({order.delivered_at:%Y-%m-%d}); it ended {expires:%Y-%m-%d}.",
            "order_item_id",
            warranty_months=months,
        )
    existing = ctx.session.execute(
        select(WarrantyClaim).where(
            WarrantyClaim.order_item_id == item.id,
            WarrantyClaim.status.in_([WarrantyStatus.submitted, WarrantyStatus.approved]),
        )
    ).scalar_one_or_none()
    if existing is not None:
        raise ToolError(
            "conflict",
            f"Claim {existing.id} is already open for this item.",
            "order_item_id",
            claim_id=existing.id,
        )
    claim = WarrantyClaim(
        id=ctx.next_id(WarrantyClaim, "WAR"),
        order_item_id=item.id,
        customer_id=order.customer_id,
        product_id=item.product_id,
        issue=args.issue,
        status=WarrantyStatus.submitted,
        created_at=ctx.now,
    )
    ctx.session.add(claim)
    ctx.session.flush()
    return {"claim": views.warranty_claim(claim), "warranty_ends": f"{expires:%Y-%m-%d}"}


# from services/tools/tickets.py
def _post(ctx: ToolContext, ticket: Ticket, body: str, internal: bool) -> TicketMessage:
    msg = TicketMessage(
        id=ctx.next_int_id(TicketMessage),
        ticket_id=ticket.id,
        author_type=AuthorType.agent,
        author_id=ctx.actor,
        body=body,
        internal=internal,
        created_at=ctx.now,
    )
    ctx.session.add(msg)
    ticket.updated_at = ctx.now
    ctx.session.flush()
    return msg


# from services/tools/tickets.py
def reply_to_customer(ctx: ToolContext, args: ReplyArgs) -> dict[str, Any]:
    """Send a message to the customer on a ticket's thread (visible to the customer)."""
    ticket = ctx.get(Ticket, args.ticket_id, "ticket_id")
    if ticket.status == TicketStatus.closed:
        raise ToolError("invalid_state", f"Ticket {ticket.id} is closed; it cannot be replied to.", "ticket_id")
    return {"sent": True, "message": views.message(_post(ctx, ticket, args.message, False))}


# from services/tools/tickets.py
def add_internal_note(ctx: ToolContext, args: NoteArgs) -> dict[str, Any]:
    """Add an internal note to a ticket (visible to staff only)."""
    ticket = ctx.get(Ticket, args.ticket_id, "ticket_id")
    return {"added": True, "message": views.message(_post(ctx, ticket, args.note, True))}


# from services/tools/tickets.py
def update_ticket_status(ctx: ToolContext, args: UpdateStatusArgs) -> dict[str, Any]:
    """Change a ticket's status. A closed ticket cannot be reopened."""
    ticket = ctx.get(Ticket, args.ticket_id, "ticket_id")
    if args.status == TicketStatus.escalated:
        raise ToolError("invalid_argument", "use escalate_ticket to escalate a ticket", "status")
    if ticket.status == TicketStatus.closed and args.status != TicketStatus.closed:
        raise ToolError("invalid_state", f"Ticket {ticket.id} is closed.", "ticket_id")
    ticket.status = args.status
    ticket.updated_at = ctx.now
    ctx.session.flush()
    return {"updated": True, "ticket": views.ticket_summary(ticket)}


# from services/tools/tickets.py
def set_ticket_priority(ctx: ToolContext, args: PriorityArgs) -> dict[str, Any]:
    """Change a ticket's priority (low, normal, high, urgent)."""
    ticket = ctx.get(Ticket, args.ticket_id, "ticket_id")
    ticket.priority = args.priority
    ticket.updated_at = ctx.now
    ctx.session.flush()
    return {"updated": True, "ticket": views.ticket_summary(ticket)}


# from services/tools/tickets.py
def assign_ticket(ctx: ToolContext, args: AssignArgs) -> dict[str, Any]:
    """Assign a ticket to an active staff member."""
    ticket = ctx.get(Ticket, args.ticket_id, "ticket_id")
    staff = ctx.get(Staff, args.staff_id, "staff_id", "staff member")
    if not staff.active:
        raise ToolError("invalid_state", f"{staff.name} ({staff.id}) is no longer active.", "staff_id")
    ticket.assignee_id = staff.id
    ticket.updated_at = ctx.now
    ctx.session.flush()
    return {"updated": True, "ticket": views.ticket_summary(ticket), "assignee": views.staff(staff)}


# from services/tools/tickets.py
def escalate_ticket(ctx: ToolContext, args: EscalateArgs) -> dict[str, Any]:
    """Escalate a ticket to a specialist team with a reason (and the amount, for a refund above
    the agent's limit). The ticket's status becomes escalated."""
    ticket = ctx.get(Ticket, args.ticket_id, "ticket_id")
    if ticket.status == TicketStatus.closed:
        raise ToolError("invalid_state", f"Ticket {ticket.id} is closed.", "ticket_id")
    esc = Escalation(
        id=ctx.next_id(Escalation, "ESC"),
        ticket_id=ticket.id,
        team=args.team,
        reason=args.reason,
        created_at=ctx.now,
        requested_amount_cents=to_cents(args.requested_amount) if args.requested_amount else 0,
    )
    ctx.session.add(esc)
    ticket.status = TicketStatus.escalated
    ticket.escalated_team = args.team
    ticket.updated_at = ctx.now
    ctx.session.flush()
    return {"escalated": True, "escalation": views.escalation(esc), "ticket": views.ticket_summary(ticket)}


# from services/tools/tickets.py
def tag_ticket(ctx: ToolContext, args: TagArgs) -> dict[str, Any]:
    """Add and/or remove tags on a ticket (e.g. refund, return, damaged, warranty, vip)."""
    for fname, tags in (("add", args.add), ("remove", args.remove)):
        for n, tag in enumerate(tags):
            if not re.fullmatch(r"[a-z0-9_\-]{1,32}", tag):
                raise ToolError(
                    "invalid_argument",
                    f"tag '{tag[:40]}' must be 1-32 lowercase letters, digits, '_' or '-'",
                    f"{fname}[{n}]",
                )
    if not args.add and not args.remove:
        raise ToolError("invalid_argument", "give tags to add or remove", "add")
    ticket = ctx.get(Ticket, args.ticket_id, "ticket_id")
    current = {t.tag: t for t in ticket.tags}
    for tag in args.remove:
        if tag in current:
            ticket.tags.remove(current.pop(tag))
    for tag in args.add:
        if tag not in current:
            current[tag] = TicketTag(ticket_id=ticket.id, tag=tag)
            ticket.tags.append(current[tag])
    ticket.updated_at = ctx.now
    ctx.session.flush()
    return {"updated": True, "tags": sorted(current)}


# from services/tools/waiting.py: written after the fast path; its ORM version applies the same
# plan through the session, as the task setup does.
def advance_time(ctx: ToolContext, args: AdvanceTimeArgs) -> dict[str, Any]:
    start = ctx.now
    end = start + timedelta(days=args.days, hours=args.hours)
    progress = plan_for_session(ctx.session, start, end)
    apply_to_session(ctx.session, progress)
    return {
        "waited_hours": args.days * 24 + args.hours,
        "previous_time": iso(start),
        "now": iso(end),
        "changed_records": sum(len(v) for v in progress.summary.values()),
    }


ORM_TOOLS = {n: globals()[n] for n in REGISTRY if not REGISTRY[n].annotations.read_only}
