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

import calendar
import importlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supportgym.trail import TrailEntry


@dataclass
class Verdict:
    met: bool
    evidence: str


@dataclass
class CheckContext:
    """What a check may look at. Built once per grading; derived views are cached.

    ``session`` (an ORM session on the final world) is opened on first use: checks that can be
    answered from the changes, the trail or the reply never pay for it. ``conn`` is the raw
    sqlite3 connection of the final world for cheap point reads.
    """

    db: Any
    changes: list[dict[str, Any]]
    raw_changes: list[dict[str, Any]]
    trail: list[TrailEntry]
    reply: str | None
    values: dict[str, Any]
    now: datetime
    _cache: dict[str, Any] = field(default_factory=dict)
    _session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self.db.session()
        return self._session

    @property
    def conn(self) -> Any:
        return self.db.conn

    def close(self) -> None:
        if self._session is not None:
            self._session.rollback()
            self._session.close()
            self._session = None

    def created_rows(self, table: str) -> list[dict[str, Any]]:
        """Final values of the rows of ``table`` inserted during the episode."""
        key = f"rows:{table}"
        if key not in self._cache:
            self._cache[key] = [
                {**c["after"], "__key__": c["key"]} for c in self.changes if c["op"] == "insert" and c["table"] == table
            ]
        return self._cache[key]

    def exists(self, table: str, key: str) -> bool:
        from supportgym.schema import Base

        pk = list(Base.metadata.tables[table].primary_key.columns)[0].name
        return self.conn.execute(f'SELECT 1 FROM "{table}" WHERE "{pk}" = ? LIMIT 1', (key,)).fetchone() is not None

    def created_keys(self, table: str) -> set[str]:
        key = f"created:{table}"
        if key not in self._cache:
            self._cache[key] = {c["key"] for c in self.changes if c["op"] == "insert" and c["table"] == table}
        return self._cache[key]

    def calls(self, name: str, ok: bool | None = True) -> list[TrailEntry]:
        return [t for t in self.trail if t.name == name and (ok is None or t.ok == ok)]


def _models() -> dict[str, Any]:
    from supportgym.tasks.setup import MODELS

    return MODELS


def _where(model: Any, where: dict[str, Any], now: datetime | None = None) -> list[Any]:
    from supportgym.tasks.setup import where_clause

    return where_clause(model, where, now)


# --- loose comparison of argument values -------------------------------------------------------


def _num(v: Any) -> Decimal | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float, Decimal)):
        return Decimal(str(v))
    if isinstance(v, str):
        try:
            return Decimal(v.strip().lstrip("$").replace(",", ""))
        except InvalidOperation:
            return None
    return None


