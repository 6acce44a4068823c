"""Reads compiled once and run on the world's own SQLite connection: the tools' hot path.

An agent's tool call is a handful of indexed lookups that SQLite answers in a few microseconds
each. Through the ORM, or even through Core's ``Connection.execute``, each one costs 30-400 µs
of statement building, cache-key generation and result wrapping, which made a tool call cost
more than a millisecond. A :class:`Query` is a SQLAlchemy Core ``select`` (so the schema stays
the one source of truth for table and column names) compiled once for the SQLite dialect.
Running it is one DBAPI ``execute`` with the bind and result processing SQLAlchemy itself would
apply, so the values are exactly what Core returns: enum members, ``datetime`` objects, ``bool``.

Statements whose shape depends on the arguments (which filters a search uses) are compiled once
per shape through :func:`query`, keyed by the caller; the values always travel as parameters.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Hashable, Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, Table, bindparam, func, select

from supportgym.db import DIALECT

_MISSING = object()


class Query:
    """A Core ``select`` compiled for SQLite, executed straight on a ``sqlite3`` connection.

    Named :func:`~sqlalchemy.bindparam` values are supplied as keyword arguments of
    :meth:`rows`, :meth:`first` and :meth:`scalar`; literal values written into the statement
    keep the value they were compiled with.
    """

    __slots__ = ("sql", "keys", "_names", "_binds", "_procs", "_needs_processing")

    def __init__(self, stmt: Select[Any]) -> None:
        compiled = stmt.compile(dialect=DIALECT)
        self.sql: str = compiled.string
        binds: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            if bind.expanding:
                raise ValueError(f"bind parameter {name!r}: expanding IN parameters are not supported")
            default = _MISSING if bind.required else bind.effective_value
            binds.append((name, default, bind.type.dialect_impl(DIALECT).bind_processor(DIALECT)))
        self._binds = tuple(binds)
        columns = list(stmt.selected_columns)
        # A table's columns have keys; an unnamed expression (count(), a sum) has None and is read
        # with tuples or scalar, never as an attribute.
        self.keys: tuple[str | None, ...] = tuple(c.key for c in columns)
        self._names = None if None in self.keys else tuple(k for k in self.keys if k is not None)
        self._procs = tuple(c.type.dialect_impl(DIALECT).result_processor(DIALECT, None) for c in columns)
        self._needs_processing = any(p is not None for p in self._procs)

    def _parameters(self, params: dict[str, Any]) -> list[Any]:
        values = []
        for name, default, proc in self._binds:
            value = params.get(name, default)
            if value is _MISSING:
                raise TypeError(f"query parameter {name!r} is required: {self.sql[:80]}...")
            values.append(proc(value) if proc is not None and value is not None else value)
        return values

    @property
    def names(self) -> tuple[str, ...]:
        """``keys`` of a query whose every column is named: what rows read as attributes."""
        if self._names is None:
            raise TypeError(f"a selected column has no name (label it): {self.sql[:80]}...")
        return self._names

    def tuples(self, conn: sqlite3.Connection, **params: Any) -> list[tuple[Any, ...]]:
        """Every row as a tuple of processed values, in ``keys`` order."""
        raw = conn.execute(self.sql, self._parameters(params)).fetchall()
        if not self._needs_processing:
            return raw
        procs = self._procs
        return [tuple(v if p is None or v is None else p(v) for p, v in zip(procs, r, strict=True)) for r in raw]

    def rows(self, conn: sqlite3.Connection, **params: Any) -> list[SimpleNamespace]:
        """Every row as a namespace whose attributes are the selected columns' keys."""
        keys = self.names
        return [SimpleNamespace(**dict(zip(keys, r, strict=True))) for r in self.tuples(conn, **params)]

    def first(self, conn: sqlite3.Connection, **params: Any) -> SimpleNamespace | None:
        rows = self.rows(conn, **params)
        return rows[0] if rows else None

    def scalar(self, conn: sqlite3.Connection, **params: Any) -> Any:
        """The first column of the first row (None when there is no row)."""
        rows = self.tuples(conn, **params)
        return rows[0][0] if rows else None


_CACHE: dict[Hashable, Query] = {}
_CACHE_LIMIT = 4096
_cache_lock = threading.Lock()


def query(key: Hashable, build: Callable[[], Select[Any]]) -> Query:
    """The :class:`Query` compiled from ``build()``, once per ``key``.

    ``key`` must name everything that changes the statement's *shape* (which filters are on,
    how many words a text search has); values go in as parameters, never into the key.
    """
    found = _CACHE.get(key)
    if found is None:
        found = Query(build())
        with _cache_lock:
            if len(_CACHE) >= _CACHE_LIMIT:  # only reachable with unbounded shapes: start over
                _CACHE.clear()
            _CACHE[key] = found
    return found


def by_column(table: Table, column: str, *, order_by: Sequence[str] | None = None) -> Query:
    """``SELECT * FROM table WHERE column = :value ORDER BY <primary key>``, compiled once."""

    def build() -> Select[Any]:
        order = [table.c[c] for c in order_by] if order_by else list(table.primary_key.columns)
        return select(table).where(table.c[column] == bindparam("value")).order_by(*order)

    return query(("by_column", table.name, column, tuple(order_by or ())), build)


def load_one(
    conn: sqlite3.Connection, table: Table, key: Any, **children: tuple[Table, str] | tuple[Table, str, Sequence[str]]
) -> SimpleNamespace | None:
    """The row of ``table`` with primary key ``key``, or None; each keyword names a list of
    related rows to attach: ``attr=(child_table, fk)`` (ordered by the child's primary key) or
    ``attr=(child_table, fk, order_by_columns)``."""
    (pk,) = table.primary_key.columns
    row = by_column(table, pk.key).first(conn, value=key)
    if row is not None:
        for attr, (child, fk, *order) in children.items():
            setattr(row, attr, by_column(child, fk, order_by=order[0] if order else None).rows(conn, value=key))
    return row


def equal_to(stmt: Select[Any], model: Any, params: dict[str, Any], *names: str) -> Select[Any]:
    """``stmt`` filtered by ``model.<name> == :name`` for each of ``names`` present in ``params``."""
    for name in names:
        if name in params:
            stmt = stmt.where(getattr(model, name) == bindparam(name))
    return stmt


def children_of(conn: sqlite3.Connection, parents: list[Any], attr: str, table: Table, fk: str) -> None:
    """Set ``parent.<attr>`` to the list of ``table`` rows whose ``fk`` is ``parent.id``, for
    every parent, in one query (ordered by the child table's primary key)."""
    grouped: dict[Any, list[SimpleNamespace]] = {p.id: [] for p in parents}
    if grouped:
        ids = list(grouped)
        q = query(
            ("children", table.name, fk, len(ids)),
            lambda: (
                select(table)
                .where(table.c[fk].in_([bindparam(f"p{n}") for n in range(len(ids))]))
                .order_by(*table.primary_key.columns)
            ),
        )
        for child in q.rows(conn, **{f"p{n}": v for n, v in enumerate(ids)}):
            grouped[getattr(child, fk)].append(child)
    for p in parents:
        setattr(p, attr, grouped[p.id])


def paged(key: Hashable, build: Callable[[], Select[Any]]) -> tuple[Query, Query]:
    """The page query (``build()`` with LIMIT and OFFSET) and the total-count query of an
    ordered select, compiled once per ``key``."""
    page = query(
        ("page", key),
        lambda: build().limit(bindparam("_limit")).offset(bindparam("_offset")),
    )
    count = query(("count", key), lambda: select(func.count()).select_from(build().order_by(None).subquery()))
    return page, count
