"""Reading values out of free text: money amounts, world ids, dates, whole-word mentions and
word counts. One place for these rules, shared by the program checks, the claim checker and the
confidentiality check."""

from __future__ import annotations

import calendar
import re
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from supportgym.ids import ID_PREFIXES, MIN_ID_DIGITS, POLICY_PREFIX
from supportgym.money import parse_dollars
from supportgym.money import to_cents as money_to_cents

# Grading reads the same reply and tool results many times (every check, every gate): parse each
# text once per process.
_CACHE = 4096


def number(v: Any) -> Decimal | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float, Decimal)):
        return Decimal(str(v))
    if isinstance(v, str):
        return parse_dollars(v)
    return None


def to_cents(value: Any) -> int:
    """An amount given in a check: an int is cents, a string or float is dollars (``"$49.99"``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    n = number(value)
    if n is None:
        raise ValueError(f"{value!r} is not an amount")
    return money_to_cents(n)


_MONEY = re.compile(
    r"(?<![\w.-])(?P<cur>USD\s?|US\$\s?|\$\s?)?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d{2}))?(?P<suffix>\s?(?:USD|dollars))?(?![\w-]|\.\d)",
    re.IGNORECASE,
)


def amounts_in(text: str) -> set[int]:
    return set(_amounts_in(text))


@lru_cache(maxsize=_CACHE)
def _amounts_in(text: str) -> set[int]:
    """Every money amount written in ``text``, in cents: ``$49.99``, ``49.99``, ``USD 1,049.00``,
    ``$50`` (a whole amount counts only with a currency marker, so ids and counts are not money)."""
    out: set[int] = set()
    for m in _MONEY.finditer(text):
        if m.group("dec") is None and not (m.group("cur") or m.group("suffix")):
            continue
        whole = int(m.group("int").replace(",", ""))
        out.add(whole * 100 + int(m.group("dec") or 0))
    return out


_ID = re.compile(rf"\b(?:({POLICY_PREFIX}-[A-Z][A-Z0-9-]*[A-Z0-9])|([A-Z]{{3}})-(\d{{{MIN_ID_DIGITS},}}))\b")


def ids_in(text: str) -> list[str]:
    return list(_ids_in(text))


@lru_cache(maxsize=_CACHE)
def _ids_in(text: str) -> list[str]:
    """World ids written in ``text`` (``ORD-500123``, ``RMA-900470``, ``POL-RETURNS``...)."""
    out = []
    for m in _ID.finditer(text):
        if m.group(1):
            out.append(m.group(1))
        elif m.group(2) in ID_PREFIXES:
            out.append(f"{m.group(2)}-{m.group(3)}")
    return list(dict.fromkeys(out))


_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_LONG_DATE = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")


def dates_in(text: str) -> list[tuple[str, str | None]]:
    return list(_dates_in(text))


@lru_cache(maxsize=_CACHE)
def _dates_in(text: str) -> list[tuple[str, str | None]]:
    """Dates written in ``text`` as ``(as_written, "YYYY-MM-DD" or None when not a real date)``."""
    out: list[tuple[str, str | None]] = []
    for m in _ISO_DATE.finditer(text):
        out.append((m.group(0), _real(int(m.group(1)), int(m.group(2)), int(m.group(3)))))
    for m in _LONG_DATE.finditer(text):
        month = _MONTHS.get(m.group(1).lower())
        if month is None:
            continue
        out.append((m.group(0), _real(int(m.group(3)), month, int(m.group(2)))))
    return out


def _real(y: int, mo: int, d: int) -> str | None:
    try:
        return datetime(y, mo, d).strftime("%Y-%m-%d")
    except ValueError:
        return None


def mentions(text: str, needle: str) -> bool:
    """``needle`` appears in ``text``, case and spacing ignored. A needle that starts or ends
    with a digit must not run into more digits or letters there: "Count: 2" is not in
    "Count: 27" and "ORD-5001" is not in "ORD-50012" (words still match inside words: "45 day"
    is in "45 days")."""
    words = needle.strip().lower().split()
    if not words:
        return True
    pattern = r"\s+".join(re.escape(w) for w in words)
    if words[0][0].isdigit():
        pattern = r"(?<![a-z0-9])" + pattern
    if words[-1][-1].isdigit():
        pattern += r"(?![a-z0-9])"
    return re.search(pattern, text.lower()) is not None


# A word is a run of letters or digits (an apostrophe inside keeps "don't" one word). Hyphens,
# slashes and other punctuation separate words, so "ok/ok/ok" or "a-b-c-d" cannot pass for one.
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def word_count(text: str | None) -> int:
    """Words in ``text``, counted robustly (see ``_WORD``)."""
    return len(_WORD.findall(text or ""))
