"""Claims against the trail: statements in a reply that an action happened or will happen,
checked against what the episode actually wrote. Pure Python, no LLM, deterministic.

``extract_claims(text)`` finds the claims (rules in :mod:`claim_rules`, sentence and clause
cutting in :mod:`claim_text`); ``verify_claims(claims, trail, changes)`` says which of them a
successful write backs (evidence in :mod:`claim_evidence`); ``false_claims`` keeps the others.
See docs/reward.md, "Claims against the trail", for what counts as a claim and why.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from supportgym.db import WorldDB
from supportgym.rubrics.claim_evidence import (
    Evidence,
    WriteFacts,
    history_support,
    write_facts,
)
from supportgym.rubrics.claim_rules import ClaimKind, Tense, claims_in_clause
from supportgym.rubrics.claim_text import sentences
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
                    )
                )
    return out


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
        if not ev.supported:
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
    return Evidence(False, "; ".join(reasons))


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
