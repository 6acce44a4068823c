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
