"""``supportgym bench``: the benchmark commands, wired together.

Loaded only when ``supportgym bench ...`` runs: the benchmark modules import the whole stack
(tools, environment, grading), which ``supportgym --help`` must not pay for.
"""

from __future__ import annotations

import typer

from supportgym.bench.all import bench_all
from supportgym.bench.env import bench_env
from supportgym.bench.grading import bench_claims, bench_grading
from supportgym.bench.http_workers import bench_service
from supportgym.bench.llm import bench_llm
from supportgym.bench.service import tool_latency_rows
from supportgym.bench.tau2 import bench_tau2
from supportgym.bench.world import bench_world, register_rows
from supportgym.cli.pool import bench_docker

bench_app = typer.Typer(help="Benchmarks: print measured figures (no pass/fail).", no_args_is_help=True)
bench_app.command("world")(bench_world)
bench_app.command("tau2")(bench_tau2)
register_rows(tool_latency_rows)
bench_app.command("env")(bench_env)
bench_app.command("service")(bench_service)
bench_app.command("grading")(bench_grading)
bench_app.command("claims")(bench_claims)
bench_app.command("llm")(bench_llm)
bench_app.command("all")(bench_all)
bench_app.command("docker")(bench_docker)
