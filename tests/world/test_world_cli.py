from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from supportgym.cli.app import app
from supportgym.cli.world import world_app
from supportgym.db import world_hash
from supportgym.world_seed.generate import build_world
from supportgym.world_seed.snapshot import WorldSnapshot

runner = CliRunner()


def _invoke(*args: str):  # noqa: ANN202
    return runner.invoke(world_app, list(args))


def test_info_json_matches_a_fresh_build(tiny_snapshot) -> None:  # noqa: ANN001
    r1 = _invoke("info", "--seed", "7", "--scale", "tiny", "--json")
    r2 = _invoke("info", "--seed", "7", "--scale", "tiny", "--json")
    assert r1.exit_code == 0, r1.output
    a, b = json.loads(r1.output), json.loads(r2.output)
    assert a == b
    assert a["world_hash"] == build_world(7, "tiny").world_hash
    assert a["seed"] == 7 and a["scale"] == "tiny" and a["now"] == "2026-03-16T09:00:00Z"
    assert a["counts"]["orders"] == 200


def test_info_table(tiny_snapshot) -> None:  # noqa: ANN001
    r = _invoke("info", "--scale", "tiny")
    assert r.exit_code == 0, r.output
    assert tiny_snapshot.world_hash in r.output
    assert "shipment_events" in r.output and "customers" in r.output


def test_info_same_hash_in_fresh_processes_with_cold_cache(tmp_path, tiny_snapshot) -> None:  # noqa: ANN001
    env = {**os.environ, "SUPPORTGYM_CACHE": str(tmp_path)}
    cmd = [sys.executable, "-m", "supportgym.cli.app", "world", "info", "--scale", "tiny", "--json"]
    cold = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    assert list((tmp_path / "worlds").glob("tiny-s7-*.sqlite"))
    warm = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    assert json.loads(cold.stdout)["world_hash"] == json.loads(warm.stdout)["world_hash"]
    assert json.loads(cold.stdout)["world_hash"] == tiny_snapshot.world_hash


def test_check_passes(tiny_snapshot) -> None:  # noqa: ANN001
    r = _invoke("check", "--scale", "tiny")
    assert r.exit_code == 0, r.output
    assert "order_total" in r.output and "OK" in r.output
    j = json.loads(_invoke("check", "--scale", "tiny", "--json").output)
    assert j["ok"] is True and j["violation_count"] == 0
    assert all(v["failed"] == 0 and v["checked"] >= 0 for v in j["invariants"].values())


def test_check_fails_on_a_corrupted_world(monkeypatch, tiny_snapshot) -> None:  # noqa: ANN001
    db = tiny_snapshot.open()
    db.conn.execute("UPDATE orders SET total_cents = total_cents + 7 WHERE id = (SELECT min(id) FROM orders)")
    db.conn.commit()
    bad = WorldSnapshot(seed=7, scale="tiny", image=db.image(), world_hash="x", counts={})
    db.close()
    import supportgym.world_seed.cache as cache

    monkeypatch.setattr(cache, "load_world", lambda seed, scale: bad)
    r = _invoke("check", "--scale", "tiny")
    assert r.exit_code == 1
    assert "order_total" in r.output
    j = json.loads(_invoke("check", "--scale", "tiny", "--json").output)
    assert j["ok"] is False and j["invariants"]["order_total"]["failed"] == 1


def test_hash_command(tiny_snapshot) -> None:  # noqa: ANN001
    r = _invoke("hash", "--scale", "tiny")
    assert r.exit_code == 0
    assert r.output.strip() == tiny_snapshot.world_hash


def test_build_writes_a_copy_with_the_same_hash(tmp_path, tiny_snapshot) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    r = _invoke("build", "--scale", "tiny", "--url", url)
    assert r.exit_code == 0, r.output
    engine = create_engine(url)
    with Session(engine) as s:
        assert world_hash(s) == tiny_snapshot.world_hash
    engine.dispose()


def test_unknown_scale_is_a_usage_error() -> None:
    r = _invoke("info", "--scale", "galactic")
    assert r.exit_code == 2
    assert "tiny" in r.output


@pytest.mark.parametrize("command", ["info", "check", "build", "hash", "traps"])
def test_every_command_has_help(command: str) -> None:
    r = runner.invoke(app, ["world", command, "--help"])
    assert r.exit_code == 0
    assert "--seed" in r.output and "--scale" in r.output
    assert len(r.output) > 200


def test_traps_json(tiny_snapshot) -> None:  # noqa: ANN001
    r = _invoke("traps", "--scale", "tiny", "--json")
    assert r.exit_code == 0, r.output
    ex = json.loads(r.output)
    assert any(k.startswith("brand VortexLabs") for k in ex)


def test_check_a_task_world_scoped_and_full() -> None:
    task = "queue_triage-01"  # its setup opens three tickets for three customers
    scoped = CliRunner().invoke(app, ["world", "check", "--task", task, "--json"])
    assert scoped.exit_code == 0, scoped.output
    doc = json.loads(scoped.output)
    assert doc["ok"] and doc["task"] == task and len(doc["customers_checked"]) >= 3
    full = CliRunner().invoke(app, ["world", "check", "--task", task, "--full", "--json"])
    whole = json.loads(full.output)
    assert whole["ok"] and whole["customers_checked"] is None
    # The full check reads every customer's rows; the scoped one only the touched customers'.
    assert whole["invariants"]["default_address"]["checked"] > doc["invariants"]["default_address"]["checked"]
    table = CliRunner().invoke(app, ["world", "check", "--task", task], terminal_width=100)
    assert "customer(s) touched by its setup" in table.output and "OK" in table.output


def test_check_an_unknown_task_says_how_to_find_one() -> None:
    result = CliRunner().invoke(app, ["world", "check", "--task", "nope-01"])
    assert result.exit_code == 2
    assert "--task: unknown task 'nope-01'" in result.output and "tasks list" in result.output
