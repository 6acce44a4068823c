"""The ``supportgym`` command. Each package contributes its own commands; heavy imports happen
inside the commands so that ``--help`` stays instant."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

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
judge_app = typer.Typer(help="The LLM judge: calibration against program checks.", no_args_is_help=True)
app.add_typer(judge_app, name="judge")
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


@app.command("eval")
def eval_(
    agent: str = typer.Option("reference", "--agent", help="reference (scripted solutions) or llm."),
    task: Optional[list[str]] = typer.Option(
        None, "--task", help="Task ids (or, for llm, families); repeatable. Default: every task."
    ),
    out: Optional[Path] = typer.Option(
        None, "--out", help="reference: JSON of every grade; llm: a directory for JSONL + summary."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    alpha: Optional[float] = typer.Option(None, help="Weight of extra credit."),
    beta: Optional[float] = typer.Option(None, help="Weight of dodged-bullet penalties."),
    model: str = typer.Option("", help="llm: model name (or SUPPORTGYM_LLM_MODEL)."),
    base_url: str = typer.Option("", help="llm: OpenAI-compatible base URL (or SUPPORTGYM_LLM_BASE_URL)."),
    api_key: str = typer.Option("", help="llm: API key (or SUPPORTGYM_LLM_API_KEY)."),
    k: int = typer.Option(1, help="llm: attempts per task (for pass^k)."),
    concurrency: int = typer.Option(4, help="llm: episodes run at once."),
    max_tokens: int = typer.Option(1024, help="llm: token limit per model turn."),
    temperature: float = typer.Option(0.0, help="llm: sampling temperature."),
    seed: Optional[int] = typer.Option(None, help="llm: sampling seed, where the endpoint allows."),
    max_steps: Optional[int] = typer.Option(None, help="llm: step budget override."),
    tool_choice: str = typer.Option("auto", help="llm: auto, required or none."),
) -> None:
    """Run an agent on tasks as real episodes, grade them, and print reward, perfect-task rate
    and pass rates per category, type and hierarchy level (llm: also pass^k and tokens)."""
    if agent == "llm":
        from supportgym.env.llm_agent import eval_llm

        eval_llm(
            model=model, base_url=base_url, api_key=api_key, tasks=",".join(task or []), k=k,
            concurrency=concurrency, max_tokens=max_tokens, temperature=temperature, seed=seed,
            max_steps=max_steps, tool_choice=tool_choice,
            out=str(out) if out else "runs/llm-eval", as_json=as_json,
        )
        return
    eval_command(agent=agent, task=task, out=out, as_json=as_json, alpha=alpha, beta=beta)


@judge_app.command("calibrate")
def judge_calibrate_command(
    tasks: str = typer.Option("", "--tasks", help="Comma-separated task ids or families (default: all)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    out: str = typer.Option("", "--out", help="Also write the JSON report here."),
    solutions: str = typer.Option("all", help="all (reference and wrong) or reference."),
    judge_model: str = typer.Option("", help="Judge model (or SUPPORTGYM_JUDGE_MODEL)."),
    judge_base_url: str = typer.Option("", help="Judge base URL (or SUPPORTGYM_JUDGE_BASE_URL)."),
    judge_api_key: str = typer.Option("", help="Judge API key (or SUPPORTGYM_JUDGE_API_KEY)."),
    samples: int = typer.Option(1, help="Samples per criterion (majority vote)."),
    criteria_per_call: int = typer.Option(1, help="Criteria judged per request."),
    max_concurrency: int = typer.Option(4, help="Requests in flight at most."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Ignore the on-disk verdict cache."),
    flips: bool = typer.Option(True, "--flips/--no-flips", help="Also run the flip tests (corrupted replies)."),
) -> None:
    """Agreement of the LLM judge with program checks (accuracy, Cohen's kappa, confusion
    counts) per criterion, category and overall, over reference and wrong solutions; then flip
    tests: the flip rate per corruption and criterion when each reference reply is corrupted."""
    from supportgym.rubrics.calibrate import judge_calibrate

    judge_calibrate(
        tasks=tasks, as_json=as_json, out=out, solutions=solutions, judge_model=judge_model,
        judge_base_url=judge_base_url, judge_api_key=judge_api_key, samples=samples,
        criteria_per_call=criteria_per_call, max_concurrency=max_concurrency, no_cache=no_cache, flips=flips,
    )


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
