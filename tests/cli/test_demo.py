"""``supportgym demo``: what it teaches is true of the commands and the reward it describes."""

from __future__ import annotations

import shlex

import pytest
from typer.testing import CliRunner

from supportgym.cli.app import app
from supportgym.cli.demo import EXAMPLE_TASK, NEXT_STEPS, reward_scale_text
from supportgym.tasks import run_solution


@pytest.mark.parametrize(("command", "what"), [s for s in NEXT_STEPS if s[0].startswith("supportgym ")])
def test_each_next_step_is_a_command_that_exists(command: str, what: str) -> None:
    words = shlex.split(command)[1:]
    args = [w for w in words if not w.startswith(EXAMPLE_TASK.split("-")[0])]
    res = CliRunner().invoke(app, [*args, "--help"])
    assert res.exit_code == 0, (command, res.output)


def test_the_scale_it_states_is_the_scale_the_reference_earns() -> None:
    text = reward_scale_text(0.1, 0.3)
    assert "up to +0.1" in text and "down to -0.3" in text and "1 + 0.1 = 1.1" in text
    _, grade = run_solution(EXAMPLE_TASK)
    assert grade.perfect and 1.0 <= grade.reward <= 1.1
