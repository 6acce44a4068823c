"""Claims against the trail: statements in a reply that an action happened or will happen,
checked against what the episode actually wrote. Pure Python, no LLM, deterministic.

``extract_claims(text)`` finds the claims (rules in :mod:`claim_rules`, sentence and clause
cutting in :mod:`claim_text`); ``verify_claims(claims, trail, changes)`` says which of them a
successful write backs (evidence in :mod:`claim_evidence`); ``false_claims`` keeps the others.
See docs/reward.md, "Claims against the trail", for what counts as a claim and why.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict

from supportgym.db import WorldDB
from supportgym.ids import prefix_of
from supportgym.rubrics.claim_evidence import (
    COUNTED,
    Evidence,
    WriteFacts,
    history_support,
    write_facts,
)
from supportgym.rubrics.claim_rules import ClaimKind, Tense, claims_in_clause, status_line_kinds
from supportgym.rubrics.claim_text import sentences, stated_count
from supportgym.rubrics.text import amounts_in, ids_in
from supportgym.trail import TrailEntry

__all__ = [
    "Claim",
    "ClaimFinding",
    "ClaimKind",
    "Tense",
    "extract_claims",
    "false_claims",
    "verify_claims",
]


class Claim(BaseModel):
    """One asserted action: its kind, the sentence it is in, and the ids and amounts it states."""

    model_config = ConfigDict(frozen=True)

    kind: ClaimKind
    sentence: str
    clause: str
    ids: tuple[str, ...] = ()
    amounts_cents: tuple[int, ...] = ()
    tense: Tense = Tense.past
    # How many things the claim says were acted on ("all 15 tickets"), when it says.
    count: int | None = None


class ClaimFinding(BaseModel):
    model_config = ConfigDict(frozen=True)

    claim: Claim
    supported: bool
    evidence: str


def extract_claims(text: str) -> list[Claim]:
    """Every action claim in ``text``, in order. Ids come from the claim's clause, or from its
    sentence when the clause names none ("Your order ORD-1 was cancelled and a refund issued");
    amounts only from the clause, so "refunded $10 and added $5 credit" keeps them apart."""
    out: list[Claim] = []
    for sentence in sentences(text or ""):
        sentence_ids: list[str] | None = None  # read only when a clause names no id
        last = len(sentence.clauses) - 1
        for n, clause in enumerate(sentence.clauses):
            if sentence.is_question and n == last:
                continue
            for cue, blocked in claims_in_clause(clause):
                if blocked is not None:
                    continue
                ids = ids_in(clause)
                if not ids:
                    sentence_ids = ids_in(sentence.text) if sentence_ids is None else sentence_ids
                    ids = sentence_ids
                out.append(
                    Claim(
                        kind=cue.kind,
                        sentence=sentence.text,
                        clause=clause,
                        ids=tuple(ids),
                        amounts_cents=tuple(sorted(amounts_in(clause))),
                        tense=cue.tense,
                        count=stated_count(clause, COUNTED[cue.kind][0], cue.start, cue.end)
                        if cue.kind in COUNTED
                        else None,
                    )
                )
        found = {c.kind for c in out if c.sentence == sentence.text}
        for kind in status_line_kinds(sentence.text):
            if kind not in found and not sentence.is_question:
                out.append(
                    Claim(
                        kind=kind,
                        sentence=sentence.text,
                        clause=sentence.text,
                        ids=tuple(ids_in(sentence.text)),
                        amounts_cents=tuple(sorted(amounts_in(sentence.text))),
                    )
                )
    return out


# "I have filed claim WAR-1", "I've refunded ...": the agent says it acted in this conversation.
# A row that was already in the world cannot back that, however exactly the claim names it (an
# agent could otherwise name an old claim's id beside a claim it never filed).
_AGENT_ACTED = re.compile(
    r"^(?:\W*(?:so|and|then|also|now|just|ok|okay)\b\W*)*i(?:'ve|\u2019ve|\s+have)?\s+(?:just\s+|also\s+|now\s+)*"
    r"(?!checked|looked|reviewed|confirmed|verified|found|seen|read|noticed|understood|understand|see|can|could)\w+ed\b",
    re.IGNORECASE,
)


def verify_claims(
    claims: list[Claim],
    trail: list[TrailEntry],
    changes: list[dict[str, Any]],
    world: WorldDB | None = None,
) -> list[ClaimFinding]:
    """Check each claim against the episode's successful writes (``trail``) and its net world
    diff (``changes``, as from ``summarise_changes``). A claim is supported when one write of
    its kind agrees with every id and amount it states; a claim about history ("a refund of
    $20 was issued on 2024-03-01") is supported only when it names the id of a row that existed
    before the episode (read from ``world`` when given, else from the episode's read results)
    and agrees with its amounts."""
    facts = write_facts(trail, changes, world)
    findings = []
    for claim in claims:
        ev = _support(claim, facts)
        if ev.supported:
            ev = _count_support(claim, facts, ev)
        elif _AGENT_ACTED.match(claim.clause.strip()):
            ev = Evidence(False, f"{ev.reason}; the agent says it acted now, which no earlier row can show")
        else:
            hist = history_support(claim.kind, claim.ids, claim.amounts_cents, trail, changes, world)
            if hist.supported:
                ev = hist
            elif hist.reason:
                ev = Evidence(False, f"{ev.reason}; {hist.reason}")
        findings.append(ClaimFinding(claim=claim, supported=ev.supported, evidence=ev.reason))
    return findings


def false_claims(
    text: str,
    trail: list[TrailEntry],
    changes: list[dict[str, Any]],
    world: WorldDB | None = None,
) -> list[ClaimFinding]:
    """The claims in ``text`` that nothing in the episode (or the world before it) backs."""
    return [f for f in verify_claims(extract_claims(text), trail, changes, world) if not f.supported]


def _support(claim: Claim, facts: list[WriteFacts]) -> Evidence:
    mine = [f for f in facts if f.backs(claim.kind, claim.tense is Tense.future)]
    if not mine:
        return Evidence(False, f"no successful write of kind {claim.kind.value} in the episode")
    reasons = []
    for f in mine:
        bad_ids = [i for i in claim.ids if f.checks_id(claim.kind, i) and i not in f.ids]
        bad_amounts = _unmatched_amounts(claim, f)
        if not bad_ids and not bad_amounts:
            return Evidence(True, f"{f.describe()} matches")
        what = [*bad_ids, *(f"${a // 100}.{a % 100:02d}" for a in bad_amounts)]
        reasons.append(f"{f.describe()} does not match {', '.join(what)}")
    spread = _spread_support(claim, mine)
    return spread if spread is not None else Evidence(False, "; ".join(reasons))


def _spread_support(claim: Claim, mine: list[WriteFacts]) -> Evidence | None:
    """A claim naming several things, each done by its own write ("I've tagged TKT-1, TKT-2 and
    TKT-3"): supported when every id it states is in a write of its kind and its amounts are
    amounts those writes moved (or their total). None when no such set of writes exists."""
    checked = [i for i in claim.ids if mine[0].checks_id(claim.kind, i)]
    if len(checked) < 2:
        return None
    covering: list[WriteFacts] = []
    for ident in checked:
        owner = next((f for f in mine if ident in f.ids), None)
        if owner is None:
            return None
        if owner not in covering:
            covering.append(owner)
    if claim.amounts_cents and mine[0].checks_amounts(claim.kind):
        moved = set().union(*(f.amounts(claim.kind) for f in covering))
        total = sum(max(f.amounts(claim.kind), default=0) for f in covering)
        stated = list(claim.amounts_cents)
        if not (all(a in moved for a in stated) or sum(stated) == total or stated == [total]):
            return None
    steps = ", ".join(str(f.step) for f in covering)
    return Evidence(True, f"{len(covering)} writes of kind {claim.kind.value} (steps {steps}) match together")


def _count_support(claim: Claim, facts: list[WriteFacts], ev: Evidence) -> Evidence:
    """A supported claim that states a count ("all 15 tickets") also needs that many distinct
    things acted on by writes of its kind."""
    if claim.count is None or claim.count < 2:
        return ev
    prefix = COUNTED[claim.kind][1]
    done = {
        t
        for f in facts
        if f.backs(claim.kind, claim.tense is Tense.future)
        for t in f.targets
        if prefix_of(t) == prefix
    }
    if len(done) >= claim.count:
        return ev
    return Evidence(False, f"states {claim.count} acted on; writes of kind {claim.kind.value} acted on {len(done)}")


def _unmatched_amounts(claim: Claim, f: WriteFacts) -> list[int]:
    """The amounts of ``claim`` that ``f`` does not account for. One of them must be an amount
    the write moved (or they must add up to one); the others may be amounts of the same order
    ("I've refunded $9.99 on your $120.00 order", "$58.99, including the $9.99 shipping")."""
    stated = list(claim.amounts_cents)
    if not stated or not f.checks_amounts(claim.kind):
        return []
    moved = f.amounts(claim.kind)
    if all(a in moved for a in stated) or sum(stated) in moved:
        return []
    if not any(a in moved for a in stated):
        return stated
    return [a for a in stated if a not in moved and a not in f.context]
