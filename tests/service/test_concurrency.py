"""Many episodes driven at once by concurrent clients end exactly as when run alone."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from supportgym.env.http_auth import EpisodeAuth
from supportgym.services.episode import Episode, EpisodeConfig
from tests.service.scripts import script

N = 32


def _alone(i: int) -> tuple[str, list[dict]]:
    ep = Episode(EpisodeConfig(seed=7, scale="tiny"))
    try:
        for name, args in script(i):
            ep.step(name, args)
        trail = [t.model_dump(mode="json") for t in ep.trail]
        return ep.world_hash(), trail
    finally:
        ep.close()


def test_32_concurrent_episodes_match_runs_alone(server):
    scripts = {i: script(i) for i in range(N)}
    start = threading.Barrier(N)

    def drive(i: int) -> tuple[str, list[dict], int]:
        with EpisodeAuth(server.token).attach(httpx.Client(base_url=server.url, timeout=60)) as c:
            r = c.post("/episodes", json={"seed": 7, "scale": "tiny"})
            assert r.status_code == 201, r.text
            eid = r.json()["episode_id"]
            start.wait(timeout=60)  # every client steps at the same time
            for name, args in scripts[i]:
                r = c.post(f"/episodes/{eid}/step", json={"name": name, "arguments": args})
                assert r.status_code == 200, r.text
            assert r.json()["done"]
            digest = c.get(f"/episodes/{eid}/world_hash").json()["world_hash"]
            trail = c.get(f"/episodes/{eid}/trail").json()["trail"]
            changes = len(c.get(f"/episodes/{eid}/changes").json()["net_changes"])
            assert c.delete(f"/episodes/{eid}").status_code == 204
            return digest, trail, changes

    with ThreadPoolExecutor(N) as pool:
        results = list(pool.map(drive, range(N)))

    hashes = set()
    for i, (digest, trail, changes) in enumerate(results):
        alone_hash, alone_trail = _alone(i)
        assert digest == alone_hash, f"episode {i}: world differs from the same actions run alone"
        assert trail == alone_trail, f"episode {i}: trail differs"
        assert changes > 0
        hashes.add(digest)
    # Scripts touch different rows, so isolation failures could not hide behind equal worlds.
    assert len(hashes) == N
    with EpisodeAuth(server.token).attach(httpx.Client(base_url=server.url)) as c:
        assert c.get("/episodes").json()["count"] == 0
