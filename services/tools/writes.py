"""The writing tools' fast path: rows read with compiled queries, changed as Python attributes,
written back with statements compiled once, and a change log identical to the ORM's.

Through the ORM a write cost a millisecond or more (cancel_order about 9 ms): every call paid for
a flush that walked the session's objects, relationship lazy loads, history bookkeeping and
per-statement compilation. The world is one SQLite database that a single call touches a few
rows of, so a small unit of work is enough:

- :meth:`RowWriter.get` loads a row as a :class:`Row` (one compiled ``SELECT`` by primary key),
  once per call: the same key gives the same object, so two changes to one product add up.
- A row's relationships (``order.payments``, ``item.product``) load on first use from the
  mapper's own definition (same target, same ``order_by``) with compiled queries.
- Assignments to columns are tracked; :meth:`RowWriter.flush` writes them (``INSERT``,
  ``UPDATE`` of the changed columns only, ``DELETE``) and records each row as
  ``{op, table, key, before/after}`` exactly as the ORM's ``after_flush`` did: rows sorted by
  (table, key) within a flush, ``before`` the value at the previous flush, unchanged values
  left out, values as plain JSON (ISO time, enum values).
- Flushes happen where the ORM's autoflush happened: before a read through ``ctx.conn``,
  before a collection loads, at an explicit ``ctx.flush()`` and at the end of the call, so the
  trail's order of changes is the one earlier versions wrote.

The call's SAVEPOINT (see ``call_tool``) makes a refusal undo everything the call wrote.
"""

from __future__ import annotations

import enum
import re
import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnDefault, Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Mapper, RelationshipProperty, class_mapper

from supportgym.db import DIALECT
from supportgym.schema import Base
from supportgym.services.tools import reads

Processor = Callable[[Any], Any] | None


def plain(value: Any) -> Any:
    """A column value as it appears in a change record: ISO text for time, an enum's value."""
    if isinstance(value, datetime):
        if value.tzinfo is None and value.year >= 1000:  # isoformat is 5x cheaper than strftime
            return value.isoformat(timespec="seconds") + "Z"
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, enum.Enum):
        return value.value
    return value


class _Statement:
    """A Core DML statement compiled once; parameters are given by bind name."""

    __slots__ = ("_binds", "sql")

    def __init__(self, stmt: Any, processors: dict[str, Processor]) -> None:
        compiled = stmt.compile(dialect=DIALECT)
        self.sql: str = compiled.string
        self._binds = tuple((name, processors.get(name)) for name in compiled.positiontup or ())

    def run(self, conn: sqlite3.Connection, values: dict[str, Any]) -> None:
        params = []
        for name, proc in self._binds:
            value = values[name]
            params.append(proc(value) if proc is not None and value is not None else value)
        conn.execute(self.sql, params)


class _Relation:
    """One relationship of a model, as a writing tool uses it."""

    __slots__ = ("local", "many", "order_by", "remote", "target")

    def __init__(self, rel: RelationshipProperty[Any]) -> None:
        self.target: type[Any] = rel.mapper.class_
        self.many = rel.uselist
        ((local, remote),) = rel.local_remote_pairs  # every relationship here has one key column
        # Table columns always have a key (only unnamed expressions have none): str() is a no-op.
        self.local = str(local.key)
        self.remote = str(remote.key)
        order = rel.order_by or ()
        self.order_by: tuple[str, ...] = tuple(str(c.key) for c in order)


