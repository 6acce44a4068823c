"""Ticket tools: find and read tickets, reply, note, tag, assign, escalate, change status."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field
from sqlalchemy import bindparam, func, or_, select

from supportgym.schema import (
    AuthorType,
    Escalation,
    Staff,
    Team,
    Ticket,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    TicketTag,
)
from supportgym.services.tools import like, reads, views
from supportgym.services.tools.base import (
    Amount,
    Args,
    CustomerId,
    LongText,
    PageArgs,
    ShortText,
    StaffId,
    TicketId,
    ToolContext,
    ToolError,
    paginate,
    to_cents,
    tool,
)


class SearchTicketsArgs(PageArgs):
    status: TicketStatus | None = None
    priority: TicketPriority | None = None
    customer_id: CustomerId | None = None
    tag: str | None = Field(None, pattern=r"^[a-z0-9_\-]{1,32}$")
    assignee_id: StaffId | None = None
    query: ShortText | None = Field(None, description="Words in the subject.")


@tool(group="tickets", read_only=True)
def search_tickets(ctx: ToolContext, args: SearchTicketsArgs) -> dict[str, Any]:
    """Search support tickets by status, priority, customer, tag, assignee or subject words,
    newest first. Results are paginated."""
    words = args.query.lower().split() if args.query else []
    params: dict[str, Any] = {f"w{n}": like.literal(w) for n, w in enumerate(words)}
    for name in ("status", "priority", "customer_id", "tag", "assignee_id"):
        if getattr(args, name):
            params[name] = getattr(args, name)

    def build() -> Any:
        stmt = reads.equal_to(select(Ticket), Ticket, params, "status", "priority", "customer_id", "assignee_id")
        if "tag" in params:
            stmt = stmt.where(Ticket.id.in_(select(TicketTag.ticket_id).where(TicketTag.tag == bindparam("tag"))))
        if words:
            stmt = stmt.where(
                or_(*[like.contains(func.lower(Ticket.subject), bindparam(f"w{n}")) for n in range(len(words))])
            )
        return stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc())

    return paginate(
        ctx,
        ("search_tickets", *sorted(params)),
        build,
        params,
        args,
        views.ticket_summary,
        children={"tags": (TicketTag.__table__, "ticket_id")},
    )


class GetTicketArgs(Args):
    ticket_id: TicketId


@tool(group="tickets", read_only=True)
def get_ticket(ctx: ToolContext, args: GetTicketArgs) -> dict[str, Any]:
    """Get a ticket with its full message thread (customer messages, replies, internal notes),
    tags, status, priority, assignee and linked order. Read the messages, not only the
    subject: customers often ask for something other than what the subject says."""
    ticket = ctx.found(views.load_ticket(ctx.conn, args.ticket_id), Ticket, args.ticket_id, "ticket_id")
    return views.ticket_detail(ticket)


def _post(ctx: ToolContext, ticket: Ticket, body: str, internal: bool) -> TicketMessage:
    msg = ctx.add(
        TicketMessage,
        id=ctx.next_int_id(TicketMessage),
        ticket_id=ticket.id,
        author_type=AuthorType.agent,
        author_id=ctx.actor,
        body=body,
        internal=internal,
        created_at=ctx.now,
    )
    ticket.updated_at = ctx.now
    ctx.flush()
    return msg


class ReplyArgs(Args):
    ticket_id: TicketId
    message: LongText = Field(description="The reply the customer will read.")


@tool(group="tickets", read_only=False)
def reply_to_customer(ctx: ToolContext, args: ReplyArgs) -> dict[str, Any]:
    """Send a message to the customer on a ticket's thread (visible to the customer)."""
    ticket = ctx.get(Ticket, args.ticket_id, "ticket_id")
    if ticket.status == TicketStatus.closed:
        raise ToolError("invalid_state", f"Ticket {ticket.id} is closed; it cannot be replied to.", "ticket_id")
    return {"sent": True, "message": views.message(_post(ctx, ticket, args.message, False))}


class NoteArgs(Args):
    ticket_id: TicketId
    note: LongText = Field(description="Internal note for colleagues; the customer never sees it.")


@tool(group="tickets", read_only=False)
def add_internal_note(ctx: ToolContext, args: NoteArgs) -> dict[str, Any]:
    """Add an internal note to a ticket (visible to staff only)."""
    ticket = ctx.get(Ticket, args.ticket_id, "ticket_id")
    return {"added": True, "message": views.message(_post(ctx, ticket, args.note, True))}


