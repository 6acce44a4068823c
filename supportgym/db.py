"""A world held in one in-memory SQLite database, and its canonical content hash.

Why in-memory SQLite: an episode needs its own copy of a world with thousands of rows, made in a
few milliseconds. SQLite can serialise a whole database to one ``bytes`` image and load it back
with a memory copy (``sqlite3.Connection.serialize`` / ``deserialize``), so a fresh episode is a
``WorldDB.from_image(image)`` away. :func:`copy_world` writes a world into any other SQLAlchemy
URL (PostgreSQL, a SQLite file) for people who want to inspect it with their own tools.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, create_engine, event, insert, select
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool
from sqlalchemy.util import LRUCache

from supportgym.schema import Base

# Every world has the same schema and dialect. SQLAlchemy keys its compiled-SQL cache by the
# dialect object, so each episode's engine shares one dialect and one cache: otherwise a new
# episode recompiled every statement it ran (~1 ms each, the first calls 10x slower than later).
_COMPILED_CACHE: LRUCache[Any, Any] = LRUCache(4000)
_TEMPLATE = create_engine("sqlite://", poolclass=StaticPool)
with _TEMPLATE.connect():  # runs the dialect's one-time initialisation
    pass
_DIALECT = _TEMPLATE.dialect
DIALECT = _DIALECT
"""The SQLite dialect every world uses (``services.tools.reads`` compiles statements for it)."""
_DIALECT_ON_CONNECT = _DIALECT.on_connect_url(_TEMPLATE.url)


def _pragmas(dbapi_conn: Any, _record: Any) -> None:
    if _DIALECT_ON_CONNECT is not None:
        _DIALECT_ON_CONNECT(dbapi_conn)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
    # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN.
    dbapi_conn.isolation_level = None


def _begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def _sqlite_engine(conn: sqlite3.Connection) -> Engine:
    # sqlite3.Connection is the DB-API connection SQLAlchemy's pysqlite dialect drives; typeshed's
    # stub and SQLAlchemy's DBAPIConnection protocol differ only in optional-argument spellings.
    pool = StaticPool(lambda: cast(DBAPIConnection, conn))
    pool._dialect = _DIALECT
    event.listen(pool, "connect", _pragmas)
    engine = Engine(pool, _DIALECT, _TEMPLATE.url).execution_options(compiled_cache=_COMPILED_CACHE)
    event.listen(engine, "begin", _begin)
    return engine


class WorldDB:
    """One world: an in-memory SQLite database and the SQLAlchemy engine bound to it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        # Tools write straight on ``conn`` (their own SAVEPOINTs, foreign keys enforced) before
        # the engine may ever have connected: set it up as the engine's pool would.
        _pragmas(conn, None)
        self.conn = conn
        self.engine = _sqlite_engine(conn)

    @classmethod
    def empty(cls) -> WorldDB:
        """A new world with the schema and no rows."""
        db = cls(sqlite3.connect(":memory:", check_same_thread=False))
        Base.metadata.create_all(db.engine)
        return db

    @classmethod
    def from_image(cls, image: bytes) -> WorldDB:
        """A private, writable copy of the world serialised in ``image``."""
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        conn.deserialize(image)
        return cls(conn)

    def image(self) -> bytes:
        """The whole database as bytes; :meth:`from_image` restores it."""
        return self.conn.serialize()

    def session(self) -> Session:
        """A new ORM session on this world. The caller owns its transaction."""
        return Session(self.engine, expire_on_commit=False, autoflush=True)

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """A session in a transaction that commits on success and rolls back on error."""
        with self.session() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
        self.conn.close()
        _return_freed_memory()


def _load_malloc_trim() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
        return None


_MALLOC_TRIM = _load_malloc_trim()


def _return_freed_memory() -> None:
    """Give the pages of a closed world back to the operating system.

    SQLite frees a world's pages to the C allocator in small blocks; glibc keeps them in its
    heap, so a process that had 200 live episodes kept their RSS after closing them all
    (RSS 9.7x its value after 10). ``malloc_trim`` returns the free pages (about 0.1 ms).
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    return value


def table_rows(session: Session, table_name: str) -> Iterator[dict[str, object]]:
    """Every row of a table as a plain dict, ordered by primary key."""
    table = Base.metadata.tables[table_name]
    stmt = select(table).order_by(*table.primary_key.columns)
    for row in session.execute(stmt).mappings():
        yield {k: _canonical(v) for k, v in row.items()}


def world_hash(session: Session) -> str:
    """SHA-256 over the canonical content of every table (name, columns, rows by primary key).

    Independent of SQLite's file layout, so equal hashes mean equal worlds on any machine.
    """
    digest = hashlib.sha256()
    for table in Base.metadata.sorted_tables:
        digest.update(f"\x00table {table.name}\x00".encode())
        for row in table_rows(session, table.name):
            digest.update(json.dumps(row, sort_keys=True, separators=(",", ":")).encode())
            digest.update(b"\n")
    return digest.hexdigest()


def table_counts(session: Session) -> dict[str, int]:
    """Row count of every table, in dependency order."""
    from sqlalchemy import func

    return {
        t.name: int(session.execute(select(func.count()).select_from(t)).scalar_one())
        for t in Base.metadata.sorted_tables
    }


def copy_world(source: Session, url: str, *, batch: int = 2000) -> None:
    """Write every row of ``source``'s world into the (empty) database at SQLAlchemy ``url``."""
    target = create_engine(url)
    Base.metadata.create_all(target)
    with target.begin() as conn:
        for table in Base.metadata.sorted_tables:
            stmt = select(table).order_by(*table.primary_key.columns)
            rows = [dict(r) for r in source.execute(stmt).mappings()]
            for start in range(0, len(rows), batch):
                conn.execute(insert(table), rows[start : start + batch])
    target.dispose()
