"""Money tools: refunds and store credit, with the limits the policy sets."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from sqlalchemy import bindparam, func, select

from supportgym.policy import AGENT_REFUND_LIMIT_CENTS, GOODWILL_CREDIT_LIMIT_CENTS
from supportgym.schema import (
    Customer,
    Order,
    OrderStatus,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
    StoreCreditEntry,
)
from supportgym.services.tools import reads, views
from supportgym.services.tools.base import (
    Amount,
    Args,
    CustomerId,
    OrderId,
    PaymentId,
    ShortText,
    ToolContext,
    ToolError,
    money,
    to_cents,
    tool,
)


class IssueRefundArgs(Args):
    order_id: OrderId
    amount: Amount
    reason: RefundReason
    payment_id: PaymentId | None = Field(
        None,
        description="Payment to refund. Defaults to the order's original captured payment; "
        "for a duplicate charge give the duplicate payment's id.",
    )
    note: str = Field("", max_length=500, description="Internal note kept with the refund.")


def _refunded_on(order: Order, payment_id: str) -> int:
    return sum(
        r.amount_cents for r in order.refunds if r.payment_id == payment_id and r.status != RefundStatus.rejected
    )


@tool(group="billing", read_only=False, destructive=True)
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
    by_agent = reads.query(
        "issue_refund.by_agent",
        lambda: select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.order_id == bindparam("order_id"),
            Refund.created_by == bindparam("actor"),
            Refund.created_at >= bindparam("since"),
            Refund.reason != RefundReason.cancelled_order,
        ),
    ).scalar(ctx.conn, order_id=order.id, actor=ctx.actor, since=ctx.episode_start)
    if by_agent + cents > AGENT_REFUND_LIMIT_CENTS:
        raise ToolError(
            "requires_escalation",
            f"Refunds on order {order.id} would total {money(by_agent + cents)}, above the "
            f"agent limit of {money(AGENT_REFUND_LIMIT_CENTS)}. Escalate the ticket to the "
            "billing team with the amount instead.",
            "amount",
            limit=money(AGENT_REFUND_LIMIT_CENTS),
        )
    refund = ctx.add(
        Refund,
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
    ctx.refresh(order)
    refunded_originals = sum(_refunded_on(order, p.id) for p in captured if p.duplicate_of is None)
    if refunded_originals >= order.total_cents and order.status in (
        OrderStatus.paid,
        OrderStatus.fulfilled,
        OrderStatus.shipped,
        OrderStatus.delivered,
    ):
        order.status = OrderStatus.refunded
        ctx.flush()
    return {
        "refund": views.refund(refund),
        "order_status": order.status.value,
        "payment_refundable_remaining": money(remaining - cents),
    }


class ApplyStoreCreditArgs(Args):
    customer_id: CustomerId
    amount: Amount
    reason: ShortText
    order_id: OrderId | None = Field(None, description="Order the credit relates to, if any.")


@tool(group="billing", read_only=False)
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
    granted = reads.query(
        "apply_store_credit.granted",
        lambda: select(func.coalesce(func.sum(StoreCreditEntry.amount_cents), 0)).where(
            StoreCreditEntry.customer_id == bindparam("customer_id"),
            StoreCreditEntry.created_at >= bindparam("since"),
            StoreCreditEntry.amount_cents > 0,
        ),
    ).scalar(ctx.conn, customer_id=customer.id, since=ctx.episode_start)
    limit = GOODWILL_CREDIT_LIMIT_CENTS[customer.tier]
    if granted + cents > limit:
        raise ToolError(
            "exceeds_goodwill_limit",
            f"A {customer.tier.value} customer may receive at most {money(limit)} goodwill "
            f"credit; {money(granted)} already granted.",
            "amount",
            limit=money(limit),
        )
    ctx.add(
        StoreCreditEntry,
        id=ctx.next_int_id(StoreCreditEntry),
        customer_id=customer.id,
        amount_cents=cents,
        reason=args.reason,
        created_at=ctx.now,
        order_id=args.order_id,
    )
    ctx.flush()
    return {
        "credited": money(cents),
        "customer_id": customer.id,
        "balance": money(views.store_credit_balance(ctx.conn, customer.id)),
    }


class GetStoreCreditArgs(Args):
    customer_id: CustomerId


@tool(group="billing", read_only=True)
def get_store_credit(ctx: ToolContext, args: GetStoreCreditArgs) -> dict[str, Any]:
    """A customer's store-credit balance and ledger."""
    row = reads.load_one(ctx.conn, Customer.__table__, args.customer_id)
    customer = ctx.found(row, Customer, args.customer_id, "customer_id")
    entries = reads.by_column(StoreCreditEntry.__table__, "customer_id").rows(ctx.conn, value=customer.id)
    return {
        "customer_id": customer.id,
        "balance": money(views.store_credit_balance(ctx.conn, customer.id)),
        "entries": [
            {
                "amount": money(e.amount_cents),
                "reason": e.reason,
                "order_id": e.order_id,
                "created_at": e.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            for e in entries
        ],
    }
