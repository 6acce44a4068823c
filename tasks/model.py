"""The file formats: a task family (``tasks/data/<family>.yaml``) and its rubric
(``rubrics/data/<family>.yaml``). See ``tasks/AUTHORING.md`` for the prose version."""

from __future__ import annotations

import enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from supportgym.rubrics.checks import CHECK_TYPES
from supportgym.rubrics.model import Aspect, Category, CriterionType, Split
from supportgym.rubrics.world_diff import Op, inserts_and_updates
from supportgym.services.conversation import MESSAGE_TOOL, Conversation
from supportgym.services.episode import SUBMIT_TOOL
from supportgym.services.tools import REGISTRY
from supportgym.tasks.setup import SetupOp
from supportgym.world_seed.scales import SCALES


class Level(enum.StrEnum):
    tool_use = "tool_use"
    planning = "planning"
    adaptability = "adaptability"
    groundedness = "groundedness"
    common_sense = "common_sense"


class Difficulty(enum.StrEnum):
    easy = "easy"
    medium = "medium"
    hard = "hard"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class World(_Strict):
    seed: int = Field(7, ge=0)
    scale: str = "default"

    @field_validator("scale")
    @classmethod
    def _scale(cls, v: str) -> str:
        if v not in SCALES:
            raise ValueError(f"unknown scale {v!r}; choose one of {', '.join(SCALES)}")
        return v


class Call(_Strict):
    """One tool call of a scripted solution. ``args`` may use ``{result.<tool>.<path>}`` for a
    value returned by the latest earlier call of ``<tool>`` (e.g. the RMA id create_return made)."""

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)

    @field_validator("tool")
    @classmethod
    def _known(cls, v: str) -> str:
        if v == SUBMIT_TOOL:
            raise ValueError("do not script submit_response: give the solution's 'reply' instead")
        if v == MESSAGE_TOOL:  # the conversational pseudo-tool (tasks with a conversation block)
            return v
        if v not in REGISTRY:
            import difflib

            close = difflib.get_close_matches(v, list(REGISTRY), n=2)
            raise ValueError(f"unknown tool {v!r}" + (f"; did you mean {', '.join(close)}?" if close else ""))
        return v


class Solution(_Strict):
    calls: list[Call] = Field(default_factory=list)
    reply: str | None = Field(None, description="The final reply (submit_response); null: never submit.")


class WrongSolution(Solution):
    name: str = Field(pattern=r"^[a-z0-9_\-]+$")
    description: str = Field(min_length=5, description="The mistake this trajectory makes.")
    fails: list[str] = Field(description="Ids of the program-checked criteria it must fail (and no others).")
    ceiling: float | None = Field(
        None,
        ge=-1,
        le=1,
        description="The most this trajectory may score (gated reward). Default: 0.2 when it fails a "
        "gate (harm, false claim, disclosure, skipped check), else just below 1.0.",
    )


class AllowanceTemplate(_Strict):
    """A change the task allows beyond its reference's (see ``supportgym.rubrics.world_diff``).
    Values are templates rendered against the task's setup values."""

    table: str
    ops: list[Op] = Field(default_factory=inserts_and_updates)
    key: str | None = None
    where: dict[str, str] = Field(default_factory=dict)
    fields: list[str] | None = None
    why: str = Field(min_length=3, description="Why the task allows it.")


class Draw(_Strict):
    """How the generator draws one param of a generated variant: an integer in ``range``
    (both ends included) or one of ``choice``."""

    range: tuple[int, int] | None = None
    choice: list[Any] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one(self) -> Draw:
        if (self.range is None) == (self.choice is None):
            raise ValueError("give exactly one of range: [low, high] or choice: [...]")
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError(f"range {list(self.range)} is empty: low must not exceed high")
        return self


class Variant(_Strict):
    """One task of the family. Any family field given here replaces the family's for this task."""

    note: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    world: World | None = None
    title: str | None = None
    levels: list[Level] | None = None
    difficulty: Difficulty | None = None
    max_steps: int | None = Field(None, ge=2, le=1000)
    instruction: str | None = None
    setup: list[SetupOp] | None = None
    reference: Solution | None = None
    wrong: list[WrongSolution] | None = None
    extra_wrong: list[WrongSolution] = Field(
        default_factory=list, description="Wrong trajectories added to the family's for this variant."
    )
    conversation: Conversation | None = None
    caller: str | None = None
    allow: list[AllowanceTemplate] | None = None
    generate: dict[str, Draw] | None = Field(
        None,
        description="Params the generator draws when it bases a new task on this variant, over "
        "the family's generate block; an empty mapping keeps the family's.",
    )


class FamilyFile(_Strict):
    family: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = Field(min_length=5, description="What the family probes, for authors.")
    title: str
    levels: list[Level] = Field(min_length=1)
    difficulty: Difficulty
    max_steps: int = Field(30, ge=2, le=1000)
    world: World = Field(default_factory=World)
    params: dict[str, Any] = Field(default_factory=dict, description="Defaults for every variant's params.")
    instruction: str = Field(min_length=10)
    setup: list[SetupOp] = Field(default_factory=list)
    reference: Solution
    wrong: list[WrongSolution] = Field(default_factory=list)
    variants: list[Variant] = Field(min_length=1, max_length=99)
    conversation: Conversation | None = Field(
        None, description="A live customer the agent talks to with message_customer (optional)."
    )
    caller: str | None = Field(
        None,
        description="The verified customer the agent serves (a template, e.g. '{requester.id}'). "
        "Default: the customer of the task's ticket, else of its order or customer.",
    )
    allow: list[AllowanceTemplate] = Field(
        default_factory=list, description="Changes allowed beyond the reference's (and the task ticket's)."
    )
    generate: dict[str, Draw] | None = Field(
        None,
        description="Params the generator draws for new tasks of this family (absent: the family "
        "is never generated). Each new task starts from one variant, chosen by the seed.",
    )
    fragments: dict[str, Any] = Field(
        default_factory=dict,
        description="Pieces shared by variants under YAML anchors (setup steps, calls); never read "
        "as such. A list item that is a list is spliced in place (tasks/splice.py).",
    )


class CriterionTemplate(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=64)
    text: str = Field(min_length=8)
    category: Category
    type: CriterionType
    check: dict[str, Any] | None = None
    critical: bool = Field(False, description="A gate: unmet caps the reward (gated mode).")
    aspect: Aspect | None = None
    variants: list[int] | None = Field(None, description="Only these variant numbers (1-based).")

    @field_validator("check")
    @classmethod
    def _check_shape(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        # Values may be templates, so only the shape is validated here; the rendered check is
        # validated in full when the task is prepared.
        if v is None:
            return v
        kind = v.get("type")
        if kind not in CHECK_TYPES:
            raise ValueError(f"unknown check type {kind!r}; known: {', '.join(CHECK_TYPES)}")
        allowed = set(CHECK_TYPES[kind].model_fields)
        extra = sorted(set(v) - allowed)
        if extra:
            raise ValueError(f"check {kind} has no field(s) {', '.join(extra)}; fields: {', '.join(sorted(allowed))}")
        return v


class RubricFile(_Strict):
    family: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    split: Split = Field(
        default_factory=Split, description="How primaries divide between action, communication and format."
    )
    criteria: list[CriterionTemplate] = Field(min_length=1)
    variant_criteria: dict[int, list[CriterionTemplate]] = Field(
        default_factory=dict, description="Extra criteria for one variant number (1-based)."
    )

    @model_validator(mode="after")
    def _unique(self) -> RubricFile:
        ids = [c.id for c in self.criteria]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate criterion id(s): {', '.join(dup)}")
        return self
