"""Prepared task worlds are cached by bytes, not by count: every default-scale task fits in
the default budget, and a smaller budget evicts the least recently used first."""

from __future__ import annotations

import pytest

from supportgym.tasks import loader, prepare_task


@pytest.fixture
def empty_cache(monkeypatch):
    monkeypatch.setattr(loader, "_images", type(loader._images)())
    monkeypatch.setattr(loader, "_image_bytes", 0)
    return loader


def test_cache_is_bounded_by_bytes_and_evicts_least_recently_used(empty_cache, monkeypatch):
    monkeypatch.setattr(empty_cache, "IMAGE_CACHE_BYTES", 3_000)
    for name in ("a", "b", "c"):
        empty_cache._remember_image(name, bytes(1_000))
    empty_cache._remember_image("a", bytes(1_000))  # used again: now the most recent
    empty_cache._remember_image("d", bytes(1_000))
    assert list(empty_cache._images) == ["c", "a", "d"]
    assert empty_cache._image_bytes == 3_000
    empty_cache._remember_image("big", bytes(10_000))  # above the budget alone: kept, others go
    assert list(empty_cache._images) == ["big"]
    assert empty_cache._image_bytes == 10_000


def test_default_budget_holds_more_than_twelve_default_scale_tasks(empty_cache):
    from supportgym.tasks import list_tasks

    ids = [t.id for t in list_tasks()][:14]
    images = {tid: prepare_task(tid).image for tid in ids}
    assert len(empty_cache._images) == len(ids) > 12
    assert empty_cache._image_bytes == sum(len(i) for i in images.values()) <= empty_cache.IMAGE_CACHE_BYTES


def test_budget_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SUPPORTGYM_TASK_CACHE_MB", "64")
    assert loader._image_cache_bytes() == 64 * 1024 * 1024
    monkeypatch.setenv("SUPPORTGYM_TASK_CACHE_MB", "lots")
    with pytest.raises(ValueError, match="SUPPORTGYM_TASK_CACHE_MB"):
        loader._image_cache_bytes()
