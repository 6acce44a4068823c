"""The evidence the LLM judge sees for one episode, built once and bounded.

A judge that reads only the final reply can be talked into anything: "I've refunded you $40"
reads the same whether or not a refund happened. So the judge is shown, besides the task
instruction and the reply, the *tool trail* (each call's step, tool, arguments, ok and a
trimmed result) and the *net world diff* (each changed row: table, key, op and the fields that
changed, before -> after) with the *money moved* (refunds and store credit, per order or
customer). :func:`judge_context` builds that from a finished episode; :func:`render_context`
turns it into prompt text, deterministically (it is hashed into the cache key) and within a size
bound: whatever is cut is replaced by a marker saying how much.

This module only reads :mod:`supportgym.trail` so that grading can import it without pulling in
the HTTP client the judge itself needs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from supportgym.money import dollars as money
from supportgym.services.tools.submit import SUBMIT_TOOL
from supportgym.trail import EpisodeRecord, TrailEntry, summarise_changes

REPLY_PLACEHOLDER = "(the final reply, shown below)"
MAX_RESULT_CHARS = 600
MAX_ARGUMENT_CHARS = 300
MAX_ROW_CHARS = 400
MAX_DIFF_CHARS = 3000
MAX_REPLY_CHARS = 4000

# Tables whose rows move money: what the money is, and the column naming where it goes.
MONEY_TABLES: dict[str, tuple[str, str]] = {
    "refunds": ("refund", "order_id"),
    "store_credit": ("store credit", "customer_id"),
}
_PARTY_WORD = {"order_id": "on order", "customer_id": "to customer"}


class TrailStep(BaseModel):
    """One tool call as the judge sees it."""

    step: int
    tool: str
    arguments: Any = None
    ok: bool
    writes: bool = False
    error_code: str | None = None
    result: str = Field("", description="The result as compact JSON, trimmed to MAX_RESULT_CHARS with a marker.")


class DiffRow(BaseModel):
    """The net change of one row over the episode. ``before``/``after`` hold only the changed
    fields of an update, the whole row of an insert (``after``) or delete (``before``)."""

    table: str
    key: str
    op: str
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)


class MoneyMove(BaseModel):
    kind: str  # "refund" or "store credit"
    row: str  # the refund's or credit's key
    party: str  # "on order ORD-..." or "to customer CUS-..."
    amount_cents: int


class JudgeContext(BaseModel):
    """Everything the judge is shown about one episode."""

    instruction: str
    reply: str | None = None
    trail: list[TrailStep] = Field(default_factory=list)
    world_diff: list[DiffRow] = Field(default_factory=list)
    money_moved: list[MoneyMove] = Field(default_factory=list)

    @classmethod
    def from_parts(
        cls,
        instruction: str,
        trail: Iterable[TrailEntry | dict[str, Any]],
        reply: str | None,
        net_changes: Iterable[dict[str, Any]],
    ) -> JudgeContext:
        """From a trail and the *net* changes (:func:`supportgym.trail.summarise_changes`)."""
        net = list(net_changes)
        return cls(
            instruction=instruction,
            reply=reply,
            trail=[compact_step(e if isinstance(e, TrailEntry) else TrailEntry.model_validate(e)) for e in trail],
            world_diff=[DiffRow.model_validate(c) for c in net],
            money_moved=money_moved(net),
        )

    @classmethod
    def coerce(cls, context: Any) -> JudgeContext:
        """A JudgeContext from itself or from the dict :func:`judge_context` returns."""
        if isinstance(context, cls):
            return context
        if isinstance(context, dict):
            return cls.model_validate({k: context[k] for k in cls.model_fields if k in context})
        raise TypeError(f"cannot use a {type(context).__name__} as a JudgeContext")

    def with_reply(self, reply: str | None) -> JudgeContext:
        """The same episode with another final reply (the trail shows the reply by reference)."""
        return self.model_copy(update={"reply": reply})


def judge_context(prepared: Any, record: EpisodeRecord) -> dict[str, Any]:
    """What the judge needs to grade ``record`` (a finished episode of task ``prepared``), as
    plain JSON: the one place the judge's evidence is put together."""
    ctx = JudgeContext.from_parts(prepared.instruction, record.trail, record.reply, summarise_changes(record.changes))
    return {"task_id": prepared.id, **ctx.model_dump(mode="json")}


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with a marker saying how much was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"...[{len(text) - limit} more chars]"


def compact_json(value: Any, limit: int) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return clip(text, limit)


def compact_step(entry: TrailEntry) -> TrailStep:
    arguments = entry.arguments
    if entry.name == SUBMIT_TOOL and isinstance(arguments, dict):
        # The reply has its own section; showing it twice would let a corrupted reply (flip
        # tests) disagree with the trail, and costs tokens.
        arguments = {k: (REPLY_PLACEHOLDER if isinstance(v, str) else v) for k, v in arguments.items()}
    return TrailStep(
        step=entry.step,
        tool=entry.name,
        arguments=arguments,
        ok=entry.ok,
        writes=entry.writes,
        error_code=entry.error_code,
        result=compact_json(entry.result, MAX_RESULT_CHARS),
    )


