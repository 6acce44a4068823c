"""The CLI explains itself: help texts survive whole, name commands that exist, tables fit 80
columns, and ``supportgym --help`` does not import the heavy stack (its speed is measured by a
benchmark loop, not here)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from supportgym.cli.app import LAZY_COMMANDS, Command, app

runner = CliRunner()
HEAVY_MODULES = ("sqlalchemy", "gymnasium", "fastapi", "mcp", "numpy", "faker", "uvicorn")


def _root() -> tuple[TyperGroup, typer.Context]:
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    return group, typer.Context(group, info_name="supportgym")


def all_commands() -> list[tuple[tuple[str, ...], Command]]:
    """Every command and sub-command, lazily listed ones loaded, with its path of names."""
    out: list[tuple[tuple[str, ...], Command]] = []

    def walk(path: tuple[str, ...], cmd: Command, ctx: typer.Context) -> None:
        out.append((path, cmd))
        if isinstance(cmd, TyperGroup):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None, f"{' '.join(path)} lists {name!r} but cannot load it"
                walk((*path, name), sub, typer.Context(sub, info_name=name, parent=ctx))

    group, ctx = _root()
    walk((), group, ctx)
    return out


def _flat(text: str) -> str:
    # Without whitespace: the help wraps lines, also inside hyphenated words ("perfect- task").
    return "".join(text.split())


COMMANDS = all_commands()


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "supportgym" for p, _ in COMMANDS])
def test_every_option_help_appears_whole(path: tuple[str, ...], command: Command) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    shown = _flat(result.output)
    for param in command.params:
        text = getattr(param, "help", None)
        if text:
            assert _flat(text) in shown, f"{param.name}: {text!r} is not shown whole in:\n{result.output}"
    if command.help:
        first = _flat(command.help.split("\n\n")[0])
        assert first in shown, f"the description {first!r} is cut in:\n{result.output}"


def test_bracketed_words_survive() -> None:
    """The bug that started it: Rich markup ate "[env SUPPORTGYM_HOST, default 127.0.0.1]"."""
    out = _flat(runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "80"}).output)
    assert _flat("Interface to bind [env SUPPORTGYM_HOST, default 127.0.0.1].") in out
    assert _flat("Port [env SUPPORTGYM_PORT, default 8000]; 0 picks a free one.") in out


def test_listed_help_matches_the_loaded_commands() -> None:
    group, ctx = _root()
    for name, lazy in LAZY_COMMANDS.items():
        loaded = group.get_command(ctx, name)
        assert loaded is not None
        assert loaded.get_short_help_str(limit=200) == lazy.help, name


def test_help_names_only_commands_that_exist() -> None:
    names = {path for path, _ in COMMANDS}
    for path, command in COMMANDS:
        for mention in re.findall(r"`supportgym ([a-z][a-z -]*)", command.help or ""):
            words = tuple(w for w in mention.split() if re.fullmatch(r"[a-z]+", w))
            # The longest prefix that is a command must name the command, not stop at a group.
            known = max((words[:n] for n in range(len(words) + 1) if words[:n] in names), key=len)
            assert known, f"{' '.join(path)}: `supportgym {mention}` names no command"


def test_help_does_not_import_the_heavy_stack() -> None:
    code = f"import sys, supportgym.cli.app; print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.replace("'", '"')) == []


def test_tasks_list_fits_80_columns_without_cutting_ids() -> None:
    from supportgym.tasks import list_tasks

    result = runner.invoke(app, ["tasks", "list"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in result.output
    shown = {line.split("│")[1].strip() for line in lines if line.startswith("│")}
    assert {t.id for t in list_tasks()} <= shown


@pytest.mark.slow  # lints all 90 tasks (tests/rubrics/test_lint.py does too, in the same tier)
def test_rubrics_lint_shows_progress_on_stderr_and_keeps_json_clean() -> None:
    result = runner.invoke(app, ["rubrics", "lint", "--json"])
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    assert report["tasks"] > 0
    assert f"linting 1/{report['tasks']}: " in result.stderr


@pytest.mark.parametrize(
    "args", [["tools"], ["world", "check", "--scale", "tiny"], ["parts", "--check"]], ids=lambda a: " ".join(a)
)
def test_tables_fit_80_columns_and_cut_nothing(args: list[str]) -> None:
    result = runner.invoke(app, args, env={"COLUMNS": "80"})
    assert result.exit_code in (0, 1), result.output  # parts --check: 1 when a part is missing
    assert max(len(line) for line in result.stdout.splitlines()) <= 80, result.stdout
    assert "…" not in result.stdout, result.stdout
