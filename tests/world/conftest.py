"""Shared fixtures: worlds are built once per session, into a throwaway cache directory."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from supportgym.db import WorldDB
from supportgym.world_seed.snapshot import WorldSnapshot


@pytest.fixture(scope="package", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Never read or write the user's real world cache from these tests. Package scope: the
    override ends with this folder's tests, so a test elsewhere that runs after them in the same
    worker still finds the parts (the LLM server, the model) in the real cache."""
    old = os.environ.get("SUPPORTGYM_CACHE")
    path = str(tmp_path_factory.mktemp("sg-cache"))
    os.environ["SUPPORTGYM_CACHE"] = path
    from supportgym.world_seed.cache import clear_memory_cache

    clear_memory_cache()
    yield path
    clear_memory_cache()
    if old is None:
        os.environ.pop("SUPPORTGYM_CACHE", None)
    else:
        os.environ["SUPPORTGYM_CACHE"] = old


@pytest.fixture(scope="session")
def tiny_snapshot() -> WorldSnapshot:
    from supportgym.world_seed.cache import load_world

    return load_world(7, "tiny")


@pytest.fixture(scope="session")
def default_snapshot() -> WorldSnapshot:
    from supportgym.world_seed.cache import load_world

    return load_world(7, "default")


@pytest.fixture(scope="session")
def default_db(default_snapshot: WorldSnapshot) -> Iterator[WorldDB]:
    """A shared read-only copy of the default world (do not write to it)."""
    db = default_snapshot.open()
    yield db
    db.close()


@pytest.fixture
def tiny_db(tiny_snapshot: WorldSnapshot) -> Iterator[WorldDB]:
    """A private, writable copy of the tiny world."""
    db = tiny_snapshot.open()
    yield db
    db.close()