class _Model:
    """What the fast path needs to know about one mapped class, derived from its mapper once."""

    def __init__(self, model: type[Any]) -> None:
        mapper: Mapper[Any] = class_mapper(model)
        table: Table = mapper.local_table  # type: ignore[assignment]
        self.model = model
        self.table = table
        self.name: str = table.name
        self.columns: tuple[str, ...] = tuple(a.key for a in mapper.column_attrs)
        self.column_set = frozenset(self.columns)
        self.pk: tuple[str, ...] = tuple(c.key for c in table.primary_key.columns)
        # Python-side scalar defaults, applied at insert as the ORM's flush applied them.
        self.defaults: dict[str, Any] = {}
        for c in table.columns:
            if isinstance(c.default, ColumnDefault) and c.default.is_scalar:
                self.defaults[c.key] = c.default.arg
        self.processors: dict[str, Processor] = {
            c.key: c.type.dialect_impl(DIALECT).bind_processor(DIALECT) for c in table.columns
        }
        self.relations = {r.key: _Relation(r) for r in mapper.relationships}
        self.order = {t.name: n for n, t in enumerate(Base.metadata.sorted_tables)}[self.name]
        self._insert = _Statement(insert(table).values({c: bindparam(c) for c in self.columns}), self.processors)
        self._delete = _Statement(delete(table).where(*self._pk_match()), self._pk_processors())
        self._updates: dict[tuple[str, ...], _Statement] = {}
        self._load = reads.query(("writes.load", self.name), lambda: _select_by_pk(table))

    def _pk_match(self) -> list[Any]:
        return [self.table.c[k] == bindparam(f"_pk_{k}") for k in self.pk]

    def _pk_processors(self) -> dict[str, Processor]:
        return {f"_pk_{k}": self.processors[k] for k in self.pk}

    def update_statement(self, columns: tuple[str, ...]) -> _Statement:
        found = self._updates.get(columns)
        if found is None:
            stmt = update(self.table).where(*self._pk_match()).values({c: bindparam(c) for c in columns})
            found = self._updates[columns] = _Statement(stmt, {**self.processors, **self._pk_processors()})
        return found

    def key_of(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(values[k] for k in self.pk)


def _select_by_pk(table: Table) -> Any:
    return select(table).where(*[table.c[c.key] == bindparam(c.key) for c in table.primary_key.columns])


_MODELS: dict[type[Any], _Model] = {}


def model_info(model: type[Any]) -> _Model:
    found = _MODELS.get(model)
    if found is None:
        found = _MODELS[model] = _Model(model)
    return found


class Row:
    """A world row held by a writing tool: its columns as attributes, its relationships loaded
    on first use, and every assignment to a column remembered until the next flush."""

    def __init__(self, writer: RowWriter, info: _Model, values: dict[str, Any], *, new: bool) -> None:
        d = self.__dict__
        d["_writer"] = writer
        d["_info"] = info
        d["_new"] = new
        d["_orig"] = {}  # column -> value at the last flush, for columns assigned since
        d.update(values)

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if name in d["_info"].column_set and not d["_new"] and name not in d["_orig"]:
            d["_orig"][name] = d[name]
            d["_writer"].dirty[id(self)] = self
        d[name] = value

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not set yet: a relationship's first use.
        d = self.__dict__
        info: _Model | None = d.get("_info")
        rel = info.relations.get(name) if info is not None else None
        if rel is None:
            # A computed property of the model (OrderItem.line_total_cents) works on rows too.
            prop = getattr(info.model, name, None) if info is not None else None
            if isinstance(prop, property) and prop.fget is not None:
                return prop.fget(self)
            raise AttributeError(name)
        writer: RowWriter = d["_writer"]
        loaded: list[Row] | Row | None
        if rel.many:
            loaded = [] if d["_new"] else writer.children(rel, d[rel.local])
        else:
            key = d[rel.local]
            loaded = None if key is None else writer.get(rel.target, key, autoflush=True)
        d[name] = loaded
        return loaded

    def __repr__(self) -> str:
        info = self.__dict__["_info"]
        return f"Row({info.name} {info.key_of(self.__dict__)})"


def _key_text(key: tuple[Any, ...]) -> str:
    return "/".join(str(k) for k in key)


_DIGITS = re.compile(r"[0-9]+")


class IdCounters:
    """The largest id in use per (table, prefix), so a new ``RFD-n`` costs no table scan.

    Ids are ``max + 1`` (deterministic, the same on every replay); finding the max of a
    ``PREFIX-digits`` id is a scan of the table, about 3 ms on the default world's refunds.
    The scan runs once per episode and table; rows the tools insert move the figure on. The
    cache is trusted only while every change on the connection came from a tool flush
    (``total_changes`` matches what the last flush left); a write by anyone else, a rolled back
    call or a deleted row drops it.
    """

    def __init__(self) -> None:
        self.stamp = -1
        self.tops: dict[tuple[str, str | None], int | None] = {}

    def top(
        self, conn: sqlite3.Connection, table: str, prefix: str | None, scan: Callable[[], int | None]
    ) -> int | None:
        if self.stamp != conn.total_changes:
            self.tops.clear()
            self.stamp = conn.total_changes
        key = (table, prefix)
        if key not in self.tops:
            self.tops[key] = scan()
        return self.tops[key]

    def forget(self) -> None:
        self.tops.clear()
        self.stamp = -1

    def wrote(
        self, conn: sqlite3.Connection, valid_before: bool, inserted: list[tuple[str, Any]], deleted_tables: set[str]
    ) -> None:
        """After a flush: move the figures on by the ids inserted, or drop them."""
        if not valid_before:
            self.forget()
            return
        for (table, prefix), top in list(self.tops.items()):
            if table in deleted_tables:
                del self.tops[(table, prefix)]
                continue
            for name, ident in inserted:
                if name != table:
                    continue
                if prefix is None:
                    value = ident if isinstance(ident, int) else None
                else:
                    head = f"{prefix}-".lower()
                    rest = ident[len(head) :] if isinstance(ident, str) and ident[: len(head)].lower() == head else ""
                    value = int(rest) if _DIGITS.fullmatch(rest) else None
                if value is not None and (top is None or value > top):
                    top = value
            if (table, prefix) in self.tops:
                self.tops[(table, prefix)] = top
        self.stamp = conn.total_changes


class RowWriter:
    """The unit of work of one tool call (see the module notes)."""

    def __init__(self, conn: sqlite3.Connection, counters: IdCounters | None = None) -> None:
        self.conn = conn
        self.counters = counters if counters is not None else IdCounters()
        self.rows: dict[tuple[str, tuple[Any, ...]], Row] = {}
        self.new: list[Row] = []
        self.dirty: dict[int, Row] = {}
        self.deleted: list[Row] = []
        self.changes: list[dict[str, Any]] = []

    @property
    def pending(self) -> bool:
        return bool(self.new or self.dirty or self.deleted)

    def get(self, model: type[Any], key: Any, *, autoflush: bool = False) -> Row | None:
        """The row of ``model`` with primary key ``key`` (a value, or a tuple for composite
        keys), or None. ``autoflush``: flush before reading a row not loaded yet, as the ORM's
        many-to-one lazy load did (its ``Session.get`` did not)."""
        info = model_info(model)
        ident = key if isinstance(key, tuple) else (key,)
        found = self.rows.get((info.name, ident))
        if found is not None:
            return found
        if autoflush and self.pending:
            self.flush()
        raw = info._load.tuples(self.conn, **dict(zip(info.pk, ident, strict=True)))
        if not raw:
            return None
        row = Row(self, info, dict(zip(info._load.names, raw[0], strict=True)), new=False)
        self.rows[(info.name, ident)] = row
        return row

    def children(self, rel: _Relation, parent_key: Any) -> list[Row]:
        # A collection load flushes first, as the ORM's lazy load did (autoflush).
        if self.pending:
            self.flush()
        info = model_info(rel.target)
        q = reads.by_column(info.table, rel.remote, order_by=rel.order_by or None)
        out = []
        for values in q.tuples(self.conn, value=parent_key):
            row_values = dict(zip(q.names, values, strict=True))
            ident = info.key_of(row_values)
            row = self.rows.get((info.name, ident))
            if row is None:
                row = self.rows[(info.name, ident)] = Row(self, info, row_values, new=False)
            out.append(row)
        return out

    def add(self, model: type[Any], **values: Any) -> Row:
        """A new row of ``model`` (inserted at the next flush); unset columns take the
        schema's default, or None."""
        info = model_info(model)
        unknown = set(values) - info.column_set
        if unknown:
            raise TypeError(f"{info.name} has no column {sorted(unknown)}")
        full = {c: values[c] if c in values else info.defaults.get(c) for c in info.columns}
        row = Row(self, info, full, new=True)
        self.rows[(info.name, info.key_of(full))] = row
        self.new.append(row)
        return row

    def delete(self, row: Row) -> None:
        self.deleted.append(row)

    def refresh(self, row: Row) -> None:
        """Flush, then forget ``row``'s loaded relationships so they load again (their rows
        keep their identity): what ``Session.refresh`` gave the ORM version."""
        self.flush()
        d = row.__dict__
        for name in d["_info"].relations:
            d.pop(name, None)

    def flush(self) -> None:
        """Write every pending change and append its records (sorted by table and key)."""
        if not self.pending:
            return
        conn = self.conn
        counters_valid = self.counters.stamp == conn.total_changes
        inserted: list[tuple[str, Any]] = []
        deleted_tables: set[str] = set()
        batch: list[dict[str, Any]] = []
        # Deletes first, children before parents; then inserts and updates, parents first.
        for row in sorted(self.deleted, key=lambda r: -r.__dict__["_info"].order):
            d = row.__dict__
            info: _Model = d["_info"]
            info._delete.run(conn, {f"_pk_{k}": d[k] for k in info.pk})
            deleted_tables.add(info.name)
            self.rows.pop((info.name, info.key_of(d)), None)
        for row in sorted(self.new, key=lambda r: r.__dict__["_info"].order):
            d = row.__dict__
            info = d["_info"]
            info._insert.run(conn, d)
            d["_new"] = False
            if "id" in info.column_set:
                inserted.append((info.name, d["id"]))
            batch.append(
                {
                    "op": "insert",
                    "table": info.name,
                    "key": _key_text(info.key_of(d)),
                    "after": {c: plain(d[c]) for c in info.columns},
                }
            )
        for row in sorted(self.dirty.values(), key=lambda r: r.__dict__["_info"].order):
            d = row.__dict__
            info = d["_info"]
            orig: dict[str, Any] = d["_orig"]
            changed = tuple(c for c in info.columns if c in orig and orig[c] != d[c])
            if changed:
                info.update_statement(changed).run(conn, {**d, **{f"_pk_{k}": d[k] for k in info.pk}})
                batch.append(
                    {
                        "op": "update",
                        "table": info.name,
                        "key": _key_text(info.key_of(d)),
                        "before": {c: plain(orig[c]) for c in changed},
                        "after": {c: plain(d[c]) for c in changed},
                    }
                )
            d["_orig"] = {}
        for row in self.deleted:
            d = row.__dict__
            info = d["_info"]
            batch.append(
                {
                    "op": "delete",
                    "table": info.name,
                    "key": _key_text(info.key_of(d)),
                    "before": {c: plain(d[c]) for c in info.columns},
                }
            )
        self.new, self.dirty, self.deleted = [], {}, []
        self.counters.wrote(conn, counters_valid, inserted, deleted_tables)
        batch.sort(key=lambda c: (c["table"], c["key"]))
        self.changes.extend(batch)
