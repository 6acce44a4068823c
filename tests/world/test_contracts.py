"""The contract modules (ids, money, filters, stats) against the world and the tools that use them."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from supportgym.filters import OPERATORS, ORDERING, UNKNOWN_OPERATOR, like_regex
from supportgym.ids import ID_KINDS, ID_PREFIXES, KIND, number_of, prefix_of
from supportgym.money import decimal_text, dollars, parse_dollars, to_cents
from supportgym.services.tools import openai_schemas
from supportgym.stats import percentile


def test_every_seeded_id_follows_the_scheme(default_db):
    for kind in ID_KINDS:
        ids = [r[0] for r in default_db.conn.execute(f"SELECT id FROM {kind.table}")]
        assert ids, kind.table
        assert all(re.fullmatch(kind.pattern, i) and len(i) == len(kind.prefix) + 1 + kind.width for i in ids), kind
        assert min(number_of(i) for i in ids) == kind.first, kind


def test_tool_descriptions_show_ids_the_world_has(default_db):
    examples = set(re.findall(r"e\.g\. ([A-Z]{3}-\d+)", json.dumps(openai_schemas())))
    assert {"RMA", "ORD", "CUS", "TKT"} <= {prefix_of(e) for e in examples}
    for ident in examples:
        table = ID_PREFIXES[prefix_of(ident)]
        assert default_db.conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (ident,)).fetchone(), ident
    assert KIND["PAY"].example.startswith("PAY-7") and KIND["RMA"].example.startswith("RMA-4")


def test_money_is_written_from_integers():
    assert dollars(123450) == "$1,234.50" and dollars(-5) == "-$0.05" and dollars(0) == "$0.00"
    assert decimal_text(123450) == "1234.50" and decimal_text(-1999) == "-19.99"
    assert to_cents(Decimal("19.995")) == 2000 and to_cents(Decimal("0.01")) == 1
    assert parse_dollars("$1,049.99") == Decimal("1049.99") and parse_dollars("ten") is None


def test_filter_operators():
    assert set(ORDERING) <= set(OPERATORS) and ORDERING["gte"](2, 2) and not ORDERING["gt"](2, 2)
    assert like_regex("ORD-5%").fullmatch("ord-500123") and not like_regex("a_c").fullmatch("abbc")
    assert "is_null" in UNKNOWN_OPERATOR.format(op="near")


def test_percentile_returns_a_measured_sample():
    xs = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(xs, 0.5) == 3.0 and percentile(xs, 0.99) == 5.0 and percentile(xs, 0.0) == 1.0
    assert percentile([1.0, 2.0], 0.5, "inverted_cdf") == 1.0
    with pytest.raises(ValueError):
        percentile([], 0.5)
