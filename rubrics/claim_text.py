"""Cutting a reply into sentences and clauses for the claim checker (rubrics/claims.py).

A reply is cut first at line breaks (so bullet and numbered lists give one sentence per item),
then at sentence ends, then each sentence into clauses at the words that start a new
proposition ("but", "so", "although", ";", ":", a dash, "and" + a new subject or a past-tense
verb). The claim rules look for negations, hedges and conditions inside one clause only, so
that "I couldn't cancel it, but I've opened a return" keeps its second half.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that end with a period without ending the sentence.
_ABBREVIATIONS = frozenset(
    ["e.g", "i.e", "etc", "mr", "mrs", "ms", "dr", "approx", "no", "vs", "inc", "ltd", "co", "jr", "sr", "dept", "qty"]
)
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u2023\u25e6]|\d{1,2}[.)])\s+")
# A sentence end: . ! ? (optionally closed by a quote or bracket) then space and a capital,
# digit, quote, dollar sign or bracket. "$1,049.00" and "e.g. its" never match.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'($\[])")
_PAST_TENSE = r"(?:\w+ed|sent|set|put|made|gave|given|got|gotten|done|issued|opened|filed)"
_SUBJECT = r"(?:i|we|you|it|they|he|she|this|that|the|your|our|a|an|my)"
# Every break starts with one of ; : , or a space, consumed first so that the regex engine
# skips all other positions quickly; the lookbehinds then tell which of them it was.
_CLAUSE_BREAK = re.compile(
    r"[\s;:,](?:"
    r"(?<=;)\s*|(?<=\s)\s*;\s*"
    r"|(?<=:)\s+(?=[^\W\d])"
    r"|(?<=\s)\s*[-\u2013\u2014]+\s+"
    r"|(?:(?<=,)\s+|(?<=\s)\s*)(?:but|so|although|though|whereas|however|instead)\b,?\s+"
    rf"|(?:(?<=,)\s+|(?<=\s)\s*)and\s+(?={_SUBJECT}\b|(?:also\s+|then\s+)?{_PAST_TENSE}\b)"
    r"|(?<=,)\s+and\s+(?=(?:once|if|when|as\s+soon\s+as|unless)\b)"
    r"|(?<=,)\s+(?=i\b|we\b|i'|we')"
    r")"
)  # matched against the lowercased sentence, case-sensitively (faster than IGNORECASE)


@dataclass(frozen=True)
class Sentence:
    text: str
    clauses: tuple[str, ...]
    is_question: bool


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``; every non-empty line (bullets stripped) starts a new one."""
    out: list[str] = []
    for line in text.splitlines():
        line = _BULLET.sub("", line).strip()
        if not line:
            continue
        start = 0
        for m in _SENTENCE_END.finditer(line):
            head = line[start : m.start()].rstrip()
            last_word = re.split(r"\s+", head)[-1].rstrip(".").lower() if head else ""
            if head.endswith(".") and last_word in _ABBREVIATIONS:
                continue
            out.append(head)
            start = m.end()
        tail = line[start:].strip()
        if tail:
            out.append(tail)
    return [s for s in out if s]


# A sentence that opens with a concession or a reason ("Although I can't refund it, our team
# now has it") ends that part at its first comma.
_LEADING_SUBORDINATE = re.compile(r"^(?:although|though|while|whereas|since|because|as)\b[^,]*,\s+")
# A part that opens with a condition (or a request to the customer, which works as one) governs
# what follows it up to the next strong break: "if it ever develops a fault, just contact us
# and we'll file a claim" and "please write to us from that address and I'll update it" stay
# one clause each.
_LEADING_CONDITION = re.compile(
    r"^(?:if|unless|once|as\s+soon\s+as|as\s+long\s+as|in\s+case|provided|assuming|when|whenever|should|"
    r"please|kindly|just)\b",
)
_WEAK_BREAK = re.compile(r"^[\s,]*(?:and\s*)?$")


def lowered(text: str) -> str:
    """``text`` in lower case, every character kept in place (U+0130 lowercases to two)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)


def split_clauses(sentence: str) -> tuple[str, ...]:
    low_sentence = lowered(sentence)
    pieces: list[tuple[str, str, str]] = []  # (separator before, part, part lowercased)
    pos, sep = 0, ""
    for m in _CLAUSE_BREAK.finditer(low_sentence):
        pieces.append((sep, sentence[pos : m.start()], low_sentence[pos : m.start()]))
        pos, sep = m.end(), m.group(0)
    pieces.append((sep, sentence[pos:], low_sentence[pos:]))
    parts: list[str] = []
    conditional = False
    for sep, part, low in pieces:
        if conditional and parts and _WEAK_BREAK.match(sep):
            parts[-1] = f"{parts[-1]}{sep}{part}"
            continue
        conditional = bool(_LEADING_CONDITION.match(low.strip(" ,")))
        lead = _LEADING_SUBORDINATE.match(low)
        if lead:
            parts += [part[: lead.end()], part[lead.end() :]]
        else:
            parts.append(part)
    return tuple(p for p in (p.strip(" ,") for p in parts) if p)


def sentences(text: str) -> list[Sentence]:
    return [
        Sentence(text=s, clauses=split_clauses(s), is_question=s.rstrip("\"') ").endswith("?"))
        for s in split_sentences(text)
    ]


# --- stated counts ("I've tagged all 15 tickets", "both orders were cancelled") ---------------

_NUMBER_WORDS = {
    "both": 2,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
}
_NUMBER = r"(?P<n>\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")"
# Up to two describing words between the number and the noun ("15 open shipping tickets"); not
# words that make the phrase about other things ("the 3 other tickets", "2 of the orders").
_DESCRIBING = r"(?:(?!other\b|remaining\b|more\b|fewer\b|of\b|out\b|and\b|or\b)[a-z]+\s+){0,2}"
# A number that is part of an id, an amount or a decimal is not a count.
_NOT_AFTER = r"(?<![\w$.,\-])"
# "1 of your 2 orders", "more than 3 tickets", "up to 5 orders": partitive or approximate.
_QUALIFIED = re.compile(
    r"(?:\b(?:\d{1,3}|one|" + "|".join(_NUMBER_WORDS) + r")\s+(?:out\s+)?of\s+(?:the\s+|your\s+|these\s+|those\s+)?"
    r"|\b(?:than|about|around|over|under|nearly|almost|roughly|approximately|least|most|up\s+to)\s+)$"
)
# How many words may separate the count phrase from the action's words.
_NEAR_WORDS = 2


def stated_count(clause: str, noun: str, start: int, end: int) -> int | None:
    """The number of ``noun`` things a clause says its action (the cue at ``start:end`` of the
    lowercased clause) acted on, or None when it states no count, states it only approximately
    or partitively, or states several. The count phrase must be inside the action's words or
    next to them (at most two words between): "I tagged TKT-1 and left the 3 other tickets
    alone" states no count for the tagging."""
    low = lowered(clause)
    pattern = re.compile(_NOT_AFTER + _NUMBER + r"\s+" + _DESCRIBING + rf"(?:{noun})\b")
    counts: set[int] = set()
    for m in pattern.finditer(low):
        if _QUALIFIED.search(low, 0, m.start()):
            return None
        inside = m.start() < end and m.end() > start
        after = m.start() >= end and len(low[end : m.start()].split()) <= _NEAR_WORDS
        before = m.end() <= start and len(low[m.end() : start].split()) <= _NEAR_WORDS
        if inside or after or before:
            word = m.group("n")
            counts.add(int(word) if word.isdigit() else _NUMBER_WORDS[word])
    return counts.pop() if len(counts) == 1 else None