def money_moved(net_changes: Iterable[dict[str, Any]]) -> list[MoneyMove]:
    """Refunds and store credit created (or re-valued) over the episode, from the net diff."""
    out = []
    for c in net_changes:
        kind_party = MONEY_TABLES.get(c.get("table", ""))
        if kind_party is None:
            continue
        kind, party_col = kind_party
        after, before = c.get("after") or {}, c.get("before") or {}
        if c.get("op") == "insert" and isinstance(after.get("amount_cents"), int):
            amount = after["amount_cents"]
        elif c.get("op") == "update" and "amount_cents" in after:
            amount = int(after["amount_cents"] or 0) - int(before.get("amount_cents") or 0)
        else:
            continue
        party = f"{_PARTY_WORD[party_col]} {after.get(party_col) or before.get(party_col) or '?'}"
        out.append(MoneyMove(kind=kind, row=str(c.get("key")), party=str(party), amount_cents=amount))
    return out


def _value(col: str, v: Any) -> str:
    text = compact_json(v, 120)
    if col.endswith("_cents") and isinstance(v, int) and not isinstance(v, bool):
        text += f" ({money(v)})"
    return text


def render_diff_row(row: DiffRow) -> str:
    if row.op == "update":
        fields = ", ".join(
            f"{col}: {_value(col, row.before.get(col))} -> {_value(col, v)}" for col, v in sorted(row.after.items())
        )
        line = f"{row.table} {row.key} updated: {fields}"
    elif row.op == "insert":
        fields = ", ".join(f"{k}={_value(k, v)}" for k, v in sorted(row.after.items()))
        line = f"{row.table} {row.key} inserted: {fields}"
    else:
        line = (
            f"{row.table} {row.key} deleted (was: "
            + ", ".join(f"{k}={_value(k, v)}" for k, v in sorted(row.before.items()))
            + ")"
        )
    return clip(line, MAX_ROW_CHARS)


def render_step(s: TrailStep) -> str:
    status = "ok" if s.ok else f"ERROR {s.error_code or ''}".rstrip()
    write = " [write]" if s.writes else ""
    return f"{s.step}. {s.tool}({compact_json(s.arguments, MAX_ARGUMENT_CHARS)}){write} -> {status}: {s.result}"


SHORT_READ_RESULT_CHARS = 160


def _fit_trail(steps: list[TrailStep], budget: int) -> str:
    """The trail's lines within ``budget`` characters, cut in this order until they fit: the
    results of read steps shortened to SHORT_READ_RESULT_CHARS; read steps dropped; the results
    of write steps shortened; write steps dropped (writes are what claims are checked against).
    Steps are dropped from the middle outwards, the first and the last call always stay, and every
    run of dropped steps becomes one marker line."""
    lines = [render_step(s) for s in steps]
    if sum(len(line) + 1 for line in lines) > budget:
        lines = [line if s.writes else render_step(_short(s)) for s, line in zip(steps, lines, strict=True)]
    keep = [True] * len(lines)

    def size() -> int:
        return sum(len(line) + 1 for line, k in zip(lines, keep, strict=True) if k) + 40 * _runs(keep)

    for only_reads in (True, False):
        if not only_reads and size() > budget:
            lines = [render_step(_short(s)) if s.writes else line for s, line in zip(steps, lines, strict=True)]
        order = sorted(range(len(lines)), key=lambda i: (abs(i - (len(lines) - 1) / 2), i))
        for i in order:
            if size() <= budget:
                break
            if only_reads and steps[i].writes:
                continue
            if 0 < i < len(lines) - 1:  # the first and the last call always stay
                keep[i] = False
    out: list[str] = []
    dropped = 0
    for line, k in zip(lines, keep, strict=True):
        if k:
            if dropped:
                out.append(f"... [{dropped} step(s) omitted] ...")
                dropped = 0
            out.append(line)
        else:
            dropped += 1
    if dropped:
        out.append(f"... [{dropped} step(s) omitted] ...")
    return clip("\n".join(out), budget + 200)


def _short(step: TrailStep) -> TrailStep:
    return step.model_copy(update={"result": clip(step.result, SHORT_READ_RESULT_CHARS)})


def _runs(keep: list[bool]) -> int:
    return sum(1 for i, k in enumerate(keep) if not k and (i == 0 or keep[i - 1]))


def render_context(ctx: JudgeContext, *, max_chars: int = 12_000) -> str:
    """The episode as prompt text, at most about ``max_chars`` characters."""
    head = f"## Task instruction\n{ctx.instruction.strip() or '(none)'}\n"
    diff_lines = [render_diff_row(r) for r in ctx.world_diff]
    diff = ""
    for n, line in enumerate(diff_lines):
        if len(diff) + len(line) > MAX_DIFF_CHARS:
            diff += f"... [{len(diff_lines) - n} more changed row(s) omitted]\n"
            break
        diff += line + "\n"
    moves = "\n".join(f"{m.kind} {m.row} {m.party}: {money(m.amount_cents)}" for m in ctx.money_moved)
    if ctx.money_moved:
        moves = clip(moves, 1000) + f"\ntotal: {money(sum(m.amount_cents for m in ctx.money_moved))}"
    reply = clip(ctx.reply, MAX_REPLY_CHARS) if ctx.reply is not None else "(no reply: the episode ended without one)"
    tail = (
        f"\n## Net world diff (rows that differ from the start)\n{diff.rstrip() or '(no changes)'}\n"
        f"\n## Money moved\n{moves or '(none)'}\n"
        f"\n## Final reply\n{reply}\n"
    )
    budget = max(1000, max_chars - len(head) - len(tail))
    body = _fit_trail(ctx.trail, budget) if ctx.trail else "(no tool calls)"
    return f"{head}\n## Tool trail (step. tool(arguments) -> ok or ERROR: result)\n{body}\n{tail}"
