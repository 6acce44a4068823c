"""The ``supportgym`` command.

Each package contributes its own commands, but ``supportgym --help`` must answer at once (a
newcomer's first command), and those packages import SQLAlchemy, gymnasium, MCP and FastAPI. So
the sub-commands are listed here by name, with the one-line help that ``--help`` shows, and
imported only when one of them runs (``LazyCommandGroup``). ``tests/cli`` checks that each line
here matches the loaded command's own help.

Help is printed as plain text, not Rich markup: markup ate bracketed words of the help texts
("Interface to bind [default ...]" printed as "Interface to bind .").
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from typer._click import Command as ClickCommand  # typer carries its own copy of click
    from typer._click import Context as ClickContext
    from typer._click import HelpFormatter

from supportgym.cli.demo import demo
from supportgym.cli.parts_command import parts_command

# What typer turns a command function or a Typer app into.
Command = TyperCommand | TyperGroup


@dataclass(frozen=True)
class LazyCommand:
    target: str  # "module:attribute": a Typer app or a command function
    help: str  # the line ``supportgym --help`` shows without importing ``target``


LAZY_COMMANDS: dict[str, LazyCommand] = {
    "world": LazyCommand(
        "supportgym.cli.world:world_app",
        "Generate and inspect seeded worlds (built once, then served from the disk cache).",
    ),
    "tasks": LazyCommand("supportgym.cli.tasks:tasks_app", "The task set: list, inspect, generate and author tasks."),
    "rubrics": LazyCommand(
        "supportgym.cli.rubrics:rubrics_app",
        "Rubrics: lint the criteria, audit the reward against adversarial policies, measure claims.",
    ),
    "serve": LazyCommand(
        "supportgym.cli.serve:serve", "Run the HTTP service: many isolated episodes, each with its own copy of a world."
    ),
    "tools": LazyCommand(
        "supportgym.cli.serve:tools",
        "List every tool: schemas in OpenAI or MCP format, or a table of names and annotations.",
    ),
    "mcp": LazyCommand(
        "supportgym.cli.mcp:mcp_command",
        "Serve one SupportGym episode over MCP on stdio (the grade is printed to stderr).",
    ),
    "play": LazyCommand(
        "supportgym.env.debugger.play:play",
        "Play a task in the terminal: type tool calls, undo, see changes, submit, see the grade.",
    ),
    "replay": LazyCommand(
        "supportgym.env.debugger.replay:replay",
        "Replay a saved trajectory into a fresh world; show where observations differ; grade it.",
    ),
    "grade": LazyCommand(
        "supportgym.env.debugger.grade_cmd:grade",
        "Grade saved trajectories (program checks; judge if configured); print tables, write JSON.",
    ),
    "diff": LazyCommand(
        "supportgym.env.debugger.diff:diff",
        "Where two rollouts of the same task diverged and which criteria they scored differently.",
    ),
    "pool": LazyCommand(
        "supportgym.cli.pool:pool_app", "Containers of the Docker pool (label org.supportgym.managed=true)."
    ),
    "bench": LazyCommand("supportgym.cli.bench:bench_app", "Benchmarks: print measured figures (no pass/fail)."),
    "report": LazyCommand(
        "supportgym.env.report_html:report_command",
        "An HTML report (plots, failing criteria, gates, cost) of an eval run file.",
    ),
    "export": LazyCommand(
        "supportgym.cli.export:export_command", "Export tasks as a dataset for an RL stack (TRL, SkyRL)."
    ),
}

# The order of ``supportgym --help``: first steps, then the world and tasks, then debugging.
COMMAND_ORDER = (
    "demo",
    "parts",
    "world",
    "tasks",
    "rubrics",
    "eval",
    "report",
    "play",
    "replay",
    "grade",
    "diff",
    "serve",
    "tools",
    "mcp",
    "serve-openenv",
    "export",
    "judge",
    "pool",
    "bench",
)


def plain_help(command: Command) -> Command:
    """Print this command's help (and its sub-commands') as plain text, never as Rich markup."""
    command.rich_markup_mode = None
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            if isinstance(sub, (TyperCommand, TyperGroup)):  # every command typer made
                plain_help(sub)
    return command


def load_command(name: str) -> Command:
    """Import a lazily listed command and turn it into a command named ``name``."""
    module_name, attribute = LAZY_COMMANDS[name].target.split(":")
    target = getattr(importlib.import_module(module_name), attribute)
    if isinstance(target, typer.Typer):
        command: Command = typer.main.get_group(target)
    else:
        holder = typer.Typer(add_completion=False)
        holder.command(name)(target)
        made = typer.main.get_command(holder)
        # typer builds its own command classes; get_command is annotated with click's base class.
        assert isinstance(made, (TyperCommand, TyperGroup))
        command = made
    command.name = name
    return plain_help(command)


class LazyCommandGroup(TyperGroup):
    """A command group whose sub-commands in :data:`LAZY_COMMANDS` are imported on first use."""

    # The hooks take click's Context, as the TyperGroup methods they override do.
    def list_commands(self, ctx: ClickContext) -> list[str]:
        known = set(self.commands) | set(LAZY_COMMANDS)
        return [n for n in COMMAND_ORDER if n in known] + sorted(known - set(COMMAND_ORDER))

    def get_command(self, ctx: ClickContext, cmd_name: str) -> ClickCommand | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: ClickContext, formatter: HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                rows.append((name, self.commands[name].get_short_help_str(limit=200)))
            else:
                rows.append((name, LAZY_COMMANDS[name].help))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    name="supportgym",
    help="SupportGym: a stateful customer-support world for training and evaluating LLM agents. "
    "New here? Run `supportgym demo`, then `supportgym tasks list` and `supportgym play TASK_ID`.",
    no_args_is_help=True,
    add_completion=False,
    cls=LazyCommandGroup,
    rich_markup_mode=None,
)
judge_app = typer.Typer(
    help="The LLM judge: calibration against program checks.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(judge_app, name="judge")
app.command("demo", short_help="Start here: the default world, the reward scale, one task graded, every task run.")(
    demo
)
app.command("parts", short_help="Prepare the heavy parts the end-to-end tests need (LLM server, Docker, Chromium...).")(
    parts_command
)


@app.command("eval", short_help="Run an agent (reference or llm) on tasks, grade every episode, print rewards.")
def eval_(
    agent: str = typer.Option("reference", "--agent", help="reference (scripted solutions) or llm."),
    task: list[str] | None = typer.Option(
        None, "--task", help="Task ids (or, for llm, families); repeatable. Default: every task."
    ),
    split: str | None = typer.Option(
        None,
        "--split",
        help="Every task of a split: dev, test, heldout-families or train "
        "(train: the first 2 proven generated tasks of seed 0 per family). Not with --task.",
    ),
    out: Path | None = typer.Option(
        None, "--out", help="reference: JSON of every grade; llm: a directory for JSONL + summary."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    alpha: float | None = typer.Option(None, help="Weight of extra credit."),
    beta: float | None = typer.Option(None, help="Weight of dodged-bullet penalties."),
    model: str = typer.Option("", help="llm: model name (or SUPPORTGYM_LLM_MODEL)."),
    base_url: str = typer.Option("", help="llm: OpenAI-compatible base URL (or SUPPORTGYM_LLM_BASE_URL)."),
    api_key: str = typer.Option("", help="llm: API key (or SUPPORTGYM_LLM_API_KEY)."),
    k: int = typer.Option(1, help="llm: attempts per task (for pass^k)."),
    concurrency: int = typer.Option(4, help="llm: episodes run at once."),
    max_tokens: int = typer.Option(1024, help="llm: token limit per model turn."),
    temperature: float = typer.Option(0.0, help="llm: sampling temperature."),
    seed: int | None = typer.Option(None, help="llm: sampling seed, where the endpoint allows."),
    max_steps: int | None = typer.Option(None, help="llm: step budget override."),
    tool_choice: str = typer.Option("auto", help="llm: auto, required or none."),
    report: Path | None = typer.Option(
        None, "--report", help="Also write an HTML report here (plots: needs supportgym[report])."
    ),
) -> None:
    """Run an agent on tasks as real episodes, grade them, and print reward, perfect-task rate
    and pass rates per category, type and hierarchy level (llm: also pass^k and tokens)."""
    import tempfile

    from supportgym.env.eval import eval_command
    from supportgym.env.report_html import write_run_report

    if split is not None:
        from supportgym.tasks.splits import SPLITS, load_split

        if task:
            typer.echo("error: give --split or --task, not both", err=True)
            raise typer.Exit(2)
        if split not in SPLITS:
            typer.echo(f"error: unknown split {split!r}; splits: {', '.join(SPLITS)}", err=True)
            raise typer.Exit(2)
        task = load_split(split)
    if agent == "llm":
        from supportgym.env.llm_agent import eval_llm

        run_dir = str(out) if out else "runs/llm-eval"
        eval_llm(
            model=model,
            base_url=base_url,
            api_key=api_key,
            tasks=",".join(task or []),
            k=k,
            concurrency=concurrency,
            max_tokens=max_tokens,
            temperature=temperature,
            seed=seed,
            max_steps=max_steps,
            tool_choice=tool_choice,
            out=run_dir,
            as_json=as_json,
        )
        if report is not None:
            write_run_report(Path(run_dir), report, title=f"eval --agent llm --model {model or 'default'}")
        return
    if report is None:
        eval_command(agent=agent, task=task, out=out, as_json=as_json, alpha=alpha, beta=beta)
        return
    # The report is made from the run file, as `supportgym report` makes it (a temporary one
    # when --out is not given).
    with tempfile.TemporaryDirectory() as tmp:
        run_file = out or Path(tmp) / "run.json"
        eval_command(agent=agent, task=task, out=run_file, as_json=as_json, alpha=alpha, beta=beta)
        write_run_report(run_file, report, title=f"eval --agent {agent}")


@app.command("serve-openenv", short_help="Serve SupportGym over the OpenEnv protocol (needs supportgym[openenv]).")
def serve_openenv(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8010, help="Port."),
    sessions: int = typer.Option(16, help="WebSocket sessions (episodes) at once."),
) -> None:
    """Serve SupportGym over the OpenEnv protocol (WebSocket /ws; needs supportgym[openenv])."""
    import uvicorn

    try:
        from supportgym.integrations.openenv import create_openenv_app  # lazy: openenv-core is an extra
    except ImportError as exc:
        typer.echo(f"error: {exc}; pip install 'supportgym[openenv]'", err=True)
        raise typer.Exit(2) from None
    uvicorn.run(create_openenv_app(max_concurrent_envs=sessions), host=host, port=port, log_level="warning")


@judge_app.command("calibrate", short_help="Agreement of the LLM judge with program checks.")
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
    from supportgym.env.calibrate import judge_calibrate

    judge_calibrate(
        tasks=tasks,
        as_json=as_json,
        out=out,
        solutions=solutions,
        judge_model=judge_model,
        judge_base_url=judge_base_url,
        judge_api_key=judge_api_key,
        samples=samples,
        criteria_per_call=criteria_per_call,
        max_concurrency=max_concurrency,
        no_cache=no_cache,
        flips=flips,
    )


if __name__ == "__main__":
    app()
