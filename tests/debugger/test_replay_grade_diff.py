"""``replay``, ``grade`` and ``diff`` on real task trajectories, through the Typer commands."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from supportgym.env.debugger import register
from supportgym.env.debugger.diff import diff_trajectories
from supportgym.env.debugger.replay import replay_trajectory
from supportgym.trajectory import read_jsonl, write_jsonl

app = typer.Typer()
register(app)
runner = CliRunner()


def test_replay_of_a_reference_trajectory_matches_every_step(reference_file: Path) -> None:
    t = list(read_jsonl(reference_file))[0]
    result = replay_trajectory(t)
    try:
        assert result.matched
        assert len(result.steps) == len(t.steps) and all(s.match for s in result.steps)
        assert result.grade.reward == t.reward
    finally:
        result.episode.close()
    out = runner.invoke(app, ["replay", str(reference_file)])
    assert out.exit_code == 0, out.output
    assert f"All {len(t.steps)} replayed steps match" in out.output
    assert "reward" in out.output


def test_replay_shows_the_divergence_of_an_edited_trajectory(reference_file: Path, tmp_path: Path) -> None:
    t = list(read_jsonl(reference_file))[0]
    edited = t.model_copy(deep=True)
    # Edit what the world answered at step 2: the replay must disagree there and only there.
    edited.steps[1].result = {**edited.steps[1].result, "tampered": True}
    path = tmp_path / "edited.jsonl"
    write_jsonl(path, [edited])
    out = runner.invoke(app, ["replay", str(path), "--json"])
    assert out.exit_code == 1
    body = json.loads(out.output)
    assert body["matched"] is False
    assert body["first_divergence"]["step"] == 2
    assert "tampered" in body["first_divergence"]["difference"]
    assert [s["match"] for s in body["steps"]].count(False) == 1
    table = runner.invoke(app, ["replay", str(path)])
    assert table.exit_code == 1 and "first at step 2" in table.output


def test_replay_until_stops_early_and_grades_the_partial_episode(reference_file: Path) -> None:
    out = runner.invoke(app, ["replay", str(reference_file), "--until", "2", "--json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert body["replayed_steps"] == 2 and body["status"] == "running"
    assert body["grade"] is not None and body["reward"] is not None


def test_grade_writes_json(reference_file: Path, tmp_path: Path) -> None:
    t = list(read_jsonl(reference_file))[0]
    target = tmp_path / "grade.json"
    out = runner.invoke(app, ["grade", str(reference_file), "--out", str(target), "--no-judge"])
    assert out.exit_code == 0, out.output
    assert "reward" in out.output
    written = json.loads(target.read_text())
    assert written[0]["reward"] == t.reward and written[0]["task_id"] == t.task_id
    assert written[0]["grade"]["criteria"]
    one = runner.invoke(app, ["grade", str(reference_file), "--index", "0", "--json", "--no-judge"])
    assert json.loads(one.output)["reward"] == t.reward


def test_diff_reference_vs_wrong(reference_file: Path, wrong_file: Path) -> None:
    a = list(read_jsonl(reference_file))[0]
    b = list(read_jsonl(wrong_file))[0]
    d = diff_trajectories(a, b)
    assert d.divergence_step is not None
    assert d.call_a != d.call_b
    assert d.criteria, "a wrong solution should be scored differently on some criterion"
    assert all(c["a"] != c["b"] for c in d.criteria)
    out = runner.invoke(app, ["diff", str(reference_file), str(wrong_file)])
    assert out.exit_code == 0, out.output
    assert f"First divergence at step {d.divergence_step}" in out.output
    assert f"{len(d.criteria)} criteria scored differently" in out.output
    as_json = json.loads(runner.invoke(app, ["diff", str(reference_file), str(wrong_file), "--json"]).output)
    assert [c["id"] for c in as_json["criteria"]] == [c["id"] for c in d.criteria]
    same = runner.invoke(app, ["diff", str(reference_file), str(reference_file), "--json"])
    body = json.loads(same.output)
    assert body["divergence_step"] is None and body["criteria"] == []


def test_bare_world_trajectory_replays(tmp_path: Path) -> None:
    from supportgym.services.episode import Episode, EpisodeConfig

    e = Episode(EpisodeConfig(seed=7, scale="tiny"))
    try:
        e.step("get_current_time", {})
        e.step("search_orders", {"page_size": 2})
        t = e.to_trajectory(agent="human")
    finally:
        e.close()
    path = tmp_path / "bare.jsonl"
    write_jsonl(path, [t])
    out = runner.invoke(app, ["replay", str(path)])
    assert out.exit_code == 0, out.output
    assert "bare world has no rubric" in out.output
