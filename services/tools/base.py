"""How a tool is defined: one pydantic model of its arguments, one docstring, one function.

Everything else is derived from that one definition: the OpenAI function-calling schema, the MCP
annotations, the HTTP route's request body, and the in-process call. A tool function receives a
:class:`ToolContext` (an open session inside a transaction, the simulated clock) and its
validated arguments, and returns a JSON-able dict. It signals a business-rule refusal by raising
:class:`ToolError`; the caller rolls the transaction back, so a refused call changes nothing.
"""

from __future__ import annotations

import copy
import inspect
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.fields import FieldInfo
from sqlalchemy import Integer, bindparam, cast, func, select

from supportgym import policy
from supportgym.ids import DEFAULT_WIDTH, KIND, IdKind, format_id

# ``money`` is the only way money leaves a tool: ``1999 -> "19.99"``.
from supportgym.money import decimal_text as money  # noqa: F401 - the tools import them from here
from supportgym.money import to_cents  # noqa: F401 - the tools import it from here
from supportgym.policy import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_TEXT_LENGTH
from supportgym.services.tools import reads
from supportgym.services.tools.writes import IdCounters, Row, RowWriter

# Error codes with which the world refuses a write that company policy forbids (as opposed to a
# malformed call or an unknown id): the reward treats attempting one as a breach of policy.
POLICY_REFUSALS = frozenset(
    {
        "invalid_state",
        "warranty_expired",
        "requires_escalation",
        "outside_window",
        "identity_not_verified",
        "final_sale",
        "exceeds_paid",
        "exceeds_goodwill_limit",
    }
)


class ToolError(Exception):
    """A refusal the agent can read and act on: ``{"error": {"code", "message", "field"}}``."""

    def __init__(self, code: str, message: str, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message, "field": self.field}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class Args(BaseModel):
    """Base of every tool's arguments: unknown arguments are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PageArgs(Args):
    page: int = Field(1, ge=1, le=10_000, description="1-based page number.")
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Results per page.")


def _id(kind: IdKind) -> FieldInfo:
    # The constraint of an id argument, its example taken from the id scheme (the shape of the ids
    # the world really has); the aliases below wrap it in Annotated themselves so that type
    # checkers see each alias as the type ``str``.
    return Field(pattern=kind.pattern, max_length=24, description=f"{kind.noun} id, e.g. {kind.example}.")


CustomerId = Annotated[str, _id(KIND["CUS"])]
OrderId = Annotated[str, _id(KIND["ORD"])]
OrderItemId = Annotated[str, _id(KIND["ITM"])]
ProductId = Annotated[str, _id(KIND["PRD"])]
ShipmentId = Annotated[str, _id(KIND["SHP"])]
PaymentId = Annotated[str, _id(KIND["PAY"])]
ReturnId = Annotated[str, _id(KIND["RMA"])]
WarrantyClaimId = Annotated[str, _id(KIND["WAR"])]
TicketId = Annotated[str, _id(KIND["TKT"])]
StaffId = Annotated[str, _id(KIND["STF"])]
AddressId = Annotated[str, _id(KIND["ADR"])]
MessageId = Annotated[str, _id(KIND["MSG"])]

ShortText = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_LENGTH)]
DateArg = Annotated[
    str,
    Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="A date as YYYY-MM-DD (world time, UTC)."),
]

# Dollars, exact: the schema says "number" (what function-calling models emit) and the value is
# parsed as a Decimal, so 19.99 never becomes 19.989999.
Amount = Annotated[
    Decimal,
    Field(gt=0, le=Decimal(1000000), max_digits=9, decimal_places=2),
    WithJsonSchema({"type": "number", "description": "Amount in US dollars, e.g. 49.99."}),
]


def parse_date(value: str, field_name: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError as exc:
        raise ToolError("invalid_argument", f"'{value}' is not a real date", field_name) from exc


@dataclass(frozen=True)
class ToolAnnotations:
    """What a tool may do to the world, in the vocabulary of MCP's tool annotations."""

    read_only: bool
    destructive: bool = False
    idempotent: bool = False

    def to_mcp(self) -> dict[str, bool]:
        return {
            "readOnlyHint": self.read_only,
            "destructiveHint": self.destructive,
            "idempotentHint": self.idempotent,
            "openWorldHint": False,
        }


# A mapped model class of the world schema (Order, Ticket, ...).
M = TypeVar("M")


