"""``supportgym export``: a split of the task set as JSONL rows (no RL library needed)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from supportgym.cli.app import app
from supportgym.tasks.splits import load_split


def test_export_writes_the_task_sets_split(tmp_path: Path) -> None:
    out = tmp_path / "dev.jsonl"
    res = CliRunner().invoke(app, ["export", "--format", "skyrl", "--split", "dev", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert summary["rows"] == len(rows) == len(load_split("dev"))
    assert [r["extra_info"]["task_id"] for r in rows] == load_split("dev")


def test_an_unknown_split_names_the_allowed_ones_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "x.jsonl"
    res = CliRunner().invoke(app, ["export", "--split", "validation", "--out", str(out)])
    assert res.exit_code == 2
    assert "dev, test, heldout-families, train, all" in res.output
    assert not out.exists()
