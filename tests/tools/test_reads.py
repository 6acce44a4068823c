"""``services.tools.reads``: compiled queries return what SQLAlchemy Core returns."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, func, select

from supportgym.schema import Order, OrderStatus, Ticket
from supportgym.services.tools import reads


def _core(world, stmt, **params):
    with world.db.session() as s:
        return [tuple(r) for r in s.connection().execute(stmt, params)]


def test_rows_equal_core_rows_with_types_processed(world):
    stmt = select(Order).where(Order.status == bindparam("status")).order_by(Order.id)
    q = reads.Query(stmt)
    got = q.tuples(world.db.conn, status=OrderStatus.delivered)
    assert got == _core(world, stmt, status=OrderStatus.delivered)
    assert got, "the tiny world has delivered orders"
    first = q.first(world.db.conn, status=OrderStatus.delivered)
    assert isinstance(first.status, OrderStatus) and first.status is OrderStatus.delivered
    assert first.placed_at.year >= 2020  # a datetime, not text
    with pytest.raises(LookupError):  # the enum's bind processing, as in Core
        q.rows(world.db.conn, status="no-such-status")
    assert reads.Query(select(Order).where(Order.id == bindparam("id"))).first(world.db.conn, id="ORD-0") is None


def test_datetime_and_literal_parameters(world):
    cutoff = world.start.replace(day=1)
    stmt = select(func.count()).select_from(Ticket).where(Ticket.created_at >= bindparam("after"), Ticket.subject != "")
    assert reads.Query(stmt).scalar(world.db.conn, after=cutoff) == _core(world, stmt, after=cutoff)[0][0]


def test_missing_parameter_is_a_clear_error(world):
    q = reads.Query(select(Order).where(Order.id == bindparam("order_id")))
    with pytest.raises(TypeError, match="'order_id' is required"):
        q.rows(world.db.conn)


def test_expanding_parameters_are_refused():
    with pytest.raises(ValueError, match="expanding"):
        reads.Query(select(Order).where(Order.id.in_(bindparam("ids", expanding=True))))


def test_query_is_compiled_once_per_key():
    built = []

    def build():
        built.append(1)
        return select(Order.id).where(Order.customer_id == bindparam("c"))

    first = reads.query(("test-key", 1), build)
    assert reads.query(("test-key", 1), build) is first
    assert reads.query(("test-key", 2), build) is not first
    assert len(built) == 2


def test_writes_made_by_a_tool_are_visible_to_its_reads(world):
    """A writing tool that reads after writing sees its own (flushed) writes."""
    from supportgym.services.tools.base import ToolContext

    ctx = ToolContext(now=world.now, episode_start=world.start, world=world.db.conn)
    ticket = ctx.get(Ticket, world.first(select(Ticket.id).order_by(Ticket.id)), "ticket_id")
    world.db.conn.execute("SAVEPOINT t")
    ticket.subject = "changed in the call"
    row = reads.by_column(Ticket.__table__, "id").first(ctx.conn, value=ticket.id)
    assert row.subject == "changed in the call"
    world.db.conn.execute("ROLLBACK TO t")
    world.db.conn.execute("RELEASE t")
    assert (
        reads.by_column(Ticket.__table__, "id").first(world.db.conn, value=ticket.id).subject != "changed in the call"
    )


def test_next_id_ignores_ids_with_a_non_numeric_suffix(world):
    from supportgym.schema import Escalation
    from supportgym.services.tools.base import ToolContext

    ctx = ToolContext(now=world.now, episode_start=world.start, world=world.db.conn)
    before = ctx.next_id(Escalation, "ESC")
    world.db.conn.execute(
        "INSERT INTO escalations (id, ticket_id, team, reason, created_at, requested_amount_cents) "
        "SELECT 'ESC-99999X', id, 'general', 'odd id', '2026-01-01 00:00:00.000000', 0 FROM tickets LIMIT 1"
    )
    assert ctx.next_id(Escalation, "ESC") == before
    world.db.conn.execute(
        "INSERT INTO escalations (id, ticket_id, team, reason, created_at, requested_amount_cents) "
        "SELECT 'ESC-900000', id, 'general', 'max', '2026-01-01 00:00:00.000000', 0 FROM tickets LIMIT 1"
    )
    assert before != "ESC-900001"
    assert ctx.next_id(Escalation, "ESC") == "ESC-900001"
