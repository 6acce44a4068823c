"""What an episode leaves behind: the tool-call trail, the row changes and the final reply.

Plain data shared by the service (which records it), the rubrics (which grade it) and the
trajectory files (which store it). It sits at the leaf so that none of them imports another.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field


class TrailEntry(BaseModel):
    """One step of an episode: the call the agent made and what the world answered."""

    step: int = Field(description="1-based step number; invalid calls count as steps.")
    name: str = Field(description="Tool name as the agent sent it (may be unknown).")
    arguments: Any = Field(description="Arguments as parsed, or as sent when unparsable.")
    ok: bool
    result: dict[str, Any] = Field(description="Tool result, or {'error': {...}}.")
    error_code: str | None = None
    writes: bool = Field(False, description="True when the tool may change the world.")
    changes: list[dict[str, Any]] = Field(default_factory=list)
    sim_time: str = Field(description="Simulated time of the call (ISO, UTC).")


def summarise_changes(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Net effect per row over an episode: one entry per (table, key) that ended different.

    An insert followed by updates is reported as one insert with the final values; updates are
    folded so ``before`` is the value at episode start and ``after`` the final value.
    """
    net: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
    for ch in changes:
        key = (ch["table"], ch["key"])
        prev = net.get(key)
        if ch["op"] == "insert":
            net[key] = {"op": "insert", "table": ch["table"], "key": ch["key"], "after": dict(ch["after"])}
        elif ch["op"] == "delete":
            if prev is not None and prev["op"] == "insert":
                del net[key]
            else:
                net[key] = {"op": "delete", "table": ch["table"], "key": ch["key"], "before": ch["before"]}
        elif prev is None:
            net[key] = {
                "op": "update",
                "table": ch["table"],
                "key": ch["key"],
                "before": dict(ch["before"]),
                "after": dict(ch["after"]),
            }
        elif prev["op"] == "insert":
            prev["after"].update(ch["after"])
        else:
            for col, value in ch["after"].items():
                prev["before"].setdefault(col, ch["before"].get(col))
                prev["after"][col] = value
            for col in [c for c in prev["after"] if prev["after"][c] == prev["before"].get(c)]:
                del prev["after"][col]
                del prev["before"][col]
            if not prev["after"]:
                del net[key]
    return list(net.values())


@dataclass
class EpisodeRecord:
    """Everything a grader may look at once an episode ends."""

    task_id: str | None
    trail: list[TrailEntry]
    reply: str | None
    changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def net_changes(self) -> list[dict[str, Any]]:
        return summarise_changes(self.changes)
