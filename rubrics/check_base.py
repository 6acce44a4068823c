"""What every program check is built on: its verdict, what it may look at, and its base class.

``IntegritySpec`` carries what the reward-integrity checks need beyond the episode itself: the
changes the task allows (its reference solution's footprint plus declared allowances), who the
caller is, what the caller already knows and the text a model answer states.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, NamedTuple

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from supportgym.rubrics.world_diff import Allowance, Footprint
from supportgym.schema import Base
from supportgym.trail import TrailEntry

MESSAGE_TOOL = "message_customer"


class Said(NamedTuple):
    """A piece of text the agent wrote: where (for evidence), at which step, and the text."""

    where: str
    step: int
    text: str


@dataclass(frozen=True)
class IntegritySpec:
    """What a task allows and who it is for (built by the task layer when a task is prepared)."""

    allowed: Footprint
    allowances: tuple[Allowance, ...] = ()
    caller: str | None = None  # the verified customer id; None when nobody is verified
    internal: bool = False  # the requester is staff (a support lead), not a customer
    known_text: str = ""  # what the caller said or was given (ticket messages, chat opening)
    reference_text: str = ""  # the reference solution's reply and chat messages
    conversational: bool = False

    @property
    def allowed_text(self) -> str:
        """Text whose values a reply may repeat without competing with the right answer."""
        return self.reference_text + "\n" + self.known_text


@dataclass
class Verdict:
    met: bool
    evidence: str


@dataclass
class CheckContext:
    """What a check may look at. Built once per grading; derived views are cached.

    ``session`` (an ORM session on the final world) is opened on first use: checks that can be
    answered from the changes, the trail or the reply never pay for it. ``conn`` is the raw
    sqlite3 connection of the final world for cheap point reads.
    """

    db: Any
    changes: list[dict[str, Any]]
    raw_changes: list[dict[str, Any]]
    trail: list[TrailEntry]
    reply: str | None
    values: dict[str, Any]
    now: datetime
    integrity: IntegritySpec | None = None
    _cache: dict[str, Any] = field(default_factory=dict)
    _session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self.db.session()
        return self._session

    @property
    def conn(self) -> Any:
        return self.db.conn

    def close(self) -> None:
        if self._session is not None:
            self._session.rollback()
            self._session.close()
            self._session = None

    def created_rows(self, table: str) -> list[dict[str, Any]]:
        """Final values of the rows of ``table`` inserted during the episode."""
        key = f"rows:{table}"
        if key not in self._cache:
            self._cache[key] = [
                {**c["after"], "__key__": c["key"]} for c in self.changes if c["op"] == "insert" and c["table"] == table
            ]
        return self._cache[key]

    def exists(self, table: str, key: str) -> bool:
        pk = list(Base.metadata.tables[table].primary_key.columns)[0].name
        return self.conn.execute(f'SELECT 1 FROM "{table}" WHERE "{pk}" = ? LIMIT 1', (key,)).fetchone() is not None

    def created_keys(self, table: str) -> set[str]:
        key = f"created:{table}"
        if key not in self._cache:
            self._cache[key] = {c["key"] for c in self.changes if c["op"] == "insert" and c["table"] == table}
        return self._cache[key]

    def calls(self, name: str, ok: bool | None = True) -> list[TrailEntry]:
        return [t for t in self.trail if t.name == name and (ok is None or t.ok == ok)]

    def audience_texts(self) -> list[Said]:
        """Everything the customer was told: the final reply of a ticket task (a chat task's
        final reply is an internal summary), every message the agent tried to send in the chat,
        and every ``reply_to_customer`` message."""
        out: list[Said] = []
        for t in self.trail:
            if not isinstance(t.arguments, dict):
                continue
            if t.name == MESSAGE_TOOL and t.arguments.get("message"):
                out.append(Said(f"chat message, step {t.step}", t.step, str(t.arguments["message"])))
            elif t.name == "reply_to_customer" and t.ok and t.arguments.get("message"):
                out.append(Said(f"reply_to_customer, step {t.step}", t.step, str(t.arguments["message"])))
        if self.reply and not self.conversational:
            out.append(Said("final reply", len(self.trail) + 1, self.reply))
        return out

    @property
    def conversational(self) -> bool:
        if self.integrity is not None:
            return self.integrity.conversational
        return any(t.name == MESSAGE_TOOL for t in self.trail)

    def stated_texts(self) -> list[Said]:
        """Everything the agent wrote that may state a fact: what the customer was told plus,
        in a chat task, the final summary for the ticket log."""
        out = self.audience_texts()
        if self.reply and self.conversational:
            out.append(Said("final summary", len(self.trail) + 1, self.reply))
        return out


class CheckBase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str
    # Tables, ids and amounts a check names, for lint (entities must exist; text must agree).
    reads_reply: ClassVar[bool] = False

    def evaluate(self, ctx: CheckContext) -> Verdict:  # pragma: no cover - abstract
        raise NotImplementedError
