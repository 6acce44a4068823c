"""The id scheme of world rows: ``PREFIX-number`` (``ORD-500123``), one prefix per table.

The seeded world numbers each kind of row from its own range (orders from ``ORD-500001``,
payments from ``PAY-700001``...), so an id says what it names and ids of different kinds never
look alike. The generator, the tools (argument patterns and the example ids in their
descriptions), the grader's id extraction and the disclosure check all read the scheme here.

A contract module: it imports nothing of the project.
"""

from __future__ import annotations

from dataclasses import dataclass

# Tool descriptions show an id this far into each kind's range: inside the range a seeded
# world really uses, so an agent that copies the shape of the example copies the right one.
_EXAMPLE_OFFSET = 22


@dataclass(frozen=True)
class IdKind:
    """One kind of row id: its prefix, its table, and the numbers the seeded world gives it."""

    prefix: str
    table: str
    noun: str  # how a tool description names it ("Order", "Return (RMA)")
    first: int  # the seeded world's first number
    width: int  # digits, zero-padded

    def format(self, number: int) -> str:
        return format_id(self.prefix, number, self.width)

    @property
    def example(self) -> str:
        return self.format(self.first + _EXAMPLE_OFFSET)

    @property
    def pattern(self) -> str:
        """The regular expression a tool argument naming this kind must match."""
        return rf"^{self.prefix}-\d+$"


ID_KINDS: tuple[IdKind, ...] = (
    IdKind("STF", "staff", "Staff member", 101, 3),
    IdKind("PRD", "products", "Product", 1001, 4),
    IdKind("CUS", "customers", "Customer", 10001, 5),
    IdKind("ADR", "addresses", "Address", 100001, 6),
    IdKind("ORD", "orders", "Order", 500001, 6),
    IdKind("ITM", "order_items", "Order line item", 1000001, 7),
    IdKind("PAY", "payments", "Payment", 700001, 6),
    IdKind("RFD", "refunds", "Refund", 900001, 6),
    IdKind("SHP", "shipments", "Shipment", 300001, 6),
    IdKind("RMA", "returns", "Return (RMA)", 400001, 6),
    IdKind("WAR", "warranty_claims", "Warranty claim", 600001, 6),
    IdKind("TKT", "tickets", "Ticket", 200001, 6),
    IdKind("ESC", "escalations", "Escalation", 800001, 6),
    IdKind("MSG", "internal_messages", "Internal message", 100001, 6),
)
KIND: dict[str, IdKind] = {k.prefix: k for k in ID_KINDS}

# Policies are named, not numbered (``POL-RETURNS``): they are ids all the same.
POLICY_PREFIX = "POL"
POLICY_TABLE = "policies"

# Id prefix -> the table whose rows it names (policies included).
ID_PREFIXES: dict[str, str] = {**{k.prefix: k.table for k in ID_KINDS}, POLICY_PREFIX: POLICY_TABLE}

# A numbered id has at least this many digits (``STF-101``); shorter numbers in text are not ids.
MIN_ID_DIGITS = 3
# Width of a kind's numbers when a table has no id of that kind yet.
DEFAULT_WIDTH = 6


def format_id(prefix: str, number: int, width: int) -> str:
    return f"{prefix}-{number:0{width}d}"


def prefix_of(ident: str) -> str:
    """``"ORD-500123" -> "ORD"``."""
    return ident.split("-", 1)[0]


def number_of(ident: str) -> int | None:
    """The number after the prefix, or None when the rest is not all digits (``POL-RETURNS``)."""
    rest = ident.split("-", 1)[1] if "-" in ident else ""
    return int(rest) if rest.isdigit() else None
