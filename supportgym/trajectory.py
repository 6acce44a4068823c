"""The trajectory file: one episode per JSON line, written by every runner and read by every tool.

``supportgym eval`` (reference and LLM agents), the Ray rollout pool, ``supportgym play`` and the
web debugger all write :class:`Trajectory` records; ``replay``, ``grade`` and ``diff`` read them.
A trainer can consume the same file: ``prompt`` is the instruction, ``steps`` the completion turns
with the world's answers, ``reward`` and ``grade`` the signal.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from supportgym.trail import TrailEntry

SCHEMA_VERSION = 1


class Trajectory(BaseModel):
    """One episode, replayable: the config it ran with, every step, the reply and the grade."""

    schema_version: int = SCHEMA_VERSION
    task_id: str | None
    seed: int | None = Field(None, description="World seed of a bare-world episode.")
    scale: str | None = Field(None, description="World scale of a bare-world episode.")
    alpha: float
    beta: float
    max_steps: int
    agent: str = Field(description="Who acted: reference, llm, human, wrong:<name>, ...")
    model: str | None = None
    attempt: int = 0
    prompt: str = Field("", description="The instruction the agent received.")
    messages: list[dict[str, Any]] | None = Field(
        None, description="The chat transcript, when the agent was a chat model."
    )
    steps: list[TrailEntry]
    reply: str | None
    status: str
    reward: float | None = None
    perfect: bool | None = None
    grade: dict[str, Any] | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    elapsed_s: float | None = None
    infra_error: str | None = Field(
        None, description="Set when the environment (not the agent) failed; exclude from training."
    )

    def actions(self) -> list[tuple[str, Any]]:
        """The (tool, arguments) sequence, submit included, for replay."""
        out = [(s.name, s.arguments) for s in self.steps]
        return out


def write_jsonl(path: str | Path, trajectories: Iterable[Trajectory], *, append: bool = False) -> int:
    """Write trajectories one per line; returns how many."""
    count = 0
    with Path(path).open("a" if append else "w", encoding="utf-8") as fh:
        for t in trajectories:
            fh.write(t.model_dump_json())
            fh.write("\n")
            count += 1
    return count


def read_jsonl(path: str | Path) -> Iterator[Trajectory]:
    """Read a trajectory file; a bad line raises ValueError naming the file and line."""
    with Path(path).open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield Trajectory.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValueError) as exc:
                raise ValueError(f"{path}:{n}: not a trajectory: {exc}") from exc
