"""The reward audit: green on the shipped tasks (one task per family here; CI runs all of them
with `supportgym rubrics audit`), and red when a rubric is weakened."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supportgym.cli.app import app
from supportgym.tasks import clear_caches, list_tasks
from supportgym.tasks.audit import BAD_KINDS, POLICIES, run_audit
from supportgym.tasks.loader import RUBRICS_DIR, TASKS_DIR


def test_audit_is_green_on_one_task_of_each_family() -> None:
    firsts = sorted({t.family: t.id for t in reversed(list_tasks())}.values())
    report = run_audit(firsts)
    assert report.ok, report.violations
    by_name = {s.policy: s for s in report.policies}
    for p in POLICIES:
        s = by_name[p.name]
        if p.kind in BAD_KINDS and s.tasks:
            assert s.max is not None and s.max < 0.5, (p.name, s.worst)
        if p.kind == "useless":
            assert s.perfect == 0 and s.mean is not None and s.mean <= 0.6
    # Every collateral policy applied somewhere, and the wrong trajectories were all graded.
    assert all(by_name[p.name].tasks > 0 for p in POLICIES if p.name.startswith("collateral_"))
    assert report.wrong.tasks >= len(firsts)


def test_audit_turns_red_when_a_rubric_pays_for_a_useless_reply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks, rubrics = tmp_path / "tasks", tmp_path / "rubrics"
    shutil.copytree(TASKS_DIR, tasks)
    shutil.copytree(RUBRICS_DIR, rubrics)
    rubric = rubrics / "refund_within_window.yaml"
    text = rubric.read_text()
    # Weaken it: all the weight on the actions, none on what the customer is told.
    rubric.write_text(
        text.replace(
            "family: refund_within_window\n",
            "family: refund_within_window\nsplit: {action: 1.0, communication: 0.0, format: 0.0}\n",
            1,
        )
    )
    monkeypatch.setenv("SUPPORTGYM_TASKS_DIR", str(tasks))
    monkeypatch.setenv("SUPPORTGYM_RUBRICS_DIR", str(rubrics))
    clear_caches()
    try:
        report = run_audit(["refund_within_window-01"], policies=["useless_reply_dot"])
        assert not report.ok
        (summary,) = report.policies
        assert summary.max is not None and summary.max >= 1.0  # the weakened rubric pays in full
        assert any(v.startswith("useless_reply_dot: mean") for v in report.violations), report.violations
    finally:
        monkeypatch.undo()
        clear_caches()


def test_audit_cli_json_for_one_task() -> None:
    result = CliRunner().invoke(
        app, ["rubrics", "audit", "--task", "duplicate_charge-01", "--policy", "false_claim", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{") :])
    assert data["ok"] is True and data["tasks"] == 1
    (summary,) = data["policies"]
    assert summary["policy"] == "false_claim" and summary["max"] == 0.0
    bad = CliRunner().invoke(app, ["rubrics", "audit", "--policy", "no_such_policy"])
    assert bad.exit_code != 0 and "unknown policy" in bad.output
