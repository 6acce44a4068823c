"""Mentions that enumeration cannot satisfy.

A check "the reply states the right status" is cheap to game: list every status. So a mention
check also looks for **competing values of the same kind** -- other statuses, carriers, amounts,
dates, ids of the same prefix, day counts -- and fails when the reply states more of them than the
task calls for.

What the task calls for: the check's own values, plus every value of that kind in the task's
*allowed text* (the reference solution's reply and messages, and what the customer said). So a
reply may repeat what the customer wrote and what a model answer would say, and nothing more.

How many extra values are tolerated, by kind: none for closed vocabularies (statuses, carriers,
tiers) and day counts, where a second value can only be a hedge; one for open kinds (amounts,
dates, ids) when the check asks for a single value, since a good reply may name, say, the order
total beside the refund. When the check asks for a list (several ids or amounts), none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from supportgym.ids import prefix_of
from supportgym.money import decimal_text
from supportgym.rubrics.text import amounts_in, dates_in, ids_in, mentions
from supportgym.schema import OrderStatus, ShipmentStatus, Tier, WarrantyStatus
from supportgym.world_seed.catalog import CARRIERS


def _phrase(value: str) -> str:
    return value.replace("_", " ").lower()


VOCABULARIES: dict[str, tuple[str, ...]] = {
    "status": tuple(dict.fromkeys(_phrase(s.value) for s in [*OrderStatus, *ShipmentStatus])),
    "carrier": tuple(c.lower() for c, _ in CARRIERS),
    "tier": tuple(t.value for t in Tier),
    # A warranty claim's status is its own kind: "approved" competes with "rejected", not with
    # an order's "shipped", and listing every claim status is the same hedge.
    "claim status": tuple(s.value for s in WarrantyStatus),
}
# Kinds whose words count only when stated as something's state (see _stated).
_STATE_KINDS = frozenset({"status", "claim status"})
# A competing status is one the reply *states*; "will be delivered", "once shipped" name a
# status without claiming it, so a cue word among the three before it discounts the mention.
_HYPOTHETICAL = frozenset(
    "will would should could can may might once when after until if before be to not never".split()
)  # "be" also covers "will be", "to be"; "been" is a state cue
_DAYS = re.compile(
    r"(?<![\w.])(\d{1,3})(?:\s*(?:-|to|–)\s*\d{1,3})?[\s-]*(?:business\s+|working\s+|calendar\s+)?days?\b", re.I
)


_MONEY_ONLY = re.compile(r"(?:\$|USD\s?)?\d[\d,]*\.\d{2}")


@dataclass(frozen=True)
class Competition:
    kind: str
    values: tuple[str, ...]
    tolerated: int

    @property
    def too_many(self) -> bool:
        return len(self.values) > self.tolerated

    def __str__(self) -> str:
        return f"competing {self.kind} value(s) {', '.join(self.values)}"


def _vocabulary_of(needle: str) -> str | None:
    low = _phrase(needle.strip())
    for kind, words in VOCABULARIES.items():
        if low in words:
            return kind
    return None


_STATE_CUES = frozenset("is was are were been status currently now shows marked as still".split())
_ALL_STATUSES = "|".join(sorted((re.escape(w) for k in _STATE_KINDS for w in VOCABULARIES[k]), key=len, reverse=True))
_LISTED = re.compile(r"(?:" + _ALL_STATUSES + r")\s*(?:,|/|\bor\b|\band\b)\s*$")


def _stated(text: str, word: str) -> bool:
    """``word`` (a status) is stated as something's state: after a state cue ("is shipped",
    "status: delivered", "has been cancelled") or in a list of statuses ("shipped, delivered"),
    not as an action ("I refunded") nor a hypothetical ("will be delivered", "once shipped")."""
    for m in re.finditer(r"(?<![a-z0-9])" + re.escape(word) + r"(?![a-z0-9])", text):
        before = re.findall(r"[a-z']+", text[max(0, m.start() - 40) : m.start()])[-3:]
        if _HYPOTHETICAL.intersection(before):
            continue
        if _STATE_CUES.intersection(before[-2:]) or _LISTED.search(text[max(0, m.start() - 40) : m.start()]):
            return True
    return False


def _days(text: str) -> set[int]:
    return {int(m.group(1)) for m in _DAYS.finditer(text)}


def competition(text: str, *, needles: list[str], amounts: list[int], allowed_text: str) -> list[Competition]:
    """Competing values in ``text`` for a check that asks for ``needles`` and ``amounts``.
    Only kinds the check asks for are looked at; ``allowed_text`` is what the task calls for."""
    low = text.lower()
    allowed_low = allowed_text.lower()
    out: list[Competition] = []
    # Closed vocabularies.
    asked_vocab: dict[str, set[str]] = {}
    for n in needles:
        kind = _vocabulary_of(n)
        if kind is not None:
            asked_vocab.setdefault(kind, set()).add(_phrase(n))
    for kind, asked in asked_vocab.items():
        extra = [
            w
            for w in VOCABULARIES[kind]
            if w not in asked
            and not any(w in a or a in w for a in asked)
            and not mentions(allowed_low, w)
            and (_stated(low, w) if kind in _STATE_KINDS else mentions(low, w))
        ]
        out.append(Competition(kind, tuple(extra), 0))
    # Day counts ("45 days", "45-day").
    asked_days = {d for n in needles for d in _days(n)}
    if asked_days:
        extra_days = sorted(_days(text) - asked_days - _days(allowed_text))
        out.append(Competition("day count", tuple(f"{d} days" for d in extra_days), 0))
    # Ids, per prefix.
    asked_ids: dict[str, set[str]] = {}
    for n in needles:
        for ident in ids_in(n):
            asked_ids.setdefault(prefix_of(ident), set()).add(ident)
    allowed_ids = set(ids_in(allowed_text))
    for prefix, asked in asked_ids.items():
        extra = [i for i in ids_in(text) if i.startswith(prefix + "-") and i not in asked and i not in allowed_ids]
        out.append(Competition(f"{prefix} id", tuple(extra), 1 if len(asked) == 1 else 0))
    # Amounts (a needle that is just an amount, "58.99", counts as one).
    amounts = [*amounts, *(c for n in needles if _MONEY_ONLY.fullmatch(n.strip()) for c in amounts_in(n))]
    if amounts:
        extra_amounts = sorted(amounts_in(text) - set(amounts) - amounts_in(allowed_text))
        out.append(
            Competition("amount", tuple(decimal_text(c) for c in extra_amounts), 1 if len(set(amounts)) == 1 else 0)
        )
    # Dates.
    asked_dates = {d for n in needles for _, d in dates_in(n) if d}
    if asked_dates:
        allowed_dates = {d for _, d in dates_in(allowed_text) if d}
        extra_dates = sorted({d for _, d in dates_in(text) if d} - asked_dates - allowed_dates)
        out.append(Competition("date", tuple(extra_dates), 1 if len(asked_dates) == 1 else 0))
    return [c for c in out if c.too_many]


# How many values of a kind beyond the model answer's a reply may state before it reads as a
# list of guesses (the gate; a mention criterion is stricter about the fact it asks for).
GATE_TOLERANCE = {
    "status": 2,
    "claim status": 2,
    "carrier": 2,
    "tier": 2,
    "day count": 2,
    "id": 2,
    "amount": 2,
    "date": 2,
}


def enumerated(text: str, allowed_text: str) -> list[Competition]:
    """Kinds of value that ``text`` lists beyond what ``allowed_text`` (the model answer and
    what the customer said) states, by more than :data:`GATE_TOLERANCE` allows."""
    low, allowed_low = text.lower(), allowed_text.lower()
    out: list[Competition] = []
    for kind, words in VOCABULARIES.items():
        stated = [
            w
            for w in words
            if not mentions(allowed_low, w) and (_stated(low, w) if kind in _STATE_KINDS else mentions(low, w))
        ]
        out.append(Competition(kind, tuple(stated), GATE_TOLERANCE[kind]))
    out.append(
        Competition(
            "day count",
            tuple(f"{d} days" for d in sorted(_days(text) - _days(allowed_text))),
            GATE_TOLERANCE["day count"],
        )
    )
    allowed_ids = set(ids_in(allowed_text))
    by_prefix: dict[str, list[str]] = {}
    for i in ids_in(text):
        if i not in allowed_ids:
            by_prefix.setdefault(prefix_of(i), []).append(i)
    out += [Competition(f"{p} id", tuple(v), GATE_TOLERANCE["id"]) for p, v in by_prefix.items()]
    out.append(
        Competition(
            "amount",
            tuple(decimal_text(c) for c in sorted(amounts_in(text) - amounts_in(allowed_text))),
            GATE_TOLERANCE["amount"],
        )
    )
    allowed_dates = {d for _, d in dates_in(allowed_text) if d}
    out.append(
        Competition("date", tuple(sorted({d for _, d in dates_in(text) if d} - allowed_dates)), GATE_TOLERANCE["date"])
    )
    return [c for c in out if c.too_many]
