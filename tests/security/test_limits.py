"""What a client may make the service hold or do: bodies, arguments, trails, worlds, budgets."""

from __future__ import annotations

import gc
import json
import os

import pytest
from fastapi.testclient import TestClient

from supportgym.services import worlds
from supportgym.services.access import Caller
from supportgym.services.admission import admit
from supportgym.services.episode import Episode, EpisodeConfig
from supportgym.services.manager import ServiceError
from supportgym.services.settings import Settings

from .conftest import TINY, bearer, create, make_client

TEN_MB = 10_000_000


def _deep(levels: int) -> dict:
    root: dict = {}
    cur = root
    for _ in range(levels):
        cur["a"] = {}
        cur = cur["a"]
    return root


def _rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_bodies_over_the_limit_are_refused_declared_or_streamed(open_client: TestClient) -> None:
    c = open_client
    episode_id, cap = create(c)
    limit = c.app.state.settings.max_body_bytes
    big = b'{"name": "get_current_time", "arguments": {"x": "' + b"a" * limit + b'"}}'
    r = c.post(f"/episodes/{episode_id}/step", content=big, headers={"content-type": "application/json", **bearer(cap)})
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"

    def chunks():  # no Content-Length: counted as it arrives
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    r = c.post(
        f"/episodes/{episode_id}/step", content=chunks(), headers={"content-type": "application/json", **bearer(cap)}
    )
    assert r.status_code == 413
    assert c.app.state.manager.get(episode_id).steps == 0


def test_a_2000_deep_object_is_a_structured_tool_error_everywhere(open_client: TestClient) -> None:
    from supportgym.env.support_env import SupportEnv

    env = SupportEnv(world_scale="tiny")
    try:
        env.reset(seed=7)
        obs, _, _, _, info = env.step({"name": "search_customers", "arguments": _deep(2000)})
        assert not info["ok"] and "nested too deeply" in obs
        obs, _, _, _, info = env.step(json.dumps({"name": "search_customers", "arguments": "[" * 3000}))
        assert info["error_code"] == "arguments_too_deep"
    finally:
        env.close()
    episode = Episode(EpisodeConfig(**TINY))
    result = episode.step("search_customers", _deep(2000))
    assert result.observation["error"]["code"] == "arguments_too_deep"
    assert episode.trail[-1].arguments["truncated"] is True
    c = open_client
    episode_id, cap = create(c)
    body = '{"name": "search_customers", "arguments": ' + '{"a": ' * 2000 + "1" + "}" * 2001
    r = c.post(
        f"/episodes/{episode_id}/step", content=body, headers={"content-type": "application/json", **bearer(cap)}
    )
    assert r.status_code == 400 and "error" in r.json()
    r = c.post(
        f"/episodes/{episode_id}/tools/search_customers",
        content="[" * 5000,
        headers={"content-type": "application/json", **bearer(cap)},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] in ("too_deep", "invalid_json")


def test_30_refused_10_mb_calls_grow_memory_by_less_than_20_mb() -> None:
    episode = Episode(EpisodeConfig(**TINY, max_invalid_calls=100))
    gc.collect()
    before = _rss()
    for i in range(30):
        # A fresh 10 MB each time, as each request body would be: kept only if the trail keeps it.
        text = str(i % 10) * TEN_MB
        arguments = text if i % 2 else {"name": text}
        result = episode.step("search_customers", arguments)
        del text, arguments
        assert result.observation["error"]["code"] == "arguments_too_large"
    gc.collect()
    grown = _rss() - before
    assert grown < 20_000_000, grown
    trail = json.dumps([t.model_dump(mode="json") for t in episode.trail])
    assert len(trail) < 100_000
    episode.close()


