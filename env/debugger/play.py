"""``supportgym play TASK_ID``: be the agent. Type tool calls, read the world's answers, undo,
look at what changed, submit a reply and read the grade. The session is saved as a trajectory.

The session itself is :class:`supportgym.env.debugger.session.PlaySession` (no terminal);
this module wires it to one (readline history and tab completion) or to a script of lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from supportgym.env.debugger.session import PlaySession
from supportgym.services.episode import EpisodeConfig

__all__ = ["PlaySession", "play", "run_session"]


def _install_readline(session: PlaySession) -> None:
    try:
        import readline
    except ImportError:  # pragma: no cover - not on this platform
        return
    matches: list[str] = []

    def completer(text: str, state: int) -> str | None:
        nonlocal matches
        if state == 0:
            matches = session.complete(readline.get_line_buffer()[: readline.get_endidx()], text)
        return matches[state] if state < len(matches) else None

    readline.set_completer_delims(" \t\n")
    readline.set_completer(completer)
    if "libedit" in (readline.__doc__ or ""):
        readline.parse_and_bind("bind ^I rl_complete")
    else:
        readline.parse_and_bind("tab: complete")


def run_session(session: PlaySession, lines: Any = None, prompt: str = "> ") -> None:
    """Drive ``session`` from ``lines`` (an iterable) or from ``input()`` until :quit or EOF."""
    session.intro()
    try:
        if lines is not None:
            for line in lines:
                if not session.handle(line):
                    break
            return
        while True:
            try:
                line = input(prompt)
            except EOFError:
                session.console.print()
                break
            except KeyboardInterrupt:
                session.console.print("\n(:quit to leave)")
                continue
            if not session.handle(line):
                break
    finally:
        session.close()


def play(
    task_id: str = typer.Argument(None, help="Task to play; omit with --seed/--scale for a bare world."),
    seed: int = typer.Option(7, help="World seed of a bare world."),
    scale: str = typer.Option("tiny", help="World scale of a bare world: tiny, default or large."),
    out: Path = typer.Option(None, "--out", help="Trajectory file (default: artifacts/play-<task>-<n>.jsonl)."),
    script: Path = typer.Option(None, "--script", help="Read the lines from this file instead of the terminal."),
) -> None:
    """Play a task in the terminal: type tool calls, undo, see changes, submit, see the grade."""
    import sys

    from rich.console import Console

    config = EpisodeConfig(task_id=task_id) if task_id else EpisodeConfig(seed=seed, scale=scale)
    session = PlaySession(config, Console(), save_path=out)
    if script is not None:
        run_session(session, script.read_text(encoding="utf-8").splitlines())
        return
    if sys.stdin.isatty():
        _install_readline(session)
        run_session(session)
    else:
        run_session(session, (line.rstrip("\n") for line in sys.stdin))
