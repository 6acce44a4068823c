"""``supportgym bench tau2``: SupportGym's tools beside τ²-bench's retail tools, same run, same machine.

τ²-bench is not a dependency: point ``--tau2-python`` (or ``SUPPORTGYM_TAU2_PYTHON``) at a
Python that has it installed and ``--tau2-data`` (``TAU2_DATA_DIR``) at its ``data`` folder.
Its tools are timed in that interpreter (a child process running :data:`_TAU2_PROBE`), in
process through ``Environment.use_tool``; SupportGym's through ``call_tool`` (validation, the
tool, the change log). Rounds alternate between the two so machine noise hits both alike.
Without τ²-bench the command says what is missing and exits with code 2.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import typer
from sqlalchemy import select

from supportgym.clock import parse_iso
from supportgym.schema import (
    Customer,
    Order,
    OrderStatus,
    Product,
    Ticket,
    TicketStatus,
)
from supportgym.services.tools import call_tool
from supportgym.stats import percentile

# (τ² tool, SupportGym tool): the pairs that do the same job.
PAIRS = [
    ("get_order_details", "get_order"),
    ("get_user_details", "get_customer"),
    ("find_user_id_by_email", "search_customers"),
    ("get_product_details", "get_product"),
    ("cancel_pending_order", "cancel_order"),
    ("modify_pending_order_address", "update_order_shipping_address"),
]
# SupportGym writes without a τ² twin, compared with cancel_order (target: within 2x).
UNPAIRED_WRITES = ["issue_refund", "add_internal_note", "tag_ticket", "update_ticket_status", "create_return"]

# Run by τ²-bench's interpreter: prints {tool: [ms, ...]} as JSON. Imports nothing of ours.
_TAU2_PROBE = r"""
import json, sys, time, copy
from tau2.domains.retail.environment import get_environment
n = int(sys.argv[1])
env = get_environment()
db = env.tools.db
orders = list(db.orders)
pending = [k for k, v in db.orders.items() if v.status == "pending"]
users = list(db.users)
products = list(db.products)
pristine = db.model_copy(deep=True)
from tau2.data_model.message import ToolCall
out = {"dispatch": {}, "step": {}}
def timed(name, kwargs_list, fresh=False):
    global env
    for level in ("dispatch", "step"):
        xs = []
        for kw in kwargs_list:
            if fresh:
                env = get_environment(db=pristine.model_copy(deep=True))
            if level == "dispatch":
                t0 = time.perf_counter()
                env.use_tool(name, **kw)
            else:
                call = ToolCall(id="c", name=name, arguments=kw)
                t0 = time.perf_counter()
                msg = env.get_response(call)
                assert not msg.error, msg.content
            xs.append((time.perf_counter() - t0) * 1000)
        out[level][name] = xs
timed("get_order_details", [{"order_id": orders[i % len(orders)]} for i in range(n)])
timed("get_user_details", [{"user_id": users[i % len(users)]} for i in range(n)])
timed("find_user_id_by_email", [{"email": db.users[users[i % len(users)]].email} for i in range(n)])
timed("get_product_details", [{"product_id": products[i % len(products)]} for i in range(n)])
timed("cancel_pending_order",
      [{"order_id": pending[i % len(pending)], "reason": "no longer needed"} for i in range(min(n, 40))], fresh=True)
timed("modify_pending_order_address", [{"order_id": pending[i % len(pending)], "address1": "1 Main St", "address2": "",
      "city": "Austin", "state": "TX", "country": "USA", "zip": "78701"} for i in range(min(n, 40))], fresh=True)
