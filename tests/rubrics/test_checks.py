"""Each check type, true and false, on a tiny world with a few real tool calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import select

from supportgym.clock import parse_iso
from supportgym.db import WorldDB
from supportgym.rubrics.checks import Check, CheckContext, amounts_in, dates_in, ids_in
from supportgym.schema import Order, OrderStatus, Ticket
from supportgym.services.tools import call_tool
from supportgym.services.worlds import get_snapshot
from supportgym.trail import TrailEntry, summarise_changes

CHECK = TypeAdapter(Check)


@pytest.fixture(scope="module")
def world() -> Any:
    db = WorldDB.from_image(get_snapshot(7, "tiny").image)
    now = start = parse_iso(db.conn.execute("SELECT value FROM world_meta WHERE key='now'").fetchone()[0])
    with db.session() as s:
        paid = s.execute(select(Order.id).where(Order.status == OrderStatus.paid).order_by(Order.id)).scalars().first()
        ticket = s.execute(select(Ticket.id).order_by(Ticket.id)).scalars().first()
        other = s.execute(select(Order.id).where(Order.id != paid).order_by(Order.id)).scalars().first()
    trail, changes = [], []
    for n, (name, args) in enumerate(
        [
            ("get_ticket", {"ticket_id": ticket}),
            ("get_order", {"order_id": paid}),
            ("cancel_order", {"order_id": paid, "reason": "customer asked"}),
            ("update_ticket_status", {"ticket_id": ticket, "status": "solved"}),
            ("cancel_order", {"order_id": "ORD-999999", "reason": "typo"}),
        ],
        1,
    ):
        now += timedelta(seconds=30)
        out = call_tool(db, name, args, now=now, episode_start=start)
        changes += out.changes
        trail.append(
            TrailEntry(
                step=n,
                name=name,
                arguments=out.arguments,
                ok=out.ok,
                result=out.result,
                error_code=out.error_code,
                writes=out.writes,
                changes=out.changes,
                sim_time="",
            )
        )
    refund = next(c for c in changes if c["table"] == "refunds")["after"]
    reply = (
        f"Hi, I cancelled order {paid} and refunded ${refund['amount_cents'] / 100:,.2f} "
        f"({refund['id']}). Ticket {ticket} is solved as of March 16, 2026."
    )
    ctx = CheckContext(
        db=db, changes=summarise_changes(changes), raw_changes=changes, trail=trail, reply=reply, values={}, now=start
    )
    yield {"ctx": ctx, "paid": paid, "other": other, "ticket": ticket, "refund": refund}
    ctx.close()
    db.close()


def ev(w: Any, spec: dict[str, Any]) -> bool:
    return CHECK.validate_python(spec).evaluate(w["ctx"]).met


def test_row_checks(world: Any) -> None:
    p, cents = world["paid"], world["refund"]["amount_cents"]
    assert ev(
        world,
        {
            "type": "row_exists",
            "table": "refunds",
            "where": {"order_id": p, "amount_cents": cents},
            "created_only": True,
        },
    )
    assert not ev(
        world,
        {
            "type": "row_exists",
            "table": "refunds",
            "where": {"order_id": p, "amount_cents": cents + 1},
            "created_only": True,
        },
    )
    assert ev(world, {"type": "row_exists", "table": "refunds", "where": {"order_id": p, "reason": "cancelled_order"}})
    assert ev(world, {"type": "row_absent", "table": "refunds", "where": {"order_id": {"ne": p}}, "created_only": True})
    assert not ev(world, {"type": "row_absent", "table": "refunds", "where": {"order_id": p}, "created_only": True})
    assert ev(
        world,
        {"type": "row_count", "table": "refunds", "where": {"order_id": p}, "created_only": True, "min": 1, "max": 1},
    )
    assert not ev(world, {"type": "row_count", "table": "refunds", "created_only": True, "min": 2})
    assert ev(
        world, {"type": "row_exists", "table": "refunds", "where": {"order.status": "cancelled"}, "created_only": True}
    )


def test_field_equals(world: Any) -> None:
    assert ev(
        world,
        {"type": "field_equals", "table": "orders", "key": world["paid"], "field": "status", "value": "cancelled"},
    )
    assert not ev(
        world, {"type": "field_equals", "table": "orders", "key": world["paid"], "field": "status", "value": "paid"}
    )
    assert not ev(
        world, {"type": "field_equals", "table": "orders", "key": "ORD-000000", "field": "status", "value": "paid"}
    )


def test_write_checks(world: Any) -> None:
    assert not ev(world, {"type": "no_write_touched", "table": "orders", "key": world["paid"]})
    assert ev(world, {"type": "no_write_touched", "table": "orders", "key": world["other"]})
    assert ev(world, {"type": "no_write_touched", "table": "store_credit"})
    assert not ev(world, {"type": "no_change", "tables": ["refunds"]})
    assert ev(world, {"type": "no_change", "tables": ["returns", "store_credit"]})


def test_tool_checks(world: Any) -> None:
    p = world["paid"]
    assert ev(world, {"type": "tool_called", "name": "cancel_order", "args": {"order_id": p}})
    assert not ev(world, {"type": "tool_called", "name": "cancel_order", "args": {"order_id": p}, "max": 0})
    assert not ev(world, {"type": "tool_called", "name": "issue_refund"})
    assert ev(world, {"type": "tool_called", "name": "cancel_order", "ok": None, "min": 2})
    assert ev(world, {"type": "tool_not_called", "name": "issue_refund"})
    assert not ev(world, {"type": "tool_not_called", "name": "cancel_order", "args": {"order_id": "ORD-999999"}})
    assert ev(world, {"type": "tool_called_before", "first": "get_order", "then": "cancel_order"})
    assert not ev(world, {"type": "tool_called_before", "first": "cancel_order", "then": "get_order"})
    assert not ev(world, {"type": "tool_called_before", "first": "get_order", "then": "issue_refund"})
    assert ev(
        world, {"type": "tool_called_before", "first": "get_order", "then": "issue_refund", "require_both": False}
    )


def test_reply_checks(world: Any) -> None:
    cents = world["refund"]["amount_cents"]
    assert ev(world, {"type": "reply_mentions", "all_of": [world["paid"]], "amounts": [cents]})
    assert ev(world, {"type": "reply_mentions", "amounts": [f"{cents // 100}.{cents % 100:02d}"]})
    assert not ev(world, {"type": "reply_mentions", "amounts": [cents + 100]})
    assert ev(world, {"type": "reply_mentions", "any_of": ["nope", "CANCELLED"]})
    assert not ev(world, {"type": "reply_mentions", "all_of": ["RMA-"]})
    assert ev(
        world,
        {
            "type": "reply_mentions",
            "row": {"table": "refunds", "where": {"order_id": world["paid"]}, "created_only": True},
        },
    )
    assert not ev(world, {"type": "reply_mentions", "row": {"table": "returns", "created_only": True}})
    assert ev(world, {"type": "reply_not_mentions", "any_of": ["store credit"], "amounts": [1]})
    assert not ev(world, {"type": "reply_not_mentions", "amounts": [cents]})
    assert ev(world, {"type": "reply_ids_exist"})
    assert ev(world, {"type": "reply_word_count", "min": 5, "max": 60})
    assert not ev(world, {"type": "reply_word_count", "max": 5})
    assert ev(world, {"type": "reply_dates_valid"})
    assert ev(world, {"type": "reply_dates_valid", "allowed": ["2026-03-16"], "required": True})
    assert not ev(world, {"type": "reply_dates_valid", "allowed": ["2026-03-17"]})
    ctx = world["ctx"]
    saved = ctx.reply
    try:
        ctx.reply = "Your RMA-123456 for ORD-999999 ships February 30, 2026."
        assert not ev(world, {"type": "reply_ids_exist"})
        assert not ev(world, {"type": "reply_dates_valid"})
        ctx.reply = None
        assert not ev(world, {"type": "reply_mentions", "any_of": ["x"]})
    finally:
        ctx.reply = saved


def _always(ctx: Any, answer: bool) -> bool:
    return answer


def test_python_check(world: Any) -> None:
    assert ev(world, {"type": "python", "function": f"{__name__}:_always", "params": {"answer": True}})
    assert not ev(world, {"type": "python", "function": f"{__name__}:_always", "params": {"answer": False}})


def test_reply_parsers() -> None:
    assert amounts_in("Refunded $1,049.00, USD 20 and 19.99; order ORD-500123, 3 items") == {104900, 2000, 1999}
    assert ids_in("RMA-900470 for ORD-500123 per POL-RETURNS; XYZ-1234") == ["RMA-900470", "ORD-500123", "POL-RETURNS"]
    assert [d for _, d in dates_in("on 2026-02-30 or March 4, 2026")] == [None, "2026-03-04"]


def test_mentions_matches_whole_tokens_only():
    from supportgym.rubrics.text import mentions as _mentions

    assert _mentions("Count: 27 orders", "count: 27")
    assert not _mentions("Count: 27", "Count: 2")
    assert not _mentions("see ORD-50012", "ORD-5001")
    assert _mentions("see ORD-5001.", "ORD-5001")
    assert _mentions("refunded  $49.99 today", "refunded $49.99")
    assert _mentions("within 45 days of delivery", "45 day")
