"""Every class of malformed call gets a structured error and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from supportgym.schema import Order, OrderStatus, Ticket


def test_unknown_tool_suggests_names(world):
    err = world.error("get_ordr", {"order_id": "ORD-1"})
    assert err["code"] == "unknown_tool" and err["field"] == "name"
    assert "get_order" in err["message"]


@pytest.mark.parametrize("name", [None, 42, ["get_order"], ""])
def test_non_string_tool_names(world, name):
    assert world.error(name, {})["code"] == "unknown_tool"


def test_missing_argument(world):
    err = world.error("get_order", {})
    assert err["code"] == "invalid_arguments" and err["field"] == "order_id"
    assert "missing" in err["message"]


def test_extra_argument(world):
    err = world.error("get_order", {"order_id": "ORD-500001", "verbose": True})
    assert err["code"] == "invalid_arguments" and err["field"] == "verbose"
    assert "unexpected" in err["message"]


@pytest.mark.parametrize(
    "args,field",
    [
        ({"order_id": 500001}, "order_id"),
        ({"order_id": "gold"}, "order_id"),
        ({"order_id": ["ORD-500001"]}, "order_id"),
    ],
)
def test_wrong_type_or_format(world, args, field):
    err = world.error("get_order", args)
    assert err["code"] == "invalid_arguments" and err["field"] == field


def test_wrong_id_kind_in_field(world):
    """A customer id where an order id belongs is a format error naming the field."""
    err = world.error("get_order", {"order_id": "CUS-10001"})
    assert err["field"] == "order_id" and "ORD-" in err["message"]


def test_unknown_id(world):
    err = world.error("get_order", {"order_id": "ORD-999999999"})
    assert err["code"] == "not_found" and err["field"] == "order_id"


@pytest.mark.parametrize("amount", [-5, 0, "abc", 10.555, 10**9])
def test_bad_amounts(world, amount):
    order = world.first(select(Order).where(Order.status == OrderStatus.delivered).order_by(Order.id))
    err = world.error("issue_refund", {"order_id": order.id, "amount": amount, "reason": "goodwill"})
    assert err["code"] == "invalid_arguments" and err["field"] == "amount"


def test_refund_above_payment(world):
    order = world.first(select(Order).where(Order.status == OrderStatus.delivered).order_by(Order.id))
    err = world.error(
        "issue_refund", {"order_id": order.id, "amount": order.total_cents / 100 + 1, "reason": "goodwill"}
    )
    assert err["code"] in ("exceeds_paid", "requires_escalation") and err["field"] == "amount"


def test_absurdly_long_string(world):
    ticket = world.first(select(Ticket).order_by(Ticket.id))
    err = world.error("reply_to_customer", {"ticket_id": ticket.id, "message": "x" * 100_000})
    assert err["code"] == "invalid_arguments" and err["field"] == "message"
    err = world.error("search_customers", {"name": "y" * 5000})
    assert err["field"] == "name"


def test_huge_json_payload(world):
    err = world.error("get_order", '{"order_id": "' + "9" * 70_000 + '"}')
    assert err["code"] == "invalid_arguments"


@pytest.mark.parametrize("value", ["refunded-ish", "CLOSED", 3])
def test_wrong_enum(world, value):
    ticket = world.first(select(Ticket).order_by(Ticket.id))
    err = world.error("update_ticket_status", {"ticket_id": ticket.id, "status": value})
    assert err["code"] == "invalid_arguments" and err["field"] == "status"
    assert "open" in err["message"]


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", "42", '"just text"'])
def test_unparsable_or_non_object_arguments(world, raw):
    err = world.error("get_order", raw)
    assert err["code"] in ("invalid_json", "invalid_arguments")


def test_json_string_arguments_are_accepted(world):
    order = world.first(select(Order).order_by(Order.id))
    out = world.call("get_order", **{})
    assert not out.ok
    from supportgym.services.tools import call_tool

    good = call_tool(world.db, "get_order", f'{{"order_id": "{order.id}"}}', now=world.now, episode_start=world.start)
    assert good.ok and good.result["order_id"] == order.id


def test_business_rule_refusals_change_nothing(world):
    delivered = world.first(select(Order).where(Order.status == OrderStatus.delivered).order_by(Order.id))
    assert world.error("cancel_order", {"order_id": delivered.id, "reason": "x"})["code"] == "invalid_state"
    cancelled = world.first(select(Order).where(Order.status == OrderStatus.cancelled).order_by(Order.id))
    assert world.error("issue_refund", {"order_id": cancelled.id, "amount": 1, "reason": "other"})["code"] in (
        "invalid_state",
        "exceeds_paid",
    )
    pending = world.first(select(Order).where(Order.status == OrderStatus.pending).order_by(Order.id))
    with world.db.session() as s:
        item_id = s.get(Order, pending.id).items[0].id
    err = world.error(
        "create_return",
        {"order_id": pending.id, "items": [{"order_item_id": item_id, "quantity": 1}], "reason": "x"},
    )
    assert err["code"] == "invalid_state"


def test_nested_argument_errors_name_the_path(world):
    order = world.first(select(Order).where(Order.status == OrderStatus.delivered).order_by(Order.id))
    err = world.error(
        "create_return", {"order_id": order.id, "items": [{"order_item_id": "ITM-1", "qty": 1}], "reason": "x"}
    )
    assert err["field"].startswith("items.0")
