"""A rubric criterion, as the grader, the judge, lint and ``tasks show`` see it (rendered)."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field

from supportgym.rubrics.checks import Check


class Category(enum.StrEnum):
    completeness = "completeness"
    correctness = "correctness"
    constraint = "constraint"
    format = "format"


class CriterionType(enum.StrEnum):
    primary = "primary"
    extra_credit = "extra_credit"
    dodged_bullet = "dodged_bullet"


class Criterion(BaseModel):
    """One atomic criterion. With a ``check`` it is graded by program; without, by the judge."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=64)
    text: str = Field(min_length=8, description="Written for a human and an LLM judge.")
    category: Category
    type: CriterionType
    check: Check | None = None

    @property
    def by_program(self) -> bool:
        return self.check is not None
