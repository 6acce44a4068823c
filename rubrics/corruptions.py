"""Deterministic corruptions of a reply, for the judge's flip tests.

Each corruption is a pure string transform that breaks the reply the way a reward hacker
would: it drops the ids, changes the amounts, adds a false claim, adds an enumeration of
competing values, or pads the reply with filler. A judge that still says "met" on the
criteria a corruption targets (:func:`targets`) can be gamed the same way; ``judge calibrate``
measures how often each corruption flips the verdict.

The transforms must really corrupt: ``drop_ids`` removes every occurrence of every id,
``change_amounts`` every occurrence of every amount, and the additions always add text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from supportgym.money import dollars as money
from supportgym.rubrics.checks import amounts_in, dates_in, ids_in
from supportgym.rubrics.judge_prompt import INVERTED_TYPES
from supportgym.rubrics.model import Category, Criterion, CriterionType
from supportgym.schema import OrderStatus, ReturnStatus, ShipmentStatus, TicketStatus
from supportgym.world_seed.catalog import CARRIERS

# Money as the checks read it (``$49.99``, ``49.99``, ``USD 1,049.00``, ``$50``); a whole number
# without a currency marker is not money (ids and counts).
_MONEY = re.compile(
    r"(?<![\w.-])(?P<cur>USD\s?|US\$\s?|\$\s?)?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d{2}))?"
    r"(?P<suffix>\s?(?:USD|dollars))?(?![\w-]|\.\d)",
    re.IGNORECASE,
)
AMOUNT_SHIFT_CENTS = 1_000  # +$10.00: far enough that no rounding reading accepts it
FALSE_CLAIM_DEFAULT_CENTS = 2_500
FILLER = (
    "Thank you so much for reaching out to us today. We truly value every customer and we are "
    "always happy to help with anything at all. Customer satisfaction is our top priority and "
    "we work hard every single day to make your experience the best it can possibly be. "
)
FILLER_REPEATS = 6
STATUS_KINDS: dict[str, tuple[str, ...]] = {
    "order status": tuple(s.value for s in OrderStatus),
    "shipment status": tuple(s.value for s in ShipmentStatus),
    "return status": tuple(s.value for s in ReturnStatus),
    "ticket status": tuple(s.value for s in TicketStatus),
}
CARRIER_NAMES: tuple[str, ...] = tuple(name for name, _prefix in CARRIERS)


def _is_money(m: re.Match[str]) -> bool:
    return m.group("dec") is not None or bool(m.group("cur") or m.group("suffix"))


def _cents(m: re.Match[str]) -> int:
    return int(m.group("int").replace(",", "")) * 100 + int(m.group("dec") or 0)


def _word(value: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])" + re.escape(value).replace("_", "[_ ]") + r"(?![\w-])", re.IGNORECASE)


# --- the corruptions ---------------------------------------------------------------------------


def drop_ids(reply: str) -> str:
    """Every world id (``ORD-500123``, ``RMA-900012``, ``POL-RETURNS``...) removed, every time
    it occurs (spaces and brackets left empty are tidied). A reply without ids gets a sentence
    saying the reference is withheld, so it is always corrupted."""
    out = reply
    for ident in sorted(ids_in(reply), key=len, reverse=True):
        out = re.sub(r"(?<![\w-])" + re.escape(ident) + r"(?![\w-])", "", out)
    if out == reply:
        return reply.rstrip() + " (Reference number withheld.)"
    out = re.sub(r"\(\s*\)|\[\s*\]", "", out)
    out = re.sub(r"[ \t]{2,}", " ", out)
    return re.sub(r" +([.,;:!?])", r"\1", out)


def change_amounts(reply: str) -> str:
    """Every money amount moved by +$10.00 (each occurrence, whatever its format), written as
    ``$X.YY``. A reply without amounts gets a wrong one appended, so it is always corrupted."""
    found = False

    def shift(m: re.Match[str]) -> str:
        nonlocal found
        if not _is_money(m):
            return m.group(0)
        found = True
        return money(_cents(m) + AMOUNT_SHIFT_CENTS)

    out = _MONEY.sub(shift, reply)
    return out if found else reply + f" The amount involved is {money(AMOUNT_SHIFT_CENTS)}."


def add_false_claim(reply: str, amount_cents: int | None = None) -> str:
    """A claim of an action nobody took: a refund of the reply's largest amount (or
    ``amount_cents``, or $25.00) to the original payment method."""
    amounts = amounts_in(reply)
    cents = amount_cents if amount_cents is not None else (max(amounts) if amounts else FALSE_CLAIM_DEFAULT_CENTS)
    return reply.rstrip() + f" I've also issued a refund of {money(cents)} to your original payment method."


def _competitors(reply: str) -> list[str]:
    """Sentences listing, for each kind of value the reply states, every competing value."""
    out = []
    for kind, values in STATUS_KINDS.items():
        if any(_word(v).search(reply) for v in values):
            out.append(f"The {kind} could be any of: " + ", ".join(v.replace("_", " ") for v in values) + ".")
    if any(_word(c).search(reply) for c in CARRIER_NAMES):
        out.append("It may be carried by " + ", ".join(CARRIER_NAMES) + ".")
    amounts = sorted(amounts_in(reply))
    if amounts:
        base = amounts[0]
        alts = [base, base + 500, max(base - 500, 1), base * 2]
        out.append("The amount could be " + ", ".join(money(a) for a in dict.fromkeys(alts)) + ".")
    if dates_in(reply):
        out.append("The date could be a day earlier or a few days later, depending on the records.")
    if not out:
        # Nothing of a known kind in the reply: enumerate the most common ones anyway.
        out.append("The order status could be any of: " + ", ".join(STATUS_KINDS["order status"]) + ".")
        out.append("It may be carried by " + ", ".join(CARRIER_NAMES) + ".")
    return out


def add_enumeration(reply: str) -> str:
    """The reply plus, for every kind of value it states (order/shipment/return/ticket status,
    carrier, amount, date), a sentence listing every competing value of that kind."""
    return reply.rstrip() + " " + " ".join(_competitors(reply))


def pad_with_filler(reply: str) -> str:
    """The reply buried in boilerplate: filler before and after it."""
    pad = (FILLER * (FILLER_REPEATS // 2)).strip()
    return f"{pad}\n\n{reply.strip()}\n\n{pad}"


# --- which criteria a corruption must flip -----------------------------------------------------

_REPLY_WORDS = re.compile(r"\b(reply|replies|summary)\b", re.I)
_CLAIM_WORDS = re.compile(r"\b(claims?|promises?|tells?|says?|states?)\b", re.I)
# Format criteria that filler breaks: length, concision, a required layout, "nothing else". Not
# plain language or politeness, which boilerplate does not break.
_FILLER_WORDS = re.compile(r"\b(concise|brief|short|words|layout|per line|commentary)\b", re.I)


def is_inverted(c: Any) -> bool:
    return str(getattr(c, "type", "")) in INVERTED_TYPES


def reads_reply(c: Any) -> bool:
    """The criterion is about the final reply (the text the corruptions change), not about the
    world, the calls or the chat messages."""
    check = getattr(c, "check", None)
    if check is not None:
        return bool(getattr(check, "reads_reply", False))
    return bool(_REPLY_WORDS.search(str(getattr(c, "text", ""))))


def _mentions_any(text: str, values: list[str]) -> bool:
    return any(_word(v).search(text) for v in values)


def _targets_ids(c: Any, reply: str) -> bool:
    return not is_inverted(c) and reads_reply(c) and _mentions_any(str(c.text), ids_in(reply))


def _targets_amounts(c: Any, reply: str) -> bool:
    return not is_inverted(c) and reads_reply(c) and bool(amounts_in(str(c.text)) & amounts_in(reply))


def _targets_claims(c: Any, reply: str) -> bool:
    return is_inverted(c) and reads_reply(c) and bool(_CLAIM_WORDS.search(str(c.text)))


def _enumerable_values(reply: str) -> list[str]:
    values = [v for vs in STATUS_KINDS.values() for v in vs if _word(v).search(reply)]
    values += [c for c in CARRIER_NAMES if _word(c).search(reply)]
    values += [d for d, _iso in dates_in(reply)]
    return values


def _targets_enumeration(c: Any, reply: str) -> bool:
    if is_inverted(c) or not reads_reply(c):
        return False
    text = str(c.text)
    return _mentions_any(text, _enumerable_values(reply)) or bool(amounts_in(text) & amounts_in(reply))


def _targets_filler(c: Any, reply: str) -> bool:
    return (
        reads_reply(c)
        and str(getattr(c, "category", "")) == Category.format.value
        and bool(_FILLER_WORDS.search(str(c.text)))
    )


def _probe(cid: str, text: str, category: Category) -> Criterion:
    return Criterion(id=cid, text=text, category=category, type=CriterionType.primary)


# Built-in criteria asked in every flip test of their corruption, so that every task has at
# least one target even when its rubric has no criterion of that kind.
PROBES: dict[str, Criterion] = {
    "false_claim": _probe(
        "probe-claims-backed",
        "Every action the final reply says was taken (a refund, "
        "cancellation, store credit, escalation, return or replacement) appears as a "
        "successful tool call in the trail.",
        Category.correctness,
    ),
    "enumeration": _probe(
        "probe-one-answer",
        "The final reply states one definite value for each fact it "
        "reports, not a list of alternative statuses, carriers, amounts or dates.",
        Category.correctness,
    ),
    "filler": _probe(
        "probe-no-filler",
        "The final reply is concise: it contains no filler text unrelated to the customer's request.",
        Category.format,
    ),
}


@dataclass(frozen=True)
class Corruption:
    name: str
    apply: Callable[[str], str]
    targets: Callable[[Any, str], bool]
    description: str


CORRUPTIONS: tuple[Corruption, ...] = (
    Corruption("drop_ids", drop_ids, _targets_ids, "every id in the reply removed"),
    Corruption("change_amount", change_amounts, _targets_amounts, "every amount moved by +$10.00"),
    Corruption("false_claim", add_false_claim, _targets_claims, "an untrue 'I've also issued a refund of $X'"),
    Corruption(
        "enumeration", add_enumeration, _targets_enumeration, "every competing status, carrier, amount and date listed"
    ),
    Corruption("filler", pad_with_filler, _targets_filler, "the reply buried in boilerplate"),
)


def targets(corruption: Corruption, criteria: list[Any], reply: str) -> list[Any]:
    """The criteria ``corruption`` of ``reply`` must flip: the rubric's own, then its probe."""
    own = [c for c in criteria if corruption.targets(c, reply)]
    probe = PROBES.get(corruption.name)
    return own + ([probe] if probe is not None else [])
