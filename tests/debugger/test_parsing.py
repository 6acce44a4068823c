"""Typed tool calls, observation comparison and grade rows: pure functions."""

from __future__ import annotations

import pytest

from supportgym.env.debugger.common import CallSyntaxError, first_difference, parse_call
from supportgym.ids import KIND
from supportgym.services.web.grades import grade_rows, grade_summary


def test_key_value_call_reads_json_values_and_strings() -> None:
    name, args = parse_call(
        'create_return order_id=ORD-1042 items=\'[{"order_item_id":"ITM-1","quantity":1}]\' '
        'reason="arrived broken" page=2 flag=true'
    )
    assert name == "create_return"
    assert args == {
        "order_id": "ORD-1042",
        "items": [{"order_item_id": "ITM-1", "quantity": 1}],
        "reason": "arrived broken",
        "page": 2,
        "flag": True,
    }


def test_json_calls() -> None:
    assert parse_call('get_order {"order_id": "ORD-1"}') == ("get_order", {"order_id": "ORD-1"})
    assert parse_call('{"name": "get_order", "arguments": {"order_id": "ORD-1"}}') == (
        "get_order",
        {"order_id": "ORD-1"},
    )
    assert parse_call("get_current_time") == ("get_current_time", {})


@pytest.mark.parametrize("line", ["get_order order_id", "get_order {nope", '{"arguments": {}}', "x '"])
def test_bad_calls_are_reported(line: str) -> None:
    with pytest.raises(CallSyntaxError):
        parse_call(line)


def test_first_difference_names_the_path() -> None:
    a = {"order": {"items": [{"status": "shipped"}], "total": "10.00"}}
    b = {"order": {"items": [{"status": "delivered"}], "total": "10.00"}}
    assert first_difference(a, a) is None
    assert first_difference(a, b) == 'order.items[0].status: "shipped" != "delivered"'
    assert first_difference({"n": 1}, {"n": 1.0}) is None
    assert first_difference({"n": True}, {"n": 1}) is not None
    assert "missing" in first_difference({"a": 1}, {})
    assert "2 items != 1 items" in first_difference([1, 2], [1])


def test_grade_rows_read_the_rubric_grade_shape() -> None:
    grade = {
        "reward": 0.5,
        "perfect": False,
        "criteria": [
            {
                "id": "refund-issued",
                "verdict": "met",
                "by": "program",
                "evidence": "REF-1",
                "type": "primary",
                "category": "correctness",
                "text": "t",
            },
            {
                "id": "no-fee",
                "verdict": "unmet",
                "by": "program",
                "evidence": "fee charged",
                "type": "dodged_bullet",
                "category": "constraint",
                "text": "t",
            },
            {
                "id": "tone",
                "verdict": "judge_pending",
                "by": "judge",
                "evidence": "",
                "type": "primary",
                "category": "format",
                "text": "t",
            },
        ],
    }
    rows = grade_rows(grade)
    assert [(r.id, r.met, r.verdict, r.css) for r in rows] == [
        ("refund-issued", True, "met", "met"),
        ("no-fee", False, "unmet", "unmet"),
        ("tone", None, "judge_pending", "unknown"),
    ]
    assert rows[0].source == "program" and rows[1].evidence == "fee charged"
    assert grade_summary(grade) == {"reward": 0.5, "perfect": False, "met": 1, "unmet": 1, "unknown": 1, "total": 3}
    assert grade_rows(None) == []


def test_lists_and_objects_need_no_shell_quoting() -> None:
    name, args = parse_call(
        'create_return order_id=ORD-1042 items=[{"order_item_id": "ITM-1", "quantity": 1}] '
        'reason="arrived broken" resolution=refund'
    )
    assert name == "create_return"
    assert args == {
        "order_id": "ORD-1042",
        "items": [{"order_item_id": "ITM-1", "quantity": 1}],
        "reason": "arrived broken",
        "resolution": "refund",
    }


@pytest.mark.parametrize(
    "line",
    [
        'create_return order_id=ORD-1 items=[{"order_item_id": "ITM-1", "quantity": 1}',  # not closed
        'create_return order_id=ORD-1 items=[{"order_item_id": ITM-1}]',  # bad JSON
        "get_order ORD-1",  # no key
    ],
)
def test_syntax_errors_say_how_to_write_the_call(line: str) -> None:
    with pytest.raises(CallSyntaxError) as err:
        parse_call(line)
    message = str(err.value)
    # The example shows ids of the real scheme (a line item of the seeded world).
    assert f'items=[{{"order_item_id": "{KIND["ITM"].example}", "quantity": 1}}]' in message
    assert "no shell quoting needed" in message
