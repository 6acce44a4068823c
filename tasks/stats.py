"""``supportgym tasks stats``: the shape of the task set per family and per hierarchy level, so
authors can see difficulty and variety: tasks, calls and writes in the reference solutions,
criteria by category and type, and how many distinct write sequences the references make (90
tasks whose references all "create_return, issue_refund" teach one thing, not ninety)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from pydantic import BaseModel, Field

from supportgym.rubrics.model import Category, CriterionType
from supportgym.services.tools import REGISTRY
from supportgym.tasks.loader import Task


class GroupStats(BaseModel):
    group: str = Field(description="A family, a level, or 'all'.")
    tasks: int
    calls_mean: float = Field(description="Tool calls in the reference solution, per task.")
    calls_max: int
    writes_mean: float = Field(description="Of those, calls to tools that change the world.")
    writes_max: int
    criteria_mean: float = Field(description="Authored criteria per task (the four automatic gates excluded).")
    by_category: dict[str, int] = Field(description="Criteria over the group's tasks, by category.")
    by_type: dict[str, int] = Field(description="Criteria over the group's tasks, by type.")
    write_sequences: int = Field(description="Distinct sequences of write tools in the references.")


class TaskSetStats(BaseModel):
    families: list[GroupStats]
    levels: list[GroupStats]
    total: GroupStats


def write_sequence(task: Task) -> tuple[str, ...]:
    """The write tools the reference calls, in order (message_customer is talk, not a write)."""
    return tuple(
        c.tool for c in task.reference.calls if c.tool in REGISTRY and not REGISTRY[c.tool].annotations.read_only
    )


def _group(name: str, tasks: list[Task]) -> GroupStats:
    calls = [len(t.reference.calls) for t in tasks]
    writes = [len(write_sequence(t)) for t in tasks]
    categories: Counter[str] = Counter({c.value: 0 for c in Category})
    types: Counter[str] = Counter({c.value: 0 for c in CriterionType})
    for t in tasks:
        categories.update(c.category.value for c in t.criteria)
        types.update(c.type.value for c in t.criteria)
    n = len(tasks)
    return GroupStats(
        group=name,
        tasks=n,
        calls_mean=round(sum(calls) / n, 1) if n else 0.0,
        calls_max=max(calls, default=0),
        writes_mean=round(sum(writes) / n, 1) if n else 0.0,
        writes_max=max(writes, default=0),
        criteria_mean=round(sum(len(t.criteria) for t in tasks) / n, 1) if n else 0.0,
        by_category=dict(categories),
        by_type=dict(types),
        write_sequences=len({write_sequence(t) for t in tasks}),
    )


def task_set_stats(tasks: Iterable[Task]) -> TaskSetStats:
    tasks = list(tasks)
    by_family: dict[str, list[Task]] = defaultdict(list)
    by_level: dict[str, list[Task]] = defaultdict(list)
    for t in tasks:
        by_family[t.family].append(t)
        for level in t.levels:
            by_level[level.value].append(t)
    return TaskSetStats(
        families=[_group(f, ts) for f, ts in sorted(by_family.items())],
        levels=[_group(lv, ts) for lv, ts in sorted(by_level.items())],
        total=_group("all", tasks),
    )
