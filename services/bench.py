"""Tool-call latency, in process: the figure the world benchmark reports for the tool layer."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from supportgym.clock import parse_iso
from supportgym.schema import Customer, Order, OrderStatus, Ticket
from supportgym.services.tools import call_tool


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def tool_call_mix(db: Any) -> list[tuple[str, dict[str, Any]]]:
    """A realistic mix of calls (mostly reads, some writes) against entities of this world."""
    with db.session() as s:
        orders = s.execute(select(Order.id).order_by(Order.id).limit(40)).scalars().all()
        customers = s.execute(select(Customer).order_by(Customer.id).limit(20)).scalars().all()
        tickets = s.execute(select(Ticket.id).order_by(Ticket.id).limit(20)).scalars().all()
        paid = s.execute(
            select(Order.id).where(Order.status == OrderStatus.paid).order_by(Order.id).limit(10)
        ).scalars().all()
    mix: list[tuple[str, dict[str, Any]]] = []
    for n in range(40):
        c = customers[n % len(customers)]
        mix.append(("get_order", {"order_id": orders[n % len(orders)]}))
        mix.append(("get_customer", {"customer_id": c.id}))
        mix.append(("search_orders", {"customer_id": c.id}))
        mix.append(("get_ticket", {"ticket_id": tickets[n % len(tickets)]}))
        mix.append(("search_customers", {"name": c.last_name}))
        mix.append(("search_products", {"brand": "VortexLabs"}))
        mix.append(("add_internal_note", {"ticket_id": tickets[n % len(tickets)], "note": "bench"}))
    for oid in paid:
        mix.append(("cancel_order", {"order_id": oid, "reason": "bench"}))
    return mix


def measure_tool_calls(db: Any, rounds: int = 3) -> dict[str, Any]:
    """p50/p99 latency of in-process tool calls over ``rounds`` passes of the mix."""
    now = parse_iso(db.conn.execute("SELECT value FROM world_meta WHERE key='now'").fetchone()[0])
    start = now
    samples: list[float] = []
    per_tool: dict[str, list[float]] = {}
    mix = tool_call_mix(db)
    for _ in range(rounds):
        for name, args in mix:
            now += timedelta(seconds=30)
            t0 = time.perf_counter()
            call_tool(db, name, args, now=now, episode_start=start)
            dt = (time.perf_counter() - t0) * 1000
            samples.append(dt)
            per_tool.setdefault(name, []).append(dt)
    return {
        "p50_ms": statistics.median(samples),
        "p99_ms": _percentile(samples, 0.99),
        "n": len(samples),
        "per_tool_p50_ms": {k: statistics.median(v) for k, v in sorted(per_tool.items())},
    }


def tool_latency_rows(ctx: Any) -> list[Any]:
    """``bench world`` rows for the tool layer: in-process call latency on a fresh copy."""
    from supportgym.world_seed.bench import BenchRow

    db = ctx.snapshot.open()
    try:
        m = measure_tool_calls(db)
    finally:
        db.close()
    rows = [
        BenchRow("tool call p50 (in process)", m["p50_ms"], "ms", m["n"]),
        BenchRow("tool call p99 (in process)", m["p99_ms"], "ms", m["n"]),
    ]
    n_each = m["n"] // max(1, len(m["per_tool_p50_ms"]))
    for name, p50 in m["per_tool_p50_ms"].items():
        rows.append(BenchRow(f"  {name} p50", p50, "ms", n_each))
    return rows
