"""Customer simulators for conversational tasks (the ``conversation:`` block of a task).

One interface, :class:`CustomerSimulator`: ``respond(history, agent_message) -> CustomerTurn``.

* :class:`ScriptedCustomer` answers deterministically from the task file (facts, ordered reveal
  rules, end conditions). Everything it needs is in ``history``, so an episode can be snapshotted
  and restored by truncating the history, and a replay is exact.
* :class:`LLMCustomer` plays the same customer with a chat model through an OpenAI-compatible
  endpoint (:class:`supportgym.services.openai_client.ChatClient`, the judge's client), seeded, with a
  bounded ``max_tokens``. An endpoint failure raises :class:`CustomerUnavailable`, which the
  episode turns into an error observation (never a crash).

``history`` is a list of dicts in order: ``{"role": "customer", "text", "revealed", "rules",
"approve", "over"}`` for the customer's turns (the opening first), ``{"role": "agent", "text"}``
for the agent's messages and ``{"role": "event", "text": "write:<tool>"}`` for each successful
write the agent made (the episode records them; that is how "after a write" and a pending
approval are known).

The approval rule: after an answer with ``approve`` ("yes, go ahead") and until a write
succeeds, the customer never ends the conversation (it says ``hold_say`` instead of leaving),
and the episode cannot be truncated before the agent has had the chance to write (see
:mod:`supportgym.services.episode`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from supportgym.services.conversation import Conversation, Customer, When
from supportgym.services.openai_client import ChatClient, ChatError
from supportgym.services.upstream import upstream_deadline_s

WRITE_EVENT = "write:"


class CustomerUnavailable(RuntimeError):
    """The simulated customer could not answer (the LLM endpoint failed)."""


@dataclass
class CustomerTurn:
    text: str
    revealed: list[str] = field(default_factory=list)
    over: bool = False
    approve: bool = False
    rules: list[int] = field(default_factory=list)
    reason: str = ""  # why it ended: satisfied | told_to_wait | max_turns | rule (when over)


class CustomerSimulator(Protocol):
    def respond(self, history: list[dict[str, Any]], agent_message: str) -> CustomerTurn: ...


# --- reading the history -------------------------------------------------------------------------


def revealed_facts(history: list[dict[str, Any]]) -> set[str]:
    return {f for h in history if h.get("role") == "customer" for f in h.get("revealed", [])}


def writes_done(history: list[dict[str, Any]]) -> int:
    return sum(1 for h in history if h.get("role") == "event" and str(h.get("text", "")).startswith(WRITE_EVENT))


def approval_pending(history: list[dict[str, Any]]) -> bool:
    """An approving answer was given and no write has succeeded since."""
    pending = False
    for h in history:
        if h.get("role") == "customer" and h.get("approve"):
            pending = True
        elif h.get("role") == "event" and str(h.get("text", "")).startswith(WRITE_EVENT):
            pending = False
    return pending


def agent_turns(history: list[dict[str, Any]]) -> int:
    return sum(1 for h in history if h.get("role") == "agent")


def conversation_over(history: list[dict[str, Any]]) -> bool:
    return any(h.get("role") == "customer" and h.get("over") for h in history)


def _has(text: str, needle: str) -> bool:
    return needle.strip().lower() in text.lower()


def _matches(when: When, customer: Customer, message: str, known: set[str]) -> bool:
    if when.any_of and not any(_has(message, s) for s in when.any_of):
        return False
    if when.all_of and not all(_has(message, s) for s in when.all_of):
        return False
    if when.regex and re.search(when.regex, message, re.IGNORECASE) is None:
        return False
    if when.asks_for and not any(_has(message, w) for w in customer.words_for(when.asks_for)):
        return False
    return all(f in known for f in when.requires)


# --- the scripted customer ------------------------------------------------------------------------


class ScriptedCustomer:
    """Deterministic customer from a rendered :class:`Conversation` (see the module docstring).

    One answer per agent message, decided in this order:

    1. ``end_when.satisfied`` matches (and, with ``after_write``, a write has succeeded): the
       customer says ``satisfied.say`` and leaves.
    2. A ``told_to_wait`` phrase is in the message: it says ``wait_say`` and leaves.
    3. The rules, in file order: every matching rule answers (their ``say`` joined by a space),
       except spent ``once`` rules and a second rule for an ``asks_for`` fact already answered in
       this turn. A rule with ``end`` makes the customer leave after answering.
    4. Nothing matched: ``fallback``.
    5. After ``max_turns`` agent messages the customer adds ``max_turns_say`` and leaves.

    While an approval is pending (``approve`` given, no write since) the customer never leaves:
    1, 2, ``end`` and 5 say ``hold_say`` / stay instead.
    """

    kind = "scripted"

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.customer = conversation.customer

    def respond(self, history: list[dict[str, Any]], agent_message: str) -> CustomerTurn:
        c = self.customer
        msg = agent_message or ""
        known = revealed_facts(history)
        pending = approval_pending(history)
        writes = writes_done(history)
        turn_no = agent_turns(history) + 1
        sat = c.end_when.satisfied
        if sat is not None and (not sat.after_write or writes > 0):
            ok = (not sat.any_of or any(_has(msg, s) for s in sat.any_of)) and all(_has(msg, s) for s in sat.all_of)
            if ok:
                if pending:
                    return CustomerTurn(c.hold_say)
                return CustomerTurn(sat.say, over=True, reason="satisfied")
        if any(_has(msg, p) for p in c.end_when.told_to_wait):
            if pending:
                return CustomerTurn(c.hold_say)
            return CustomerTurn(c.end_when.wait_say, over=True, reason="told_to_wait")
        spent = {i for h in history if h.get("role") == "customer" for i in h.get("rules", []) if c.rules[i].once}
        says: list[str] = []
        revealed: list[str] = []
        fired: list[int] = []
        asked: set[str] = set()
        approve = end = False
        for i, rule in enumerate(c.rules):
            if i in spent or not _matches(rule.when, c, msg, known):
                continue
            if rule.when.asks_for:
                if rule.when.asks_for in asked:
                    continue
                asked.add(rule.when.asks_for)
            fired.append(i)
            says.append(rule.say.strip())
            revealed += [f for f in rule.reveal if f not in revealed]
            approve = approve or rule.approve
            end = end or rule.end
        text = " ".join(says) if says else c.fallback
        pending_after = pending or approve
        over = False
        reason = ""
        if end and not pending_after:
            over, reason = True, "rule"
        elif turn_no >= c.max_turns and not pending_after:
            text = f"{text} {c.max_turns_say}".strip()
            over, reason = True, "max_turns"
        return CustomerTurn(text, revealed, over, approve, fired, reason)


# --- the LLM customer -----------------------------------------------------------------------------

LLM_SYSTEM = """You are role-playing a customer of an online electronics store, chatting live with a
support agent. Stay in character; never say you are an AI. Answer in one to three short sentences.

