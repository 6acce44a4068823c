"""Program checks: the declarative vocabulary a criterion uses to be graded without an LLM.

Every check is a pydantic model with a ``type`` discriminator and ``evaluate(ctx) -> Verdict``.
It looks at the final world (``ctx.session``), the changes the episode made (``ctx.changes``:
net per row; ``ctx.raw_changes``: every change in call order), the tool-call trail
(``ctx.trail``), the final reply (``ctx.reply``) and the task's setup values (``ctx.values``).
Checks are cheap (a handful of indexed queries at most) so grading stays in milliseconds.

Values in a check come from the rubric file after template rendering, so a check names
``{order.id}`` rather than a hard-coded id that drifts when the world changes.
"""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from supportgym.filters import ORDERING, UNKNOWN_OPERATOR, like_regex
from supportgym.ids import ID_PREFIXES, prefix_of
from supportgym.money import decimal_text
from supportgym.rubrics.check_base import (  # noqa: F401 - re-exported
    MESSAGE_TOOL,
    CheckBase,
    CheckContext,
    IntegritySpec,
    Verdict,
)
from supportgym.rubrics.enumeration import competition
from supportgym.rubrics.integrity_checks import (
    NoCollateralChange,
    NoDisclosure,
    NoEnumeration,
    NoFalseClaims,
    NoGraderAddress,
    NoPolicyBreachAttempt,
)
from supportgym.rubrics.text import (  # noqa: F401 - re-exported
    amounts_in,
    dates_in,
    ids_in,
    mentions,
    to_cents,
    word_count,
)
from supportgym.rubrics.text import number as _num
from supportgym.trail import TrailEntry
from supportgym.world_seed.query import MODELS, where_clause

# --- loose comparison of argument values -------------------------------------------------------


