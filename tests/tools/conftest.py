from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from supportgym.clock import parse_iso
from supportgym.db import WorldDB, world_hash
from supportgym.services.tools import ToolOutcome, call_tool
from supportgym.world_seed.generate import build_world as load_world  # TEMP


class World:
    """A private tiny world plus a clock, for calling tools directly."""

    def __init__(self, db: WorldDB) -> None:
        self.db = db
        now = db.conn.execute("SELECT value FROM world_meta WHERE key='now'").fetchone()[0]
        self.start = parse_iso(now)
        self.now = self.start

    def call(self, name: str, /, **arguments: Any) -> ToolOutcome:
        self.now += timedelta(seconds=30)
        return call_tool(self.db, name, arguments, now=self.now, episode_start=self.start)

    def ok(self, name: str, /, **arguments: Any) -> dict[str, Any]:
        out = self.call(name, **arguments)
        assert out.ok, out.result
        return out.result

    def error(self, name: str, arguments: Any) -> dict[str, Any]:
        before = self.hash()
        self.now += timedelta(seconds=30)
        out = call_tool(self.db, name, arguments, now=self.now, episode_start=self.start)
        assert not out.ok, out.result
        assert set(out.result) == {"error"}
        assert {"code", "message", "field"} <= set(out.result["error"])
        assert self.hash() == before, "a refused call changed the world"
        assert out.changes == []
        return out.result["error"]

    def hash(self) -> str:
        with self.db.session() as s:
            return world_hash(s)

    def first(self, stmt: Any) -> Any:
        with self.db.session() as s:
            return s.execute(stmt).scalars().first()

    def edit(self, fn: Any) -> None:
        with self.db.begin() as s:
            fn(s)


@pytest.fixture(scope="session")
def tiny_snapshot():
    return load_world(7, "tiny")


@pytest.fixture
def world(tiny_snapshot) -> Iterator[World]:
    db = tiny_snapshot.open()
    yield World(db)
    db.close()


__all__ = ["World", "select"]