What happened (your first message): {opening}
{persona}
Facts you know (reveal a fact only when the agent asks for it; never volunteer the others):
{facts}

How to answer:
{rules}

End the conversation when you are satisfied ({satisfied}) or when the agent asks you to wait.
When you end it, finish your message with the exact token [END]. If the agent asks whether to go
ahead with a change, you may approve; never end the conversation in the same message as an
approval."""

END_TOKEN = "[END]"


class LLMCustomer:
    """The customer played by a chat model (same facts and rules as the scripted one).

    Args:
        conversation: the task's rendered conversation block.
        client: a :class:`supportgym.services.openai_client.ChatClient`.
        model: model name sent to the endpoint.
        seed: sent with every request (the endpoint may or may not honour it).
        max_tokens: bound on each answer.
        temperature: sampling temperature (0: as deterministic as the endpoint allows).

    It ends the conversation when the model writes ``[END]`` or after ``max_turns``; while an
    approval is pending it never ends (as the scripted customer). Which facts an answer revealed
    is recorded by value: a fact counts as revealed when its value appears in the answer.
    """

    kind = "llm"

    def __init__(
        self,
        conversation: Conversation,
        client: Any,
        model: str,
        *,
        seed: int | None = 0,
        max_tokens: int = 120,
        temperature: float = 0.0,
    ) -> None:
        self.conversation = conversation
        self.customer = conversation.customer
        self.client = client
        self.model = model
        self.seed = seed
        self.max_tokens = max_tokens
        self.temperature = temperature

    def system_prompt(self) -> str:
        c = self.customer
        facts = "\n".join(f"- {k.replace('_', ' ')}: {v}" for k, v in c.facts.items()) or "- (none)"
        rules = []
        for r in c.rules:
            cond = []
            if r.when.asks_for:
                cond.append(f"the agent asks for your {r.when.asks_for.replace('_', ' ')}")
            if r.when.any_of:
                cond.append("the agent mentions " + " or ".join(repr(s) for s in r.when.any_of))
            if r.when.all_of:
                cond.append("the agent mentions " + " and ".join(repr(s) for s in r.when.all_of))
            rules.append(
                f"- If {', '.join(cond) or 'relevant'}: say something like {r.say!r}"
                + (" (only the first time)" if r.once else "")
            )
        sat = c.end_when.satisfied
        satisfied = "the agent has resolved your request"
        if sat is not None and (sat.any_of or sat.all_of):
            satisfied = "the agent tells you " + ", ".join(sat.all_of or sat.any_of)
        return LLM_SYSTEM.format(
            opening=self.conversation.opening,
            persona=c.persona,
            facts=facts,
            rules="\n".join(rules) or "- Answer naturally.",
            satisfied=satisfied,
        )

    def messages(self, history: list[dict[str, Any]], agent_message: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{"role": "system", "content": self.system_prompt()}]
        for h in history:
            # From the simulated customer's side, the agent is the "user".
            if h.get("role") == "customer":
                out.append({"role": "assistant", "content": h.get("text", "")})
            elif h.get("role") == "agent":
                out.append({"role": "user", "content": h.get("text", "")})
        out.append({"role": "user", "content": agent_message})
        return out

    def respond(self, history: list[dict[str, Any]], agent_message: str) -> CustomerTurn:

        try:
            resp = self.client.chat(
                model=self.model,
                messages=self.messages(history, agent_message),
                max_tokens=self.max_tokens,
                temperature=self.temperature,
                seed=self.seed,
            )
        except ChatError as exc:
            raise CustomerUnavailable(str(exc)) from exc
        text = (resp.content or "").strip()
        ended = END_TOKEN in text
        text = text.replace(END_TOKEN, "").strip() or "..."
        c = self.customer
        known = revealed_facts(history)
        revealed = [k for k, v in c.facts.items() if k not in known and str(v) and str(v).lower() in text.lower()]
        pending = approval_pending(history)
        approve = bool(re.search(r"\b(yes|go ahead|please do|proceed|sounds good)\b", text, re.I)) and any(
            r.approve and _matches(r.when, c, agent_message, known) for r in c.rules
        )
        over = False
        reason = ""
        if not (pending or approve):
            if ended:
                over, reason = True, "llm"
            elif agent_turns(history) + 1 >= c.max_turns:
                text = f"{text} {c.max_turns_say}"
                over, reason = True, "max_turns"
        return CustomerTurn(text, revealed, over, approve, [], reason)


# --- choosing one ---------------------------------------------------------------------------------

CUSTOMER_ENV_PREFIX = "SUPPORTGYM_CUSTOMER"


def make_customer(conversation: Conversation, kind: str | None = None, *, seed: int | None = 0) -> CustomerSimulator:
    """The simulator for ``kind`` (default: the task's ``simulator``). The LLM one reads its
    endpoint from ``SUPPORTGYM_CUSTOMER_BASE_URL`` / ``_API_KEY`` / ``_MODEL``, falling back to
    the judge's ``SUPPORTGYM_JUDGE_*`` and then ``OPENAI_*``."""
    kind = kind or conversation.simulator
    if kind == "scripted":
        return ScriptedCustomer(conversation)
    if kind == "llm":

        def pick(name: str) -> str | None:
            for prefix in (CUSTOMER_ENV_PREFIX, "SUPPORTGYM_JUDGE", "OPENAI"):
                v = os.environ.get(f"{prefix}_{name}")
                if v:
                    return v
            return None

        base_url = pick("BASE_URL")
        if not base_url:
            raise ValueError(
                "the LLM customer needs an endpoint: set SUPPORTGYM_CUSTOMER_BASE_URL (or SUPPORTGYM_JUDGE_BASE_URL)"
            )

        # Every attempt and the retry fit in the upstream deadline (see services/upstream.py).
        client = ChatClient(
            base_url,
            pick("API_KEY"),
            timeout_s=min(60.0, upstream_deadline_s() / 2.5),
            max_retries=1,
        )
        return LLMCustomer(conversation, client, pick("MODEL") or "default", seed=seed)
    raise ValueError(f"unknown customer simulator {kind!r}; choose scripted or llm")


def to_json(turn: CustomerTurn) -> str:  # pragma: no cover - debugging aid
    return json.dumps(turn.__dict__)
