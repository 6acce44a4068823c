"""Task splits shared by every adapter's dataset builder.

Each family has five variants; a split takes the same variant numbers from every family, so each
split covers every family: ``train`` variants 1-3, ``validation`` 4, ``test`` 5. ``all`` is every
task. Variants past 5 (a family that grows) go to ``train``.
"""

from __future__ import annotations

from typing import Literal

from supportgym.env.rollout import POLICIES_BY_TOOL, SYSTEM_PROMPT
from supportgym.tasks import list_tasks

Split = Literal["train", "validation", "test", "all"]
SPLITS: tuple[str, ...] = ("train", "validation", "test", "all")
_HELD_OUT = {4: "validation", 5: "test"}

# Where the task text goes: TRL appends what ``reset`` returns to the last message of the
# prompt, so the dataset's user message is an opening line and the task arrives with the episode.
USER_OPENING = "A new request has come in. Handle it with the tools.\n\n"


class UnknownSplit(ValueError):
    """A split name outside :data:`SPLITS`."""

    def __init__(self, split: str) -> None:
        super().__init__(f"split: unknown split {split!r}; allowed: {', '.join(SPLITS)}")
        self.split = split


def split_of(variant_number: int) -> str:
    """The split a variant number belongs to (``train``, ``validation`` or ``test``)."""
    return _HELD_OUT.get(variant_number, "train")


def task_ids(split: str = "train") -> list[str]:
    """Ids of the tasks in ``split``, sorted."""
    if split not in SPLITS:
        raise UnknownSplit(split)
    return sorted(t.id for t in list_tasks() if split == "all" or split_of(t.number) == split)


def system_prompt() -> str:
    """The system prompt of every dataset row (the LLM agent's, policies read through tools)."""
    return SYSTEM_PROMPT.format(policies=POLICIES_BY_TOOL)


def chat_rows(split: str = "train") -> list[dict[str, object]]:
    """One row per task: ``prompt`` (system and user messages) and ``task_id``."""
    prompt = [
        {"role": "system", "content": system_prompt()},
        {"role": "user", "content": USER_OPENING},
    ]
    return [{"prompt": [dict(m) for m in prompt], "task_id": tid} for tid in task_ids(split)]