print(json.dumps(out))
"""


def _supportgym_samples(n: int, scale: str) -> dict[str, dict[str, list[float]]]:
    from supportgym.services.worlds import get_snapshot

    snapshot = get_snapshot(7, scale)
    out: dict[str, dict[str, list[float]]] = {"dispatch": {}, "step": {}}

    def timed(db: Any, name: str, calls: list[dict[str, Any]], clock: list[Any]) -> None:
        for args in calls:
            clock[0] += timedelta(seconds=30)
            t0 = time.perf_counter()
            res = call_tool(db, name, args, now=clock[0], episode_start=clock[1])
            t1 = time.perf_counter()
            json.dumps(res.result)  # the observation as text, as τ²'s get_response returns it
            t2 = time.perf_counter()
            out["dispatch"].setdefault(name, []).append((t1 - t0) * 1000)
            out["step"].setdefault(name, []).append((t2 - t0) * 1000)
            if not res.ok:
                raise RuntimeError(f"bench call refused: {name} {args}: {res.result}")

    db = snapshot.open()
    try:
        now = parse_iso(db.conn.execute("SELECT value FROM world_meta WHERE key='now'").fetchone()[0])
        clock = [now, now]
        with db.session() as s:
            orders = s.execute(select(Order.id).order_by(Order.id).limit(200)).scalars().all()
            customers = s.execute(select(Customer.id, Customer.email).order_by(Customer.id).limit(200)).all()
            products = s.execute(select(Product.id).order_by(Product.id).limit(200)).scalars().all()
            paid = s.execute(
                select(Order.id, Customer.email)
                .join(Customer)
                .where(Order.status == OrderStatus.paid)
                .order_by(Order.id)
                .limit(40)
            ).all()
            delivered = (
                s.execute(
                    select(Order.id)
                    .where(Order.status == OrderStatus.delivered, Order.total_cents >= 1000, ~Order.refunds.any())
                    .order_by(Order.id)
                    .limit(40)
                )
                .scalars()
                .all()
            )
            tickets = (
                s.execute(select(Ticket.id).where(Ticket.status != TicketStatus.closed).order_by(Ticket.id).limit(40))
                .scalars()
                .all()
            )
        timed(db, "get_order", [{"order_id": orders[i % len(orders)]} for i in range(n)], clock)
        timed(db, "get_customer", [{"customer_id": customers[i % len(customers)][0]} for i in range(n)], clock)
        timed(db, "search_customers", [{"email": customers[i % len(customers)][1]} for i in range(n)], clock)
        timed(db, "get_product", [{"product_id": products[i % len(products)]} for i in range(n)], clock)
        timed(
            db,
            "update_order_shipping_address",
            [
                {
                    "order_id": o,
                    "verification_email": e,
                    "name": "A B",
                    "line1": "1 Main St",
                    "city": "Austin",
                    "region": "TX",
                    "postal_code": "78701",
                }
                for o, e in paid
            ],
            clock,
        )
        timed(db, "cancel_order", [{"order_id": o, "reason": "no longer needed"} for o, _ in paid], clock)
        timed(db, "issue_refund", [{"order_id": o, "amount": 5, "reason": "goodwill"} for o in delivered], clock)
        timed(db, "add_internal_note", [{"ticket_id": t, "note": "bench"} for t in tickets], clock)
        timed(db, "tag_ticket", [{"ticket_id": t, "add": ["bench"]} for t in tickets], clock)
        timed(db, "update_ticket_status", [{"ticket_id": t, "status": "pending"} for t in tickets], clock)
    finally:
        db.close()
    return out


def _tau2_samples(python: str, data: str, n: int) -> dict[str, dict[str, list[float]]]:
    env = {**os.environ, "TAU2_DATA_DIR": data}
    done = subprocess.run(
        [python, "-c", _TAU2_PROBE, str(n)], capture_output=True, text=True, env=env, timeout=900, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"τ²-bench probe failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_tau2(
    tau2_python: str = typer.Option(
        os.environ.get("SUPPORTGYM_TAU2_PYTHON", ""), help="Python with tau2-bench installed."
    ),
    tau2_data: str = typer.Option(os.environ.get("TAU2_DATA_DIR", ""), help="tau2-bench's data folder."),
    rounds: int = typer.Option(5, min=1, max=50, help="Alternating rounds; the figure is the median of round p50s."),
    calls: int = typer.Option(200, min=10, max=10_000, help="Read calls per tool per round."),
    scale: str = typer.Option("default", help="SupportGym world scale."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    save: str = typer.Option("", help="Also write the JSON to this file (to compare runs)."),
) -> None:
    """Per-tool p50/p99 of SupportGym beside τ²-bench's retail tools, with ratios (in process)."""
    if not tau2_python or not tau2_data:
        typer.echo(
            "tau2-bench not given: pass --tau2-python and --tau2-data (or set SUPPORTGYM_TAU2_PYTHON "
            "and TAU2_DATA_DIR); skipping the side-by-side.",
            err=True,
        )
        raise typer.Exit(2)
    ours: dict[str, dict[str, list[list[float]]]] = {"dispatch": {}, "step": {}}
    theirs: dict[str, dict[str, list[list[float]]]] = {"dispatch": {}, "step": {}}
    for r in range(rounds):
        print(f"round {r + 1}/{rounds}", file=sys.stderr, flush=True)
        for side, got in (
            (ours, _supportgym_samples(calls, scale)),
            (theirs, _tau2_samples(tau2_python, tau2_data, calls)),
        ):
            for level, per_tool in got.items():
                for k, v in per_tool.items():
                    side[level].setdefault(k, []).append(v)

    def fig(runs: list[list[float]]) -> dict[str, float]:
        return {
            "p50_ms": statistics.median(statistics.median(x) for x in runs),
            "p99_ms": statistics.median(percentile(x, 0.99) for x in runs),
            "n": sum(len(x) for x in runs),
        }

    result: dict[str, Any] = {
        "rounds": rounds,
        "calls": calls,
        "scale": scale,
        "levels": {},
        "note": "in process, one machine, one run; ratio = SupportGym p50 / τ² p50 "
        "(below 1: SupportGym faster). dispatch: use_tool vs call_tool; step: "
        "get_response (JSON text) vs call_tool + json.dumps",
    }
    for level in ("dispatch", "step"):
        rows: list[dict[str, Any]] = []
        for t2, sg in PAIRS:
            a, b = fig(theirs[level][t2]), fig(ours[level][sg])
            rows.append(
                {"tau2_tool": t2, "tool": sg, "tau2": a, "supportgym": b, "ratio_p50": b["p50_ms"] / a["p50_ms"]}
            )
        cancel = fig(ours[level]["cancel_order"])["p50_ms"]
        for sg in UNPAIRED_WRITES:
            if sg in ours[level]:
                b = fig(ours[level][sg])
                rows.append(
                    {
                        "tau2_tool": None,
                        "tool": sg,
                        "tau2": None,
                        "supportgym": b,
                        "ratio_to_cancel_order": b["p50_ms"] / cancel,
                    }
                )
        result["levels"][level] = rows
    if save:
        with open(save, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    for level, rows in result["levels"].items():
        typer.echo(f"\n[{level}] median over {rounds} rounds of per-round p50 / p99")
        typer.echo(f"{'τ² tool':30} {'SupportGym tool':30} {'τ² p50/p99 ms':>16} {'SG p50/p99 ms':>16}  ratio")
        for row in rows:
            sgf, t2f = row["supportgym"], row["tau2"]
            t2s = f"{t2f['p50_ms']:.3f}/{t2f['p99_ms']:.3f}" if t2f else "-"
            sgs = f"{sgf['p50_ms']:.3f}/{sgf['p99_ms']:.3f}"
            if t2f:
                ratio = f"{row['ratio_p50']:.2f}x"
            else:
                ratio = f"{row['ratio_to_cancel_order']:.2f}x of cancel_order"
            typer.echo(f"{row['tau2_tool'] or '-':30} {row['tool']:30} {t2s:>16} {sgs:>16}  {ratio}")
