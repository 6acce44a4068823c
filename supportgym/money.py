"""Money: integer cents inside, two ways of writing it outside.

The world stores every amount as integer cents. People read ``$1,234.50`` (policy articles,
replies, criteria, the judge's context); tools return a plain decimal string ``"1234.50"``
(machine-readable, no float rounding). Both are written here from integers only, never through
a float. A contract module: it imports nothing of the project.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def dollars(cents: int) -> str:
    """``123450 -> "$1,234.50"``, ``-500 -> "-$5.00"``: how people read an amount."""
    sign = "-" if cents < 0 else ""
    cents = abs(int(cents))
    return f"{sign}${cents // 100:,}.{cents % 100:02d}"


def decimal_text(cents: int) -> str:
    """``123450 -> "1234.50"``: the plain amount tools return and reports print."""
    sign = "-" if cents < 0 else ""
    cents = abs(int(cents))
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def to_cents(amount: Decimal) -> int:
    """A dollar amount as cents, half a cent rounding up (``Decimal("19.995") -> 2000``)."""
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_dollars(text: str) -> Decimal | None:
    """``"$1,049.99"`` / ``"49.99"`` -> a Decimal; None when it is not a number."""
    try:
        return Decimal(text.strip().lstrip("$").replace(",", ""))
    except ArithmeticError:  # decimal.InvalidOperation
        return None
