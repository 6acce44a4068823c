"""Waiting: let simulated time pass so the world moves on (see :mod:`supportgym.progression`).

Opt-in: only a task that permits waiting enables ``advance_time`` (setup ``enable_tools``), so
no other task's agent can skip ahead to see how things turn out.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import Field, model_validator

from supportgym.clock import iso
from supportgym.policy import MAX_ADVANCE_HOURS
from supportgym.progression import Progress, plan_progress
from supportgym.services.tools.base import Args, ToolContext, tool


class AdvanceTimeArgs(Args):
    days: int = Field(0, ge=0, le=MAX_ADVANCE_HOURS // 24, description="Whole days to wait.")
    hours: int = Field(0, ge=0, le=MAX_ADVANCE_HOURS, description="Hours to wait (added to days).")

    @model_validator(mode="after")
    def _some_time(self) -> AdvanceTimeArgs:
        total = self.days * 24 + self.hours
        if total < 1:
            raise ValueError("wait at least one hour (days and/or hours)")
        if total > MAX_ADVANCE_HOURS:
            raise ValueError(f"wait at most {MAX_ADVANCE_HOURS} hours ({MAX_ADVANCE_HOURS // 24} days) in one call")
        return self


def apply_progress(ctx: ToolContext, progress: Progress) -> None:
    """Write ``progress`` through the call's row writer, so the trail records every change."""
    for change in progress.changes:
        row = ctx.get(change.model, change.key, "hours")
        for column, value in change.values.items():
            setattr(row, column, value)
    for new in progress.new_rows:
        ctx.add(new.model, **new.values)
    ctx.flush()


@tool(group="knowledge", read_only=False, opt_in=True)
def advance_time(ctx: ToolContext, args: AdvanceTimeArgs) -> dict[str, Any]:
    """Wait: let days and/or hours pass in the world (at most two weeks per call). Parcels on
    their way arrive when due, pending refunds settle, tickets waiting on customers close and
    unanswered tickets pass their response deadline. Only some tasks allow waiting. Re-read the
    records you care about afterwards to see what changed."""
    start = ctx.now
    end = start + timedelta(days=args.days, hours=args.hours)
    progress = plan_progress(ctx.conn, start, end)
    apply_progress(ctx, progress)
    return {
        "waited_hours": args.days * 24 + args.hours,
        "previous_time": iso(start),
        "now": iso(end),
        "changed_records": sum(len(v) for v in progress.summary.values()),
    }