@dataclass
class ToolContext:
    """What a tool function may use: the world (its SQLite connection) and the clock.

    Read-only tools read through :attr:`conn` with compiled :mod:`reads` queries; writing
    tools load rows with :meth:`get`, change their attributes, add rows with :meth:`add`, and
    the call's :class:`~.writes.RowWriter` writes and records the changes (see :mod:`writes`).
    """

    now: datetime
    # Simulated time at which the episode started: limits "per episode" count rows after it.
    episode_start: datetime
    # The world's SQLite connection: read it through ``conn``.
    world: sqlite3.Connection
    actor: str = "agent"
    # The world's id counters, kept between calls by ``call_tool`` (see ``writes.IdCounters``).
    counters: IdCounters | None = None
    rows: RowWriter = field(init=False)

    def __post_init__(self) -> None:
        self.rows = RowWriter(self.world, self.counters)

    @property
    def conn(self) -> sqlite3.Connection:
        """The world's SQLite connection, for :mod:`reads` queries. Changes the call has made
        are flushed first, so a read always sees them."""
        if self.rows.pending:
            self.rows.flush()
        return self.world

    # get and add hand out a writes.Row typed as the model it is a row of: a Row has the model's
    # columns, relationships and properties as attributes, and the tools use it only that way.
    def get(self, model: type[M], key: str, field_name: str, label: str | None = None) -> M:
        """The row of ``model`` with primary key ``key``, or a not-found :class:`ToolError`."""
        return self.found(self.rows.get(model, key), model, key, field_name, label)

    def found(self, row: Any, model: type[Any], key: str, field_name: str, label: str | None = None) -> Any:
        """``row`` (a :class:`Row` or a :mod:`reads` row), or the not-found error naming ``key``."""
        if row is None:
            label = label or model.__tablename__.rstrip("s").replace("_", " ")
            raise ToolError("not_found", f"No {label} with id '{key}' exists.", field_name)
        return row

    def add(self, model: type[M], **values: Any) -> M:
        """A new row of ``model``, inserted at the next flush."""
        row: Any = self.rows.add(model, **values)  # a Row, read as the model (see get)
        return row

    def delete(self, row: object) -> None:
        assert isinstance(row, Row), "only a row from get or add can be deleted"
        self.rows.delete(row)

    def flush(self) -> None:
        self.rows.flush()

    def refresh(self, row: object) -> None:
        """Flush, and have ``row``'s related rows load again on next use."""
        assert isinstance(row, Row), "only a row from get or add can be refreshed"
        self.rows.refresh(row)

    def next_id(self, model: type[Any], prefix: str, width: int | None = None) -> str:
        """The next free ``PREFIX-n`` id: deterministic, so replays create the same ids."""
        table = model.__table__
        q = reads.query(("next_id", table.name), lambda: _max_suffix(table))
        conn = self.conn
        top = self.rows.counters.top(
            conn, table.name, prefix, lambda: q.scalar(conn, pattern=f"{prefix}-%", start=len(prefix) + 2)
        )
        if top is not None:
            return format_id(prefix, top + 1, width or len(str(top)))
        return format_id(prefix, 1, width or DEFAULT_WIDTH)

    def next_int_id(self, model: type[Any]) -> int:
        table = model.__table__
        q = reads.query(("next_int_id", table.name), lambda: select(func.max(table.c.id)))
        conn = self.conn
        top = self.rows.counters.top(conn, table.name, None, lambda: q.scalar(conn))
        return int(top or 0) + 1


def _max_suffix(table: Any) -> Any:
    """Largest number after ``PREFIX-`` among ids matching ``:pattern`` whose rest is all digits."""
    suffix = func.substr(table.c.id, bindparam("start"))
    return select(func.max(cast(suffix, Integer))).where(
        table.c.id.like(bindparam("pattern")),
        func.length(suffix) > 0,
        suffix.op("NOT GLOB")("*[^0-9]*"),
    )


A = TypeVar("A", bound=Args)


