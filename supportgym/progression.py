"""The world moving on when simulated time passes.

:func:`plan_progress` is a pure function of (world, start, end): it reads the world and returns
the changes that the passing of ``start -> end`` brings, every one an event whose due time falls
inside that window (so advancing 2 days once or 1 day twice gives the same world):

* a shipment on its way (label created, in transit, out for delivery) whose estimated delivery
  falls in the window is delivered then (a tracking event; its order becomes delivered once
  every shipment of it is), or, when a task scheduled a failed delivery (``delivery_fails``),
  the carrier fails and sends it back (returned to sender). A shipment already past its
  estimate at ``start`` is held up and stays as it is: late parcels do not arrive by themselves;
* a pending refund settles (processed) ``REFUND_SETTLE_DAYS`` after it was issued;
* a ticket waiting on the customer (pending) closes ``PENDING_TICKET_CLOSE_DAYS`` after its
  last update, with a system message saying so;
* an open ticket with no agent answer past its first-response deadline (by priority) is tagged
  ``SLA_BREACHED_TAG``;
* the world's ``now`` (``world_meta``) becomes ``end``.

The plan is plain data (:class:`Change` rows with their models and values, new rows with their
ids), so the task setup (an ORM session) and the ``advance_time`` tool (the tools' row writer)
apply the very same changes.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from supportgym.clock import iso
from supportgym.policy import (
    FIRST_RESPONSE_SLA_HOURS,
    PENDING_TICKET_CLOSE_DAYS,
    REFUND_SETTLE_DAYS,
    SLA_BREACHED_TAG,
)
from supportgym.schema import (
    AuthorType,
    Base,
    Order,
    OrderStatus,
    Refund,
    RefundStatus,
    Shipment,
    ShipmentEvent,
    ShipmentStatus,
    Ticket,
    TicketMessage,
    TicketStatus,
    TicketTag,
    WorldMeta,
)

_MOVING = (ShipmentStatus.label_created.value, ShipmentStatus.in_transit.value, ShipmentStatus.out_for_delivery.value)
# SQLite stores datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' text: compare in that form.
_SQL_TIME = "%Y-%m-%d %H:%M:%S.%f"


@dataclass(frozen=True)
class Change:
    """Set ``values`` on the row of ``model`` with primary key ``key``."""

    model: type[Base]
    key: Any
    values: dict[str, Any]


@dataclass(frozen=True)
class NewRow:
    model: type[Base]
    values: dict[str, Any]


@dataclass
class Progress:
    """What passing from ``start`` to ``end`` does to the world, in the order to apply it."""

    start: datetime
    end: datetime
    changes: list[Change] = field(default_factory=list)
    new_rows: list[NewRow] = field(default_factory=list)
    summary: dict[str, list[str]] = field(default_factory=dict)

    def note(self, what: str, ident: str) -> None:
        self.summary.setdefault(what, []).append(ident)


def apply_to_session(session: Session, progress: Progress) -> None:
    """Write ``progress`` through an ORM session (task setup; the tool has its own writer)."""
    with session.no_autoflush:  # one flush: the change log has one batch, as the tool's has
        for change in progress.changes:
            obj = session.get(change.model, change.key)
            for column, value in change.values.items():
                setattr(obj, column, value)
        for new in progress.new_rows:
            session.add(new.model(**new.values))
    session.flush()


def plan_for_session(session: Session, start: datetime, end: datetime) -> Progress:
    """:func:`plan_progress` on the world behind ``session``, after its pending changes."""
    session.flush()
    raw = session.connection().connection.driver_connection
    if not isinstance(raw, sqlite3.Connection):
        raise TypeError(f"a world is a SQLite database, not {type(raw).__name__}")
    return plan_progress(raw, start, end)


def _t(value: datetime) -> str:
    return value.strftime(_SQL_TIME)


def _parse(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _max_int_id(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])


def plan_progress(conn: sqlite3.Connection, start: datetime, end: datetime) -> Progress:
    """The changes time passing from ``start`` to ``end`` (exclusive, inclusive) brings."""
    if end <= start:
        raise ValueError(f"time only moves forward: {iso(start)} -> {iso(end)}")
    out = Progress(start, end)
    window = (_t(start), _t(end))
    _deliveries(conn, out, window)
    _refunds(conn, out, window)
    _tickets(conn, out, window)
    out.changes.append(Change(WorldMeta, "now", {"value": iso(end)}))
    return out


def _deliveries(conn: sqlite3.Connection, out: Progress, window: tuple[str, str]) -> None:
    ph = ",".join("?" * len(_MOVING))
    due = conn.execute(
        f"SELECT id, order_id, estimated_delivery, delivery_fails FROM shipments WHERE status IN ({ph}) "
        "AND estimated_delivery > ? AND estimated_delivery <= ? ORDER BY estimated_delivery, id",
        (*_MOVING, *window),
    ).fetchall()
    next_event = _max_int_id(conn, "shipment_events") + 1
    arrived: dict[str, datetime] = {}
    for sid, order_id, eta, fails in due:
        when = _parse(eta)
        status = ShipmentStatus.returned_to_sender if fails else ShipmentStatus.delivered
        description = "Delivery failed: address not accessible. Returning to sender" if fails else "Delivered"
        fields: dict[str, Any] = {"status": status} if fails else {"status": status, "delivered_at": when}
        out.changes.append(Change(Shipment, sid, fields))
        out.new_rows.append(
            NewRow(
                ShipmentEvent,
                {
                    "id": next_event,
                    "shipment_id": sid,
                    "occurred_at": when,
                    "status": status,
                    "location": "Customer address",
                    "description": description,
                },
            )
        )
        next_event += 1
        if fails:
            out.note("deliveries_failed", sid)
            continue
        out.note("shipments_delivered", sid)
        arrived[order_id] = max(arrived.get(order_id, when), when)
    for order_id, when in sorted(arrived.items()):
        row = conn.execute("SELECT status FROM orders WHERE id = ?", (order_id,)).fetchone()
        if row is None or row[0] != OrderStatus.shipped.value:
            continue
        # Only the parcels delivered now: one that failed in this window still counts as moving.
        ids = [s for s, o, _e, fails in due if o == order_id and not fails]
        ph2 = ",".join("?" * len(ids))
        still_moving = conn.execute(
            f"SELECT count(*) FROM shipments WHERE order_id = ? AND id NOT IN ({ph2}) AND status IN ({ph})",
            (order_id, *ids, *_MOVING),
        ).fetchone()[0]
        if still_moving == 0:
            out.changes.append(Change(Order, order_id, {"status": OrderStatus.delivered, "delivered_at": when}))
            out.note("orders_delivered", order_id)


def _refunds(conn: sqlite3.Connection, out: Progress, window: tuple[str, str]) -> None:
    lo, hi = (_t(_parse(w) - timedelta(days=REFUND_SETTLE_DAYS)) for w in window)
    for (rid,) in conn.execute(
        "SELECT id FROM refunds WHERE status = ? AND created_at > ? AND created_at <= ? ORDER BY created_at, id",
        (RefundStatus.pending.value, lo, hi),
    ).fetchall():
        out.changes.append(Change(Refund, rid, {"status": RefundStatus.processed}))
        out.note("refunds_settled", rid)


def _tickets(conn: sqlite3.Connection, out: Progress, window: tuple[str, str]) -> None:
    lo, hi = (_t(_parse(w) - timedelta(days=PENDING_TICKET_CLOSE_DAYS)) for w in window)
    next_message = _max_int_id(conn, "ticket_messages") + 1
    for tid, _customer_id, updated in conn.execute(
        "SELECT id, customer_id, updated_at FROM tickets WHERE status = ? AND updated_at > ? AND updated_at <= ? "
        "ORDER BY updated_at, id",
        (TicketStatus.pending.value, lo, hi),
    ).fetchall():
        when = _parse(updated) + timedelta(days=PENDING_TICKET_CLOSE_DAYS)
        out.changes.append(Change(Ticket, tid, {"status": TicketStatus.closed, "updated_at": when}))
        out.new_rows.append(
            NewRow(
                TicketMessage,
                {
                    "id": next_message,
                    "ticket_id": tid,
                    "author_type": AuthorType.system,
                    "author_id": "system",
                    "body": f"Closed automatically: no reply from the customer in {PENDING_TICKET_CLOSE_DAYS} days.",
                    "internal": False,
                    "created_at": when,
                },
            )
        )
        next_message += 1
        out.note("tickets_closed", tid)
    for priority, hours in sorted(FIRST_RESPONSE_SLA_HOURS.items()):
        lo, hi = (_t(_parse(w) - timedelta(hours=hours)) for w in window)
        for (tid,) in conn.execute(
            "SELECT t.id FROM tickets t WHERE t.status = ? AND t.priority = ? AND t.created_at > ? "
            "AND t.created_at <= ? AND NOT EXISTS (SELECT 1 FROM ticket_messages m WHERE m.ticket_id = t.id "
            "AND m.author_type = ?) AND NOT EXISTS (SELECT 1 FROM ticket_tags g WHERE g.ticket_id = t.id "
            "AND g.tag = ?) ORDER BY t.created_at, t.id",
            (TicketStatus.open.value, priority, lo, hi, AuthorType.agent.value, SLA_BREACHED_TAG),
        ).fetchall():
            out.new_rows.append(NewRow(TicketTag, {"ticket_id": tid, "tag": SLA_BREACHED_TAG}))
            out.note("tickets_sla_breached", tid)
