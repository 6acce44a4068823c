"""``supportgym play`` in a real terminal: tmux runs it in a detached 200x50 pane and the test
types into it like a person (``send-keys``) and reads the screen (``capture-pane``).

What only a real terminal exercises: the readline prompt, Tab completion, history (Up arrow),
Ctrl-C at the prompt, rich output at the terminal's width and the process exiting on ``:quit``.
The story: read the help, read the ticket and the order, open the return, refund the wrong
amount (the order total, shipping included), look at the changes, undo the refund, look again,
refund the line value, solve the ticket, submit a reply, read the grade, quit; then the saved
trajectory must hold exactly the steps that stood (not the undone one).

Each run has its own tmux server (``tmux -L <unique socket>``), always killed at teardown.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.parts import require_part

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TASK = "refund_within_window-01"
WIDTH, HEIGHT = 200, 50
STARTUP_TIMEOUT = 300.0  # a cold world cache is built on first use
COMMAND_TIMEOUT = 60.0
PROMPT = ">"  # "> " with the trailing space trimmed by the capture


def _ensure_tmux() -> str:
    """tmux on PATH: the part ``tmux`` (``make parts``), never installed by the test."""
    return require_part("tmux").detail


def _supportgym() -> str:
    exe = Path(sys.executable).with_name("supportgym")
    if exe.exists():
        return str(exe)
    found = shutil.which("supportgym")
    # Installed with the package: its absence is a broken install, not a missing part.
    assert found, "no supportgym command next to the interpreter or on PATH (pip install -e .)"
    return found


class Key(str):
    """A key name for ``send-keys`` (``Tab``, ``Up``, ``C-c``), not text to type."""


class Pane:
    """One tmux server on a private socket, one session, one pane running ``command``."""

    def __init__(self, tmux: str, workdir: Path) -> None:
        self.tmux_bin = tmux
        self.socket = f"sg-play-{os.getpid()}-{uuid.uuid4().hex[:10]}"
        self.target = "play"
        self.conf = workdir / "tmux.conf"
        # No status line (the pane is the whole 200x50 window), a dead pane stays readable, and
        # a long scrollback so the whole session can be captured.
        self.conf.write_text("set -g status off\nset -g remain-on-exit on\nset -g history-limit 100000\n")
        # The server (and so the pane) inherits this environment: no inherited terminal size or
        # tmux of the caller, so rich sizes itself from the pane.
        self.env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX", "TMUX_PANE")}
        self.workdir = workdir
        # Where ``-L`` puts the socket (tmux leaves the file behind; close() removes it).
        self.socket_path = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}" / self.socket
        self.pid: int | None = None
        self.server_pid: int | None = None

    def start(self, command: list[str]) -> None:
        """The server, a detached WIDTHxHEIGHT session and its pane, running ``command`` directly."""
        self.tmux(
            "new-session",
            "-d",
            "-s",
            self.target,
            "-x",
            str(WIDTH),
            "-y",
            str(HEIGHT),
            "-c",
            str(self.workdir),
            *command,
        )
        self.socket_path = Path(self.display("#{socket_path}"))
        self.pid = int(self.display("#{pane_pid}"))
        self.server_pid = int(self.display("#{pid}"))

    # --- tmux -----------------------------------------------------------------------------

    def tmux(self, *args: str) -> str:
        r = subprocess.run(
            [self.tmux_bin, "-L", self.socket, "-f", str(self.conf), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=30,
        )
        if r.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
        return r.stdout

    def display(self, fmt: str) -> str:
        return self.tmux("display-message", "-p", "-t", self.target, fmt).strip()

    def dead(self) -> bool:
        return self.display("#{pane_dead}") == "1"

    def exit_state(self) -> str:
        """``"<dead> <status>:<signal>"``, e.g. ``"1 0:"`` once the pane's process exited with 0.

        tmux marks the pane dead when its terminal closes and records the status when it reaps
        the process on SIGCHLD. Debian's tmux sometimes misses that SIGCHLD (it links
        libutempter, whose own SIGCHLD handler can swallow it: tmux/tmux#311) and leaves the
        process a zombie with no status; a SIGCHLD sent to this server (by its pid) makes it reap.
        """
        state = self.display("#{pane_dead} #{pane_dead_status}:#{pane_dead_signal}")
        if state == "1 :" and self.server_pid is not None:
            os.kill(self.server_pid, signal.SIGCHLD)
        return state

    def lines(self) -> list[str]:
        """The whole pane, scrollback included, wrapped lines joined, trailing blanks dropped."""
        out = [ln.rstrip() for ln in self.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", self.target).split("\n")]
        while out and not out[-1]:
            out.pop()
        return out

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", self.target, "-l", text)

    def press(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.target, *keys)

    def close(self) -> None:
        try:
            subprocess.run(
                [self.tmux_bin, "-L", self.socket, "kill-server"], capture_output=True, env=self.env, timeout=30
            )
        finally:
            if self.pid is not None and _alive(self.pid):
                _wait_gone(self.pid, 10)
                if _alive(self.pid):
                    os.kill(self.pid, signal.SIGKILL)
            self.socket_path.unlink(missing_ok=True)

    # --- waiting --------------------------------------------------------------------------

    def tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.lines()[-n:])
        except (RuntimeError, subprocess.SubprocessError, OSError) as exc:  # the tmux server is gone
            return f"(no pane: {exc})"

    def wait(self, ready: Callable[[list[str]], bool], what: str, timeout: float = COMMAND_TIMEOUT) -> list[str]:
        """Poll the screen until ``ready(lines)``; fail with the screen on timeout or exit."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.lines()
            if ready(lines):
                return lines
            if self.dead():
                pytest.fail(
                    f"play exited (dead status:signal {self.exit_state()}) while waiting "
                    f"for {what}; screen:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}; screen:\n{self.tail()}")
            time.sleep(0.1)

    def at_prompt(self) -> int:
        """Wait for an empty prompt; its line number (where the next command's echo will be)."""
        lines = self.wait(lambda ls: bool(ls) and ls[-1] == PROMPT, "the prompt")
        return len(lines) - 1

    def enter(self, *parts: str, echo: str | None = None) -> str:
        """Type ``parts`` at the prompt (text, or :class:`Key` names), press Enter, wait for the
        next prompt.

        Returns what the command printed (the lines between its echo and the new prompt). The
        echo (``> TEXT``) must read ``echo`` (default: the typed text), so Tab completion or
        history has to have produced exactly that line.
        """
        mark = self.at_prompt()
        for part in parts:
            (self.press if isinstance(part, Key) else self.type)(part)
        self.press("Enter")
        want = echo if echo is not None else "".join(parts)
        lines = self.wait(lambda ls: len(ls) > mark + 1 and ls[-1] == PROMPT, f"the output of {want!r}")
        assert lines[mark] == f"{PROMPT} {want}", f"typed line reads {lines[mark]!r}, not {want!r}"
        return "\n".join(lines[mark + 1 : -1])


