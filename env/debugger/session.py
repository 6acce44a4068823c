"""The interactive episode behind ``supportgym play``, with no terminal of its own.

:class:`PlaySession` holds the episode and handles one line at a time, printing to a rich
console, so tests feed it lines and read the recorded output. ``play.py`` wires it to a real
terminal (readline history and tab completion).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from supportgym.env.debugger.common import (
    CallSyntaxError,
    Snapshot,
    episode_grade,
    parse_call,
    print_grade,
    restore,
    snapshot,
)
from supportgym.ids import KIND
from supportgym.services.episode import (
    SUBMIT_TOOL,
    EpisodeClosed,
    EpisodeConfig,
    EpisodeStatus,
)
from supportgym.services.tools import REGISTRY, WorldFault
from supportgym.tasks import open_episode
from supportgym.trajectory import write_jsonl

COMMANDS = {
    ":tools": "list the tools and their arguments",
    ":help": ":help TOOL shows a tool's description and arguments; :help alone shows this",
    ":undo": "undo the last action (the world goes back to before it)",
    ":changes": "what the episode has changed in the world so far (net, per row)",
    ":trail": "the steps so far",
    ":instruction": "show the task instruction again",
    ":submit": ":submit TEXT ends the episode with TEXT as the final reply, then grades",
    ":grade": "grade the episode (as it stands, if not submitted yet)",
    ":save": ":save [PATH] writes the session as a trajectory (JSONL)",
    ":quit": "save and leave (also Ctrl-D)",
}


def default_save_path(task_id: str | None, directory: Path = Path("artifacts")) -> Path:
    """``artifacts/play-<task>-<n>.jsonl`` with the first unused ``n``."""
    stem = f"play-{task_id or 'world'}"
    n = 1
    while (directory / f"{stem}-{n}.jsonl").exists():
        n += 1
    return directory / f"{stem}-{n}.jsonl"


def _arg_names(tool: str) -> list[str]:
    spec = REGISTRY.get(tool)
    if spec is None:
        return ["response"] if tool == SUBMIT_TOOL else []
    return list(spec.parameters_schema().get("properties", {}))


def tool_names() -> list[str]:
    return [*REGISTRY, SUBMIT_TOOL]


class PlaySession:
    """One interactive episode. ``handle(line)`` returns False when the session should end."""

    def __init__(
        self,
        config: EpisodeConfig,
        console: Console | None = None,
        save_path: Path | None = None,
        autosave: bool = True,
    ) -> None:
        self.console = console or Console()
        self.episode = open_episode(config)
        self.undo_stack: list[Snapshot] = []
        self.save_path = save_path or default_save_path(config.task_id)
        self.autosave = autosave
        self.saved = False

    # --- life cycle ---------------------------------------------------------------------

    def intro(self) -> None:
        e = self.episode
        title = f"task {e.task_id}" if e.task_id else f"bare world seed {e.config.seed} / {e.config.scale}"
        body = e.instruction or "(no instruction: a bare world; call any tool)"
        self.console.print(Panel(Markdown(body), title=title, subtitle=f"max {e.max_steps} steps"))
        self.console.print(
            f"Type a tool call ([bold]get_order order_id={KIND['ORD'].example}[/bold] or [bold]name {{json}}[/bold]); "
            "[bold]:tools[/bold] lists tools, [bold]:help[/bold] lists commands."
        )

    def close(self) -> None:
        if self.autosave and self.episode.trail and not self.saved:
            self.save()
        self.episode.close()

    # --- one line -----------------------------------------------------------------------

    def handle(self, line: str) -> bool:
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        if line.startswith(":"):
            cmd, _, rest = line.partition(" ")
            return self._command(cmd, rest.strip())
        try:
            name, args = parse_call(line)
        except CallSyntaxError as exc:
            # escape(): the hint holds [brackets] that Rich would take for markup and drop.
            self.console.print(f"[red]Cannot read that call: {escape(str(exc))}[/red]")
            return True
        self.call(name, args)
        return True

    def _command(self, cmd: str, rest: str) -> bool:
        if cmd in (":quit", ":q", ":exit"):
            return False
        handlers = {
            ":tools": lambda: self.show_tools(),
            ":help": lambda: self.show_help(rest or None),
            ":undo": lambda: self.undo(),
            ":changes": lambda: self.show_changes(),
            ":trail": lambda: self.show_trail(),
            ":instruction": lambda: self.intro(),
            ":submit": lambda: self.submit(rest),
            ":grade": lambda: self.show_grade(),
            ":save": lambda: self.save(Path(rest) if rest else None),
        }
        handler = handlers.get(cmd)
        if handler is None:
            self.console.print(f"[red]Unknown command {cmd}.[/red] Commands: {', '.join(COMMANDS)}")
        else:
            handler()
        return True

    # --- actions ------------------------------------------------------------------------

    def call(self, name: str, arguments: Any) -> Any:
        if self.episode.status != EpisodeStatus.running:
            self.console.print(
                f"[yellow]The episode has ended ({self.episode.status.value}); "
                ":undo to go back, :quit to leave.[/yellow]"
            )
            return None
        snap = snapshot(self.episode)
        try:
            result = self.episode.step(name, arguments)
        except (EpisodeClosed, WorldFault) as exc:
            self.console.print(f"[red]{type(exc).__name__}: {exc}[/red]")
            return None
        self.undo_stack.append(snap)
        self.saved = False
        entry = self.episode.trail[-1]
        colour = "green" if result.ok else "red"
        outcome = "ok" if result.ok else entry.error_code
        head = f"[{colour}]step {result.step}/{self.episode.max_steps} {entry.name}: {outcome}[/{colour}]"
        if entry.changes:
            head += f"  ({len(entry.changes)} row change{'s' if len(entry.changes) != 1 else ''})"
        self.console.print(head)
        self.console.print(Syntax(json.dumps(result.observation, indent=2, ensure_ascii=False), "json", word_wrap=True))
        if result.done:
            self.console.print(f"[bold]Episode ended: {result.status.value}[/bold]")
            self.show_grade()
            if self.autosave:
                self.save()
        return result

    def submit(self, text: str) -> Any:
        if not text:
            self.console.print("[red]Usage: :submit YOUR FINAL REPLY[/red]")
            return None
        return self.call(SUBMIT_TOOL, {"response": text})

    def undo(self) -> bool:
        if not self.undo_stack:
            self.console.print("[yellow]Nothing to undo.[/yellow]")
            return False
        last = self.episode.trail[-1]
        restore(self.episode, self.undo_stack.pop())
        self.saved = False
        self.console.print(f"Undid step {last.step} ({last.name}); the world is as it was before it.")
        return True

    # --- views --------------------------------------------------------------------------

    def show_tools(self) -> None:
        table = Table(title=f"{len(REGISTRY) + 1} tools")
        table.add_column("tool")
        table.add_column("kind")
        table.add_column("arguments (* required)", overflow="fold")
        for spec in REGISTRY.values():
            schema = spec.parameters_schema()
            required = set(schema.get("required", []))
            args = " ".join(f"{k}{'*' if k in required else ''}" for k in schema.get("properties", {}))
            table.add_row(spec.name, "read" if spec.annotations.read_only else "[magenta]write[/magenta]", args)
        table.add_row(SUBMIT_TOOL, "end", "response*  (or :submit TEXT)")
        self.console.print(table)

    def show_help(self, tool: str | None) -> None:
        if tool is None:
            table = Table(title="commands")
            table.add_column("command")
            table.add_column("what it does")
            for c, what in COMMANDS.items():
                table.add_row(c, what)
            self.console.print(table)
            self.console.print(
                'A tool call: name key=value ... (values are JSON when they parse) or name {"json": ...}.'
            )
            return
        if tool == SUBMIT_TOOL:
            self.console.print(f"{SUBMIT_TOOL}: finish with your final reply. Argument: response (text).")
            return
        spec = REGISTRY.get(tool)
        if spec is None:
            self.console.print(f"[red]No tool {tool!r}.[/red] :tools lists them.")
            return
        schema = spec.parameters_schema()
        required = set(schema.get("required", []))
        self.console.print(
            Panel(spec.description, title=f"{spec.name} ({'read-only' if spec.annotations.read_only else 'writes'})")
        )
        table = Table()
        for col in ("argument", "type", "required", "description"):
            table.add_column(col, overflow="fold")
        for name, prop in schema.get("properties", {}).items():
            kind = prop.get("type") or ", ".join(str(x.get("type")) for x in prop.get("anyOf", []))
            if "enum" in prop:
                kind = f"{kind} {'|'.join(map(str, prop['enum']))}"
            table.add_row(name, str(kind), "yes" if name in required else "", prop.get("description", ""))
        self.console.print(table)
        for ex in getattr(spec, "examples", ()) or ():
            self.console.print(f"example: {spec.name} {json.dumps(ex)}")

    def show_changes(self) -> None:
        net = self.episode.net_changes()
        if not net:
            self.console.print("No changes to the world so far.")
            return
        table = Table(title=f"{len(net)} rows changed")
        for col in ("op", "table", "key", "change"):
            table.add_column(col, overflow="fold")
        for ch in net:
            if ch["op"] == "update":
                what = ", ".join(f"{k}: {ch['before'].get(k)!r} -> {v!r}" for k, v in ch["after"].items())
            elif ch["op"] == "insert":
                what = json.dumps(ch["after"], default=str)
            else:
                what = "deleted"
            colour = {"insert": "green", "update": "yellow", "delete": "red"}[ch["op"]]
            table.add_row(f"[{colour}]{ch['op']}[/{colour}]", ch["table"], ch["key"], what)
        self.console.print(table)

    def show_trail(self) -> None:
        table = Table(title=f"{len(self.episode.trail)} steps")
        for col in ("step", "tool", "arguments", "ok"):
            table.add_column(col, overflow="fold")
        for t in self.episode.trail:
            table.add_row(
                str(t.step),
                t.name,
                json.dumps(t.arguments),
                "[green]ok[/green]" if t.ok else f"[red]{t.error_code}[/red]",
            )
        self.console.print(table)

    def grade(self) -> Any:
        return episode_grade(self.episode)

    def show_grade(self) -> None:
        if self.episode.task_id is None:
            self.console.print("[yellow]A bare world has no rubric to grade against.[/yellow]")
            return
        if self.episode.status == EpisodeStatus.running:
            self.console.print("[yellow]Not submitted yet: grading the episode as it stands.[/yellow]")
        print_grade(self.console, self.grade())

    # --- saving -------------------------------------------------------------------------

    def save(self, path: Path | None = None) -> Path:
        path = path or self.save_path
        path.parent.mkdir(parents=True, exist_ok=True)
        write_jsonl(path, [self.episode.to_trajectory(agent="human")])
        self.save_path = path
        self.saved = True
        self.console.print(f"Saved the session to {path}")
        return path

    # --- completion ---------------------------------------------------------------------

    def complete(self, buffer: str, text: str) -> list[str]:
        """Completions of ``text`` (the word being typed) given the whole line ``buffer``."""
        words = buffer.split()
        first_word = not words or (len(words) == 1 and not buffer.endswith(" "))
        # A finished word ends with a space (readline adds none), so the next one can follow.
        if first_word:
            return [f"{c} " for c in [*COMMANDS, *tool_names()] if c.startswith(text)]
        head = words[0]
        if head == ":help":
            return [f"{t} " for t in tool_names() if t.startswith(text)]
        if head.startswith(":"):
            return []
        used = {w.split("=", 1)[0] for w in words[1:] if "=" in w}
        return [f"{a}=" for a in _arg_names(head) if a.startswith(text) and a not in used]