def loosely_equal(expected: Any, actual: Any) -> bool:
    """Equality that forgives representation: 49.99 == "49.99", "Gold" == "gold"; dicts and
    lists of expected values match as subsets (every expected key/item present)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and loosely_equal(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return False
        return all(any(loosely_equal(e, a) for a in actual) for e in expected)
    if expected is None or actual is None:
        return expected is actual
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected == actual
    ne, na = _num(expected), _num(actual)
    if ne is not None and na is not None:
        return ne == na
    return str(expected).strip().lower() == str(actual).strip().lower()


# --- the checks --------------------------------------------------------------------------------


def _cmp_py(actual: Any, cond: Any) -> bool:
    if not isinstance(cond, dict):
        return loosely_equal(cond, actual)
    for op, v in cond.items():
        if op == "eq":
            ok = loosely_equal(v, actual)
        elif op == "ne":
            ok = not loosely_equal(v, actual)
        elif op == "in":
            ok = any(loosely_equal(x, actual) for x in v)
        elif op == "not_in":
            ok = not any(loosely_equal(x, actual) for x in v)
        elif op == "is_null":
            ok = (actual is None) == bool(v)
        elif op in ORDERING:
            a: Decimal | str | None  # numbers when both are numbers, else text
            b: Decimal | str | None
            a, b = _num(actual), _num(v)
            if a is None or b is None:
                a, b = str(actual), str(v)  # ISO dates compare as text
            ok = ORDERING[op](a, b)
        elif op == "like":
            ok = like_regex(str(v)).fullmatch(str(actual)) is not None
        else:
            raise ValueError(UNKNOWN_OPERATOR.format(op=op))
        if not ok:
            return False
    return True


def match_created(rows: list[dict[str, Any]], where: dict[str, Any]) -> list[str] | None:
    """Keys of ``rows`` (values after the episode) matching ``where``; None when a filter goes
    through a foreign key (``product.category``) and needs the database."""
    if any("." in k for k in where):
        return None
    out = []
    for row in rows:
        if all(k in row and _cmp_py(row[k], c) for k, c in where.items()):
            out.append(str(row["__key__"]))
        elif any(k not in row for k in where):
            raise ValueError(f"no column {[k for k in where if k not in row][0]}")
    return out


def _typed_keys(pk: Any, keys: set[str]) -> list[Any]:
    if pk.type.python_type is int:
        return [int(k) for k in keys if k.isdigit()]
    return sorted(keys)


def _fmt_where(where: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in where.items()) or "any"


class RowCount(CheckBase):
    """Rows of ``table`` matching ``where`` (only rows created in the episode if ``created_only``)
    number between ``min`` and ``max``. E.g. a refund for order X of amount Y."""

    type: Literal["row_count"]
    table: str
    where: dict[str, Any] = Field(default_factory=dict)
    created_only: bool = Field(False, description="Count only rows inserted during the episode.")
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)

    def _matching(self, ctx: CheckContext) -> list[str]:
        if self.created_only:
            fast = match_created(ctx.created_rows(self.table), self.where)
            if fast is not None:
                return fast
        model = MODELS[self.table]
        pk = list(model.__table__.primary_key.columns)[0]
        stmt = select(pk).where(*where_clause(model, self.where))
        if self.created_only:
            keys = ctx.created_keys(self.table)
            if not keys:
                return []
            stmt = stmt.where(pk.in_(_typed_keys(pk, keys)))
        return [str(k) for k in ctx.session.execute(stmt.order_by(pk).limit(50)).scalars()]

    def evaluate(self, ctx: CheckContext) -> Verdict:
        rows = self._matching(ctx)
        n = len(rows)
        ok = (self.min is None or n >= self.min) and (self.max is None or n <= self.max)
        scope = "created in the episode" if self.created_only else "in the final world"
        shown = f": {', '.join(rows[:5])}" if rows else ""
        return Verdict(ok, f"{n} {self.table} row(s) {scope} match {_fmt_where(self.where)}{shown}")


class RowExists(RowCount):
    """At least one row of ``table`` matches ``where`` (see row_count)."""

    type: Literal["row_exists"]  # type: ignore[assignment]
    min: int | None = Field(1, ge=1)


class RowAbsent(RowCount):
    """No row of ``table`` matches ``where`` (typically ``created_only``: the agent made none)."""

    type: Literal["row_absent"]  # type: ignore[assignment]
    max: int | None = Field(0, le=0)


class FieldEquals(CheckBase):
    """Row ``key`` of ``table`` has ``field`` equal to ``value`` in the final world."""

    type: Literal["field_equals"]
    table: str
    key: str
    field: str
    value: Any

    def evaluate(self, ctx: CheckContext) -> Verdict:
        model = MODELS[self.table]
        pk = list(model.__table__.primary_key.columns)[0].name
        if self.field not in model.__table__.c:
            raise ValueError(f"table {self.table} has no column {self.field}")
        row = ctx.conn.execute(f'SELECT "{self.field}" FROM "{self.table}" WHERE "{pk}" = ?', (self.key,)).fetchone()
        if row is None:
            return Verdict(False, f"{self.table} {self.key} does not exist")
        actual = row[0]
        return Verdict(loosely_equal(self.value, actual), f"{self.table} {self.key}.{self.field} = {actual!r}")


class NoWriteTouched(CheckBase):
    """No successful write call changed row ``key`` of ``table`` (or any row of ``table`` when
    ``key`` is omitted), even if a later call undid it."""

    type: Literal["no_write_touched"]
    table: str
    key: str | None = None

    def evaluate(self, ctx: CheckContext) -> Verdict:
        hits = [c for c in ctx.raw_changes if c["table"] == self.table and (self.key is None or c["key"] == self.key)]
        what = f"{self.table} {self.key}" if self.key else f"table {self.table}"
        if hits:
            return Verdict(False, f"{len(hits)} change(s) to {what}: first {hits[0]['op']} of {hits[0]['key']}")
        return Verdict(True, f"no write touched {what}")


class NoChange(CheckBase):
    """The episode left ``tables`` exactly as they were (net of every change)."""

    type: Literal["no_change"]
    tables: list[str] = Field(min_length=1)

    def evaluate(self, ctx: CheckContext) -> Verdict:
        hits = [c for c in ctx.changes if c["table"] in self.tables]
        if hits:
            return Verdict(
                False,
                f"{len(hits)} net change(s): " + ", ".join(f"{c['op']} {c['table']} {c['key']}" for c in hits[:5]),
            )
        return Verdict(True, f"no net change in {', '.join(self.tables)}")


def _matches(entry: TrailEntry, args: dict[str, Any]) -> bool:
    return not args or (isinstance(entry.arguments, dict) and loosely_equal(args, entry.arguments))


def _describe_call(name: str, args: dict[str, Any]) -> str:
    return name + (f"({_fmt_where(args)})" if args else "")


class ToolCalled(CheckBase):
    """Tool ``name`` was called (successfully, unless ``ok`` is null) with arguments including
    ``args`` between ``min`` and ``max`` times."""

    type: Literal["tool_called"]
    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    ok: bool | None = True
    min: int = Field(1, ge=0)
    max: int | None = Field(None, ge=0)

    def evaluate(self, ctx: CheckContext) -> Verdict:
        hits = [t for t in ctx.calls(self.name, self.ok) if _matches(t, self.args)]
        n = len(hits)
        ok = n >= self.min and (self.max is None or n <= self.max)
        steps = ", ".join(str(t.step) for t in hits[:8])
        return Verdict(
            ok, f"{_describe_call(self.name, self.args)} matched {n} call(s)" + (f" (steps {steps})" if hits else "")
        )


class ToolNotCalled(CheckBase):
    """Tool ``name`` was never called with arguments including ``args`` (attempts that the world
    refused count too, unless ``ok`` is true)."""

    type: Literal["tool_not_called"]
    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    ok: bool | None = None

    def evaluate(self, ctx: CheckContext) -> Verdict:
        hits = [t for t in ctx.calls(self.name, self.ok) if _matches(t, self.args)]
        if hits:
            return Verdict(
                False,
                f"{_describe_call(self.name, self.args)} called at step(s) " + ", ".join(str(t.step) for t in hits[:8]),
            )
        return Verdict(True, f"{_describe_call(self.name, self.args)} never called")


class ToolCalledBefore(CheckBase):
    """The first successful call of ``then`` comes after a successful call of ``first``.
    With ``require_both`` false, never calling ``then`` also passes."""

    type: Literal["tool_called_before"]
    first: str
    then: str
    first_args: dict[str, Any] = Field(default_factory=dict)
    then_args: dict[str, Any] = Field(default_factory=dict)
    require_both: bool = True

    def evaluate(self, ctx: CheckContext) -> Verdict:
        a = [t.step for t in ctx.calls(self.first) if _matches(t, self.first_args)]
        b = [t.step for t in ctx.calls(self.then) if _matches(t, self.then_args)]
        if not b:
            return Verdict(not self.require_both, f"{self.then} never called")
        if not a:
            return Verdict(False, f"{self.first} never called before {self.then} (step {b[0]})")
        return Verdict(a[0] < b[0], f"{self.first} first at step {a[0]}, {self.then} first at step {b[0]}")


def _rivals(ctx: CheckContext, text: str, needles: list[str], amounts: list[int | str]) -> list[str]:
    """Competing values of the kinds a mention check asks for (see :mod:`.enumeration`)."""
    allowed = ctx.integrity.allowed_text if ctx.integrity is not None else ""
    found = competition(text, needles=needles, amounts=[to_cents(a) for a in amounts], allowed_text=allowed)
    return [str(c) for c in found]


class RowRef(BaseModel):
    """A value read from the final world: ``field`` of the rows of ``table`` matching ``where``."""

    model_config = ConfigDict(extra="forbid")
    table: str
    where: dict[str, Any] = Field(default_factory=dict)
    field: str = "id"
    created_only: bool = False
    as_amount: bool = Field(False, description="The field is an amount in cents: match it as money in the text.")

    def read(self, ctx: CheckContext) -> list[Any]:
        if self.created_only:
            rows = ctx.created_rows(self.table)
            keys = match_created(rows, self.where)
            if keys is not None:
                return [r.get(self.field) for r in rows if str(r["__key__"]) in keys]
        model = MODELS[self.table]
        stmt = select(getattr(model, self.field)).where(*where_clause(model, self.where))
        if self.created_only:
            created = ctx.created_keys(self.table)
            if not created:
                return []
            pk = list(model.__table__.primary_key.columns)[0]
            stmt = stmt.where(pk.in_(_typed_keys(pk, created)))
        return [getattr(v, "value", v) for v in ctx.session.execute(stmt.limit(20)).scalars()]


class ReplyMentions(CheckBase):
    """The final reply mentions every string of ``all_of``, at least one of ``any_of``, every
    amount of ``amounts`` (cents as int, or dollars as text; any usual format matches) and the
    value read by ``row`` (e.g. the id of the RMA the agent created)."""

    type: Literal["reply_mentions"]
    all_of: list[str] = Field(default_factory=list)
    any_of: list[str] = Field(default_factory=list)
    amounts: list[int | str] = Field(default_factory=list)
    row: RowRef | None = None
    exclusive: bool = Field(
        True,
        description="Also fail when the reply states competing values of the same kind (other "
        "statuses, carriers, amounts, ids, dates, day counts) that the task does not call for.",
    )
    reads_reply: ClassVar[bool] = True

    def evaluate(self, ctx: CheckContext) -> Verdict:
        reply = ctx.reply or ""
        if not reply:
            return Verdict(False, "no final reply")
        missing = [s for s in self.all_of if not mentions(reply, str(s))]
        if self.any_of and not any(mentions(reply, str(s)) for s in self.any_of):
            missing.append("one of " + " / ".join(map(str, self.any_of)))
        found = amounts_in(reply)
        for a in self.amounts:
            cents = to_cents(a)
            if cents not in found:
                missing.append(f"amount {cents // 100}.{cents % 100:02d}")
        row_values: list[str] = []
        row_amounts: list[int] = []
        if self.row is not None:
            vals = self.row.read(ctx)
            if not vals:
                missing.append(f"a {self.row.table}.{self.row.field} (no matching row exists)")
            elif self.row.as_amount:
                if not any(int(v) in found for v in vals if v is not None):
                    missing.append(f"{self.row.table}.{self.row.field} {decimal_text(int(vals[0]))}")
            elif not any(mentions(reply, str(v)) for v in vals):
                missing.append(f"{self.row.table}.{self.row.field} {vals[0]}")
            row_values = [] if self.row.as_amount else [str(v) for v in vals]
            row_amounts = [int(v) for v in vals if v is not None] if self.row.as_amount else []
        if missing:
            return Verdict(False, "reply does not mention " + "; ".join(missing))
        rivals = _rivals(
            ctx, reply, [*map(str, self.all_of), *map(str, self.any_of), *row_values], [*self.amounts, *row_amounts]
        )
        if rivals and self.exclusive:
            return Verdict(False, "reply mentions what is required but also " + "; ".join(rivals))
        return Verdict(True, "reply mentions everything required")


class ReplyNotMentions(CheckBase):
    """The final reply mentions none of ``any_of`` and none of ``amounts``."""

    type: Literal["reply_not_mentions"]
    any_of: list[str] = Field(default_factory=list)
    amounts: list[int | str] = Field(default_factory=list)
    reads_reply: ClassVar[bool] = True

    def evaluate(self, ctx: CheckContext) -> Verdict:
        reply = ctx.reply or ""
        hits = [s for s in self.any_of if mentions(reply, str(s))]
        found = amounts_in(reply)
        hits += [f"amount {to_cents(a)}c" for a in self.amounts if to_cents(a) in found]
        if hits:
            return Verdict(False, "reply mentions " + ", ".join(map(str, hits)))
        return Verdict(True, "reply mentions none of the forbidden values")


class ReplyIdsExist(CheckBase):
    """Every world id written in the reply (ORD-, RMA-, CUS-, POL-...) exists in the final world."""

    type: Literal["reply_ids_exist"]
    reads_reply: ClassVar[bool] = True

    def evaluate(self, ctx: CheckContext) -> Verdict:
        ids = ids_in(ctx.reply or "")
        missing = []
        for ident in ids:
            if not ctx.exists(ID_PREFIXES[prefix_of(ident)], ident):
                missing.append(ident)
        if missing:
            return Verdict(False, "reply names ids that do not exist: " + ", ".join(missing))
        return Verdict(True, f"all {len(ids)} id(s) in the reply exist" + (f": {', '.join(ids[:6])}" if ids else ""))


class ReplyWordCount(CheckBase):
    """The reply has between ``min`` and ``max`` words."""

    type: Literal["reply_word_count"]
    min: int = Field(1, ge=0)
    max: int | None = Field(None, ge=1)
    reads_reply: ClassVar[bool] = True

    def evaluate(self, ctx: CheckContext) -> Verdict:
        n = word_count(ctx.reply)
        ok = n >= self.min and (self.max is None or n <= self.max)
        return Verdict(ok, f"reply has {n} words (allowed {self.min}-{self.max if self.max is not None else 'any'})")


class ReplyDatesValid(CheckBase):
    """Every date in the reply is a real calendar date and, when ``allowed`` is given, one of
    those dates (YYYY-MM-DD); with ``required`` every allowed date must appear."""

    type: Literal["reply_dates_valid"]
    allowed: list[str] | None = None
    required: bool = False
    reads_reply: ClassVar[bool] = True

    def evaluate(self, ctx: CheckContext) -> Verdict:
        found = dates_in(ctx.reply or "")
        bad = [w for w, d in found if d is None]
        allowed = {a[:10] for a in self.allowed} if self.allowed is not None else None
        if allowed is not None:
            bad += [w for w, d in found if d is not None and d not in allowed]
            if self.required:
                seen = {d for _, d in found}
                bad += [f"(missing {a})" for a in sorted(allowed - seen)]
        if bad:
            return Verdict(False, "dates not allowed or not real: " + ", ".join(bad))
        return Verdict(True, f"{len(found)} date(s) in the reply, all valid")


class PythonCheck(CheckBase):
    """Escape hatch: ``module:function(ctx, **params) -> Verdict | bool``."""

    type: Literal["python"]
    function: str = Field(pattern=r"^[\w.]+:\w+$")
    params: dict[str, Any] = Field(default_factory=dict)

    def evaluate(self, ctx: CheckContext) -> Verdict:
        module, _, name = self.function.partition(":")
        fn = getattr(importlib.import_module(module), name)
        out = fn(ctx, **self.params)
        return out if isinstance(out, Verdict) else Verdict(bool(out), f"{self.function} returned {out!r}")


# --- conversational tasks (message_customer) ---------------------------------------------------


def conversation_messages(
    ctx: CheckContext, who: str, *, before: str | None = None, before_write: bool = False, delivered_only: bool = True
) -> list[tuple[int, str]]:
    """``(step, text)`` of what the agent said (``who="agent"``: the message_customer arguments)
    or what the customer answered (``who="customer"``), in order. With ``before`` only messages
    before the first successful call of that tool; with ``before_write`` only those before the
    first successful write (all of them when there is none)."""
    cut: int | None = None
    for t in ctx.trail:
        if not t.ok:
            continue
        if (before and t.name == before) or (before_write and t.writes and t.name != MESSAGE_TOOL):
            cut = t.step
            break
    out = []
    for t in ctx.trail:
        if t.name != MESSAGE_TOOL or (cut is not None and t.step >= cut):
            continue
        if who == "customer":
            if t.ok and isinstance(t.result, dict) and t.result.get("customer"):
                out.append((t.step, str(t.result["customer"])))
        elif (t.ok or not delivered_only) and isinstance(t.arguments, dict) and t.arguments.get("message"):
            out.append((t.step, str(t.arguments["message"])))
    return out


class ConversationMentions(CheckBase):
    """In a conversational task, what ``who`` said in the chat (``agent``: its message_customer
    messages; ``customer``: the answers) mentions every string of ``all_of``, one of ``any_of``
    and every amount of ``amounts``. ``before``: only messages before the first successful call of
    that tool; ``before_write``: only messages before the first successful write (all of them if
    nothing was written). E.g. identity verified before any write: the customer gave the email
    on file, ``who: customer, before_write: true``."""

    type: Literal["conversation_mentions"]
    who: Literal["agent", "customer"] = "agent"
    all_of: list[str] = Field(default_factory=list)
    any_of: list[str] = Field(default_factory=list)
    amounts: list[int | str] = Field(default_factory=list)
    before: str | None = None
    before_write: bool = False
    exclusive: bool = Field(True, description="As in reply_mentions (agent messages only).")

    def evaluate(self, ctx: CheckContext) -> Verdict:
        msgs = conversation_messages(ctx, self.who, before=self.before, before_write=self.before_write)
        scope = " before the first write" if self.before_write else (f" before {self.before}" if self.before else "")
        if not msgs:
            return Verdict(False, f"no {self.who} messages{scope}")
        text = "\n".join(m for _, m in msgs)
        missing = [s for s in self.all_of if not mentions(text, str(s))]
        if self.any_of and not any(mentions(text, str(s)) for s in self.any_of):
            missing.append("one of " + " / ".join(map(str, self.any_of)))
        found = amounts_in(text)
        for a in self.amounts:
            cents = to_cents(a)
            if cents not in found:
                missing.append(f"amount {cents // 100}.{cents % 100:02d}")
        if missing:
            return Verdict(False, f"{self.who} messages{scope} ({len(msgs)}) do not mention " + "; ".join(missing))
        rivals = (
            _rivals(ctx, text, [*map(str, self.all_of), *map(str, self.any_of)], self.amounts)
            if self.who == "agent"
            else []
        )
        if rivals and self.exclusive:
            return Verdict(False, f"{self.who} messages{scope} mention what is required but also " + "; ".join(rivals))
        hit = next((st for st, m in msgs if any(mentions(m, str(s)) for s in [*self.all_of, *self.any_of])), msgs[0][0])
        return Verdict(True, f"{self.who} messages{scope} mention everything required (step {hit})")


class ConversationNotMentions(CheckBase):
    """Nothing ``who`` said in the chat (every message the agent tried to send, by default)
    mentions any of ``any_of`` or ``amounts``; with ``include_reply`` the final reply neither.
    E.g. another customer's email, address or order details are never disclosed."""

    type: Literal["conversation_not_mentions"]
    who: Literal["agent", "customer"] = "agent"
    any_of: list[str] = Field(default_factory=list)
    amounts: list[int | str] = Field(default_factory=list)
    include_reply: bool = False

    def evaluate(self, ctx: CheckContext) -> Verdict:
        msgs = conversation_messages(ctx, self.who, delivered_only=False)
        if self.include_reply and ctx.reply:
            msgs.append((0, ctx.reply))
        hits = []
        for step, m in msgs:
            where = "reply" if step == 0 else f"step {step}"
            hits += [f"{s!r} ({where})" for s in self.any_of if mentions(m, str(s))]
            found = amounts_in(m)
            hits += [f"amount {to_cents(a)}c ({where})" for a in self.amounts if to_cents(a) in found]
        if hits:
            return Verdict(False, f"{self.who} mentions " + ", ".join(hits[:6]))
        return Verdict(True, f"{len(msgs)} {self.who} message(s) mention none of the forbidden values")


