"""`supportgym tasks new` scaffolds a family that validates and proves as written;
`supportgym tasks stats` measures the task set."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supportgym.cli.app import app
from supportgym.tasks import clear_caches, list_tasks, load_task_set
from supportgym.tasks.loader import RUBRICS_DIR_ENV, TASKS_DIR_ENV
from supportgym.tasks.proof import prove_task


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    tdir, rdir = tmp_path / "tasks", tmp_path / "rubrics"
    monkeypatch.setenv(TASKS_DIR_ENV, str(tdir))
    monkeypatch.setenv(RUBRICS_DIR_ENV, str(rdir))
    clear_caches()
    yield tdir, rdir
    clear_caches()


def test_new_family_scaffold_validates_and_proves(workdir: tuple[Path, Path]) -> None:
    tdir, rdir = workdir
    runner = CliRunner()
    made = runner.invoke(app, ["tasks", "new", "order_whereabouts"])
    assert made.exit_code == 0, made.output
    assert (tdir / "order_whereabouts.yaml").exists() and (rdir / "order_whereabouts.yaml").exists()
    assert "__FAMILY__" not in (tdir / "order_whereabouts.yaml").read_text()
    tasks = load_task_set(tdir, rdir, prepare=True)
    assert sorted(tasks) == ["order_whereabouts-01", "order_whereabouts-02"]
    assert prove_task("order_whereabouts-01", audit=True) == []
    again = runner.invoke(app, ["tasks", "new", "order_whereabouts"])
    assert again.exit_code == 2 and "not overwriting" in again.output
    bad = runner.invoke(app, ["tasks", "new", "Bad-Name"])
    assert bad.exit_code == 2 and "lowercase" in bad.output


def test_stats_json_counts_the_task_set() -> None:
    result = CliRunner().invoke(app, ["tasks", "stats", "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    tasks = list_tasks()
    assert stats["total"]["tasks"] == len(tasks)
    assert sum(f["tasks"] for f in stats["families"]) == len(tasks)
    assert len(stats["families"]) == len({t.family for t in tasks})
    assert sum(stats["total"]["by_type"].values()) == sum(len(t.criteria) for t in tasks)
    assert 1 <= stats["total"]["write_sequences"] <= len(tasks)
    assert {lv["group"] for lv in stats["levels"]} <= {
        "tool_use",
        "planning",
        "adaptability",
        "groundedness",
        "common_sense",
    }
