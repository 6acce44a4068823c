"""The scripted customer: reveal rules, once, requires, ending when satisfied / told to wait /
out of turns, holding while an approval is pending, and determinism."""

from __future__ import annotations

import pytest

from supportgym.services.conversation import Conversation
from supportgym.services.customer_sim import ScriptedCustomer, approval_pending, revealed_facts


def conv(**customer) -> Conversation:
    base = {
        "facts": {
            "order_number": "ORD-500001",
            "email": "ann@example.com",
            "old_email": "old@example.com",
            "new_address": "1 Main St",
        },
        "aliases": {"order_number": ["order id"]},
        "rules": [
            {"when": {"asks_for": "order_number"}, "reveal": ["order_number"], "say": "It's ORD-500001."},
            {"when": {"asks_for": "email"}, "once": True, "reveal": ["old_email"], "say": "old@example.com"},
            {"when": {"asks_for": "email"}, "reveal": ["email"], "say": "Sorry: ann@example.com"},
            {"when": {"asks_for": "new_address"}, "reveal": ["new_address"], "say": "1 Main St"},
            {
                "when": {"any_of": ["go ahead", "shall i"], "requires": ["new_address"]},
                "approve": True,
                "say": "Yes, go ahead.",
            },
        ],
        "end_when": {"satisfied": {"any_of": ["updated"], "after_write": True, "say": "Thanks, bye!"}},
        "max_turns": 6,
    }
    base.update(customer)
    return Conversation.model_validate({"opening": "I need help with my order.", "customer": base})


class Chat:
    """Drives a ScriptedCustomer the way the Episode does (history of dicts)."""

    def __init__(self, c: Conversation) -> None:
        self.sim = ScriptedCustomer(c)
        self.history = [
            {"role": "customer", "text": c.opening, "revealed": [], "rules": [], "approve": False, "over": False}
        ]

    def say(self, text: str):
        turn = self.sim.respond(list(self.history), text)
        self.history.append({"role": "agent", "text": text})
        self.history.append(
            {
                "role": "customer",
                "text": turn.text,
                "revealed": turn.revealed,
                "rules": turn.rules,
                "approve": turn.approve,
                "over": turn.over,
            }
        )
        return turn

    def write(self) -> None:
        self.history.append({"role": "event", "text": "write:update_order_shipping_address"})


def test_reveals_only_when_asked():
    chat = Chat(conv())
    t = chat.say("Hello! How can I help?")
    assert t.revealed == [] and t.text.startswith("Sorry, I'm not sure") and not t.over
    t = chat.say("What is your order id?")
    assert t.revealed == ["order_number"] and "ORD-500001" in t.text


def test_several_facts_in_one_message_and_once_rules():
    chat = Chat(conv())
    t = chat.say("What is the order number and the email on your account?")
    # Both asked-for facts answer; only the first rule for 'email' (the once rule) does.
    assert t.revealed == ["order_number", "old_email"]
    assert "ORD-500001" in t.text and "old@example.com" in t.text and "ann@" not in t.text
    t = chat.say("That email does not match, could you check it?")
    assert t.revealed == ["email"] and "ann@example.com" in t.text
    assert revealed_facts(chat.history) == {"order_number", "old_email", "email"}


def test_requires_and_approval_hold_until_write():
    chat = Chat(conv())
    assert not chat.say("Shall I go ahead?").approve  # the address is not known yet
    chat.say("What is the new address?")
    t = chat.say("Shall I change it to 1 Main St?")
    assert t.approve and not t.over and approval_pending(chat.history)
    # Told to wait while the approved write is pending: the customer holds, never leaves.
    t = chat.say("Please wait while I make the change.")
    assert not t.over and t.text == "Sure, I'll hold on."
    chat.write()
    assert not approval_pending(chat.history)
    t = chat.say("All done, the address is updated.")
    assert t.over and t.text == "Thanks, bye!"


def test_satisfied_needs_the_write():
    chat = Chat(conv())
    t = chat.say("The address is updated.")  # no write yet: not satisfied
    assert not t.over


def test_told_to_wait_ends():
    chat = Chat(conv())
    t = chat.say("I'll look into it and get back to you.")
    assert t.over and "wait" in t.text.lower()


def test_max_turns_ends_but_not_on_approval():
    chat = Chat(conv(max_turns=2))
    chat.say("What is the new address?")
    t = chat.say("Shall I go ahead?")  # 2nd turn = max, but it approves: the customer stays
    assert t.approve and not t.over
    chat.write()
    t = chat.say("Anything else?")
    assert t.over and "have to go" in t.text


def test_end_rule():
    c = conv(rules=[{"when": {"any_of": ["privacy"]}, "end": True, "say": "Ok, bye."}])
    t = Chat(c).say("For privacy reasons I cannot share that.")
    assert t.over and t.text == "Ok, bye."


def test_deterministic():
    msgs = ["hi", "order id?", "email?", "email again?", "new address?", "shall i?", "updated"]
    runs = []
    for _ in range(3):
        chat = Chat(conv())
        runs.append([(t.text, t.revealed, t.over) for t in map(chat.say, msgs)])
    assert runs[0] == runs[1] == runs[2]


def test_format_errors():
    with pytest.raises(ValueError, match="unknown fact"):
        conv(rules=[{"when": {"asks_for": "phone"}, "say": "x"}])
    with pytest.raises(ValueError, match="approving answer cannot end"):
        conv(rules=[{"when": {"any_of": ["x"]}, "approve": True, "end": True, "say": "x"}])
    with pytest.raises(ValueError, match="at least one"):
        conv(rules=[{"when": {}, "say": "x"}])