def test_a_refused_call_keeps_a_short_trail_entry_over_http() -> None:
    with make_client(max_body_bytes=3_000_000) as c:
        episode_id, cap = create(c)
        for _ in range(3):
            r = c.post(
                f"/episodes/{episode_id}/step",
                headers=bearer(cap),
                json={"name": "search_customers", "arguments": {"name": "x" * 2_000_000}},
            )
            assert r.json()["observation"]["error"]["code"] == "arguments_too_large"
        trail = c.get(f"/episodes/{episode_id}/trail", headers=bearer(cap))
        assert len(trail.content) < 20_000 and trail.json()["trail"][0]["arguments"]["truncated"] is True


def test_clients_ask_only_for_allowed_budgets_seeds_and_scales(open_client: TestClient) -> None:
    c = open_client
    settings = c.app.state.settings
    cases = [
        ({"seed": 7, "scale": "tiny", "max_steps": settings.max_steps_limit + 1}, 400, "max_steps"),
        ({"seed": 7, "scale": "large"}, 403, "scale"),
        ({"seed": 10_000_000, "scale": "tiny"}, 403, "seed"),
    ]
    for config, status, field in cases:
        r = c.post("/episodes", json=config)
        assert r.status_code == status and r.json()["error"]["field"] == field, r.text
    assert len(c.app.state.manager) == 0
    # The operator may (admission only: building a large world takes a while).
    for config, _, _ in cases:
        admit(EpisodeConfig(**config), settings, Caller(admin=True))
    custom = Settings(allowed_seeds="0-9,42", allowed_scales=["tiny"], max_steps_limit=5)
    with pytest.raises(ServiceError):
        admit(EpisodeConfig(seed=10, scale="tiny"), custom, Caller())
    admit(EpisodeConfig(seed=42, scale="tiny", max_steps=5), custom, Caller())
    with pytest.raises(ValueError, match="seed range"):
        Settings(allowed_seeds="9-1")


def test_the_world_cache_is_bounded_by_size() -> None:
    worlds.clear()
    one = len(worlds.get_snapshot(7, "tiny").image)
    try:
        worlds.set_cache_budget(int(one * 2.5))
        for seed in (1, 2, 3, 4):
            worlds.get_snapshot(seed, "tiny")
        kept = worlds.cached_worlds()
        assert len(kept) == 2 and (4, "tiny") in kept and worlds.cached_bytes() <= one * 2.5
        worlds.get_snapshot(3, "tiny")  # used: kept over the older one
        worlds.get_snapshot(5, "tiny")
        assert set(worlds.cached_worlds()) == {(3, "tiny"), (5, "tiny")}
    finally:
        worlds.set_cache_budget(worlds.DEFAULT_BUDGET_BYTES)


@pytest.mark.parametrize("arguments", [{"name": "%"}, {"name": "_"}, {"email": "%"}, {"email": "_%"}])
def test_like_wildcards_match_themselves(arguments: dict) -> None:
    episode = Episode(EpisodeConfig(**TINY))
    result = episode.step("search_customers", arguments)
    assert result.ok and result.observation["total"] == 0
    assert episode.step("search_tickets", {"query": "%%%"}).observation["total"] == 0
    assert episode.step("search_products", {"query": "___"}).observation["total"] == 0
    episode.close()


def test_a_failed_write_changes_neither_world_nor_clock_and_keeps_a_trail_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from supportgym.services import episode as episode_module
    from supportgym.services.tools import WorldFault

    episode = Episode(EpisodeConfig(**TINY))
    ticket = episode.step("search_tickets", {"page_size": 1}).observation["results"][0]["ticket_id"]
    world, clock = episode.world_hash(), episode.clock.now()

    def broken(*_args, **_kwargs):
        raise WorldFault("disk I/O error")

    monkeypatch.setattr(episode_module, "call_tool", broken)  # test double: a world that fails to write
    with pytest.raises(WorldFault):
        episode.step("add_internal_note", {"ticket_id": ticket, "note": "x"})
    assert episode.world_hash() == world and episode.clock.now() == clock
    assert episode.trail[-1].name == "add_internal_note" and episode.trail[-1].error_code == "world_fault"
    assert episode.consecutive_invalid == 0
    episode.close()
