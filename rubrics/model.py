"""A rubric criterion, as the grader, the judge, lint and ``tasks show`` see it (rendered)."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field

from supportgym.rubrics.checks import Check


class Category(enum.StrEnum):
    completeness = "completeness"
    correctness = "correctness"
    constraint = "constraint"
    # The rubric vocabulary's word; as a member it hides str.format, which no one calls on it.
    format = "format"  # type: ignore[assignment]


class CriterionType(enum.StrEnum):
    primary = "primary"
    extra_credit = "extra_credit"
    dodged_bullet = "dodged_bullet"


class Aspect(enum.StrEnum):
    """What part of the work a primary criterion grades (see ``Split``)."""

    action = "action"  # the world and the trail: what the agent did
    communication = "communication"  # what the reply or chat tells the customer
    format = "format"  # type: ignore[assignment]  # how the reply is written (hides str.format, as above)


class Criterion(BaseModel):
    """One atomic criterion. With a ``check`` it is graded by program; without, by the judge.

    ``critical``: a gate. When it is unmet, the episode's reward is capped (see
    :mod:`supportgym.rubrics.grade`), whatever the other criteria say. ``aspect``: which part of
    the work a primary grades; derived from the check when not given."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=64)
    text: str = Field(min_length=8, description="Written for a human and an LLM judge.")
    category: Category
    type: CriterionType
    check: Check | None = None
    critical: bool = False
    aspect: Aspect | None = None

    @property
    def by_program(self) -> bool:
        return self.check is not None

    @property
    def part(self) -> Aspect:
        """The aspect given, or the one the criterion's check implies."""
        if self.aspect is not None:
            return self.aspect
        if self.category == Category.format:
            return Aspect.format
        if self.check is not None:
            return (
                Aspect.communication
                if type(self.check).reads_reply or self.check.type.startswith("conversation_")
                else Aspect.action
            )
        text = self.text.lower()
        return (
            Aspect.communication if any(w in text for w in ("reply", "message", "tells", "explains")) else Aspect.action
        )


class Split(BaseModel):
    """How the primary term divides between aspects (each family may state its own). Weights of
    aspects a task has no graded primary for are shared out over the others."""

    model_config = ConfigDict(extra="forbid")
    action: float = Field(0.5, ge=0, le=1)
    communication: float = Field(0.4, ge=0, le=1)
    format: float = Field(0.1, ge=0, le=1)

    def weight(self, aspect: Aspect) -> float:
        return float(getattr(self, aspect.value))
