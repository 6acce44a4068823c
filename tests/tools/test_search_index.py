"""search_customers through the trigram index finds exactly what a full scan finds, and the
index follows every change to a customer (tool writes, direct writes)."""

from __future__ import annotations

from typing import Any

from supportgym.schema import CUSTOMER_TEXT

# The reference: plain substring search (instr), which is what search_customers promises --
# "%" and "_" typed by an agent match themselves (see services/tools/like.py).
SCAN = {
    "name": "instr(lower(first_name || ' ' || last_name), ?) > 0",
    "email": "instr(lower(email), ?) > 0",
    "phone": "(instr(replace(replace(replace(replace(phone, '-', ''), ' ', ''), '(', ''), ')', ''), ?) > 0"
    " OR instr(phone, ?) > 0)",
}


def _scan(world: Any, field: str, needle: str) -> list[str]:
    value = needle.lower()
    params: tuple[str, ...] = (value,)
    if field == "phone":
        params = ("".join(ch for ch in needle if ch.isdigit()), needle)
    rows = world.db.conn.execute(f"SELECT id FROM customers WHERE {SCAN[field]} ORDER BY id", params).fetchall()
    return [r[0] for r in rows]


def _search(world: Any, field: str, needle: str) -> list[str]:
    found: list[str] = []
    page = 1
    while True:
        out = world.ok("search_customers", **{field: needle}, page=page, page_size=50)
        found += [c["customer_id"] for c in out["results"]]
        if not out["has_more"]:
            assert out["total"] == len(found)
            return found
        page += 1


def _needles(world: Any) -> list[tuple[str, str]]:
    rows = world.db.conn.execute("SELECT first_name, last_name, email, phone FROM customers ORDER BY id").fetchall()
    out: list[tuple[str, str]] = []
    for first, last, email, phone in rows[::3]:
        out += [
            ("name", f"{first} {last}"),
            ("name", last[:2]),
            ("name", last.upper()),
            ("name", f"{first[-2:]} {last[:2]}"),
            ("email", email),
            ("email", email.split("@")[1]),
            ("email", email[:3].upper()),
            ("phone", phone[-4:]),
            ("phone", phone[:5]),
        ]
    # Short needles (below a trigram), LIKE wildcards typed by an agent, nothing found.
    out += [("name", "a"), ("name", "e_"), ("email", "%"), ("email", "@"), ("name", "zzzq"), ("phone", "5-0")]
    return out


def test_indexed_search_equals_a_full_scan(world):
    needles = _needles(world)
    assert len(needles) > 50
    hits = 0
    for field, needle in needles:
        expected = _scan(world, field, needle)
        assert _search(world, field, needle) == expected, (field, needle)
        hits += bool(expected)
    assert hits > len(needles) // 2


def test_the_index_follows_changes_to_customers(world):
    customer_id, email = world.db.conn.execute("SELECT id, email FROM customers ORDER BY id LIMIT 1").fetchone()
    world.ok(
        "update_customer_contact",
        customer_id=customer_id,
        verification_email=email,
        new_email="quartz.falcon@example.org",
        new_phone="(555) 867-5309",
    )
    assert _search(world, "email", "quartz.falcon") == [customer_id]
    assert _search(world, "email", email) == _scan(world, "email", email)
    assert customer_id not in _search(world, "email", email)
    assert _search(world, "phone", "8675309") == [customer_id]
    # A write that is not a tool call (task setup, a person in a SQL shell) is indexed too.
    world.db.conn.execute("UPDATE customers SET last_name = 'Zyxwvut' WHERE id = ?", (customer_id,))
    assert _search(world, "name", "zyxwv") == [customer_id]
    count = world.db.conn.execute(f"SELECT count(*) FROM {CUSTOMER_TEXT}").fetchone()[0]
    assert count == world.db.conn.execute("SELECT count(*) FROM customers").fetchone()[0]
