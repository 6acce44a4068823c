"""A corrupted world must be caught, by the right invariant, naming the right entity."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from supportgym.db import WorldDB
from supportgym.world_seed.check import _Checker, check_world
from supportgym.world_seed.check_scope import OWNER_PATH, touched_customers


def _one(db: WorldDB, sql: str, *args: object) -> tuple:
    row = db.conn.execute(sql, args).fetchone()
    assert row is not None, sql
    return row


def _exec(db: WorldDB, *statements: str) -> None:
    for st in statements:
        db.conn.execute(st)
    db.conn.commit()


def order_total(db: WorldDB) -> str:
    (oid,) = _one(db, "SELECT id FROM orders WHERE status='delivered' ORDER BY id LIMIT 1")
    _exec(db, f"UPDATE orders SET total_cents = total_cents + 1 WHERE id='{oid}'")
    return oid


def order_subtotal(db: WorldDB) -> str:
    iid, oid = _one(db, "SELECT id, order_id FROM order_items ORDER BY id LIMIT 1")
    _exec(db, f"UPDATE order_items SET unit_price_cents = unit_price_cents + 100 WHERE id='{iid}'")
    return oid


def order_payments(db: WorldDB) -> str:
    pid, oid = _one(
        db,
        "SELECT p.id, p.order_id FROM payments p JOIN orders o ON o.id=p.order_id "
        "WHERE o.status='shipped' AND p.status='captured' ORDER BY p.id LIMIT 1",
    )
    _exec(db, f"UPDATE payments SET amount_cents = amount_cents - 50 WHERE id='{pid}'")
    return oid


def refund_per_payment(db: WorldDB) -> str:
    rid, pid = _one(db, "SELECT id, payment_id FROM refunds WHERE status='processed' ORDER BY id LIMIT 1")
    _exec(db, f"UPDATE refunds SET amount_cents = amount_cents + 100000000 WHERE id='{rid}'")
    return pid


def refund_per_order(db: WorldDB) -> str:
    rid, oid = _one(db, "SELECT id, order_id FROM refunds WHERE status='processed' ORDER BY id LIMIT 1")
    _exec(db, f"UPDATE refunds SET amount_cents = amount_cents + 100000000 WHERE id='{rid}'")
    return oid


def foreign_keys(db: WorldDB) -> str:
    (iid,) = _one(db, "SELECT id FROM order_items ORDER BY id LIMIT 1")
    _exec(db, "PRAGMA foreign_keys=OFF", f"UPDATE order_items SET product_id='PRD-0000' WHERE id='{iid}'")
    return iid


def foreign_keys_nullable(db: WorldDB) -> str:
    (tid,) = _one(db, "SELECT id FROM tickets ORDER BY id LIMIT 1")
    _exec(db, "PRAGMA foreign_keys=OFF", f"UPDATE tickets SET assignee_id='STF-999' WHERE id='{tid}'")
    return tid


def timestamps_ordered(db: WorldDB) -> str:
    (oid,) = _one(db, "SELECT id FROM orders WHERE status='delivered' ORDER BY id LIMIT 1")
    _exec(db, f"UPDATE orders SET delivered_at = datetime(shipped_at, '-1 day') WHERE id='{oid}'")
    return oid


def timestamps_ordered_messages(db: WorldDB) -> str:
    (mid,) = _one(db, "SELECT max(id) FROM ticket_messages")
    _exec(db, f"UPDATE ticket_messages SET created_at = '2019-01-01 00:00:00.000000' WHERE id={mid}")
    return str(mid)


def payment_before_order(db: WorldDB) -> str:
    """The contradiction a newcomer found: a payment captured a year before its order."""
    pid, oid = _one(db, "SELECT id, order_id FROM payments WHERE status='captured' ORDER BY id LIMIT 1")
    _exec(
        db,
        f"UPDATE payments SET created_at = (SELECT datetime(placed_at, '-365 days') FROM orders "
        f"WHERE id='{oid}') WHERE id='{pid}'",
    )
    return pid


def refund_before_payment(db: WorldDB) -> str:
    rid, pid = _one(db, "SELECT id, payment_id FROM refunds ORDER BY id LIMIT 1")
    # Still after the order was placed: only the payment-then-refund order is broken.
    _exec(
        db,
        f"UPDATE refunds SET created_at = (SELECT datetime(created_at, '-1 minute') FROM payments "
        f"WHERE id='{pid}') WHERE id='{rid}'",
    )
    return rid


def return_before_delivery(db: WorldDB) -> str:
    rma, oid = _one(
        db,
        "SELECT r.id, r.order_id FROM returns r JOIN orders o ON o.id=r.order_id "
        "WHERE o.delivered_at IS NOT NULL ORDER BY r.id LIMIT 1",
    )
    _exec(
        db,
        f"UPDATE returns SET created_at = (SELECT datetime(delivered_at, '-1 hour') FROM orders "
        f"WHERE id='{oid}') WHERE id='{rma}'",
    )
    return rma


def ticket_before_its_order(db: WorldDB) -> str:
    tid, oid = _one(db, "SELECT id, order_id FROM tickets WHERE order_id IS NOT NULL ORDER BY id LIMIT 1")
    _exec(
        db,
        f"UPDATE orders SET placed_at = (SELECT datetime(created_at, '+1 day') FROM tickets "
        f"WHERE id='{tid}') WHERE id='{oid}'",
    )
    return tid


def warranty_claim_before_delivery(db: WorldDB) -> str:
    (wid,) = _one(db, "SELECT id FROM warranty_claims ORDER BY id LIMIT 1")
    _exec(db, f"UPDATE warranty_claims SET created_at = '2001-01-01 00:00:00.000000' WHERE id='{wid}'")
    return wid


def timestamps_not_future(db: WorldDB) -> str:
    (cid,) = _one(db, "SELECT id FROM customers ORDER BY id LIMIT 1")
    _exec(db, f"UPDATE customers SET joined_at='2027-01-01 00:00:00.000000' WHERE id='{cid}'")
    return cid


def store_credit_balance(db: WorldDB) -> str:
    (cid,) = _one(db, "SELECT id FROM customers ORDER BY id LIMIT 1")
    _exec(
        db,
        "INSERT INTO store_credit (id, customer_id, amount_cents, reason, created_at) "
        f"VALUES (99999, '{cid}', -100000, 'oops', '2026-01-01 00:00:00.000000')",
    )
    return cid


def default_address(db: WorldDB) -> str:
    aid, cid = _one(db, "SELECT id, customer_id FROM addresses WHERE is_default=1 ORDER BY id LIMIT 1")
    _exec(db, f"UPDATE addresses SET is_default=0 WHERE id='{aid}'")
    return cid


def shipment_present(db: WorldDB) -> str:
    (oid,) = _one(db, "SELECT id FROM orders WHERE status='shipped' ORDER BY id LIMIT 1")
    _exec(
        db,
        f"DELETE FROM shipment_events WHERE shipment_id IN (SELECT id FROM shipments WHERE order_id='{oid}')",
        f"DELETE FROM shipments WHERE order_id='{oid}'",
    )
    return oid


def delivered_date(db: WorldDB) -> str:
    (oid,) = _one(db, "SELECT id FROM orders WHERE status='delivered' ORDER BY id LIMIT 1")
    _exec(db, f"UPDATE orders SET delivered_at=NULL WHERE id='{oid}'")
    return oid


def enum_values(db: WorldDB) -> str:
    (oid,) = _one(db, "SELECT id FROM orders ORDER BY id LIMIT 1")
    _exec(db, "PRAGMA ignore_check_constraints=ON", f"UPDATE orders SET status='teleported' WHERE id='{oid}'")
    return oid


def return_items_quantity(db: WorldDB) -> str:
    rid, iid = _one(
        db,
        "SELECT ri.id, ri.order_item_id FROM return_items ri JOIN returns r "
        "ON r.id = ri.return_id WHERE r.status != 'rejected' ORDER BY ri.id LIMIT 1",
    )
    _exec(db, f"UPDATE return_items SET quantity = quantity + 5 WHERE id={rid}")
    return iid


def return_items_other_order(db: WorldDB) -> str:
    rid, order_id = _one(
        db, "SELECT ri.id, r.order_id FROM return_items ri JOIN returns r ON r.id = ri.return_id ORDER BY ri.id LIMIT 1"
    )
    (other,) = _one(db, "SELECT id FROM order_items WHERE order_id != ? ORDER BY id LIMIT 1", order_id)
    _exec(db, f"UPDATE return_items SET order_item_id='{other}' WHERE id={rid}")
    return str(rid)


def duplicate_payments(db: WorldDB) -> str:
    (pid,) = _one(db, "SELECT id FROM payments WHERE duplicate_of IS NOT NULL ORDER BY id LIMIT 1")
    (other,) = _one(
        db,
        "SELECT id FROM payments WHERE order_id != (SELECT order_id FROM payments WHERE id=?) ORDER BY id LIMIT 1",
        pid,
    )
    _exec(db, f"UPDATE payments SET duplicate_of='{other}' WHERE id='{pid}'")
    return pid


def order_status_dates(db: WorldDB) -> str:
    (oid,) = _one(db, "SELECT id FROM orders WHERE status='cancelled' ORDER BY id LIMIT 1")
    _exec(db, f"UPDATE orders SET cancelled_at=NULL WHERE id='{oid}'")
    return oid


def amounts_valid(db: WorldDB) -> str:
    (iid,) = _one(db, "SELECT id FROM order_items ORDER BY id LIMIT 1")
    _exec(db, f"UPDATE order_items SET quantity=0 WHERE id='{iid}'")
    return iid


CASES: list[tuple[str, Callable[[WorldDB], str]]] = [
    ("order_total", order_total),
    ("order_subtotal", order_subtotal),
    ("order_payments", order_payments),
    ("refund_per_payment", refund_per_payment),
    ("refund_per_order", refund_per_order),
    ("foreign_keys", foreign_keys),
    ("foreign_keys", foreign_keys_nullable),
    ("timestamps_ordered", timestamps_ordered),
    ("timestamps_ordered", timestamps_ordered_messages),
    ("events_after_causes", payment_before_order),
    ("events_after_causes", refund_before_payment),
    ("events_after_causes", return_before_delivery),
    ("events_after_causes", ticket_before_its_order),
    ("events_after_causes", warranty_claim_before_delivery),
    ("timestamps_not_future", timestamps_not_future),
    ("store_credit_balance", store_credit_balance),
    ("default_address", default_address),
    ("shipment_present", shipment_present),
    ("delivered_date", delivered_date),
    ("enum_values", enum_values),
    ("return_items", return_items_quantity),
    ("return_items", return_items_other_order),
    ("duplicate_payments", duplicate_payments),
    ("order_status_dates", order_status_dates),
    ("amounts_valid", amounts_valid),
]


def test_uncorrupted_world_is_clean(tiny_db: WorldDB) -> None:
    with tiny_db.session() as s:
        assert check_world(s) == []


@pytest.mark.parametrize(("invariant", "corrupt"), CASES, ids=[c[1].__name__ for c in CASES])
def test_corruption_is_caught(tiny_db: WorldDB, invariant: str, corrupt: Callable[[WorldDB], str]) -> None:
    entity = corrupt(tiny_db)
    with tiny_db.session() as s:
        violations = check_world(s)
    assert violations, "corruption went unnoticed"
    hits = [v for v in violations if v.invariant == invariant]
    assert hits, f"expected {invariant}, got {[str(v) for v in violations]}"
    assert entity in {v.entity for v in hits}


def test_duplicate_tracking_number_is_caught(tiny_db: WorldDB) -> None:
    # The schema's UNIQUE constraint stops SQLite itself from storing one, so corrupt the rows
    # the checker read (as a world copied into a database without that constraint would be).
    with tiny_db.session() as s:
        checker = _Checker(s, None)
    ships = checker.t["shipments"]
    ships[1]["tracking_number"] = ships[0]["tracking_number"]
    report = checker.run()
    hits = [v for v in report.violations if v.invariant == "tracking_unique"]
    assert [v.entity for v in hits] == [ships[1]["id"]]


def test_now_argument_allows_later_episode_rows(tiny_db: WorldDB) -> None:
    from datetime import datetime

    timestamps_not_future(tiny_db)
    with tiny_db.session() as s:
        assert any(v.invariant == "timestamps_not_future" for v in check_world(s))
        assert not any(v.invariant == "timestamps_not_future" for v in check_world(s, now=datetime(2027, 6, 1)))


@pytest.mark.parametrize(("invariant", "corrupt"), CASES, ids=[c[1].__name__ for c in CASES])
def test_check_scoped_to_touched_customers_finds_what_the_full_check_finds(
    tiny_db: WorldDB, invariant: str, corrupt: Callable[[WorldDB], str]
) -> None:
    base = tiny_db.image()
    corrupt(tiny_db)
    scope = touched_customers(tiny_db.conn, base)
    assert scope, "a corruption touches at least one customer's rows"
    with tiny_db.session() as s:
        full = {(v.invariant, v.entity, v.message) for v in check_world(s)}
        scoped = {(v.invariant, v.entity, v.message) for v in check_world(s, customers=scope)}
    assert any(inv == invariant for inv, _e, _m in full)
    assert scoped == full


def test_unchanged_world_touches_no_customer_and_a_new_schema_means_check_all(tiny_db: WorldDB) -> None:
    base = tiny_db.image()
    assert touched_customers(tiny_db.conn, base) == set()
    _exec(tiny_db, "CREATE TABLE scratch (id TEXT PRIMARY KEY)")
    assert touched_customers(tiny_db.conn, base) is None


def test_relational_invariants_read_only_tables_a_scope_can_restrict(tiny_db: WorldDB) -> None:
    # A new invariant over another table would be skipped by the scoped check: it must either
    # read customer-owned tables (check_scope.OWNER_PATH) or run in SQL over every row.
    with tiny_db.session() as s:
        checker = _Checker(s, None)
        checker.run()
    assert set(checker.t) - {"world_meta"} <= set(OWNER_PATH)
