"""``supportgym tasks generate``: fresh, proven variants of a family, drawn from a seed.

Candidate ``k`` of ``seed`` is the task ``<family>-g<seed>-<k>`` (``supportgym.tasks.draw``):
a variant of the family chosen by the seed with the params its ``generate`` block draws. A
candidate is offered only when

1. its setup finds rows (a pick past the last matching order is dropped, with the reason);
2. it lands on no customer, order or ticket of a fixed task, so training on generated tasks
   never shows a dev, test or held-out task's records;
3. it is proven like a hand-written task (``supportgym.tasks.proof``).

Candidates are tried in order until ``n`` are accepted, so the same family, seed and n always
give the same tasks. The ``train`` split is this output (``supportgym.tasks.splits``).
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from pydantic import BaseModel, Field

from supportgym.tasks.draw import generated_id
from supportgym.tasks.loader import TaskFormatError, generatable_families, get_task, list_tasks, prepare_task
from supportgym.tasks.proof import prove_task
from supportgym.tasks.records import primary_record_ids


class Candidate(BaseModel):
    id: str
    base: str | None = Field(None, description="The fixed task it was drawn from.")
    params: dict[str, Any] = Field(default_factory=dict)
    status: Literal["accepted", "dropped"]
    reason: str = Field("", description="Why it was dropped.")


class GenerationReport(BaseModel):
    family: str
    seed: int
    n: int
    accepted: list[Candidate]
    dropped: list[Candidate]

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.accepted]


_reserved_lock = threading.Lock()
_reserved: tuple[tuple[str, ...], dict[str, str]] | None = None


def fixed_record_owners() -> dict[str, str]:
    """Every customer, order and ticket id a fixed task uses, with the first task using it."""
    global _reserved
    ids = tuple(t.id for t in list_tasks())
    with _reserved_lock:
        if _reserved is not None and _reserved[0] == ids:
            return _reserved[1]
    owners: dict[str, str] = {}
    for tid in ids:
        for rid in sorted(primary_record_ids(prepare_task(tid).values)):
            owners.setdefault(rid, tid)
    with _reserved_lock:
        _reserved = (ids, owners)
    return owners


def check_candidate(task_id: str, *, prove: bool = True, audit: bool = True) -> str:
    """Why candidate ``task_id`` cannot be offered ("" when it can)."""
    try:
        prepared = prepare_task(task_id)
    except TaskFormatError as exc:
        return "setup: " + "; ".join(p.message for p in exc.problems)
    except ValueError as exc:  # a python setup hook refusing its params (e.g. a pick past its rows)
        return f"setup: {exc}"
    owners = fixed_record_owners()
    clash = sorted(rid for rid in primary_record_ids(prepared.values) if rid in owners)
    if clash:
        return "uses records of fixed tasks: " + ", ".join(f"{rid} ({owners[rid]})" for rid in clash)
    if prove:
        problems = prove_task(task_id, audit=audit)
        if problems:
            return "not proven: " + "; ".join(problems)
    return ""


def generate(
    family: str, seed: int, n: int, *, max_candidates: int | None = None, audit: bool = True
) -> GenerationReport:
    """The first ``n`` candidates of ``seed`` that pass :func:`check_candidate`; the others
    tried on the way are reported as dropped. Tries at most ``max_candidates`` (16n + 10)."""
    if family not in generatable_families():
        known = ", ".join(generatable_families()) or "none"
        raise KeyError(f"family {family!r} cannot be generated (it has no generate block); families that can: {known}")
    if seed < 0 or n < 1:
        raise ValueError(f"seed must be >= 0 and n >= 1, not seed={seed}, n={n}")
    # Generous: a family that touches several customers collides with the fixed tasks' records
    # more often as the fixed set grows (queue_triage, seed 11: 2 accepted of 27 tried at 176
    # fixed tasks). A collision is found before any replay, so a dropped candidate is cheap.
    limit = max_candidates if max_candidates is not None else 16 * n + 10
    accepted: list[Candidate] = []
    dropped: list[Candidate] = []
    for k in range(1, limit + 1):
        if len(accepted) == n:
            break
        task_id = generated_id(family, seed, k)
        task = get_task(task_id)
        reason = check_candidate(task_id, audit=audit)
        drawn = {name: task.params[name] for name in sorted(task.generate or {})}
        entry = Candidate(
            id=task_id, base=task.base, params=drawn, status="dropped" if reason else "accepted", reason=reason
        )
        (dropped if reason else accepted).append(entry)
    return GenerationReport(family=family, seed=seed, n=n, accepted=accepted, dropped=dropped)
