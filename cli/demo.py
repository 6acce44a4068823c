"""``supportgym demo``: what a newcomer runs first, so it teaches as it goes.

1. the default world (what the agent can look at and change);
2. the reward scale, which goes above 1.0 by design;
3. one task graded twice: its reference solution (every criterion met) and a typical wrong
   trajectory (which criteria it loses, and what that costs);
4. the reference agent on every task;
5. the next commands to try.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from supportgym.rubrics.grade import Grade

EXAMPLE_TASK = "refund_within_window-01"
EXAMPLE_WRONG = "restocking_fee"
NEXT_STEPS = (
    ("supportgym tasks show " + EXAMPLE_TASK, "the task, its setup and all its criteria"),
    ("supportgym play " + EXAMPLE_TASK, "solve it yourself in the terminal and see your grade"),
    ("supportgym tasks list", "every task, by family and level"),
    ("supportgym serve", "the same episodes over HTTP (walk-through: docs/http.md)"),
    ("make test-fast", "the unit tests (no Docker, LLM or browser), a few minutes"),
)


def reward_scale_text(alpha: float, beta: float) -> str:
    return (
        "reward =   primary criteria met              0 .. 1\n"
        "           (actions 0.5, what the reply tells the customer 0.4, format 0.1)\n"
        f"         + {alpha:g} x mean(extra credit met)     up to +{alpha:g}\n"
        f"         - {beta:g} x mean(dodged bullets hit)   down to -{beta:g}\n"
        "A failed gate (harm to the world, a false claim, another customer's data disclosed,\n"
        "a list of guesses, a write policy forbids) caps the reward at 0 (docs/reward.md).\n"
        f"The best score is 1 + {alpha:g} = {1 + alpha:g}: every criterion met, no bullet hit.\n"
        "A reference solution is perfect (every primary criterion met, no bullet hit); it scores\n"
        f"{1 + alpha:g} where it also earns every extra credit, so a mean a little under "
        f"{1 + alpha:g} is the ceiling."
    )


def _criteria_table(console: Console, title: str, grade: Grade, only_unmet: bool) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("criterion", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("what it asks", overflow="fold")
    for c in grade.criteria:
        if only_unmet and c.verdict != "unmet":
            continue
        table.add_row(c.id, c.type.value, c.verdict, c.text)
    console.print(table)


def show_example(console: Console) -> None:
    from supportgym.tasks import prepare_task, run_solution

    episode, good = run_solution(EXAMPLE_TASK, "reference")
    instruction = episode.instruction
    episode.close()
    episode, bad = run_solution(EXAMPLE_TASK, EXAMPLE_WRONG)
    story = next(w.description for w in prepare_task(EXAMPLE_TASK).wrong if w.name == EXAMPLE_WRONG)
    episode.close()
    met = sum(c.verdict == "met" for c in good.criteria)
    # The instruction is hard-wrapped for models; let the terminal wrap it instead.
    console.print(f"\n[bold]One task, graded twice: {EXAMPLE_TASK}[/bold]")
    console.print(" ".join(instruction.split()) + "\n", markup=False)
    console.print(
        f"reference solution: reward {good.reward:.3f}, perfect={good.perfect}, "
        f"{met} of {len(good.criteria)} criteria met "
        f"({good.pending_judge} left to the LLM judge, not configured here)"
    )
    t = bad.terms
    console.print(
        f"wrong trajectory '{EXAMPLE_WRONG}' ({story}): "
        f"reward {bad.reward:.3f} = {t.primary:.2f} primary + {t.alpha:g} x "
        f"{t.extra_credit:.2f} extra credit - {t.beta:g} x {t.dodged_bullet:.2f} bullets hit, "
        f"perfect={bad.perfect}"
    )
    _criteria_table(console, "criteria the wrong trajectory lost", bad, only_unmet=True)


def demo(
    out: Path = typer.Option(Path("artifacts/demo-grades.json"), "--out", help="Where to write every episode's grade."),
    as_json: bool = typer.Option(False, "--json", help="Print the eval summary as JSON (nothing else)."),
) -> None:
    """Start here: the default world, the reward scale, one task graded (criteria met and
    lost), then the reference agent on every task. No server, no model."""
    from rich.console import Console

    from supportgym.cli.world import info
    from supportgym.env.eval import eval_command
    from supportgym.services.episode import DEFAULT_ALPHA, DEFAULT_BETA

    out.parent.mkdir(parents=True, exist_ok=True)
    if as_json:
        eval_command(agent="reference", task=None, out=out, as_json=True, alpha=None, beta=None)
        return
    console = Console()
    info(seed=7, scale="default", json_out=False)
    console.print("\n[bold]How a task is graded[/bold]")
    console.print(reward_scale_text(DEFAULT_ALPHA, DEFAULT_BETA), markup=False)
    show_example(console)
    console.print(
        "\n[bold]The reference agent on every task[/bold] (expect every task perfect: a reward "
        f"of 1 plus up to {DEFAULT_ALPHA:g} for the extra credit its reference earns)"
    )
    eval_command(agent="reference", task=None, out=out, as_json=False, alpha=None, beta=None)
    console.print("\n[bold]Next[/bold]")
    for command, what in NEXT_STEPS:
        console.print(f"  {command}\n      {what}", markup=False)