class UpdateStatusArgs(Args):
    ticket_id: TicketId
    status: TicketStatus = Field(
        description="open, pending (waiting on the customer), on_hold, solved or closed. Use "
        "escalate_ticket to escalate."
    )


@tool(group="tickets", read_only=False, idempotent=True)
def update_ticket_status(ctx: ToolContext, args: UpdateStatusArgs) -> dict[str, Any]:
    """Change a ticket's status. A closed ticket cannot be reopened."""
    ticket = ctx.get(Ticket, args.ticket_id, "ticket_id")
    if args.status == TicketStatus.escalated:
        raise ToolError("invalid_argument", "use escalate_ticket to escalate a ticket", "status")
    if ticket.status == TicketStatus.closed and args.status != TicketStatus.closed:
        raise ToolError("invalid_state", f"Ticket {ticket.id} is closed.", "ticket_id")
    ticket.status = args.status
    ticket.updated_at = ctx.now
    ctx.flush()
    return {"updated": True, "ticket": views.ticket_summary(ticket)}


class PriorityArgs(Args):
    ticket_id: TicketId
    priority: TicketPriority


@tool(group="tickets", read_only=False, idempotent=True)
def set_ticket_priority(ctx: ToolContext, args: PriorityArgs) -> dict[str, Any]:
    """Change a ticket's priority (low, normal, high, urgent)."""
    ticket = ctx.get(Ticket, args.ticket_id, "ticket_id")
    ticket.priority = args.priority
    ticket.updated_at = ctx.now
    ctx.flush()
    return {"updated": True, "ticket": views.ticket_summary(ticket)}


class AssignArgs(Args):
    ticket_id: TicketId
    staff_id: StaffId


@tool(group="tickets", read_only=False, idempotent=True)
def assign_ticket(ctx: ToolContext, args: AssignArgs) -> dict[str, Any]:
    """Assign a ticket to an active staff member."""
    ticket = ctx.get(Ticket, args.ticket_id, "ticket_id")
    staff = ctx.get(Staff, args.staff_id, "staff_id", "staff member")
    if not staff.active:
        raise ToolError("invalid_state", f"{staff.name} ({staff.id}) is no longer active.", "staff_id")
    ticket.assignee_id = staff.id
    ticket.updated_at = ctx.now
    ctx.flush()
    return {"updated": True, "ticket": views.ticket_summary(ticket), "assignee": views.staff(staff)}


class EscalateArgs(Args):
    ticket_id: TicketId
    team: Team = Field(
        description="billing (refunds above the agent limit, payment problems), warranty, "
        "logistics, escalations (supervisors) or general."
    )
    reason: LongText
    requested_amount: Amount | None = Field(
        None, description="For a refund above the agent limit: the amount to approve."
    )


@tool(group="tickets", read_only=False)
def escalate_ticket(ctx: ToolContext, args: EscalateArgs) -> dict[str, Any]:
    """Escalate a ticket to a specialist team with a reason (and the amount, for a refund above
    the agent's limit). The ticket's status becomes escalated."""
    ticket = ctx.get(Ticket, args.ticket_id, "ticket_id")
    if ticket.status == TicketStatus.closed:
        raise ToolError("invalid_state", f"Ticket {ticket.id} is closed.", "ticket_id")
    esc = ctx.add(
        Escalation,
        id=ctx.next_id(Escalation, "ESC"),
        ticket_id=ticket.id,
        team=args.team,
        reason=args.reason,
        created_at=ctx.now,
        requested_amount_cents=to_cents(args.requested_amount) if args.requested_amount else 0,
    )
    ticket.status = TicketStatus.escalated
    ticket.escalated_team = args.team
    ticket.updated_at = ctx.now
    ctx.flush()
    return {"escalated": True, "escalation": views.escalation(esc), "ticket": views.ticket_summary(ticket)}


class TagArgs(Args):
    ticket_id: TicketId
    add: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Tags to add: lowercase words, digits, '_' or '-'.",
    )
    remove: list[str] = Field(default_factory=list, max_length=10)


@tool(group="tickets", read_only=False, idempotent=True)
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
            gone = current.pop(tag)
            ticket.tags.remove(gone)
            ctx.delete(gone)
    for tag in args.add:
        if tag not in current:
            current[tag] = ctx.add(TicketTag, ticket_id=ticket.id, tag=tag)
            ticket.tags.append(current[tag])
    ticket.updated_at = ctx.now
    ctx.flush()
    return {"updated": True, "tags": sorted(current)}
