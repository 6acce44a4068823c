"""The supportgym-verifiers plugin (verifiers 0.4) in the ``verifiers-venv`` part's Python:
its pieces without a model, and ``vf-eval`` end to end against the local LLM server, whose
recorded rewards must equal SupportGym's own grade of the same trajectories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from supportgym.cli.parts import verifiers_python
from tests.parts import require_part

CHECKS = Path(__file__).with_name("verifiers_checks.py")
# A handful of dev tasks, and the tools a 4k-token context holds (submit_response is added).
E2E_TASKS = ("address_change_before_shipment-01", "refund_within_window-01", "address_hold_note-01")
E2E_TOOLS = ("get_ticket", "get_order")


def run_checks(*args: str, timeout: float = 600) -> object:
    done = subprocess.run(
        [str(verifiers_python()), str(CHECKS), *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_plugin_pieces_and_the_reference_reward_through_the_toolset() -> None:
    require_part("verifiers-venv")
    out = run_checks("pieces")
    assert isinstance(out, dict)
    assert out["dev_ids"] == out["dev_expected"] and len(out["dev_ids"]) > 0
    assert out["prompts_are_instructions"] and out["keys_unique"]
    assert out["heldout_count"] > 0
    assert "unknown split 'nope'" in out["bad_split"] and "heldout-families" in out["bad_split"]
    assert out["tool_names"] == out["schema_names"]
    assert out["small_tools"] == ["get_ticket", "submit_response"]
    assert out["compact_has_pattern"] is False
    assert out["bad_tool"].startswith("tools: unknown steal_data")
    for task_id, ref in out["reference"].items():
        # The reference driven through setup -> toolset -> finalize earns what it earns in process.
        assert ref["plugin"]["reward"] == pytest.approx(ref["in_process"]["reward"]), task_id
        assert ref["plugin"]["metrics"] == pytest.approx(ref["in_process"]["metrics"]), task_id
        assert ref["plugin"]["reward"] > 1.0, task_id  # a perfect reference: 1 + alpha
        assert ref["plugin"]["stop_fired"] is True and ref["plugin"]["errors"] == 0
        assert any(k.startswith("gate_") and k != "gates_tripped" for k in ref["plugin"]["metrics"])
    unsubmitted = out["unsubmitted"]
    assert unsubmitted["reward"] == 0.0 and unsubmitted["stop_fired"] is False and unsubmitted["errors"] == 1


@pytest.mark.slow
def test_vf_eval_rewards_equal_supportgyms_grade_of_the_same_trajectories(llm_server, tmp_path: Path) -> None:
    require_part("verifiers-venv")
    bindir = verifiers_python().parent
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}", "LOCAL_LLM_KEY": "none"}
    max_steps = 4
    cmd = [
        str(bindir / "vf-eval"),
        "supportgym-verifiers",
        "-m",
        llm_server.model,
        "--client.base-url",
        llm_server.base_url,
        "--client.api-key-var",
        "LOCAL_LLM_KEY",
        "--env.agent.harness.id",
        "null",
        "--env.agent.runtime.type",
        "subprocess",
        "--no-push",
        "-c",
        "1",  # llama.cpp's server serves one stream at a time
        "--env.agent.max-turns",
        "2",
        "--sampling.max-tokens",
        "48",
        "--sampling.temperature",
        "0",
        "--env.taskset.task.max-steps",
        str(max_steps),
        "--env.taskset.tools.compact",
        "True",
        "-o",
        str(tmp_path / "runs"),
        "--env.taskset.task-ids",
        *E2E_TASKS,
        "--env.taskset.tools.tools",
        *E2E_TOOLS,
    ]
    t0 = time.monotonic()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, check=False, cwd=tmp_path)
    elapsed = time.monotonic() - t0
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    (traces,) = list((tmp_path / "runs").glob("*/traces.jsonl"))
    rows = run_checks("regrade", str(traces), str(max_steps))
    assert isinstance(rows, list)
    assert sorted(r["task_id"] for r in rows) == sorted(E2E_TASKS)
    for row in rows:
        assert row["ok"] and not row["errors"], row
        assert row["recorded"]["reward"] == pytest.approx(row["regraded"]["reward"]), row
        assert row["recorded"]["metrics"] == pytest.approx(row["regraded"]["metrics"]), row
    summary = ", ".join(f"{r['task_id']} {r['recorded']['reward']} ({r['calls']} calls)" for r in rows)
    print(f"\nvf-eval: {len(rows)} tasks in {elapsed:.0f} s: {summary}", file=sys.stderr)
