"""The same seeded actions give the same results in process and over HTTP; vector envs; faults."""

from __future__ import annotations

import json
import time

import gymnasium
import httpx
import numpy as np
import pytest

import supportgym.env  # noqa: F401
from supportgym.env import EnvironmentFault, ServerUnavailable
from supportgym.env.support_env import SupportEnv
from supportgym.services.launch import running_server
from tests.service.scripts import script

# tasks=[]: a bare tiny world, whatever tasks exist.
TINY = {"world_scale": "tiny", "tasks": []}


def _actions(i: int) -> list:
    acts = []
    for name, args in script(i):
        if name == "submit_response":
            acts += ["not json", {"function": {"name": "get_current_time", "arguments": ""}}]
        acts.append({"name": name, "arguments": args})
    return acts


def _run(env: SupportEnv, seed: int, actions: list) -> list:
    obs, info = env.reset(seed=seed)
    info.pop("episode_id")
    info.pop("transport")
    out = [(obs, info)]
    for a in actions:
        obs, reward, term, trunc, info = env.step(a)
        info.pop("transport")
        out.append((obs, reward, term, trunc, info))
        if term or trunc:
            break
    return out


@pytest.mark.parametrize("i", [0, 5])
def test_inprocess_and_http_give_identical_episodes(server, i):
    actions = _actions(i)
    local = SupportEnv(**TINY)
    remote = SupportEnv(transport="http", base_url=server.url, **TINY)
    try:
        a = _run(local, 11, actions)
        b = _run(remote, 11, actions)
        assert len(a) == len(actions) + 1
        assert a[-1][2] is True  # terminated by submit
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            assert x == y, f"step {k} differs"
        # And the trail the server kept equals the one in process.
        capability = {"authorization": f"Bearer {remote.transport.episode_token}"}
        remote_trail = httpx.get(f"{server.url}/episodes/{remote.episode_id}/trail", headers=capability).json()["trail"]
        local_trail = [t.model_dump(mode="json") for t in local.transport.episode.trail]
        assert remote_trail == local_trail
    finally:
        local.close()
        remote.close()
    assert httpx.get(f"{server.url}/healthz").json()["episodes"] == 0


def _vector_run(venv, n: int) -> None:
    obs, infos = venv.reset(seed=list(range(n)))
    assert len(obs) == n and all(o == obs[0] for o in obs)
    steps = [
        {"name": "get_current_time", "arguments": {}},
        "garbage",
        {"name": "submit_response", "arguments": {"response": "ok"}},
    ]
    for k, a in enumerate(steps):
        obs, rew, term, trunc, infos = venv.step(tuple(json.dumps(a) if isinstance(a, dict) else a for _ in range(n)))
        assert len(obs) == n and all(o == obs[0] for o in obs)
        assert np.all(rew == 0.0)
        assert list(term) == [k == 2] * n and not np.any(trunc)
    assert list(infos["status"]) == ["submitted"] * n


def test_sync_vector_env_16_copies():
    venv = gymnasium.vector.SyncVectorEnv([lambda: gymnasium.make("SupportGym-v0", **TINY) for _ in range(16)])
    try:
        _vector_run(venv, 16)
    finally:
        venv.close()


def test_async_vector_env_16_copies_over_http_leaks_nothing(server):
    url = server.url
    venv = gymnasium.vector.AsyncVectorEnv(
        [lambda: gymnasium.make("SupportGym-v0", transport="http", base_url=url, **TINY) for _ in range(16)]
    )
    try:
        _vector_run(venv, 16)
        # Autoreset opened the next episodes; they are live until close.
        assert httpx.get(f"{url}/healthz").json()["episodes"] == 16
        venv.step(tuple('{"name": "get_current_time"}' for _ in range(16)))
    finally:
        venv.close()
    assert httpx.get(f"{url}/healthz").json()["episodes"] == 0


def test_async_vector_env_inprocess():
    venv = gymnasium.vector.AsyncVectorEnv([lambda: gymnasium.make("SupportGym-v0", **TINY) for _ in range(4)])
    try:
        _vector_run(venv, 4)
    finally:
        venv.close()


def test_server_killed_mid_episode_raises_typed_fault():
    with running_server(warm="7/tiny") as srv:
        env = SupportEnv(transport="http", base_url=srv.url, timeout=5, **TINY)
        env.reset(seed=0)
        env.step({"name": "get_current_time"})
        srv.kill()
        t0 = time.monotonic()
        with pytest.raises(ServerUnavailable) as exc_info:
            env.step({"name": "get_current_time"})
        assert isinstance(exc_info.value, EnvironmentFault)
        assert time.monotonic() - t0 < 5
        env.close()  # closing after the server died does not raise


def test_unreachable_server_on_reset():
    from supportgym.services.launch import free_port

    env = SupportEnv(transport="http", base_url=f"http://127.0.0.1:{free_port()}", timeout=2, **TINY)
    with pytest.raises(ServerUnavailable):
        env.reset(seed=0)
    env.close()


def test_world_fault_is_typed(monkeypatch):
    from supportgym.env import WorldFault
    from supportgym.services.tools import REGISTRY

    def broken(ctx, args):
        raise RuntimeError("disk on fire")

    tool = REGISTRY["get_current_time"]
    monkeypatch.setitem(REGISTRY, "get_current_time", type(tool)(**{**tool.__dict__, "fn": broken}))
    env = SupportEnv(**TINY)
    env.reset(seed=0)
    with pytest.raises(WorldFault):
        env.step({"name": "get_current_time"})
    env.close()


def test_http_world_fault_is_typed_and_server_survives(server):
    # An unknown task or a bad world is a caller error at reset (ValueError), not a fault.
    env = SupportEnv(transport="http", base_url=server.url, **TINY)
    with pytest.raises(ValueError):
        env.reset(seed=0, options={"seed": 7, "scale": "galactic"})
    env.close()
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_http_transport_request_is_public_and_raises_typed_errors(server):
    from supportgym.env.errors import EpisodeLost
    from supportgym.env.rollout import ScriptedPolicy, rollout

    env = SupportEnv(transport="http", base_url=server.url, **TINY)
    try:
        env.reset(seed=3)
        env.step({"name": "get_current_time", "arguments": {}})
        transport = env.transport
        assert [t["name"] for t in transport.get("trail")["trail"]] == ["get_current_time"]
        with pytest.raises(EpisodeLost, match="unknown_episode"):
            transport.request("GET", "/episodes/ep-nope/trail", what="trail")
        # The rollout loop reads the trail through the same public call.
        r = rollout(
            ScriptedPolicy([("get_current_time", {})]), None, env=env, reset_options={"seed": 3, "scale": "tiny"}
        )
        assert [s.name for s in r.trajectory.steps] == ["get_current_time", "submit_response"]
    finally:
        env.close()
