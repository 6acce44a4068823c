"""`supportgym tasks stats --run/--model`: the task set's shape plus the pass rate and pass^k an
agent reached on it, per family and level, so authors can tune difficulty."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supportgym.cli.app import app
from supportgym.tasks import get_task, prepare_task, run_solution

EASY = "refund_within_window-01"
HARD = "queue_triage-01"


def _episode(task_id: str, solution: str, attempt: int) -> dict:
    """One real graded episode, in the shape `supportgym eval --out` writes."""
    episode, grade = run_solution(task_id, solution)
    episode.close()
    task = get_task(task_id)
    return {
        "task_id": task_id,
        "family": task.family,
        "levels": [lv.value for lv in task.levels],
        "attempt": attempt,
        "reward": grade.reward,
        "perfect": grade.perfect,
        "grade": grade.model_dump(mode="json"),
    }


@pytest.fixture(scope="module")
def run_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # EASY: solved both times. HARD: solved once, failed once (its first wrong trajectory).
    wrong = prepare_task(HARD).wrong[0].name
    episodes = [
        _episode(EASY, "reference", 0),
        _episode(EASY, "reference", 1),
        _episode(HARD, "reference", 0),
        _episode(HARD, wrong, 1),
    ]
    path = tmp_path_factory.mktemp("run") / "run.json"
    path.write_text(json.dumps({"summary": {}, "episodes": episodes}))
    return path


def test_run_adds_pass_rate_and_pass_hat_k(run_file: Path) -> None:
    result = CliRunner().invoke(app, ["tasks", "stats", "--run", str(run_file), "--json"])
    assert result.exit_code == 0, result.output
    diff = json.loads(result.output)["difficulty"]
    assert diff["k"] == 2 and diff["episodes"] == 4
    easy, hard = diff["families"]["refund_within_window"], diff["families"]["queue_triage"]
    assert (easy["pass_rate"], easy["pass_hat_k"]) == (1.0, 1.0)
    assert (hard["pass_rate"], hard["pass_hat_k"]) == (0.5, 0.0)
    assert diff["total"]["pass_rate"] == 0.75 and diff["total"]["pass_hat_k"] == 0.5
    # Levels hold the tasks that probe them; a level only HARD probes has HARD's figures.
    only_hard = set(get_task(HARD).levels) - set(get_task(EASY).levels)
    for level in only_hard:
        assert diff["levels"][level.value]["pass_hat_k"] == 0.0


def test_run_table_shows_families_outside_the_run_as_dashes(run_file: Path) -> None:
    result = CliRunner().invoke(app, ["tasks", "stats", "--run", str(run_file)], terminal_width=80)
    assert result.exit_code == 0, result.output
    assert "pass^2" in result.output and "queue_triage" in result.output
    line = next(ln for ln in result.output.splitlines() if "queue_triage" in ln and "0.50" in ln)
    assert "0.00" in line
    assert all(len(ln) <= 80 for ln in result.output.splitlines())


def test_bad_run_arguments_are_explained(tmp_path: Path) -> None:
    missing = CliRunner().invoke(app, ["tasks", "stats", "--run", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "--run" in missing.output and "no such file" in missing.output
    both = CliRunner().invoke(app, ["tasks", "stats", "--run", str(tmp_path), "--model", "m"])
    assert both.exit_code == 2 and "not both" in both.output
