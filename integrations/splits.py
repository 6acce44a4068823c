"""Task splits for every adapter's dataset builder: the task set's own splits, nothing else.

``dev``, ``test`` and ``heldout-families`` are the fixed tasks (``supportgym.tasks.splits``);
``train`` is generated (``seed`` and ``n`` per train family, each task proven before it is
offered); ``all`` is every fixed task. One definition, so an exported dataset, ``gym.make(...,
split=...)``, ``supportgym eval --split`` and the verifiers plugin agree on what "test" means.
"""

from __future__ import annotations

from supportgym.env.rollout import POLICIES_BY_TOOL, SYSTEM_PROMPT
from supportgym.tasks import list_tasks
from supportgym.tasks.splits import SPLITS as TASK_SPLITS
from supportgym.tasks.splits import load_split

SPLITS: tuple[str, ...] = (*TASK_SPLITS, "all")

# Where the task text goes: TRL appends what ``reset`` returns to the last message of the
# prompt, so the dataset's user message is an opening line and the task arrives with the episode.
USER_OPENING = "A new request has come in. Handle it with the tools.\n\n"


class UnknownSplit(ValueError):
    """A split name outside :data:`SPLITS`."""

    def __init__(self, split: str) -> None:
        super().__init__(f"split: unknown split {split!r}; allowed: {', '.join(SPLITS)}")
        self.split = split


def task_ids(split: str = "train", *, seed: int = 0, n: int = 2) -> list[str]:
    """Ids of the tasks in ``split``, sorted. ``train``: the first ``n`` proven generated tasks of
    ``seed`` for every train family (each is replayed and audited first: seconds per family)."""
    if split not in SPLITS:
        raise UnknownSplit(split)
    if split == "all":
        return sorted(t.id for t in list_tasks())
    return load_split(split, seed=seed, n=n)


def system_prompt() -> str:
    """The system prompt of every dataset row (the LLM agent's, policies read through tools)."""
    return SYSTEM_PROMPT.format(policies=POLICIES_BY_TOOL)


def chat_rows(split: str = "train", *, seed: int = 0, n: int = 2) -> list[dict[str, object]]:
    """One row per task: ``prompt`` (system and user messages) and ``task_id``."""
    prompt = [
        {"role": "system", "content": system_prompt()},
        {"role": "user", "content": USER_OPENING},
    ]
    return [{"prompt": [dict(m) for m in prompt], "task_id": tid} for tid in task_ids(split, seed=seed, n=n)]
