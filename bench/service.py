"""Tool-call latency, in process: the figure the world benchmark reports for the tool layer."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from supportgym.clock import parse_iso
from supportgym.schema import Customer, Order, OrderStatus, Ticket, TicketStatus
from supportgym.services.tools import REGISTRY, call_tool
from supportgym.stats import percentile


def tool_call_mix(db: Any) -> list[tuple[str, dict[str, Any]]]:
    """A realistic mix of calls against entities of this world: 280 reads (get and search tools)
    and 70 writes (notes, replies, tags, status changes, refunds, cancellations), interleaved.

    Every call succeeds when the mix is run once, in order, on a fresh copy of the world, so the
    figures time the work a tool does, not an early refusal.
    """
    with db.session() as s:
        orders = s.execute(select(Order.id).order_by(Order.id).limit(40)).scalars().all()
        customers = s.execute(select(Customer).order_by(Customer.id).limit(20)).scalars().all()
        tickets = (
            s.execute(select(Ticket.id).where(Ticket.status != TicketStatus.closed).order_by(Ticket.id).limit(20))
            .scalars()
            .all()
        )
        paid = (
            s.execute(select(Order.id).where(Order.status == OrderStatus.paid).order_by(Order.id).limit(10))
            .scalars()
            .all()
        )
        # Delivered single-payment orders worth more than the refunds below, refunded once each.
        delivered = (
            s.execute(
                select(Order.id)
                .where(Order.status == OrderStatus.delivered, Order.total_cents >= 1000)
                .where(~Order.refunds.any())
                .order_by(Order.id)
                .limit(10)
            )
            .scalars()
            .all()
        )
    mix: list[tuple[str, dict[str, Any]]] = []
    for n in range(40):
        c = customers[n % len(customers)]
        ticket = tickets[n % len(tickets)]
        mix.append(("get_order", {"order_id": orders[n % len(orders)]}))
        mix.append(("get_customer", {"customer_id": c.id}))
        mix.append(("search_orders", {"customer_id": c.id}))
        mix.append(("get_ticket", {"ticket_id": ticket}))
        mix.append(("add_internal_note", {"ticket_id": ticket, "note": "bench"}))
        mix.append(("search_customers", {"name": c.last_name}))
        mix.append(("search_products", {"brand": "VortexLabs"}))
        mix.append(("search_tickets", {"customer_id": c.id}))
        if n % 4 == 0:
            mix.append(("reply_to_customer", {"ticket_id": ticket, "message": "We are looking into it."}))
        if n % 4 == 1:
            mix.append(("tag_ticket", {"ticket_id": ticket, "add": [f"bench-{n}"]}))
        if n % 4 == 2:
            mix.append(("update_ticket_status", {"ticket_id": ticket, "status": "pending"}))
    for oid in paid:
        mix.append(("cancel_order", {"order_id": oid, "reason": "bench"}))
    for oid in delivered:
        mix.append(("issue_refund", {"order_id": oid, "amount": 5, "reason": "goodwill"}))
    return mix


def measure_tool_calls(snapshot: Any, rounds: int = 3) -> dict[str, Any]:
    """p50/p99 latency of in-process tool calls: ``rounds`` runs of the mix, each on a fresh
    copy of ``snapshot``'s world (copying is not timed)."""
    samples: list[float] = []
    per_tool: dict[str, list[float]] = {}
    reads: list[float] = []
    writes: list[float] = []
    refused = 0
    for _ in range(rounds):
        db = snapshot.open()
        try:
            now = parse_iso(db.conn.execute("SELECT value FROM world_meta WHERE key='now'").fetchone()[0])
            start = now
            for name, args in tool_call_mix(db):
                now += timedelta(seconds=30)
                t0 = time.perf_counter()
                out = call_tool(db, name, args, now=now, episode_start=start)
                dt = (time.perf_counter() - t0) * 1000
                refused += not out.ok
                samples.append(dt)
                per_tool.setdefault(name, []).append(dt)
                (reads if REGISTRY[name].annotations.read_only else writes).append(dt)
        finally:
            db.close()
    return {
        "p50_ms": statistics.median(samples),
        "p99_ms": percentile(samples, 0.99),
        "n": len(samples),
        "read_p50_ms": statistics.median(reads),
        "write_p50_ms": statistics.median(writes),
        "n_reads": len(reads),
        "n_writes": len(writes),
        "refused": refused,
        "per_tool_p50_ms": {k: statistics.median(v) for k, v in sorted(per_tool.items())},
        "per_tool_p99_ms": {k: percentile(v, 0.99) for k, v in sorted(per_tool.items())},
        "per_tool_n": {k: len(v) for k, v in sorted(per_tool.items())},
    }


def tool_latency_rows(ctx: Any) -> list[Any]:
    """``bench world`` rows for the tool layer: in-process call latency on fresh copies."""
    from supportgym.bench.world import BenchRow

    m = measure_tool_calls(ctx.snapshot)
    rows = [
        BenchRow("tool call p50 (in process)", m["p50_ms"], "ms", m["n"]),
        BenchRow("tool call p99 (in process)", m["p99_ms"], "ms", m["n"]),
        BenchRow("read tool call p50", m["read_p50_ms"], "ms", m["n_reads"]),
        BenchRow("write tool call p50", m["write_p50_ms"], "ms", m["n_writes"]),
        BenchRow("calls refused (expected 0)", float(m["refused"]), "calls", m["n"]),
    ]
    for name, p50 in m["per_tool_p50_ms"].items():
        rows.append(BenchRow(f"  {name} p50", p50, "ms", m["per_tool_n"][name]))
        rows.append(BenchRow(f"  {name} p99", m["per_tool_p99_ms"][name], "ms", m["per_tool_n"][name]))
    return rows
