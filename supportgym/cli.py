"""The ``supportgym`` command. Each package contributes its own commands; heavy imports happen
inside the commands so that ``--help`` stays instant."""

from __future__ import annotations

import typer

from supportgym.env.debugger import register as register_debugger_commands
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
register_service_commands(app)
register_debugger_commands(app)

bench_app = typer.Typer(help="Benchmarks: print measured figures (no pass/fail).", no_args_is_help=True)
app.add_typer(bench_app, name="bench")

from supportgym.env.bench import bench_env  # noqa: E402
from supportgym.rubrics.bench import bench_grading  # noqa: E402
from supportgym.world_seed.bench import bench_world  # noqa: E402

bench_app.command("world")(bench_world)
bench_app.command("env")(bench_env)
bench_app.command("grading")(bench_grading)


if __name__ == "__main__":
    app()
