"""Setup operations: the small declarative vocabulary that turns a world into a task's world.

Each operation is a one-key mapping in a task file (``- select: {...}``). They run in order, in
one transaction on a fresh copy of the world, and are deterministic: the same world and the same
operations always give the same rows and the same bound values. Strings in an operation are
templates resolved against the values bound by the operations before it.

=================  ==========================================================================
``select``         bind an existing row found by filters (``where``, ``related`` counts),
                   ``order_by`` and ``index``
``set``            set columns of a bound row (or of ``table`` + ``key``); relative dates
                   such as ``-40d``, ``-3h``, ``now``
``deliver``        mark a bound order delivered N days ago (order, shipments, timestamps)
``create_ticket``  a new customer ticket with its message(s), bound under ``as``
``duplicate_payment``  a second captured charge of an order's payment (``duplicate_of`` set)
``advance_time``   let days/hours pass: the world moves on (``supportgym.progression``) and
                   ``now`` moves with it for the steps after
``post_internal``  a staff team-chat post or internal note (optionally scheduled later)
``enable_tools``   offer opt-in tools (``advance_time``) in this task's episodes
``let``            bind computed values (templates) under new names
``python``         ``module:function(session, values, now, **params) -> dict | None``
=================  ==========================================================================
"""

from __future__ import annotations

import hashlib
import importlib
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from supportgym.clock import iso
from supportgym.ids import DEFAULT_WIDTH, format_id, number_of
from supportgym.policy import MAX_ADVANCE_HOURS
from supportgym.progression import apply_to_session, plan_for_session
from supportgym.schema import (
    ENABLED_TOOLS_KEY,
    AuthorType,
    Base,
    Customer,
    InternalChannel,
    InternalMessage,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
    Shipment,
    ShipmentEvent,
    ShipmentStatus,
    Staff,
    Ticket,
    TicketMessage,
    TicketTag,
    WarrantyClaim,
    WorldMeta,
)
from supportgym.services.tools import REGISTRY
from supportgym.tasks.template import TemplateError, render
from supportgym.world_seed.query import (
    MODELS,
    Comparison,
    QueryError,
    compare,
    relative_time,
    where_clause,
)