def _alive(pid: int) -> bool:
    """The process runs (a zombie, exited but not yet reaped, does not count)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _one(pattern: str, text: str, what: str) -> str:
    m = re.search(pattern, text)
    assert m, f"no {what} ({pattern}) in:\n{text}"
    return m.group(1)


def _row(table: str, name: str) -> str:
    """The first line of a rich table row whose first cell is ``name``."""
    for ln in table.splitlines():
        cells = [c.strip() for c in ln.strip("│┃ ").split("│")]
        if cells and cells[0] == name:
            return ln
    raise AssertionError(f"no row {name!r} in:\n{table}")


@pytest.fixture
def play_pane(tmp_path: Path) -> Iterator[tuple[Pane, Path]]:
    from supportgym.tasks import list_tasks

    assert TASK in {t.id for t in list_tasks()}, f"task {TASK} is not in the task set"
    tmux = _ensure_tmux()
    out = tmp_path / "session.jsonl"
    command = [_supportgym(), "play", TASK, "--out", str(out)]
    pane = Pane(tmux, tmp_path)
    try:
        pane.start(command)
        yield pane, out
    finally:
        try:
            (tmp_path / "screen.txt").write_text(pane.tail(100000) + "\n")  # for a failed run
        finally:
            pane.close()
        assert pane.pid is None or not _alive(pane.pid), f"play (pid {pane.pid}) outlived its tmux server"


def test_play_in_a_real_terminal(play_pane: tuple[Pane, Path]) -> None:
    pane, out = play_pane

    # The instruction panel, then the prompt.
    intro = "\n".join(pane.wait(lambda ls: bool(ls) and ls[-1] == PROMPT, "the first prompt", STARTUP_TIMEOUT))
    assert f"task {TASK}" in intro and "max 30 steps" in intro, intro
    ticket = _one(r"support ticket (TKT-\d+)", intro, "ticket id in the instruction")

    # The in-app help lists the commands.
    help_text = pane.enter(":help")
    for cmd in (":undo", ":changes", ":submit", ":quit"):
        assert re.search(rf"│ {cmd}\s+│", help_text), f"{cmd} missing from :help:\n{help_text}"

    # A tool call typed with Tab completion: "get_tic<Tab>" -> "get_ticket ", "tic<Tab>" -> "ticket_id=".
    shown = pane.enter("get_tic", Key("Tab"), "tic", Key("Tab"), ticket, echo=f"get_ticket ticket_id={ticket}")
    assert "step 1/30 get_ticket: ok" in shown, shown
    assert f'"ticket_id": "{ticket}"' in shown, shown
    order = _one(r'"order_id": "(ORD-\d+)"', shown, "order id in the ticket")

    shown = pane.enter(f"get_order order_id={order}")
    assert "step 2/30 get_order: ok" in shown, shown
    item = _one(r'"order_item_id": "(ITM-\d+)"', shown, "order line")
    quantity = int(_one(r'"quantity": (\d+)', shown, "quantity"))
    line_total = _one(r'"line_total": "(\d+\.\d\d)"', shown, "line total")
    order_total = _one(r'\n  "total": "(\d+\.\d\d)"', shown, "order total")
    assert line_total != order_total, "the task should have a shipping fee (total != line value)"

    items = json.dumps([{"order_item_id": item, "quantity": quantity}], separators=(",", ":"))
    shown = pane.enter(f"create_return order_id={order} items='{items}' reason=\"Change of mind\" resolution=refund")
    assert re.search(r"step 3/30 create_return: ok  \(\d+ row changes?\)", shown), shown
    rma = _one(r'"return_id": "(RMA-\d+)"', shown, "return id")

    # The mistake: refunding the whole order, shipping included.
    shown = pane.enter(f"issue_refund order_id={order} amount={order_total} reason=returned_item")
    assert "step 4/30 issue_refund: ok  (1 row change)" in shown, shown
    assert f'"amount": "{order_total}"' in shown, shown
    wrong_refund = _one(r'"refund_id": "(RFD-\d+)"', shown, "refund id")

    changes = pane.enter(":changes")
    assert re.search(r"\d+ rows changed", changes), changes
    assert rma in changes, changes
    assert re.search(rf"│ insert\s+│ refunds\s+│ {wrong_refund}\s+│", changes), changes

    undone = pane.enter(":undo")
    assert "Undid step 4 (issue_refund); the world is as it was before it." in undone, undone

    # History: Up twice recalls ":changes"; the refund is gone, the return is still there.
    changes = pane.enter(Key("Up"), Key("Up"), echo=":changes")
    assert rma in changes and re.search(r"│ insert\s+│ returns\s+│", changes), changes
    assert not re.search(r"│ refunds\s+│", changes) and wrong_refund not in changes, changes

    # Ctrl-C at the prompt does not end the session.
    mark = pane.at_prompt()
    pane.press("C-c")
    after = pane.wait(lambda ls: "(:quit to leave)" in ls[mark:] and ls[-1] == PROMPT, "the Ctrl-C notice")
    assert not pane.dead() and _alive(pane.pid), "\n".join(after[mark:])

    # The right refund: it is step 4 again (the undo took the step back).
    shown = pane.enter(f"issue_refund order_id={order} amount={line_total} reason=returned_item")
    assert "step 4/30 issue_refund: ok  (1 row change)" in shown, shown
    assert f'"amount": "{line_total}"' in shown, shown

    shown = pane.enter(f"update_ticket_status ticket_id={ticket} status=solved")
    assert "step 5/30 update_ticket_status: ok" in shown and '"status": "solved"' in shown, shown

    reply = (
        f"Hello, thank you for getting in touch. I have opened return {rma} for your item on order {order} "
        f"and refunded ${line_total} to your original payment method. "
        "Please send the item back quoting the return number."
    )
    graded = pane.enter(f":submit {reply}")
    assert "step 6/30 submit_response: ok" in graded, graded
    assert "Episode ended: submitted" in graded, graded
    reward, perfect = re.search(r"^reward (\S+)\s+perfect (\S+)$", graded, re.MULTILINE).groups()  # type: ignore[union-attr]
    assert float(reward) > 0 and perfect == "True", graded
    for criterion in (
        "rma-created",
        "rma-line",
        "refund-amount",
        "rma-before-refund",
        "reply-rma-id",
        "reply-amount",
        "single-refund",
        "no-shipping-refund",
    ):
        row = _row(graded, criterion)
        assert re.search(r"│ met\s+│", row), f"{criterion} not met: {row}"
    assert f"Saved the session to {out}" in graded, graded

    # :quit ends the process with status 0.
    mark = pane.at_prompt()
    pane.type(":quit")
    pane.press("Enter")
    deadline = time.monotonic() + 30
    while not re.fullmatch(r"1 (\d+:|:\d+)", ended := pane.exit_state()):
        assert time.monotonic() < deadline, f"play did not exit after :quit ({ended}); screen:\n{pane.tail()}"
        time.sleep(0.1)
    assert ended == "1 0:", f"play ended with status:signal {ended[2:]}; screen:\n{pane.tail()}"
    assert pane.lines()[mark] == f"{PROMPT} :quit"
    assert _wait_gone(pane.pid, 10), f"play (pid {pane.pid}) still running after :quit"

    # The saved trajectory: one JSON line with the steps that stood, not the undone refund.
    raw = out.read_text(encoding="utf-8").splitlines()
    assert len(raw) == 1, raw
    t = json.loads(raw[0])
    assert (t["task_id"], t["agent"], t["status"]) == (TASK, "human", "submitted"), t
    assert [(s["step"], s["name"], s["ok"]) for s in t["steps"]] == [
        (1, "get_ticket", True),
        (2, "get_order", True),
        (3, "create_return", True),
        (4, "issue_refund", True),
        (5, "update_ticket_status", True),
        (6, "submit_response", True),
    ], t["steps"]
    assert t["steps"][0]["arguments"] == {"ticket_id": ticket}
    assert t["steps"][2]["arguments"]["items"] == [{"order_item_id": item, "quantity": quantity}]
    assert t["steps"][3]["arguments"] == {"order_id": order, "amount": float(line_total), "reason": "returned_item"}
    assert t["steps"][5]["arguments"] == {"response": reply}
    assert t["reply"] == reply
    assert t["reward"] == pytest.approx(float(reward)) and t["perfect"] is True, (t["reward"], t["perfect"])

    from supportgym.trajectory import read_jsonl

    (saved,) = list(read_jsonl(out))  # and it reads back as a Trajectory
    assert [s.name for s in saved.steps] == [s["name"] for s in t["steps"]]
