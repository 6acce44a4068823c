"""The flip tests' corruptions: pure, deterministic, and they really corrupt."""

from __future__ import annotations

import pytest

from supportgym.rubrics.checks import amounts_in, dates_in, ids_in
from supportgym.rubrics.corruptions import (
    CARRIER_NAMES,
    CORRUPTIONS,
    PROBES,
    STATUS_KINDS,
    add_enumeration,
    add_false_claim,
    change_amounts,
    drop_ids,
    pad_with_filler,
    targets,
)
from supportgym.rubrics.model import Criterion

REPLY = (
    "Hi Susan, I've opened return RMA-400468 for the headset on order ORD-500029 (ORD-500029) and "
    "refunded $58.99 to your card; refund RFD-900718 should show within 5-10 days. Your order "
    "ORD-500029 is now returned. A second charge of 68.98 USD is still captured. Count: 2."
)


def test_drop_ids_removes_every_occurrence_of_every_id():
    out = drop_ids(REPLY)
    assert ids_in(REPLY) == ["RMA-400468", "ORD-500029", "RFD-900718"]
    assert ids_in(out) == []
    for ident in ("RMA-400468", "ORD-500029", "RFD-900718", "400468", "500029"):
        assert ident not in out
    assert "()" not in out and "  " not in out
    assert amounts_in(out) == amounts_in(REPLY)  # only the ids went
    no_ids = "Thanks, all done."
    assert drop_ids(no_ids) != no_ids  # always a corruption


def test_change_amounts_changes_every_amount_in_every_format():
    out = change_amounts(REPLY)
    assert amounts_in(REPLY) == {5899, 6898}
    assert amounts_in(out) == {6899, 7898}  # +$10.00 each, both occurrences' formats
    assert "58.99" not in out and "68.98" not in out
    assert ids_in(out) == ids_in(REPLY) and "Count: 2." in out  # ids and counts are not money
    repeated = "Refund $12.50 now; the $12.50 refund is final. 12.50 dollars."
    assert amounts_in(change_amounts(repeated)) == {2250}
    assert amounts_in(change_amounts("No money here.")) == {1000}


def test_false_claim_claims_a_refund_of_the_largest_amount():
    out = add_false_claim(REPLY)
    assert out.startswith(REPLY.rstrip())
    assert out.endswith("I've also issued a refund of $68.98 to your original payment method.")
    assert "refund of $25.00" in add_false_claim("We cannot help with that.")
    assert "refund of $1.05" in add_false_claim("x", amount_cents=105)


def test_enumeration_lists_every_competing_value_of_each_kind_stated():
    reply = "Order ORD-500029 is shipped with SwiftRoute, $58.99, arriving on 2026-03-20."
    out = add_enumeration(reply)
    assert out.startswith(reply)
    extra = out[len(reply) :]
    for status in STATUS_KINDS["order status"]:
        assert status in extra
    for carrier in CARRIER_NAMES:
        assert carrier in extra
    assert len(amounts_in(extra)) >= 3 and 5899 in amounts_in(extra)
    assert "date could be" in extra and dates_in(reply)
    # The ticket or return statuses are not listed when the reply states none of them.
    assert "ticket status" not in extra and "return status" not in extra
    bare = add_enumeration("Done.")
    assert all(s in bare for s in STATUS_KINDS["order status"]) and all(c in bare for c in CARRIER_NAMES)


def test_filler_buries_the_reply():
    out = pad_with_filler(REPLY)
    assert REPLY in out and len(out) > 4 * len(REPLY)
    assert out.index(REPLY) > 0 and not out.endswith(REPLY)


@pytest.mark.parametrize("corruption", CORRUPTIONS, ids=lambda c: c.name)
def test_corruptions_are_pure_and_deterministic(corruption):
    once = corruption.apply(REPLY)
    assert once != REPLY
    assert corruption.apply(REPLY) == once  # same input, same output


def _c(cid: str, text: str, ctype: str = "primary", category: str = "correctness", check=None) -> Criterion:
    return Criterion(id=cid, text=text, category=category, type=ctype, check=check)


def test_targets_pick_the_reply_criteria_each_corruption_breaks():
    mention = {"type": "reply_mentions", "all_of": ["RMA-400468"]}
    amount = {"type": "reply_mentions", "amounts": [5899]}
    rubric = [
        _c("reply-rma", "The final reply quotes the return number RMA-400468.", check=mention),
        _c("reply-amount", "The final reply states the refund amount $58.99.", check=amount),
        _c(
            "refund-row",
            "A refund of $58.99 is issued on order ORD-500029.",
            check={"type": "row_exists", "table": "refunds", "where": {"order_id": "ORD-500029"}},
        ),
        _c("no-false-refund", "The final reply does not claim that a second refund was issued.", "dodged_bullet"),
        _c("status", "The reply tells the customer the order is returned."),
        _c("chat-status", "The agent tells the customer in the chat that the order is returned."),
        _c("plain", "The final reply explains it in plain language, without internal jargon.", category="format"),
        _c(
            "short",
            "The reply stays under 120 words.",
            category="format",
            check={"type": "reply_word_count", "max": 120},
        ),
        _c("chat-concise", "The agent's chat messages are friendly and concise.", "extra_credit", "format"),
        _c("no-commentary", "The reply adds no commentary beyond the requested fields.", "dodged_bullet", "format"),
    ]
    picked = {c.name: [x.id for x in targets(c, rubric, REPLY)] for c in CORRUPTIONS}
    assert picked["drop_ids"] == ["reply-rma"]  # not the world check that names the same order
    assert picked["change_amount"] == ["reply-amount"]
    assert picked["false_claim"] == ["no-false-refund", PROBES["false_claim"].id]
    assert picked["enumeration"] == ["reply-amount", "status", PROBES["enumeration"].id]
    # Filler breaks length, concision and "nothing else", not plain language; chat is not the reply.
    assert picked["filler"] == ["short", "no-commentary", PROBES["filler"].id]
