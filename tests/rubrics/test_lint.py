"""Lint catches each flaw class on synthetic rubrics, and the shipped set lints clean."""

from __future__ import annotations

from typing import Any

from supportgym.rubrics.model import Criterion
from supportgym.tasks.lint import is_compound, lint_all, lint_rubric
from supportgym.tasks.model import WrongSolution


def _c(cid: str, text: str, type_: str = "primary", check: dict[str, Any] | None = None) -> Criterion:
    return Criterion(id=cid, text=text, category="correctness", type=type_, check=check)


def _filler(n: int) -> list[Criterion]:
    topics = [
        "refund",
        "return",
        "ticket",
        "reply",
        "order",
        "policy",
        "customer",
        "shipment",
        "payment",
        "warranty",
        "address",
        "credit",
        "stock",
        "brand",
        "escalation",
    ]
    return [_c(f"f{i}", f"The agent handles the {topics[i]} topic number {i} correctly.") for i in range(n)]


def codes(rubric: list[Criterion], **kw: Any) -> set[str]:
    return {i.code for i in lint_rubric("t", rubric, **kw)}


def test_clean_synthetic_rubric() -> None:
    assert codes(_filler(10)) == set() or codes(_filler(10)) == {"near-duplicate"}


def test_criteria_count_and_no_primary() -> None:
    assert "criteria-count" in codes(_filler(3))
    assert "criteria-count" in codes([_c(f"x{i}", f"Distinct criterion about item {i} {'abc' * i}") for i in range(41)])
    only_ec = [_c(c.id, c.text, "extra_credit") for c in _filler(10)]
    assert "no-primary" in codes(only_ec)


def test_duplicates() -> None:
    base = _filler(10)
    assert "duplicate" in codes([*base, _c("dup", base[0].text)])
    chk = {"type": "reply_word_count", "max": 100}
    assert "duplicate" in codes(
        [*base, _c("a", "The reply is short enough.", check=chk), _c("b", "Replies are brief.", check=chk)]
    )
    assert "near-duplicate" in codes([*base, _c("near", "The agent handles the refund topic number 0 correctly!")])
    assert "near-duplicate" in codes([*base, _c("near2", "The agent handled the refund topic number 0 correctly.")])


def test_compound() -> None:
    assert is_compound("The agent refunds the order and replies to the customer with the RMA id.")
    assert not is_compound("The refund is between $10 and $20.")
    assert not is_compound("The reply lists every Kestrel and Finch product.")
    assert "compound" in codes([*_filler(10), _c("and", "The agent opens the return and issues the full refund.")])


def test_value_mismatch() -> None:
    chk = {"type": "reply_mentions", "amounts": [4999]}
    assert "value-mismatch" in codes([*_filler(10), _c("amt", "The reply states the amount $59.99.", check=chk)])
    assert "value-mismatch" not in codes([*_filler(10), _c("amt", "The reply states the amount $49.99.", check=chk)])
    chk2 = {"type": "tool_called", "name": "get_order", "args": {"order_id": "ORD-500001"}}
    assert "value-mismatch" in codes([*_filler(10), _c("id", "The agent reads order ORD-500002.", check=chk2)])


def test_unknown_entities_need_the_world() -> None:
    from supportgym.db import WorldDB
    from supportgym.services.worlds import get_snapshot

    db = WorldDB.from_image(get_snapshot(7, "tiny").image)
    try:
        with db.session() as s:
            bad = [
                _c("t1", "A gadget row exists for this order.", check={"type": "row_exists", "table": "gadgets"}),
                _c(
                    "t2",
                    "Order ORD-000001 is cancelled.",
                    check={
                        "type": "field_equals",
                        "table": "orders",
                        "key": "ORD-000001",
                        "field": "status",
                        "value": "cancelled",
                    },
                ),
                _c("t3", "The agent calls the teleport tool once.", check={"type": "tool_called", "name": "teleport"}),
                _c(
                    "t4",
                    "A refund row has a colour set.",
                    check={"type": "row_exists", "table": "refunds", "where": {"colour": "red"}},
                ),
            ]
            issues = lint_rubric("t", [*_filler(10), *bad], session=s)
    finally:
        db.close()
    flagged = {i.criterion for i in issues if i.code == "unknown-entity"}
    assert flagged == {"t1", "t2", "t3", "t4"}


def test_wrong_fails_must_be_program_checked() -> None:
    rubric = [*_filler(10), _c("tone", "The reply is polite throughout.")]
    w = WrongSolution(name="w", description="a mistake", calls=[], reply="x", fails=["tone", "ghost"])
    assert "wrong-fails" in codes(rubric, wrong=[w])


def test_shipped_set_lints_clean() -> None:
    issues = lint_all()
    assert not issues, "\n".join(map(str, issues))
