"""The splits are disjoint, cover every fixed task, keep held-out families out of every other
split, and are what the environment, the eval CLI and `tasks list` serve."""

from __future__ import annotations

import json
import random

import pytest
from typer.testing import CliRunner

from supportgym.cli.app import app
from supportgym.tasks import list_tasks
from supportgym.tasks.draw import parse_generated_id
from supportgym.tasks.splits import FIXED_SPLITS, draw_train_task, load_split, splits_file, train_families


def _family(task_id: str) -> str:
    return task_id.rpartition("-")[0]


def test_fixed_splits_partition_the_fixed_tasks() -> None:
    splits = {name: load_split(name) for name in FIXED_SPLITS}
    assert all(splits.values()), {k: len(v) for k, v in splits.items()}
    seen: dict[str, str] = {}
    for name, ids in splits.items():
        for tid in ids:
            assert tid not in seen, f"{tid} is in {seen[tid]} and {name}"
            seen[tid] = name
    assert set(seen) == {t.id for t in list_tasks()}


def test_heldout_families_appear_in_no_other_split() -> None:
    held = set(splits_file().heldout_families)
    assert held and held <= {t.family for t in list_tasks()}, "a held-out family that does not exist"
    assert {_family(t) for t in load_split("heldout-families")} == held
    for name in ("dev", "test"):
        assert not {_family(t) for t in load_split(name)} & held, name
    assert not set(train_families()) & held


def test_unknown_split_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown split"):
        load_split("validation")


def test_train_draws_are_generated_tasks_of_train_families_and_repeat_with_the_seed() -> None:
    a = draw_train_task(random.Random(5), prove=False)
    assert a == draw_train_task(random.Random(5), prove=False)
    parsed = parse_generated_id(a)
    assert parsed is not None and parsed[0] in train_families()


def test_env_takes_a_split() -> None:
    from supportgym.env.support_env import SupportEnv

    env = SupportEnv(split="dev")
    try:
        assert env.tasks == load_split("dev")
        _obs, info = env.reset(seed=3)
        assert info["task_id"] in env.tasks
    finally:
        env.close()
    with pytest.raises(ValueError, match="unknown split"):
        SupportEnv(split="nope")
    with pytest.raises(ValueError, match="not both"):
        SupportEnv(task_id="refund_within_window-01", split="dev")


def test_env_train_split_serves_generated_tasks() -> None:
    from supportgym.env.support_env import SupportEnv

    env = SupportEnv(split="train")
    try:
        _obs, info = env.reset(seed=1)
        assert parse_generated_id(info["task_id"]) is not None
    finally:
        env.close()


def test_cli_list_and_eval_take_a_split() -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["tasks", "list", "--split", "heldout-families", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [r["id"] for r in json.loads(listed.output)] == load_split("heldout-families")
    both = runner.invoke(app, ["eval", "--split", "dev", "--task", "refund_within_window-01"])
    assert both.exit_code == 2 and "not both" in both.output
    bad = runner.invoke(app, ["eval", "--split", "nope"])
    assert bad.exit_code == 2 and "unknown split" in bad.output