class SetupError(ValueError):
    """A setup operation failed; ``path`` locates it in the task file."""

    def __init__(self, message: str, path: tuple[Any, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


# A field that takes an int in the file may also be a whole-string placeholder ("{params.days}"):
# it is rendered to the int before the operation runs and validated again then.
TemplateRef = Annotated[str, Field(pattern=r"^\{[^{}]+\}$")]
TInt = int | TemplateRef


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Related(_Op):
    """Count rows of a child table that point at the candidate row (by its ``<table>_id``)."""

    count: TInt | Comparison = Field(description="Exact number, or a comparison like {gte: 2}.")
    where: dict[str, Any] = Field(default_factory=dict)


def _fk_to(child: type[Base], parent: type[Base]) -> Any:
    for col in child.__table__.c:
        for fk in col.foreign_keys:
            if fk.column.table is parent.__table__:
                return col
    raise SetupError(f"table {child.__tablename__} has no foreign key to {parent.__tablename__}")


# --- operations ------------------------------------------------------------------------------


class SelectSpec(_Op):
    as_: str = Field(alias="as", pattern=r"^[a-z_][a-z0-9_]*$", description="Name to bind the row to.")
    table: str
    where: dict[str, Any] = Field(default_factory=dict)
    related: dict[str, Related | list[Related]] = Field(
        default_factory=dict,
        description="Child-table filters: {order_items: {count: 1}, refunds: {count: 0}}; a list "
        "gives several conditions on one child table.",
    )
    exclude_bound: bool = Field(True, description="Never pick a row already bound to another name.")
    order_by: str | list[str] = "id"
    index: TInt = Field(0, description="Which match to take, in order_by order (negative from the end).")


class SelectOp(_Op):
    select: SelectSpec


class CollectSpec(SelectSpec):
    """Bind every matching row: ``{as}.rows``, ``{as}.count`` and one list per column
    (``{as}.id``, ``{as}.price_cents``...)."""

    index: TInt = Field(0, description="Unused by collect.")
    limit: int = Field(200, ge=1, le=1000)


class CollectOp(_Op):
    collect: CollectSpec


class SetSpec(_Op):
    entity: str | None = Field(None, description="A bound name; or give table and key.")
    table: str | None = None
    key: str | None = None
    values: dict[str, Any]


class SetOp(_Op):
    set: SetSpec


class DeliverSpec(_Op):
    order: str = Field(description="Bound name of the order.")
    days_ago: TInt = Field(description="0 to 3650 days.")


class DeliverOp(_Op):
    deliver: DeliverSpec


class CreateTicketSpec(_Op):
    as_: str = Field("ticket", alias="as", pattern=r"^[a-z_][a-z0-9_]*$")
    customer: str = Field(description="Customer id (a template such as '{order.customer_id}').")
    order: str | None = Field(None, description="Linked order id; null or '' for an unlinked ticket.")
    subject: str
    messages: list[str] = Field(min_length=1, description="Customer messages, oldest first.")
    channel: Literal["email", "chat", "phone", "web"] = "email"
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    status: Literal["open", "pending", "on_hold", "escalated", "solved", "closed"] = "open"
    age: str = Field("-2h", description="When the first message arrived, relative to now.")
    tags: list[str] = Field(default_factory=list)


class CreateTicketOp(_Op):
    create_ticket: CreateTicketSpec


class DuplicatePaymentSpec(_Op):
    as_: str = Field("duplicate", alias="as", pattern=r"^[a-z_][a-z0-9_]*$")
    order: str = Field(description="Bound name of the order.")


class DuplicatePaymentOp(_Op):
    duplicate_payment: DuplicatePaymentSpec


class AdvanceTimeSpec(_Op):
    days: TInt = 0
    hours: TInt = 0


class AdvanceTimeOp(_Op):
    advance_time: AdvanceTimeSpec


class PostInternalSpec(_Op):
    as_: str | None = Field(None, alias="as", pattern=r"^[a-z_][a-z0-9_]*$")
    channel: Literal["team_chat", "notes"] = "team_chat"
    author: str | None = Field(None, description="Staff id of the author; or give team.")
    team: Literal["general", "billing", "logistics", "warranty", "escalations"] | None = Field(
        None, description="The author is the team's first active member (by id)."
    )
    body: str = Field(min_length=1)
    age: str = Field("-1h", description="When it was posted, relative to now (+1d: appears after waiting).")
    order: str | None = None
    customer: str | None = None
    product: str | None = None


class PostInternalOp(_Op):
    post_internal: PostInternalSpec


class EnableToolsOp(_Op):
    enable_tools: list[str] = Field(min_length=1)


class LetOp(_Op):
    let: dict[str, Any]


class PythonSpec(_Op):
    function: str = Field(pattern=r"^[\w.]+:\w+$", description="module:function")
    params: dict[str, Any] = Field(default_factory=dict)


class PythonOp(_Op):
    python: PythonSpec


OP_KINDS = (
    "select",
    "collect",
    "set",
    "deliver",
    "create_ticket",
    "duplicate_payment",
    "advance_time",
    "post_internal",
    "enable_tools",
    "let",
    "python",
)


def _op_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        keys = [k for k in value if k in OP_KINDS]
        return keys[0] if len(keys) == 1 and len(value) == 1 else None
    return next((k for k in OP_KINDS if hasattr(value, k)), None)


SetupOp = Annotated[
    Annotated[SelectOp, Tag("select")]
    | Annotated[CollectOp, Tag("collect")]
    | Annotated[SetOp, Tag("set")]
    | Annotated[DeliverOp, Tag("deliver")]
    | Annotated[CreateTicketOp, Tag("create_ticket")]
    | Annotated[DuplicatePaymentOp, Tag("duplicate_payment")]
    | Annotated[AdvanceTimeOp, Tag("advance_time")]
    | Annotated[PostInternalOp, Tag("post_internal")]
    | Annotated[EnableToolsOp, Tag("enable_tools")]
    | Annotated[LetOp, Tag("let")]
    | Annotated[PythonOp, Tag("python")],
    Discriminator(
        _op_kind,
        custom_error_type="setup_op",
        custom_error_message="a setup step is a mapping with exactly one key: " + ", ".join(OP_KINDS),
    ),
]


# --- values of bound rows --------------------------------------------------------------------


def _plain(v: Any) -> Any:
    if isinstance(v, datetime):
        return iso(v)
    if hasattr(v, "value") and not isinstance(v, (int, str, float, bool)):
        return v.value
    return v


def row_values(obj: Any, depth: int = 0) -> dict[str, Any]:
    """A row as template values: its columns plus a few useful relations."""
    out = {c.key: _plain(getattr(obj, c.key)) for c in inspect(obj).mapper.column_attrs}
    name = obj.__tablename__
    if depth > 1:
        return out
    if name == "orders":
        out["customer"] = row_values(obj.customer, depth + 1)
        out["items"] = [row_values(i, depth + 1) for i in obj.items]
        out["payments"] = [row_values(p, depth + 1) for p in obj.payments]
        out["shipments"] = [row_values(s, depth + 1) for s in obj.shipments]
        out["item_count"] = len(obj.items)
    elif name == "order_items":
        out["line_total_cents"] = obj.line_total_cents
        out["product"] = row_values(obj.product, depth + 1)
    elif name == "tickets":
        cust = inspect(obj).session.get(Customer, obj.customer_id) if inspect(obj).session else None
        if cust is not None:
            out["customer"] = row_values(cust, depth + 1)
        out["messages"] = [row_values(m, depth + 1) for m in obj.messages]
    elif name == "customers":
        out["full_name"] = f"{obj.first_name} {obj.last_name}"
    return out


# --- applying --------------------------------------------------------------------------------


def _next_id(session: Session, model: type[Base], prefix: str) -> str:
    column = model.__table__.c.id
    ids = session.execute(select(column).where(column.like(f"{prefix}-%"))).scalars().all()
    nums = [n for n in map(number_of, ids) if n is not None]
    top = max(nums) if nums else 0
    width = max((len(i.split("-", 1)[1]) for i in ids), default=DEFAULT_WIDTH)
    return format_id(prefix, top + 1, width)


# Tickets a task's setup creates get an id drawn from a hash of the task id (and the name the
# ticket is bound to), so two tasks never hand the agent the same ticket id: an agent trained on
# one task must not be able to recall another's ids. The range sits above every ticket a
# seeded world holds (TKT-2xxxxx) and is wide enough that a few thousand tasks rarely meet;
# tests/tasks check that the shipped ones never do.
TASK_TICKET_FIRST = 3_000_000
TASK_TICKET_SPAN = 6_000_000


def task_ticket_id(session: Session, salt: str, name: str) -> str:
    """A free ``TKT-n`` id chosen by ``salt`` (the task id) and ``name``: the same every time."""
    digest = hashlib.sha256(f"{salt}\x00{name}".encode()).digest()
    n = TASK_TICKET_FIRST + int.from_bytes(digest[:8], "big") % TASK_TICKET_SPAN
    while session.get(Ticket, f"TKT-{n}") is not None:  # a second ticket of the same task
        n = TASK_TICKET_FIRST + (n - TASK_TICKET_FIRST + 1) % TASK_TICKET_SPAN
    return f"TKT-{n}"


def _next_int(session: Session, model: type[Base]) -> int:
    return int(session.execute(select(func.max(model.__table__.c.id))).scalar_one_or_none() or 0) + 1


class SetupRun:
    """Applies a task's setup operations to one session, keeping the bound rows' values fresh."""

    def __init__(self, session: Session, now: datetime, params: dict[str, Any], salt: str = "") -> None:
        """``salt`` (the task id) picks the ids of the tickets the setup creates; without one
        they take the next free id, as rows the agent creates do."""
        self.session = session
        self.salt = salt
        self.now = now
        self.bound: dict[str, tuple[type[Base], Any]] = {}
        self.plain: dict[str, Any] = {"params": params, "now": iso(now)}

    # values visible to templates
    def values(self) -> dict[str, Any]:
        self.session.flush()
        out = dict(self.plain)
        for name, (model, key) in self.bound.items():
            obj = self.session.get(model, key)
            if obj is None:
                raise SetupError(f"bound row '{name}' ({model.__tablename__} {key}) no longer exists")
            self.session.refresh(obj)
            out[name] = row_values(obj)
        return out

    def _bind(self, name: str, obj: Any) -> None:
        if name in self.bound or name in self.plain:
            raise SetupError(f"name '{name}' is bound twice")
        self.bound[name] = (type(obj), inspect(obj).identity[0])

    def _entity(self, name: str) -> Any:
        if name not in self.bound:
            raise SetupError(f"'{name}' is not a bound row (bound: {', '.join(self.bound) or 'none'})")
        model, key = self.bound[name]
        return self.session.get(model, key)

    def apply(self, op: Any, path: tuple[Any, ...]) -> None:
        kind = _op_kind(op)
        if kind is None:
            raise SetupError(f"not a setup operation: {op!r}", path)
        spec = getattr(op, kind)
        try:
            if kind == "enable_tools":
                self._op_enable_tools(op.enable_tools)
                return
            if kind == "let":
                for k, v in op.let.items():
                    if k in self.bound or k in self.plain:
                        raise SetupError(f"name '{k}' is bound twice")
                    self.plain[k] = render(v, self.values(), (k,))
                return
            raw = spec.model_dump(by_alias=True)
            data = render(raw, self.values())
            getattr(self, f"_op_{kind}")(type(spec).model_validate(data))
        except TemplateError as exc:
            raise SetupError(exc.message, (*path, kind, *exc.path)) from None
        except SetupError as exc:
            raise SetupError(exc.message, (*path, kind, *exc.path)) from None
        except QueryError as exc:
            raise SetupError(str(exc), (*path, kind)) from None

    def _matching_ids(self, spec: SelectSpec) -> tuple[type[Base], list[Any]]:
        model = MODELS.get(spec.table)
        if model is None:
            raise SetupError(f"unknown table '{spec.table}'", ("table",))
        stmt = select(model).where(*where_clause(model, spec.where, self.now))
        pk = model.__table__.primary_key.columns
        for child_name, rels in spec.related.items():
            child = MODELS.get(child_name)
            if child is None:
                raise SetupError(f"unknown table '{child_name}'", ("related", child_name))
            fk = _fk_to(child, model)
            for rel in rels if isinstance(rels, list) else [rels]:
                count = (
                    select(func.count())
                    .select_from(child)
                    .where(fk == list(pk)[0], *where_clause(child, rel.where, self.now))
                    .scalar_subquery()
                )
                stmt = stmt.where(compare(count, rel.count))
        if spec.exclude_bound:
            taken = [k for m, k in self.bound.values() if m is model]
            if taken:
                stmt = stmt.where(list(pk)[0].not_in(taken))
        order = [spec.order_by] if isinstance(spec.order_by, str) else spec.order_by
        cols = []
        for name in order:
            desc = name.startswith("-")
            col = model.__table__.c.get(name.lstrip("-"))
            if col is None:
                raise SetupError(f"table {spec.table} has no column '{name}' to order by", ("order_by",))
            cols.append(col.desc() if desc else col)
        cols.append(list(pk)[0])
        ids = self.session.execute(stmt.with_only_columns(list(pk)[0]).order_by(*cols)).scalars().all()
        return model, list(ids)

    def _op_collect(self, spec: CollectSpec) -> None:
        model, ids = self._matching_ids(spec)
        if spec.as_ in self.bound or spec.as_ in self.plain:
            raise SetupError(f"name '{spec.as_}' is bound twice")
        rows = [row_values(self.session.get(model, k), depth=2) for k in ids[: spec.limit]]
        out: dict[str, Any] = {"rows": rows, "count": len(rows)}
        for col in model.__table__.c.keys():
            out[col] = [r[col] for r in rows]
        self.plain[spec.as_] = out

    def _op_select(self, spec: SelectSpec) -> None:
        model, ids = self._matching_ids(spec)
        if not isinstance(spec.index, int):
            raise SetupError(f"index must be an integer, not {spec.index!r}", ("index",))
        if not ids or not (-len(ids) <= spec.index < len(ids)):
            raise SetupError(
                f"select '{spec.as_}' found {len(ids)} matching {spec.table} rows; index {spec.index} "
                "is out of range (loosen the filters or change the world)",
            )
        self._bind(spec.as_, self.session.get(model, ids[spec.index]))

    def _op_set(self, spec: SetSpec) -> None:
        if spec.entity is not None:
            obj = self._entity(spec.entity)
        else:
            model = MODELS.get(spec.table or "")
            if model is None or spec.key is None:
                raise SetupError("set needs entity, or table and key")
            obj = self.session.get(model, spec.key)
            if obj is None:
                raise SetupError(f"no {spec.table} row with key {spec.key}")
        cols = {c.key for c in inspect(obj).mapper.column_attrs}
        for col, value in spec.values.items():
            if col not in cols:
                raise SetupError(f"{obj.__tablename__} has no column '{col}'", ("values", col))
            setattr(obj, col, relative_time(value, self.now))

    def _op_deliver(self, spec: DeliverSpec) -> None:
        order = self._entity(spec.order)
        if not isinstance(spec.days_ago, int) or not 0 <= spec.days_ago <= 3650:
            raise SetupError(f"days_ago must be 0-3650, not {spec.days_ago!r}", ("days_ago",))
        if not isinstance(order, Order):
            raise SetupError(f"'{spec.order}' is not an order")
        delivered = (self.now - timedelta(days=spec.days_ago)).replace(microsecond=0)
        shipped = delivered - timedelta(days=3)
        order.status = OrderStatus.delivered
        order.delivered_at = delivered
        order.shipped_at = shipped
        order.cancelled_at = None
        # An order ships within days of being placed: a year-old order "delivered 12 days ago"
        # would tell the agent a story the task did not mean (promo-code orders keep their
        # date, which must stay inside the code's validity).
        too_old = order.placed_at < shipped - timedelta(days=14) and order.promo_code is None
        if order.placed_at > shipped - timedelta(days=1) or too_old:
            order.placed_at = shipped - timedelta(days=2)
            order.paid_at = None
        if order.paid_at is None or order.paid_at > shipped:
            order.paid_at = order.placed_at + timedelta(minutes=5)
        # Captures happen at payment, between placing and shipping: a payment left at its old
        # date could predate the order by a year. A duplicate charge follows its original.
        for pay in sorted(order.payments, key=lambda p: p.duplicate_of is not None):
            if not order.placed_at <= pay.created_at <= shipped:
                pay.created_at = order.paid_at
            if pay.duplicate_of is not None:
                original = next((p for p in order.payments if p.id == pay.duplicate_of), None)
                if original is not None and pay.created_at < original.created_at:
                    pay.created_at = original.created_at + timedelta(seconds=40)
        # A warranty claim is filed after the item arrived; with the delivery moved later, an
        # older claim would predate it. Keep it, filed halfway between the delivery and now.
        item_ids = [item.id for item in order.items]
        claims = self.session.scalars(select(WarrantyClaim).where(WarrantyClaim.order_item_id.in_(item_ids)))
        for claim in claims:
            if claim.created_at < delivered:
                claim.created_at = (delivered + (self.now - delivered) / 2).replace(microsecond=0)
        for ship in order.shipments:
            ship.status = ShipmentStatus.delivered
            ship.shipped_at = shipped
            ship.delivered_at = delivered
            if ship.estimated_delivery is None or ship.estimated_delivery < delivered - timedelta(days=10):
                ship.estimated_delivery = delivered
            # The tracking history must not tell a different story than the dates now do.
            for ev in list(ship.events):
                self.session.delete(ev)
            self.session.flush()
            base = _next_int(self.session, ShipmentEvent)
            for n, (when, status, what) in enumerate(
                [
                    (shipped, ShipmentStatus.in_transit, "Picked up by carrier"),
                    (delivered, ShipmentStatus.delivered, "Delivered"),
                ]
            ):
                self.session.add(
                    ShipmentEvent(
                        id=base + n,
                        shipment_id=ship.id,
                        occurred_at=when,
                        status=status,
                        location="Carrier network",
                        description=what,
                    )
                )
        if not order.shipments:
            sid = _next_id(self.session, Shipment, "SHP")
            self.session.add(
                Shipment(
                    id=sid,
                    order_id=order.id,
                    carrier="ParcelPoint",
                    tracking_number=f"PP{sid.split('-')[1]}S",
                    status=ShipmentStatus.delivered,
                    shipped_at=shipped,
                    estimated_delivery=delivered,
                    delivered_at=delivered,
                )
            )

    def _op_create_ticket(self, spec: CreateTicketSpec) -> None:
        created = relative_time(spec.age, self.now)
        if not isinstance(created, datetime):
            raise SetupError(f"age '{spec.age}' is not a relative time like -2h", ("age",))
        tid = task_ticket_id(self.session, self.salt, spec.as_) if self.salt else _next_id(self.session, Ticket, "TKT")
        spec.order = spec.order or None
        ticket = Ticket(
            id=tid,
            customer_id=spec.customer,
            order_id=spec.order,
            subject=spec.subject,
            status=spec.status,
            priority=spec.priority,
            channel=spec.channel,
            created_at=created,
            updated_at=created,
            assignee_id=None,
        )
        self.session.add(ticket)
        self.session.flush()
        base = _next_int(self.session, TicketMessage)
        for n, body in enumerate(spec.messages):
            self.session.add(
                TicketMessage(
                    id=base + n,
                    ticket_id=tid,
                    author_type=AuthorType.customer,
                    author_id=spec.customer,
                    body=body.strip(),
                    internal=False,
                    created_at=created + timedelta(minutes=7 * n),
                )
            )
        for tag in dict.fromkeys(spec.tags):
            self.session.add(TicketTag(ticket_id=tid, tag=tag))
        self.session.flush()
        self._bind(spec.as_, ticket)

    def _op_duplicate_payment(self, spec: DuplicatePaymentSpec) -> None:
        order = self._entity(spec.order)
        original = next(
            (p for p in order.payments if p.status == PaymentStatus.captured and p.duplicate_of is None), None
        )
        if original is None:
            raise SetupError(f"order {order.id} has no captured payment to duplicate")
        dup = Payment(
            id=_next_id(self.session, Payment, "PAY"),
            order_id=order.id,
            method=original.method,
            amount_cents=original.amount_cents,
            status=PaymentStatus.captured,
            created_at=original.created_at + timedelta(seconds=40),
            card_last4=original.card_last4,
            duplicate_of=original.id,
        )
        self.session.add(dup)
        self.session.flush()
        self._bind(spec.as_, dup)

    def _op_advance_time(self, spec: AdvanceTimeSpec) -> None:
        if not isinstance(spec.days, int) or not isinstance(spec.hours, int):
            raise SetupError("days and hours must be integers")
        total = spec.days * 24 + spec.hours
        if not 1 <= total <= 10 * MAX_ADVANCE_HOURS:
            raise SetupError(f"advance_time must be 1 to {10 * MAX_ADVANCE_HOURS} hours, not {total}")
        end = self.now + timedelta(hours=total)
        apply_to_session(self.session, plan_for_session(self.session, self.now, end))
        self.now = end
        self.plain["now"] = iso(end)

    def _op_post_internal(self, spec: PostInternalSpec) -> None:
        posted = relative_time(spec.age, self.now)
        if not isinstance(posted, datetime):
            raise SetupError(f"age '{spec.age}' is not a relative time like -2h", ("age",))
        author = spec.author
        if author is None:
            if spec.team is None:
                raise SetupError("post_internal needs author (a staff id) or team")
            author = self.session.scalars(
                select(Staff.id).where(Staff.team == spec.team, Staff.active.is_(True)).order_by(Staff.id)
            ).first()
        if author is None or self.session.get(Staff, author) is None:
            raise SetupError(f"no staff member {author!r} to post as", ("author",))
        msg = InternalMessage(
            id=_next_id(self.session, InternalMessage, "MSG"),
            channel=InternalChannel(spec.channel),
            author_id=author,
            posted_at=posted.replace(microsecond=0),
            body=spec.body.strip(),
            order_id=spec.order or None,
            customer_id=spec.customer or None,
            product_id=spec.product or None,
        )
        self.session.add(msg)
        self.session.flush()
        if spec.as_:
            self._bind(spec.as_, msg)

    def _op_enable_tools(self, names: list[str]) -> None:
        for name in names:
            if name not in REGISTRY or not REGISTRY[name].opt_in:
                optional = ", ".join(n for n, t in REGISTRY.items() if t.opt_in)
                raise SetupError(f"'{name}' is not an opt-in tool (opt-in tools: {optional})")
        row = self.session.get(WorldMeta, ENABLED_TOOLS_KEY)
        have = row.value.split(",") if row is not None and row.value else []
        value = ",".join(sorted(set(have) | set(names)))
        if row is None:
            self.session.add(WorldMeta(key=ENABLED_TOOLS_KEY, value=value))
        else:
            row.value = value

    def _op_python(self, spec: PythonSpec) -> None:
        module, _, name = spec.function.partition(":")
        try:
            fn = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise SetupError(f"cannot import {spec.function}: {exc}", ("function",)) from None
        result = fn(self.session, self.values(), self.now, **spec.params)
        self.session.flush()
        for k, v in (result or {}).items():
            if isinstance(v, Base):
                self._bind(k, v)
            else:
                if k in self.plain or k in self.bound:
                    raise SetupError(f"name '{k}' is bound twice")
                self.plain[k] = v