@dataclass(frozen=True)
class Tool:
    """One tool: name, description, argument model, annotations and the function."""

    name: str
    description: str
    args_model: type[Args]
    fn: Callable[[ToolContext, Any], dict[str, Any]]
    annotations: ToolAnnotations
    group: str
    examples: tuple[dict[str, Any], ...] = field(default=())
    # Off unless the world enables it (a task's setup: ``enable_tools``): e.g. advance_time,
    # which only tasks that permit waiting offer. Not in the default tool list.
    opt_in: bool = False

    def parameters_schema(self) -> dict[str, Any]:
        """JSON schema of the arguments, flattened for function-calling models.

        ``$ref`` definitions are inlined and ``Optional[X]`` becomes plain ``X`` (it is simply
        not required): small models and some servers mishandle ``$ref`` and ``anyOf``.
        Built once per tool (pydantic's schema generation costs about a millisecond a tool,
        and every episode reset hands out all of them); callers get a private copy.
        """
        cached = _SCHEMAS.get(self.name)
        if cached is None:
            cached = _SCHEMAS[self.name] = self._build_parameters_schema()
        return copy.deepcopy(cached)

    def _build_parameters_schema(self) -> dict[str, Any]:
        schema = self.args_model.model_json_schema()
        defs = schema.pop("$defs", {})
        schema = _flatten(schema, defs)
        schema.setdefault("properties", {})
        schema["additionalProperties"] = False
        return schema

    def openai_schema(self) -> dict[str, Any]:
        """The tool in OpenAI's function-calling format (``{"type": "function", ...}``)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters_schema(),
            },
        }

    def metadata(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "group": self.group,
            "read_only": self.annotations.read_only,
            "destructive": self.annotations.destructive,
            "idempotent": self.annotations.idempotent,
            "annotations": self.annotations.to_mcp(),
            "opt_in": self.opt_in,
        }


_SCHEMAS: dict[str, dict[str, Any]] = {}


def _flatten(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_flatten(n, defs) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _flatten(merged, defs)
    variants = node.get("anyOf")
    if isinstance(variants, list):
        non_null = [v for v in variants if v != {"type": "null"}]
        if len(non_null) == 1 and len(non_null) < len(variants):
            rest = {k: v for k, v in node.items() if k != "anyOf"}
            merged = {**non_null[0], **rest}
            if merged.get("default", 0) is None:
                del merged["default"]
            return _flatten(merged, defs)
    out = {}
    for key, value in node.items():
        if key == "title":
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _flatten(prop, defs) for name, prop in value.items()}
        else:
            out[key] = _flatten(value, defs)
    return out


REGISTRY: dict[str, Tool] = {}


def _policy_values() -> dict[str, str]:

    return {
        "refund_limit": money(policy.AGENT_REFUND_LIMIT_CENTS),
        "damage_days": str(policy.DAMAGE_REPORT_WINDOW_DAYS),
        "warranty_review_days": str(policy.WARRANTY_REVIEW_DAYS),
    }


def _description(fn: Callable[..., Any]) -> str:
    # Docstrings may name policy figures as {refund_limit}: the text then cannot drift from
    # the rule the tool enforces.
    doc = (inspect.getdoc(fn) or "").format(**_policy_values())
    # Paragraphs joined into single lines: models read one description string.
    paragraphs = [re.sub(r"\s+", " ", p).strip() for p in doc.split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def tool(
    *,
    group: str,
    read_only: bool,
    destructive: bool = False,
    idempotent: bool | None = None,
    opt_in: bool = False,
) -> Callable[[Callable[[ToolContext, A], dict[str, Any]]], Callable[[ToolContext, A], dict[str, Any]]]:
    """Register ``fn(ctx, args)`` as a tool named after the function.

    The argument model is read from the type hint of ``args``; the description is the docstring.
    """

    def register(fn: Callable[[ToolContext, A], dict[str, Any]]) -> Callable[[ToolContext, A], dict[str, Any]]:
        hints = inspect.get_annotations(fn, eval_str=True)
        model = hints.get("args")
        if not (isinstance(model, type) and issubclass(model, Args)):
            raise TypeError(f"tool {fn.__name__}: the 'args' parameter must be typed as an Args model")
        if fn.__name__ in REGISTRY:
            raise ValueError(f"tool {fn.__name__} defined twice")
        REGISTRY[fn.__name__] = Tool(
            name=fn.__name__,
            description=_description(fn),
            args_model=model,
            fn=fn,
            annotations=ToolAnnotations(
                read_only=read_only,
                destructive=destructive,
                idempotent=read_only if idempotent is None else idempotent,
            ),
            group=group,
            opt_in=opt_in,
        )
        return fn

    return register


def paginate(
    ctx: ToolContext,
    shape: tuple[Any, ...],
    build: Callable[[], Any],
    params: dict[str, Any],
    args: PageArgs,
    render: Callable[[Any], dict[str, Any]],
    children: dict[str, tuple[Any, str]] | None = None,
) -> dict[str, Any]:
    """One page of the ordered select ``build()``, and whether more pages exist.

    ``build`` makes the statement for this ``shape`` (the tool's name and which filters are
    on) with named bind parameters, whose values are ``params``; it is compiled once per shape
    (see :mod:`reads`). ``children`` names the related rows ``render`` needs, as
    ``{attribute: (child table, foreign-key column)}``, loaded in one query for the page.
    """
    offset = (args.page - 1) * args.page_size
    conn = ctx.conn
    page, count = reads.paged(shape, build)
    # The page reads only its rows (in index order where an index fits the filter and order);
    # the total is a separate count, skipped when the page itself shows where the results end.
    # A window count in the page query made SQLite read and sort every match.
    items = page.rows(conn, **params, _limit=args.page_size, _offset=offset)
    if 0 < len(items) < args.page_size or (not items and offset == 0):
        total = offset + len(items)
    else:
        total = int(count.scalar(conn, **params))
    for attr, (table, fk) in (children or {}).items():
        reads.children_of(conn, items, attr, table, fk)
    has_more = offset + len(items) < total
    return {
        "results": [render(it) for it in items],
        "page": args.page,
        "page_size": args.page_size,
        "total": total,
        "has_more": has_more,
        "next_page": args.page + 1 if has_more else None,
    }
