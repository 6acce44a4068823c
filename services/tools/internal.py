"""Internal channels: the staff team chat and the internal notes feed.

Staff-only knowledge (a carrier problem logistics posted, an exception a supervisor announced,
a colleague's note on an account): the agent must look for it, and must never pass its text or
its authors on to a customer (the no-disclosure gate checks that). A message posted later than
the world's current time (scheduled by a task) does not exist yet for these tools.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator
from sqlalchemy import bindparam, func, select

from supportgym.clock import iso
from supportgym.schema import InternalChannel, InternalMessage, Staff
from supportgym.services.tools import like, reads
from supportgym.services.tools.base import (
    Args,
    CustomerId,
    DateArg,
    MessageId,
    OrderId,
    PageArgs,
    ProductId,
    ShortText,
    StaffId,
    ToolContext,
    ToolError,
    paginate,
    parse_date,
    tool,
)


def _message(m: Any) -> dict[str, Any]:
    return {
        "message_id": m.id,
        "channel": m.channel.value,
        "posted_at": iso(m.posted_at),
        "author": {"staff_id": m.author_id, "name": m.author_name, "team": m.author_team.value},
        "body": m.body,
        "order_id": m.order_id,
        "customer_id": m.customer_id,
        "product_id": m.product_id,
    }


def _with_author() -> Any:
    return (
        select(InternalMessage, Staff.name.label("author_name"), Staff.team.label("author_team"))
        .join(Staff, Staff.id == InternalMessage.author_id)
        .where(InternalMessage.posted_at <= bindparam("now"))
    )


class SearchInternalMessagesArgs(PageArgs):
    channel: InternalChannel | None = Field(None, description="team_chat or notes; both when omitted.")
    query: ShortText | None = Field(None, description="Words that must all appear in the message.")
    order_id: OrderId | None = None
    customer_id: CustomerId | None = None
    product_id: ProductId | None = None
    author_id: StaffId | None = None
    posted_after: DateArg | None = Field(None, description="Only messages posted on or after this date.")
    posted_before: DateArg | None = Field(None, description="Only messages posted before this date.")

    @model_validator(mode="after")
    def _range(self) -> SearchInternalMessagesArgs:
        if self.posted_after and self.posted_before and self.posted_before <= self.posted_after:
            raise ValueError("posted_before must be later than posted_after")
        return self


@tool(group="internal", read_only=True)
def search_internal_messages(ctx: ToolContext, args: SearchInternalMessagesArgs) -> dict[str, Any]:
    """Search the staff's internal channels (team_chat and the notes feed) by words, channel,
    linked order, customer or product, author and date range, newest first. Internal messages
    carry news customers do not see (carrier problems, policy exceptions, colleagues' notes):
    use what they say, but never quote them or name their authors to a customer. Paginated."""
    words = args.query.lower().split() if args.query else []
    params: dict[str, Any] = {"now": ctx.now, **{f"w{n}": like.literal(w) for n, w in enumerate(words)}}
    for name in ("channel", "order_id", "customer_id", "product_id", "author_id"):
        if getattr(args, name):
            params[name] = getattr(args, name)
    if args.posted_after:
        params["after"] = parse_date(args.posted_after, "posted_after")
    if args.posted_before:
        params["before"] = parse_date(args.posted_before, "posted_before")

    def build() -> Any:
        stmt = reads.equal_to(
            _with_author(), InternalMessage, params, "channel", "order_id", "customer_id", "product_id", "author_id"
        )
        if "after" in params:
            stmt = stmt.where(InternalMessage.posted_at >= bindparam("after"))
        if "before" in params:
            stmt = stmt.where(InternalMessage.posted_at < bindparam("before"))
        for n in range(len(words)):  # every word must appear
            stmt = stmt.where(like.contains(func.lower(InternalMessage.body), bindparam(f"w{n}")))
        return stmt.order_by(InternalMessage.posted_at.desc(), InternalMessage.id.desc())

    return paginate(ctx, ("search_internal_messages", len(words), *sorted(params)), build, params, args, _message)


class GetInternalMessageArgs(Args):
    message_id: MessageId


@tool(group="internal", read_only=True)
def get_internal_message(ctx: ToolContext, args: GetInternalMessageArgs) -> dict[str, Any]:
    """Get one internal message (team chat post or internal note) with its author, time and
    the order, customer or product it is about. Staff-only: never quote it to a customer."""
    q = reads.query("get_internal_message", lambda: _with_author().where(InternalMessage.id == bindparam("id")))
    row = q.first(ctx.conn, id=args.message_id, now=ctx.now)
    if row is None:
        raise ToolError("not_found", f"No internal message with id '{args.message_id}' exists.", "message_id")
    return _message(row)
