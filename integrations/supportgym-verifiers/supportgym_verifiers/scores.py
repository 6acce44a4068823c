"""The numbers verifiers records for one graded episode, all read off SupportGym's grade.

The reward is the grade's reward and nothing else (gated by default: a failed gate caps it), so
whatever cannot earn SupportGym reward cannot earn it here. The metrics are for reading runs:
they never add to the reward.
"""

from __future__ import annotations

from typing import Any

# The four rubric categories (supportgym.rubrics.model.Category), one metric each.
CATEGORIES = ("completeness", "correctness", "constraint", "format")


def reward_of(grade: dict[str, Any] | None) -> float:
    """The grade's reward; 0.0 for an episode with no grade (the agent never called
    ``submit_response`` and did not spend its step budget: there is no reply to grade)."""
    return float(grade["reward"]) if grade is not None else 0.0


def category_metrics(grade: dict[str, Any] | None) -> dict[str, float]:
    """``category_<name>``: the share of the category's graded criteria met (0.0 when the episode
    has no grade or the category had nothing graded, so every rollout has every key)."""
    per_category = (grade or {}).get("per_category") or {}
    out = {}
    for name in CATEGORIES:
        rate = (per_category.get(name) or {}).get("rate")
        out[f"category_{name}"] = float(rate) if rate is not None else 0.0
    return out


def gate_metrics(grade: dict[str, Any] | None) -> dict[str, float]:
    """``gate_<criterion id>``: 1.0 when that gate (a critical criterion) tripped, else 0.0, for
    every gate the task has; ``gates_tripped``: how many tripped."""
    if grade is None:
        return {"gates_tripped": 0.0}
    tripped = {g["id"] for g in grade.get("gates_failed") or []}
    gates = [c["id"] for c in grade.get("criteria") or [] if c.get("critical")]
    out = {f"gate_{gid}": 1.0 if gid in tripped else 0.0 for gid in gates}
    out["gates_tripped"] = float(len(tripped))
    return out
