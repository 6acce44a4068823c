"""``mcp_command`` registers on a Typer app as ``supportgym mcp`` does, and imports light."""

from __future__ import annotations

import subprocess
import sys

import typer
from typer.testing import CliRunner

from supportgym.cli.mcp import mcp_command


def test_registers_as_typer_command() -> None:
    app = typer.Typer()
    app.command("mcp")(mcp_command)
    app.command("other")(lambda: None)
    result = CliRunner().invoke(app, ["mcp", "--help"])
    assert result.exit_code == 0
    for option in ("--task", "--seed", "--scale", "--max-steps"):
        assert option in result.output


def test_entry_module_does_not_load_the_sdk() -> None:
    code = "import sys, supportgym.cli.mcp; print('mcp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"
