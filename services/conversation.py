"""The ``conversation:`` block of a task: a customer who talks to the agent live.

A conversational task gives the agent a pseudo-tool, ``message_customer`` (args ``{message}``),
whose observation is the customer's answer ``{"customer": "...", "conversation_over": bool}``.
The customer is simulated (:mod:`supportgym.services.customer_sim`): the **scripted** simulator
follows this block deterministically (what RL relies on); the **LLM** simulator gets the same
facts and rules as a system prompt. See ``tasks/AUTHORING.md``, "Conversational tasks".

Every string is a template rendered against the task's setup values when the task is prepared.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MESSAGE_TOOL = "message_customer"

DEFAULT_WAIT_PHRASES = [
    "get back to you",
    "i'll follow up",
    "i will follow up",
    "please wait",
    "bear with me",
    "one moment",
    "hold on",
    "give me a moment",
    "let me check",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class When(_Strict):
    """When a rule answers. Every given condition must hold (all are case-insensitive)."""

    any_of: list[str] = Field(default_factory=list, description="The agent's message contains one of these.")
    all_of: list[str] = Field(default_factory=list, description="The agent's message contains all of these.")
    regex: str | None = Field(None, description="The agent's message matches this regex (search).")
    asks_for: str | None = Field(
        None, description="A fact: the message names it (its name with _ as space, or an alias)."
    )
    requires: list[str] = Field(
        default_factory=list, description="Facts the customer must already have revealed in earlier turns."
    )

    @field_validator("regex")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"bad regex: {exc}") from None
        return v

    @model_validator(mode="after")
    def _something(self) -> When:
        if not (self.any_of or self.all_of or self.regex or self.asks_for):
            raise ValueError("give at least one of any_of, all_of, regex, asks_for")
        return self


class Rule(_Strict):
    """What the customer says when the agent's message matches ``when``."""

    when: When
    say: str = Field(min_length=1)
    reveal: list[str] = Field(default_factory=list, description="Facts this answer gives away.")
    once: bool = Field(False, description="Answer at most once; later matches fall through to later rules.")
    approve: bool = Field(
        False, description="This answer approves a write ('yes, go ahead'): the episode cannot end before it."
    )
    end: bool = Field(False, description="The customer ends the conversation with this answer.")

    @model_validator(mode="after")
    def _not_both(self) -> Rule:
        if self.approve and self.end:
            raise ValueError("an approving answer cannot end the conversation (the approved write must follow)")
        return self


class Satisfied(_Strict):
    """The customer is satisfied (and leaves) when the agent's message mentions these."""

    any_of: list[str] = Field(default_factory=list)
    all_of: list[str] = Field(default_factory=list)
    after_write: bool = Field(False, description="Only once a write has succeeded in the episode.")
    say: str = "Great, that's everything I needed. Thanks, bye!"

    @model_validator(mode="after")
    def _something(self) -> Satisfied:
        if not (self.any_of or self.all_of or self.after_write):
            raise ValueError("give any_of, all_of or after_write")
        return self


class EndWhen(_Strict):
    satisfied: Satisfied | None = None
    told_to_wait: list[str] = Field(
        default_factory=lambda: list(DEFAULT_WAIT_PHRASES),
        description="Phrases after which the customer leaves to wait ([] : never).",
    )
    wait_say: str = "Okay, I'll wait to hear back from you. Thanks."


class Customer(_Strict):
    facts: dict[str, Any] = Field(default_factory=dict, description="What the customer knows: name -> value.")
    aliases: dict[str, list[str]] = Field(
        default_factory=dict, description="Extra words that ask for a fact (asks_for)."
    )
    persona: str = Field("", description="How the customer talks (for the LLM simulator).")
    rules: list[Rule] = Field(default_factory=list)
    fallback: str = "Sorry, I'm not sure what you need from me. Can you help with my request?"
    end_when: EndWhen = Field(default_factory=EndWhen)
    max_turns: int = Field(8, ge=1, le=100, description="Agent messages before the customer leaves.")
    max_turns_say: str = "I'm sorry, I have to go now. Bye."
    hold_say: str = Field(
        "Sure, I'll hold on.",
        description="Said instead of leaving while an approved write is still pending.",
    )

    @model_validator(mode="after")
    def _facts_known(self) -> Customer:
        known = set(self.facts)
        for i, r in enumerate(self.rules):
            for f in [*r.reveal, *r.when.requires, *([r.when.asks_for] if r.when.asks_for else [])]:
                if f not in known:
                    raise ValueError(f"rules.{i}: unknown fact {f!r}; facts: {', '.join(sorted(known)) or 'none'}")
        for f in self.aliases:
            if f not in known:
                raise ValueError(f"aliases: unknown fact {f!r}")
        return self

    def words_for(self, fact: str) -> list[str]:
        return [fact.replace("_", " "), *self.aliases.get(fact, [])]


class Conversation(_Strict):
    """The ``conversation:`` block of a family or variant."""

    opening: str = Field(min_length=1, description="The customer's first message (the instruction's body).")
    simulator: Literal["scripted", "llm"] = "scripted"
    customer: Customer = Field(default_factory=Customer)
