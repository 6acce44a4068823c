"""``supportgym play``: the REPL without a terminal (lines in, recorded rich output out)."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from supportgym.db import world_hash
from supportgym.env.debugger.play import run_session
from supportgym.env.debugger.replay import replay_trajectory
from supportgym.env.debugger.session import PlaySession
from supportgym.services.episode import EpisodeConfig, EpisodeStatus
from supportgym.trajectory import read_jsonl


def _session(tmp_path: Path, config: EpisodeConfig) -> tuple[PlaySession, Console]:
    console = Console(record=True, width=160, color_system=None)
    return PlaySession(config, console, save_path=tmp_path / "play.jsonl"), console


def _hash(session: PlaySession) -> str:
    with session.episode.db.session() as s:
        return world_hash(s)


def _first_ticket(session: PlaySession) -> str:
    result = session.call("search_tickets", {"page_size": 1})
    return (
        result.observation["results"][0]["ticket_id"]
        if "results" in result.observation
        else next(v for v in result.observation.values() if isinstance(v, list))[0]["ticket_id"]
    )


def test_bare_world_commands_undo_and_save(tmp_path: Path) -> None:
    session, console = _session(tmp_path, EpisodeConfig(seed=7, scale="tiny"))
    try:
        session.intro()
        assert session.handle(":tools")
        assert session.handle(":help get_order")
        assert session.handle(":help")
        before = _hash(session)
        ticket = _first_ticket(session)
        session.handle(f'add_internal_note ticket_id={ticket} note="checked by a human"')
        assert session.episode.trail[-1].ok, session.episode.trail[-1].result
        assert _hash(session) != before
        session.handle(":changes")
        session.handle(":trail")
        assert session.undo()
        assert _hash(session) == before
        assert len(session.episode.trail) == 1
        assert session.episode.net_changes() == []
        session.handle("get_order order_id")  # unreadable: not sent, no step
        assert len(session.episode.trail) == 1
        session.handle("no_such_tool x=1")  # sent: the world answers with an error
        assert session.episode.trail[-1].error_code == "unknown_tool"
        session.handle(":bogus")
        assert session.handle(":quit") is False
    finally:
        session.close()
    out = console.export_text()
    for expected in (
        "get_order",
        "order_id",
        "Undid step 2",
        "add_internal_note",
        "Cannot read that call",
        "Unknown command",
    ):
        assert expected in out, expected
    saved = list(read_jsonl(tmp_path / "play.jsonl"))
    assert len(saved) == 1 and saved[0].agent == "human"
    assert [s.name for s in saved[0].steps] == ["search_tickets", "no_such_tool"]


def test_clock_and_ids_after_undo_match_a_straight_run(tmp_path: Path) -> None:
    """Undo restores the clock too: the redone step is recorded as if the undone one never was."""
    session, _ = _session(tmp_path, EpisodeConfig(seed=7, scale="tiny"))
    try:
        session.call("get_current_time", {})
        session.call("get_current_time", {})
        session.undo()
        again = session.call("get_current_time", {})
        assert session.episode.trail[-1].step == 2
        t = session.episode.to_trajectory(agent="human")
    finally:
        session.close()
    replayed = replay_trajectory(t)
    try:
        assert replayed.matched, [s.difference for s in replayed.steps]
        assert again.observation == replayed.steps[-1].replayed
    finally:
        replayed.episode.close()


def test_task_session_submit_grade_and_replay(tmp_path: Path, task_id: str, reference_file: Path) -> None:
    first = list(read_jsonl(reference_file))[0].steps[0]
    session, console = _session(tmp_path, EpisodeConfig(task_id=task_id))
    lines = [":instruction", ":grade"]
    try:
        session.intro()
        for line in lines:
            session.handle(line)
        session.handle(f"{first.name} {json.dumps(first.arguments)}")  # the reference's first call
        assert session.episode.trail[-1].ok
        session.handle(":submit I looked into it and will follow up.")
        assert session.episode.status == EpisodeStatus.submitted
        assert session.episode.grade is not None
        session.handle("get_current_time")  # refused: the episode has ended
        assert len(session.episode.trail) == 2
        session.handle(":undo")  # undoes the submit
        assert session.episode.status == EpisodeStatus.running and session.episode.grade is None
        session.handle(":submit Done.")
    finally:
        session.close()
    out = console.export_text()
    assert "Not submitted yet" in out
    assert "Episode ended: submitted" in out
    assert "reward" in out and "has ended" in out
    t = list(read_jsonl(tmp_path / "play.jsonl"))[0]
    assert t.task_id == task_id and t.reply == "Done." and t.grade is not None
    replayed = replay_trajectory(t)
    try:
        assert replayed.matched
        assert replayed.grade.reward == t.reward
    finally:
        replayed.episode.close()


def test_run_session_from_lines_and_completion(tmp_path: Path) -> None:
    session, console = _session(tmp_path, EpisodeConfig(seed=7, scale="tiny"))
    assert "get_order " in session.complete("get_o", "get_o")
    assert ":undo " in session.complete(":u", ":u")
    assert session.complete("get_order ", "") == ["order_id="]
    assert session.complete("get_order order_id=ORD-1 ", "") == []
    assert "search_orders " in session.complete(":help search_o", "search_o")
    run_session(session, ["get_current_time", ":quit", "get_current_time"])
    assert session.episode.closed
    assert (tmp_path / "play.jsonl").exists()
    assert "Saved the session" in console.export_text()
