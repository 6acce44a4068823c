"""``supportgym report`` / ``eval --report``: figures computed from real graded episodes, and the
HTML opened in headless Chromium with every plot rendered."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="matplotlib is not installed: pip install 'supportgym[report]'")

from supportgym.env.report_data import load_run, pass_hat_k, summarise_run
from supportgym.tasks import get_task, run_solution
from tests.parts import require_part

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
PLOTS = ("reward-distribution", "per-family", "per-level", "pass-k", "criteria-heatmap", "latency")
TASKS = ["refund_within_window-01", "partial_return-03", "escalation_above_limit-02", "duplicate_charge-01"]


@pytest.fixture(scope="module")
def run_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of k=2 attempts per task: the reference, then the task's first wrong trajectory."""
    episodes = []
    for task_id in TASKS:
        task = get_task(task_id)
        for attempt, which in enumerate(["reference", task.wrong[0].name]):
            ep, grade = run_solution(task_id, which)
            episodes.append(
                {
                    "task_id": task_id,
                    "attempt": attempt,
                    "reward": grade.reward,
                    "perfect": grade.perfect,
                    "grade": grade.model_dump(mode="json"),
                    "tokens_in": 100 * (attempt + 1),
                    "tokens_out": 10,
                    "elapsed_s": 0.01 * (attempt + 1),
                }
            )
            ep.close()
    path = tmp_path_factory.mktemp("run") / "run.json"
    path.write_text(json.dumps({"summary": {}, "episodes": episodes}))
    return path


def test_pass_hat_k_is_the_without_replacement_estimate() -> None:
    assert pass_hat_k(2, 2, 2) == 1.0
    assert pass_hat_k(1, 2, 1) == 0.5 and pass_hat_k(1, 2, 2) == 0.0
    assert pass_hat_k(3, 4, 2) == pytest.approx(3 / 6)
    assert pass_hat_k(1, 1, 2) is None


def test_figures_follow_the_episodes(run_file: Path) -> None:
    records = load_run(run_file)
    s = summarise_run(records, price_in=2.0, price_out=10.0)
    assert s["k"] == 2
    perfect = [r.perfect for r in records]
    assert s["overall"]["perfect_rate"] == pytest.approx(sum(perfect) / len(perfect))
    assert s["overall"]["mean_reward"] == pytest.approx(sum(r.reward for r in records) / len(records))
    # Each task: reference perfect, wrong not, so pass^1 = 1/2 and pass^2 = 0.
    assert s["overall"]["pass_hat_k"] == {"1": pytest.approx(0.5), "2": 0.0}
    unmet = sum(1 for r in records for c in r.criteria if c["verdict"] == "unmet")
    assert unmet > 0 and s["most_failed"], "wrong trajectories fail criteria"
    top = s["most_failed"][0]
    assert top["rate"] == max(c["rate"] for c in s["most_failed"])
    assert s["heatmap"]["rates"][top["family"]][top["criterion"]] == pytest.approx(top["rate"])
    assert set(s["by_family"]) == {get_task(t).family for t in TASKS}
    assert s["cost"]["dollars"] == pytest.approx((1200 * 2.0 + 80 * 10.0) / 1e6)
    assert math.isclose(s["latency"]["episode_s_p50"], 0.01)


def test_report_cli_json_and_bad_input(run_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    cmd = [sys.executable, "-m", "supportgym.cli.app", "report", str(run_file), "--out", str(out), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["overall"]["episodes"] == 2 * len(TASKS) and out.stat().st_size > 10_000
    bad = tmp_path / "bad.json"
    bad.write_text('{"episodes": 3}')
    done = subprocess.run([*cmd[:4], str(bad)], capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert done.returncode == 2 and "'episodes' list" in done.stderr


@pytest.mark.slow
def test_report_renders_every_plot_in_chromium(run_file: Path, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install playwright")
    require_part("chromium")  # tests never install a part: a missing one skips (fast tier) or fails, named
    from supportgym.env.report_html import write_report

    out = tmp_path / "report.html"
    write_report(load_run(run_file), out, title="browser test")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(out.as_uri())
            shown = page.eval_on_selector_all(
                "figure.plot",
                """figs => figs.map(f => {
                const svg = f.querySelector('svg'); const box = svg ? svg.getBoundingClientRect() : null;
                return {name: f.dataset.plot, width: box ? box.width : 0, height: box ? box.height : 0,
                        marks: svg ? svg.querySelectorAll('path, rect, use, image').length : 0};
            })""",
            )
            shots = ROOT / "artifacts" / "screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "report.png"), full_page=True)
        finally:
            browser.close()
    assert [s["name"] for s in shown] == list(PLOTS)
    for s in shown:
        assert s["width"] > 200 and s["height"] > 100, s
        assert s["marks"] > 5, s
    assert requests == [out.as_uri()], "the report loads nothing but itself"


def test_eval_report_writes_the_page_from_the_run(tmp_path: Path) -> None:
    report = tmp_path / "eval.html"
    cmd = [
        sys.executable,
        "-m",
        "supportgym.cli.app",
        "eval",
        "--task",
        TASKS[0],
        "--task",
        TASKS[1],
        "--report",
        str(report),
        "--json",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["tasks"] == 2
    page = report.read_text()
    assert all(f'data-plot="{name}"' in page for name in PLOTS)
    assert "2 episodes of 2 tasks" in page


def test_gates_tripped_are_counted_per_family_and_gate(tmp_path: Path) -> None:
    # A grader with reward gates lists the critical criteria an episode failed in gates_failed.
    rows = [
        {
            "task_id": TASKS[0],
            "attempt": a,
            "reward": 0.0,
            "perfect": False,
            "grade": {"criteria": [], "gates_failed": [{"id": "no-collateral", "text": "t", "evidence": "e"}]},
        }
        for a in range(2)
    ]
    rows.append({"task_id": TASKS[1], "reward": 1.0, "perfect": True, "grade": {"criteria": [], "gates_failed": []}})
    path = tmp_path / "gated.json"
    path.write_text(json.dumps({"episodes": rows}))
    s = summarise_run(load_run(path))
    assert s["gates_tripped"] == {f"{get_task(TASKS[0]).family}/no-collateral": 2}
