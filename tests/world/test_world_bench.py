from __future__ import annotations

import importlib
import json

from typer.testing import CliRunner

from supportgym.bench import world as bench
from supportgym.cli.app import app


def test_world_rows_measure_something() -> None:
    rows, snap = bench.world_rows(scale="tiny", seed=7, samples=20)
    by = {r.figure: r for r in rows}
    assert by["build tiny world from scratch (no cache)"].value > 0
    p50 = by["restore fresh copy + first query, p50"]
    p99 = by["restore fresh copy + first query, p99"]
    assert p50.n == 20 and 0 < p50.value <= p99.value
    assert abs(by["tiny world image size"].value - len(snap.image) / 1e6) < 1e-9


def test_bench_cli_json_includes_registered_rows(monkeypatch) -> None:  # noqa: ANN001
    # The bench command registers its own providers when first imported: import it before
    # emptying the list, so that only this test's provider is left whatever ran before.
    importlib.import_module("supportgym.cli.bench")
    monkeypatch.setattr(bench, "_PROVIDERS", [])

    @bench.register_rows
    def extra(ctx: bench.BenchContext) -> list[bench.BenchRow]:
        return [bench.BenchRow("tool call latency, p50", 1.5, "ms", ctx.snapshot.counts["orders"])]

    r = CliRunner().invoke(app, ["bench", "world", "--scale", "tiny", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    figures = [row["figure"] for row in rows]
    assert "restore fresh copy + first query, p99" in figures
    assert rows[-1] == {"figure": "tool call latency, p50", "value": 1.5, "unit": "ms", "n": 200}
    restore = [row for row in rows if row["figure"].startswith("restore")]
    assert all(row["n"] == 200 for row in restore)


def test_bench_cli_table() -> None:
    r = CliRunner().invoke(app, ["bench", "world", "--scale", "tiny"])
    assert r.exit_code == 0, r.output
    assert "image size" in r.output and "MB" in r.output