def loosely_equal(expected: Any, actual: Any) -> bool:
    """Equality that forgives representation: 49.99 == "49.99", "Gold" == "gold"; dicts and
    lists of expected values match as subsets (every expected key/item present)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and loosely_equal(v, actual[k]) for k, v in expected.items())
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


# --- reading the reply -------------------------------------------------------------------------

_MONEY = re.compile(
    r"(?<![\w.-])(?P<cur>USD\s?|US\$\s?|\$\s?)?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d{2}))?(?P<suffix>\s?(?:USD|dollars))?(?![\w-]|\.\d)",
    re.IGNORECASE,
)


def amounts_in(text: str) -> set[int]:
    """Every money amount written in ``text``, in cents: ``$49.99``, ``49.99``, ``USD 1,049.00``,
    ``$50`` (a whole amount counts only with a currency marker, so ids and counts are not money)."""
    out: set[int] = set()
    for m in _MONEY.finditer(text):
        if m.group("dec") is None and not (m.group("cur") or m.group("suffix")):
            continue
        whole = int(m.group("int").replace(",", ""))
        out.add(whole * 100 + int(m.group("dec") or 0))
    return out


def to_cents(value: Any) -> int:
    """An amount given in a check: an int is cents, a string or float is dollars (``"$49.99"``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    n = _num(value)
    if n is None:
        raise ValueError(f"{value!r} is not an amount")
    return int((n * 100).to_integral_value())


ID_PREFIXES: dict[str, str] = {
    "CUS": "customers",
    "ORD": "orders",
    "ITM": "order_items",
    "PRD": "products",
    "SHP": "shipments",
    "PAY": "payments",
    "RMA": "returns",
    "TKT": "tickets",
    "STF": "staff",
    "ADR": "addresses",
    "RFD": "refunds",
    "ESC": "escalations",
    "WAR": "warranty_claims",
    "POL": "policies",
}
_ID = re.compile(r"\b(?:(POL-[A-Z][A-Z0-9-]*[A-Z0-9])|([A-Z]{3})-(\d{3,}))\b")


def ids_in(text: str) -> list[str]:
    """World ids written in ``text`` (``ORD-500123``, ``RMA-900470``, ``POL-RETURNS``...)."""
    out = []
    for m in _ID.finditer(text):
        if m.group(1):
            out.append(m.group(1))
        elif m.group(2) in ID_PREFIXES:
            out.append(f"{m.group(2)}-{m.group(3)}")
    return list(dict.fromkeys(out))


_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_LONG_DATE = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")


def dates_in(text: str) -> list[tuple[str, str | None]]:
    """Dates written in ``text`` as ``(as_written, "YYYY-MM-DD" or None when not a real date)``."""
    out: list[tuple[str, str | None]] = []
    for m in _ISO_DATE.finditer(text):
        out.append((m.group(0), _real(int(m.group(1)), int(m.group(2)), int(m.group(3)))))
    for m in _LONG_DATE.finditer(text):
        month = _MONTHS.get(m.group(1).lower())
        if month is None:
            continue
        out.append((m.group(0), _real(int(m.group(3)), month, int(m.group(2)))))
    return out


def _real(y: int, mo: int, d: int) -> str | None:
    try:
        return datetime(y, mo, d).strftime("%Y-%m-%d")
    except ValueError:
        return None


def _mentions(text: str, needle: str) -> bool:
    """``needle`` appears in ``text``, case and spacing ignored. A needle that starts or ends
    with a digit must not run into more digits or letters there: "Count: 2" is not in
    "Count: 27" and "ORD-5001" is not in "ORD-50012" (words still match inside words: "45 day"
    is in "45 days")."""
    words = needle.strip().lower().split()
    if not words:
        return True
    pattern = r"\s+".join(re.escape(w) for w in words)
    if words[0][0].isdigit():
        pattern = r"(?<![a-z0-9])" + pattern
    if words[-1][-1].isdigit():
        pattern += r"(?![a-z0-9])"
    return re.search(pattern, text.lower()) is not None


# --- the checks --------------------------------------------------------------------------------


class CheckBase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str
    # Tables, ids and amounts a check names, for lint (entities must exist; text must agree).
    reads_reply: ClassVar[bool] = False

    def evaluate(self, ctx: CheckContext) -> Verdict:  # pragma: no cover - abstract
        raise NotImplementedError


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
        elif op in ("gt", "gte", "lt", "lte"):
            a, b = _num(actual), _num(v)
            if a is None or b is None:
                a, b = str(actual), str(v)  # ISO dates compare as text
            ok = {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]  # type: ignore[operator]
        elif op == "like":
            ok = re.fullmatch(re.escape(str(v)).replace("%", ".*").replace("_", "."), str(actual), re.I) is not None
        else:
            raise ValueError(f"unknown comparison '{op}'")
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
        model = _models()[self.table]
        pk = list(model.__table__.primary_key.columns)[0]
        stmt = select(pk).where(*_where(model, self.where))
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
        model = _models()[self.table]
        pk = list(model.__table__.primary_key.columns)[0].name
        if self.field not in model.__table__.c:
            raise ValueError(f"table {self.table} has no column {self.field}")
        row = ctx.conn.execute(
            f'SELECT "{self.field}" FROM "{self.table}" WHERE "{pk}" = ?', (self.key,)
        ).fetchone()
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
        hits = [
            c for c in ctx.raw_changes if c["table"] == self.table and (self.key is None or c["key"] == self.key)
        ]
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
            return Verdict(False, f"{len(hits)} net change(s): " + ", ".join(f"{c['op']} {c['table']} {c['key']}" for c in hits[:5]))
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
        return Verdict(ok, f"{_describe_call(self.name, self.args)} matched {n} call(s)" + (f" (steps {steps})" if hits else ""))


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
            return Verdict(False, f"{_describe_call(self.name, self.args)} called at step(s) " + ", ".join(str(t.step) for t in hits[:8]))
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


class RowRef(BaseModel):
    """A value read from the final world: ``field`` of the rows of ``table`` matching ``where``."""

    model_config = ConfigDict(extra="forbid")
    table: str
    where: dict[str, Any] = Field(default_factory=dict)
    field: str = "id"
    created_only: bool = False

    def read(self, ctx: CheckContext) -> list[Any]:
        if self.created_only:
            rows = ctx.created_rows(self.table)
            keys = match_created(rows, self.where)
            if keys is not None:
                return [r.get(self.field) for r in rows if str(r["__key__"]) in keys]
        model = _models()[self.table]
        stmt = select(getattr(model, self.field)).where(*_where(model, self.where))
        if self.created_only:
            keys = ctx.created_keys(self.table)
            if not keys:
                return []
            pk = list(model.__table__.primary_key.columns)[0]
            stmt = stmt.where(pk.in_(_typed_keys(pk, keys)))
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
    reads_reply: ClassVar[bool] = True

    def evaluate(self, ctx: CheckContext) -> Verdict:
        reply = ctx.reply or ""
        if not reply:
            return Verdict(False, "no final reply")
        missing = [s for s in self.all_of if not _mentions(reply, str(s))]
        if self.any_of and not any(_mentions(reply, str(s)) for s in self.any_of):
            missing.append("one of " + " / ".join(map(str, self.any_of)))
        found = amounts_in(reply)
        for a in self.amounts:
            cents = to_cents(a)
            if cents not in found:
                missing.append(f"amount {cents // 100}.{cents % 100:02d}")
        if self.row is not None:
            vals = self.row.read(ctx)
            if not vals:
                missing.append(f"a {self.row.table}.{self.row.field} (no matching row exists)")
            elif not any(_mentions(reply, str(v)) for v in vals):
                missing.append(f"{self.row.table}.{self.row.field} {vals[0]}")
        if missing:
            return Verdict(False, "reply does not mention " + "; ".join(missing))
        return Verdict(True, "reply mentions everything required")


class ReplyNotMentions(CheckBase):
    """The final reply mentions none of ``any_of`` and none of ``amounts``."""

    type: Literal["reply_not_mentions"]
    any_of: list[str] = Field(default_factory=list)
    amounts: list[int | str] = Field(default_factory=list)
    reads_reply: ClassVar[bool] = True

    def evaluate(self, ctx: CheckContext) -> Verdict:
        reply = ctx.reply or ""
        hits = [s for s in self.any_of if _mentions(reply, str(s))]
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
            if not ctx.exists(ID_PREFIXES[ident.split("-", 1)[0]], ident):
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
        n = len((ctx.reply or "").split())
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

MESSAGE_TOOL = "message_customer"


def conversation_messages(ctx: CheckContext, who: str, *, before: str | None = None,
                          before_write: bool = False, delivered_only: bool = True) -> list[tuple[int, str]]:
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

    def evaluate(self, ctx: CheckContext) -> Verdict:
        msgs = conversation_messages(ctx, self.who, before=self.before, before_write=self.before_write)
        scope = " before the first write" if self.before_write else (f" before {self.before}" if self.before else "")
        if not msgs:
            return Verdict(False, f"no {self.who} messages{scope}")
        text = "\n".join(m for _, m in msgs)
        missing = [s for s in self.all_of if not _mentions(text, str(s))]
        if self.any_of and not any(_mentions(text, str(s)) for s in self.any_of):
            missing.append("one of " + " / ".join(map(str, self.any_of)))
        found = amounts_in(text)
        for a in self.amounts:
            cents = to_cents(a)
            if cents not in found:
                missing.append(f"amount {cents // 100}.{cents % 100:02d}")
        if missing:
            return Verdict(False, f"{self.who} messages{scope} ({len(msgs)}) do not mention " + "; ".join(missing))
        hit = next((st for st, m in msgs if any(_mentions(m, str(s)) for s in [*self.all_of, *self.any_of])), msgs[0][0])
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
            hits += [f"{s!r} ({where})" for s in self.any_of if _mentions(m, str(s))]
            found = amounts_in(m)
            hits += [f"amount {to_cents(a)}c ({where})" for a in self.amounts if to_cents(a) in found]
        if hits:
            return Verdict(False, f"{self.who} mentions " + ", ".join(hits[:6]))
        return Verdict(True, f"{len(msgs)} {self.who} message(s) mention none of the forbidden values")


CHECK_TYPES: dict[str, type[CheckBase]] = {
    cls.model_fields["type"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in (
        RowCount, RowExists, RowAbsent, FieldEquals, NoWriteTouched, NoChange, ToolCalled,
        ToolNotCalled, ToolCalledBefore, ReplyMentions, ReplyNotMentions, ReplyIdsExist,
        ReplyWordCount, ReplyDatesValid, PythonCheck, ConversationMentions, ConversationNotMentions,
    )
}

Check = Annotated[
    RowCount | RowExists | RowAbsent | FieldEquals | NoWriteTouched | NoChange | ToolCalled
    | ToolNotCalled | ToolCalledBefore | ReplyMentions | ReplyNotMentions | ReplyIdsExist
    | ReplyWordCount | ReplyDatesValid | PythonCheck | ConversationMentions | ConversationNotMentions,
    Field(discriminator="type"),
]


def count_rows(session: Session, table: str) -> int:
    model = _models()[table]
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())