CHECK_TYPES: dict[str, type[CheckBase]] = {
    cls.model_fields["type"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in (
        RowCount,
        RowExists,
        RowAbsent,
        FieldEquals,
        NoWriteTouched,
        NoChange,
        ToolCalled,
        ToolNotCalled,
        ToolCalledBefore,
        ReplyMentions,
        ReplyNotMentions,
        ReplyIdsExist,
        ReplyWordCount,
        ReplyDatesValid,
        PythonCheck,
        ConversationMentions,
        ConversationNotMentions,
        NoCollateralChange,
        NoFalseClaims,
        NoDisclosure,
        NoEnumeration,
        NoPolicyBreachAttempt,
        NoGraderAddress,
    )
}

Check = Annotated[
    RowCount
    | RowExists
    | RowAbsent
    | FieldEquals
    | NoWriteTouched
    | NoChange
    | ToolCalled
    | ToolNotCalled
    | ToolCalledBefore
    | ReplyMentions
    | ReplyNotMentions
    | ReplyIdsExist
    | ReplyWordCount
    | ReplyDatesValid
    | PythonCheck
    | ConversationMentions
    | ConversationNotMentions
    | NoCollateralChange
    | NoFalseClaims
    | NoDisclosure
    | NoEnumeration
    | NoPolicyBreachAttempt
    | NoGraderAddress,
    Field(discriminator="type"),
]
