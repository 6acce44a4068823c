"""`supportgym tasks stats --model`: runs a real model (SmolLM2-135M on llama.cpp) k times per
task and reports its pass rate and pass^k beside the task set's shape. Never its quality."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supportgym.cli.app import app

pytestmark = [pytest.mark.llm, pytest.mark.slow]


def test_model_run_reports_pass_hat_k(llm_server, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["tasks", "stats", "--json", "--model", llm_server.model, "--base-url", llm_server.base_url]
    args += ["--task", "brand_mismatch_search-01", "--k", "2", "--max-steps", "2", "--max-tokens", "48"]
    result = CliRunner().invoke(app, [*args, "--concurrency", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    diff = json.loads(result.output[result.output.index("{") :])["difficulty"]
    assert diff["k"] == 2 and diff["episodes"] == 2
    fam = diff["families"]["brand_mismatch_search"]
    assert fam["episodes"] == 2
    # With a 4,096-token context the full tool list does not fit: the endpoint refuses and the
    # episodes count as errors, never as failures or passes. With a larger context they are graded.
    if fam["infra_errors"] == 2:
        assert fam["pass_rate"] is None and fam["pass_hat_k"] is None
    else:
        assert 0.0 <= fam["pass_hat_k"] <= fam["pass_rate"] <= 1.0
    # The run is kept, so the same figures can be read again without the model.
    again = CliRunner().invoke(app, ["tasks", "stats", "--json", "--run", str(out)])
    assert json.loads(again.output)["difficulty"]["total"] == diff["total"]
    assert (out / "trajectories.jsonl").read_text().count("\n") == 2
