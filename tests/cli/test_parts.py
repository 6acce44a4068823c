"""Heavy parts: the probes, the CLI, and what a test does when its part is missing (fail naming
it; skip naming it only in the fast tier; always fail in CI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supportgym.cli.app import app
from supportgym.cli.parts import PARTS, select

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

NEEDS_MODEL = """
from tests.parts import require_part

def test_needs_the_model():
    require_part("model")
"""


def _run_needing_a_missing_part(tmp_path: Path, **env: str) -> str:
    test_file = tmp_path / "test_needs_model.py"
    test_file.write_text(NEEDS_MODEL, encoding="utf-8")
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CI", "SUPPORTGYM_REQUIRE_PARTS", "SUPPORTGYM_REQUIRE_LLM", "SUPPORTGYM_TIER")
    }
    # An empty cache: the model part is missing there.
    clean.update(SUPPORTGYM_CACHE=str(tmp_path / "empty-cache"), **env)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", str(test_file)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=clean,
        timeout=120,
        check=False,
    )
    return run.stdout


def test_missing_part_fails_naming_it_in_the_full_suite(tmp_path: Path) -> None:
    out = _run_needing_a_missing_part(tmp_path)
    assert "1 failed" in out
    assert "part 'model' is missing" in out and "supportgym parts --only model" in out


def test_missing_part_skips_naming_it_in_the_fast_tier(tmp_path: Path) -> None:
    out = _run_needing_a_missing_part(tmp_path, SUPPORTGYM_TIER="fast")
    assert "1 skipped" in out and "part 'model' is missing" in out


@pytest.mark.parametrize("ci", [{"CI": "true"}, {"SUPPORTGYM_REQUIRE_PARTS": "1"}])
def test_missing_part_fails_in_ci_even_in_the_fast_tier(tmp_path: Path, ci: dict[str, str]) -> None:
    out = _run_needing_a_missing_part(tmp_path, SUPPORTGYM_TIER="fast", **ci)
    assert "1 failed" in out and "part 'model' is missing" in out


def test_select_adds_what_a_part_needs_in_build_order() -> None:
    assert [p.name for p in select(["base-image"])] == ["docker", "base-image"]
    assert [p.name for p in select(None)] == list(PARTS)


def test_unknown_part_is_a_usage_error_listing_the_parts() -> None:
    result = runner.invoke(app, ["parts", "--only", "gpu"])
    assert result.exit_code == 2
    assert "unknown part 'gpu'" in result.output and "llm-server" in result.output


def test_check_reports_every_part_and_builds_nothing(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["parts", "--check", "--json", "--only", "model"], env={"SUPPORTGYM_CACHE": str(tmp_path)}
    )
    assert result.exit_code == 1  # missing
    report = json.loads(result.stdout)
    assert report["parts"] == [
        {
            "name": "model",
            "status": "missing",
            "seconds": 0.0,
            "detail": f"no model file at {tmp_path}/models/SmolLM2-135M-Instruct.Q4_1.gguf",
        }
    ]
    assert not (tmp_path / "models").exists()
