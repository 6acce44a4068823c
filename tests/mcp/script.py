"""One scripted agent run, played through any transport, and its reference run through Episode."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from supportgym.services.episode import Episode, EpisodeConfig

# (ok, structured payload) of one tool call.
Call = Callable[[str, dict[str, Any]], Awaitable[tuple[bool, dict[str, Any]]]]
BARE = EpisodeConfig(scale="tiny", seed=7)


async def play(call: Call) -> list[tuple[str, dict[str, Any], bool, dict[str, Any]]]:
    """Look up, write, fail twice, submit. Returns (name, arguments, ok, payload) per call."""
    log: list[tuple[str, dict[str, Any], bool, dict[str, Any]]] = []

    async def do(name: str, args: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        ok, payload = await call(name, args)
        log.append((name, args, ok, payload))
        return ok, payload

    ok, found = await do("search_orders", {"status": "paid"})
    assert ok and found["results"], found
    order_id = found["results"][0]["order_id"]
    ok, order = await do("get_order", {"order_id": order_id})
    assert ok, order
    ok, cancelled = await do("cancel_order", {"order_id": order_id, "reason": "Customer changed their mind"})
    assert ok, cancelled
    ok, missing = await do("get_order", {"order_id": "ORD-999999"})
    assert not ok and missing["error"]["code"] == "not_found"
    ok, refused = await do("cancel_order", {"order_id": order_id, "reason": "again"})
    assert not ok and "error" in refused
    ok, submitted = await do("submit_response", {"response": f"Cancelled {order_id} as asked."})
    assert ok, submitted
    return log


def reference(log: list[tuple[str, dict[str, Any], bool, dict[str, Any]]]) -> Episode:
    """The same calls straight through Episode.step, checking each observation matches."""
    episode = Episode(BARE)
    for name, args, ok, payload in log:
        result = episode.step(name, args)
        assert result.ok == ok, (name, result.observation)
        expected = {k: v for k, v in payload.items() if not (name == "submit_response" and k != "submitted")}
        assert result.observation == expected, name
    return episode


def comparable_trail(episode: Episode) -> list[dict[str, Any]]:
    return [t.model_dump(mode="json") for t in episode.trail]
