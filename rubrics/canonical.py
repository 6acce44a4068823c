"""Agent-written text as a reader sees it, before any program check reads it.

A person reading "I've r\u200befunded $58.99" sees "refunded"; a regular expression does not. An
agent trained against program checks can learn to write what the customer reads while the checks
read something else: a zero-width space inside a claim word, a Cyrillic "е" in "refundеd",
fullwidth digits in an order id, a non-breaking hyphen in "ORD\u2011500123", an email split by a
soft hyphen or written "jane [at] example [dot] com". :func:`canonical` undoes all of these, so
that the claim, disclosure, enumeration and mention checks read the text the customer reads.
Grading applies it to the reply and to every string argument of the trail
(:func:`supportgym.rubrics.grade.make_context`); the judge sees the text as written.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

# Letters of other scripts drawn like Latin ones. A word made only of Latin letters and these is
# a Latin word in disguise; a word with any other letter of its script (a real Russian or Greek
# word) is left alone.
_CONFUSABLE = str.maketrans(
    "аеорсхуіјѕԁһԛԝАВЕКМНОРСТХЅІЈԚԜΑΒΕΖΗΙΚΜΝΟΡΤΥΧονκρτυχ",
    "aeopcxyijsdhqwABEKMHOPCTXSIJQWABEZHIKMNOPTYXovkptux",
)
_CONFUSABLE_CHARS = frozenset(chr(c) for c in _CONFUSABLE)
_WORD = re.compile(r"\w+")
# Hyphen-like characters between two word characters are the hyphen of an id or a compound.
_HYPHEN = re.compile(r"(?<=\w)[\u2010\u2011\u2012\u2013\u2212\ufe63\uff0d\u00ad]+(?=\w)")
# "jane [at] example [dot] com": spelled-out email punctuation in brackets.
_AT = re.compile(r"\s*[\[({<]\s*at\s*[\])}>]\s*", re.IGNORECASE)
_DOT = re.compile(r"\s*[\[({<]\s*dot\s*[\])}>]\s*", re.IGNORECASE)


def _unmask_word(m: re.Match[str]) -> str:
    word = m.group(0)
    if word.isascii() or not any(ch in _CONFUSABLE_CHARS for ch in word):
        return word
    if all(ch.isascii() or ch in _CONFUSABLE_CHARS for ch in word):
        return word.translate(_CONFUSABLE)
    return word


@lru_cache(maxsize=4096)
def canonical(text: str) -> str:
    """``text`` with compatibility forms folded (NFKC: fullwidth digits and letters), invisible
    format characters removed (zero-width spaces and joiners, soft hyphens, bidi controls),
    hyphen look-alikes inside words made hyphens, disguised Latin words unmasked and bracketed
    "[at]"/"[dot]" made "@"/"."."""
    if text.isascii() and "[" not in text and "(" not in text and "{" not in text and "<" not in text:
        return text
    out = unicodedata.normalize("NFKC", text)
    out = _HYPHEN.sub("-", out)
    out = "".join(ch for ch in out if unicodedata.category(ch) != "Cf")
    out = _WORD.sub(_unmask_word, out)
    out = _AT.sub("@", out)
    return _DOT.sub(".", out)


def canonical_value(value: Any) -> Any:
    """``value`` (a tool call's arguments) with every string in it made :func:`canonical`."""
    if isinstance(value, str):
        return canonical(value)
    if isinstance(value, dict):
        return {k: canonical_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical_value(v) for v in value]
    return value
