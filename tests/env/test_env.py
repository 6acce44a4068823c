"""SupportEnv: Gymnasium API, action parsing, truncation rules, observation limits."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

import supportgym.env  # noqa: F401  (registers SupportGym-v0)
from supportgym.env import EpisodeEnded
from supportgym.env.support_env import TRUNCATION_MARKER, SupportEnv
from supportgym.services.episode import SUBMIT_TOOL
from supportgym.services.tools import REGISTRY

# tasks=[]: a bare tiny world, whatever tasks exist.
TINY = {"world_scale": "tiny", "tasks": []}


@pytest.fixture
def env():
    e = SupportEnv(**TINY)
    yield e
    e.close()


def test_make_and_check_env():
    env = gymnasium.make("SupportGym-v0", **TINY)
    assert isinstance(env.unwrapped, SupportEnv)
    check_env(env.unwrapped)
    env.close()


def test_reset_info(env):
    obs, info = env.reset(seed=3)
    assert obs in env.observation_space
    assert json.loads(obs) == {"instruction": info["instruction"]}
    # A bare world enables no opt-in tool (advance_time): every other tool and submit.
    assert {t["function"]["name"] for t in info["tools"]} == {n for n, t in REGISTRY.items() if not t.opt_in} | {
        SUBMIT_TOOL
    }
    assert info["policy_summary"].startswith("- ")
    for key in ("task_id", "episode_id", "transport", "step", "status", "invalid_calls", "max_steps"):
        assert key in info
    assert info["step"] == 0 and info["status"] == "running" and info["transport"] == "inprocess"


def _customer_id(env) -> str:
    obs, *_ = env.step({"name": "search_customers", "arguments": {"name": "a"}})
    return json.loads(obs)["results"][0]["customer_id"]


def test_every_accepted_action_shape_means_the_same_call(env):
    env.reset(seed=0)
    cid = _customer_id(env)
    args = {"customer_id": cid}
    shapes = [
        json.dumps({"name": "get_customer", "arguments": args}),
        json.dumps({"name": "get_customer", "arguments": json.dumps(args)}),
        {"name": "get_customer", "arguments": args},
        {"name": "get_customer", "parameters": args},
        {"id": "call_1", "type": "function", "function": {"name": "get_customer", "arguments": json.dumps(args)}},
        SimpleNamespace(
            id="call_1", type="function", function=SimpleNamespace(name="get_customer", arguments=json.dumps(args))
        ),
        [{"name": "get_customer", "arguments": args}],
        json.dumps({"name": "get_customer", "arguments": args}).encode(),
    ]
    observations = []
    for action in shapes:
        obs, reward, term, trunc, info = env.step(action)
        assert info["ok"] and info["action"] == "get_customer", obs
        assert reward == 0.0 and not term and not trunc
        observations.append(obs)
    assert len(set(observations)) == 1


MALFORMED = [
    "",
    "not json at all",
    '{"name": "get_customer"',
    "[]",
    json.dumps([{"name": "a"}, {"name": "b"}]),
    json.dumps({"arguments": {}}),
    json.dumps({"name": 42}),
    json.dumps({"name": ""}),
    "42",
    "null",
    None,
    12.5,
    {"function": {"arguments": "{}"}},
    {"name": "get_customer", "arguments": {"x": {1, 2}}},
    b"\xff\xfe",
    object(),
]


def test_malformed_actions_are_error_observations_and_count_as_steps(env):
    env.reset(seed=0)
    for n, action in enumerate(MALFORMED, start=1):
        if n % 9 == 0:  # keep clear of the consecutive-invalid limit
            env.step({"name": "get_current_time", "arguments": {}})
        obs, reward, term, trunc, info = env.step(action)
        assert obs in env.observation_space
        body = json.loads(obs)
        assert body["error"]["code"] == "invalid_action", (action, body)
        assert not info["ok"] and info["error_code"] == "invalid_action"
        assert reward == 0.0 and not term and not trunc
    assert info["step"] == len(MALFORMED) + 1
    trail = env.transport.episode.trail
    assert sum(t.name == "<unparsable>" for t in trail) == len(MALFORMED)
    # Wrong tool names and bad arguments are the world's (not the parser's) errors.
    obs, *_ = env.step({"name": "get_custmer", "arguments": {}})
    assert json.loads(obs)["error"]["code"] == "unknown_tool"
    obs, *_ = env.step({"name": "get_customer", "arguments": "{bad"})
    assert json.loads(obs)["error"]["code"] == "invalid_json"


def test_random_samples_are_valid_inputs(env):
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(5):
        a = env.action_space.sample()
        obs, _, _, _, info = env.step(a)
        assert obs in env.observation_space and not info["ok"]


def test_consecutive_invalid_calls_truncate():
    env = SupportEnv(max_invalid_calls=3, **TINY)
    env.reset(seed=0)
    for _ in range(2):
        _, _, term, trunc, info = env.step("garbage")
        assert not trunc
    env.step({"name": "get_current_time"})  # a valid call resets the count
    for k in range(1, 4):
        _, reward, term, trunc, info = env.step("garbage")
        assert info["invalid_calls"] == k
    assert trunc and not term and reward == 0.0
    assert info["status"] == "truncated_invalid_calls" and info["truncation_reason"] == "invalid_calls"
    assert "grade" in info
    with pytest.raises(EpisodeEnded):
        env.step("garbage")
    env.close()


def test_max_steps_truncates():
    env = SupportEnv(max_steps=4, **TINY)
    _, info = env.reset(seed=0)
    assert info["max_steps"] == 4
    for k in range(1, 5):
        _, _, term, trunc, info = env.step({"name": "get_current_time"})
        assert trunc == (k == 4) and not term
    assert info["truncation_reason"] == "max_steps"
    env.close()


def test_default_max_steps_is_50(env):
    _, info = env.reset(seed=0)
    assert info["max_steps"] == 50


def test_submit_terminates(env):
    env.reset(seed=0)
    obs, reward, term, trunc, info = env.step({"name": "submit_response", "arguments": {"response": "Done."}})
    assert term and not trunc and info["status"] == "submitted" and info["grade"] is None
    assert reward == 0.0  # a bare world has no grade


def test_long_observations_are_cut_with_a_marker():
    env = SupportEnv(max_observation_chars=300, **TINY)
    env.reset(seed=0)
    obs, _, _, _, info = env.step({"name": "search_products", "arguments": {"page_size": 50}})
    assert len(obs) <= 300 and obs in env.observation_space
    assert info["truncated_observation"] and info["observation_chars"] > 300
    m = re.search(r'\.\.\."\[observation truncated: (\d+) of (\d+) chars shown\]"$', obs)
    assert m, obs[-80:]
    shown, total = int(m.group(1)), int(m.group(2))
    assert total == info["observation_chars"]
    assert obs.endswith(TRUNCATION_MARKER.format(n=shown, total=total))
    assert shown == len(obs) - len(TRUNCATION_MARKER.format(n=shown, total=total))
    env.close()


def test_non_ascii_is_escaped(env):
    env.reset(seed=0)
    obs, *_ = env.step({"name": "search_customers", "arguments": {"name": "Zoë"}})
    assert obs in env.observation_space and obs.isascii()


def test_bare_world_options(env):
    _, info = env.reset(seed=0, options={"seed": 7, "scale": "tiny", "max_steps": 7})
    assert info["task_id"] is None and info["max_steps"] == 7
