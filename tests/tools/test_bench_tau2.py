"""``bench tau2`` without τ²-bench says what is missing and exits 2 (nothing runs)."""

from __future__ import annotations

from typer.testing import CliRunner

from supportgym.cli.app import app


def test_bench_tau2_without_tau2_bench_names_what_is_missing(monkeypatch):
    monkeypatch.delenv("SUPPORTGYM_TAU2_PYTHON", raising=False)
    monkeypatch.delenv("TAU2_DATA_DIR", raising=False)
    result = CliRunner().invoke(app, ["bench", "tau2", "--tau2-python", "", "--tau2-data", ""])
    assert result.exit_code == 2
    assert "--tau2-python" in result.output and "--tau2-data" in result.output
