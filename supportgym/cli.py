"""The ``supportgym`` command. Each package contributes its own commands; heavy imports happen
inside the commands so that ``--help`` stays instant."""

from __future__ import annotations

from pathlib import Path

import typer

from supportgym.env.debugger import register as register_debugger_commands
from supportgym.env.docker_cli import bench_docker, pool_app
from supportgym.rubrics.cli import rubrics_app
from supportgym.rubrics.eval import eval_command
from supportgym.tasks.cli import tasks_app
from supportgym.services.cli import register as register_service_commands
from supportgym.world_seed.cli import world_app

app = typer.Typer(
    name="supportgym",
    help="SupportGym: a stateful customer-support world for training and evaluating LLM agents.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(world_app, name="world")
app.add_typer(tasks_app, name="tasks")
app.add_typer(rubrics_app, name="rubrics")
app.command("eval")(eval_command)
app.add_typer(pool_app, name="pool")
register_service_commands(app)
register_debugger_commands(app)

bench_app = typer.Typer(help="Benchmarks: print measured figures (no pass/fail).", no_args_is_help=True)
app.add_typer(bench_app, name="bench")

from supportgym.bench_all import bench_all  # noqa: E402
from supportgym.env.bench import bench_env  # noqa: E402
from supportgym.rubrics.bench import bench_grading  # noqa: E402
from supportgym.services.bench import tool_latency_rows  # noqa: E402
from supportgym.world_seed.bench import bench_world, register_rows  # noqa: E402

bench_app.command("world")(bench_world)
register_rows(tool_latency_rows)
bench_app.command("env")(bench_env)
bench_app.command("grading")(bench_grading)
bench_app.command("all")(bench_all)
bench_app.command("docker")(bench_docker)


@app.command("demo")
def demo(
    out: Path = typer.Option(
        Path("artifacts/demo-grades.json"), "--out", help="Where to write every episode's grade."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the eval summary as JSON."),
) -> None:
    """The main job on the embedded default: build (or load) the default world, show what it
    holds, then run the reference agent on every task and grade it. No server, no model."""
    from supportgym.world_seed.cli import info

    if not as_json:
        info(seed=7, scale="default", json_out=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    eval_command(agent="reference", task=None, out=out, as_json=as_json, alpha=None, beta=None)


if __name__ == "__main__":
    app()
