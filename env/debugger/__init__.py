"""Debugging tools for tasks and trajectories: ``play``, ``replay``, ``grade`` and ``diff``.

Each command is a Typer-compatible function; :func:`register` adds all four to a Typer app.
"""

from __future__ import annotations

from typing import Any

from supportgym.env.debugger.diff import diff
from supportgym.env.debugger.grade_cmd import grade
from supportgym.env.debugger.play import play
from supportgym.env.debugger.replay import replay

__all__ = ["register"]


def register(app: Any) -> None:
    """Add ``play``, ``replay``, ``grade`` and ``diff`` to the ``supportgym`` Typer app."""

    app.command("play")(play)
    app.command("replay")(replay)
    app.command("grade")(grade)
    app.command("diff")(diff)
