"""Rubric lint: flaws that make a rubric measure something other than what it claims.

Flaw classes (each a ``code``):

* ``criteria-count``  a task with fewer than 10 or more than 40 criteria
* ``no-primary``      a task without primary criteria
* ``duplicate``       two criteria with the same text or the same check
* ``near-duplicate``  two criteria whose texts are nearly the same (token Jaccard / difflib)
* ``compound``        a criterion joined with "and" that tests two things
* ``value-mismatch``  an amount or id named in the text that the check does not use
* ``unknown-entity``  a check naming a table, column, tool or row that does not exist
* ``wrong-fails``     a wrong trajectory declaring a criterion it cannot fail (judge-only)

Lint runs on prepared tasks (rendered rubrics), so values come from the real world.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from supportgym.db import WorldDB
from supportgym.money import decimal_text
from supportgym.rubrics.checks import FieldEquals, amounts_in, ids_in, to_cents
from supportgym.rubrics.model import Criterion, CriterionType
from supportgym.services.tools import REGISTRY
from supportgym.tasks import list_tasks, load_task_set, prepare_task
from supportgym.tasks.setup import MODELS

MIN_CRITERIA = 10
MAX_CRITERIA = 40
JACCARD_NEAR = 0.85
RATIO_NEAR = 0.92

# "and" inside these phrases does not join two tests.
AND_ALLOW = (
    "between",
    "and/or",
    "kestrel and finch",
    "terms and conditions",
    "name and price",
    "read and",
    "pros and cons",
    "and so on",
    "safe and sound",
)
_WORD = re.compile(r"[a-z0-9$][a-z0-9.$'_-]*")
_STOP = {"the", "a", "an", "of", "to", "is", "in", "on", "for", "with", "that", "it", "its", "be", "are"}


@dataclass
class LintIssue:
    task_id: str
    criterion: str | None
    code: str
    message: str

    def __str__(self) -> str:
        where = f"{self.task_id}" + (f" [{self.criterion}]" if self.criterion else "")
        return f"{where} {self.code}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _tokens(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def is_compound(text: str) -> bool:
    """True when " and " joins two clauses that each carry their own test."""
    low = text.lower()
    for phrase in AND_ALLOW:
        low = low.replace(phrase, " ")
    for m in re.finditer(r"\band\b", low):
        left = low[: m.start()].split(",")[-1].split(".")[-1].split()
        right = low[m.end() :].split(",")[0].split(".")[0].split()
        if len(left) >= 3 and len(right) >= 3:
            return True
    return False


def _check_values(c: Criterion) -> tuple[set[int], set[str]]:
    """Amounts (cents) and ids a check uses anywhere in its parameters."""
    data = c.check.model_dump(mode="json") if c.check else {}
    cents: set[int] = set()
    ids: set[str] = set()

    def walk(v: Any, key: str = "") -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, k)
        elif isinstance(v, list):
            for x in v:
                walk(x, key)
        elif isinstance(v, bool) or v is None:
            return
        elif isinstance(v, int):
            cents.add(v)
        elif isinstance(v, str):
            ids.update(ids_in(v))
            if key in ("amounts",):
                try:
                    cents.add(to_cents(v))
                except ValueError:  # not one amount: the amounts written in it are read below
                    pass
            cents.update(amounts_in(v))

    walk(data)
    return cents, ids


def _entities(c: Criterion, session: Any) -> list[str]:
    """Problems with the tables, columns, tools and rows a check names."""

    problems: list[str] = []
    chk = c.check
    if chk is None:
        return problems
    data = chk.model_dump()
    tables = [data.get("table")] if data.get("table") else []
    tables += list(data.get("tables") or [])
    if data.get("row"):
        tables.append(data["row"]["table"])
    for t in tables:
        if t not in MODELS:
            problems.append(f"unknown table '{t}'")
    for key in ("where",):
        for col in data.get(key) or {}:
            base = col.split(".")[0]
            t = data.get("table")
            if t in MODELS and base not in MODELS[t].__table__.c and f"{base}_id" not in MODELS[t].__table__.c:
                problems.append(f"table {t} has no column '{col}'")
    for key in ("name", "first", "then"):
        if (
            key in data
            and chk.type.startswith("tool")
            and data[key] not in REGISTRY
            and data[key] != "message_customer"
        ):
            problems.append(f"unknown tool '{data[key]}'")
    if isinstance(chk, FieldEquals) and chk.table in MODELS:
        if chk.field not in MODELS[chk.table].__table__.c:
            problems.append(f"table {chk.table} has no column '{chk.field}'")
        elif session.get(MODELS[chk.table], chk.key) is None:
            problems.append(f"{chk.table} row {chk.key} does not exist in the prepared world")
    if chk.type == "no_write_touched" and data.get("key") and data["table"] in MODELS:
        if session.get(MODELS[data["table"]], data["key"]) is None:
            problems.append(f"{data['table']} row {data['key']} does not exist in the prepared world")
    return problems


def lint_rubric(
    task_id: str, rubric: list[Criterion], *, session: Any = None, wrong: Sequence[Any] = ()
) -> list[LintIssue]:
    """Every flaw of one task's rendered rubric (``session``: the prepared world, for entities)."""
    issues: list[LintIssue] = []
    add = lambda cid, code, msg: issues.append(LintIssue(task_id, cid, code, msg))  # noqa: E731
    n = len(rubric)
    if not MIN_CRITERIA <= n <= MAX_CRITERIA:
        add(None, "criteria-count", f"{n} criteria; a task needs {MIN_CRITERIA}-{MAX_CRITERIA}")
    if not any(c.type == CriterionType.primary for c in rubric):
        add(None, "no-primary", "no primary criteria")
    for i, a in enumerate(rubric):
        for b in rubric[i + 1 :]:
            if _norm(a.text) == _norm(b.text):
                add(b.id, "duplicate", f"same text as {a.id}")
                continue
            if a.check is not None and b.check is not None and a.check.model_dump() == b.check.model_dump():
                add(b.id, "duplicate", f"same check as {a.id}")
                continue
            ta, tb = _tokens(a.text), _tokens(b.text)
            jac = len(ta & tb) / len(ta | tb) if ta | tb else 1.0
            ratio = difflib.SequenceMatcher(None, _norm(a.text), _norm(b.text)).ratio()
            if jac >= JACCARD_NEAR or ratio >= RATIO_NEAR:
                add(b.id, "near-duplicate", f"nearly the same as {a.id} (jaccard {jac:.2f}, ratio {ratio:.2f})")
    for c in rubric:
        if is_compound(c.text):
            add(c.id, "compound", f"'and' joins two tests: split it ({c.text!r})")
        if c.check is not None:
            cents, ids = _check_values(c)
            for amount in sorted(amounts_in(c.text)):
                if amount not in cents:
                    add(c.id, "value-mismatch", f"text names {decimal_text(amount)} but the check does not use it")
            for ident in ids_in(c.text):
                if ident not in ids:
                    add(c.id, "value-mismatch", f"text names {ident} but the check does not use it")
            if session is not None:
                for p in _entities(c, session):
                    add(c.id, "unknown-entity", p)
    by_id = {c.id: c for c in rubric}
    for w in wrong:
        for fid in w.fails:
            if fid not in by_id:
                add(fid, "wrong-fails", f"wrong trajectory {w.name} names unknown criterion {fid}")
            elif by_id[fid].check is None:
                add(fid, "wrong-fails", f"wrong trajectory {w.name} expects judge-only criterion {fid} to fail")
    return issues


def lint_task(prepared: Any) -> list[LintIssue]:

    db = WorldDB.from_image(prepared.image)
    try:
        with db.session() as session:
            return lint_rubric(prepared.id, prepared.rubric, session=session, wrong=prepared.wrong)
    finally:
        db.close()


def lint_all(progress: Callable[[int, int, str], None] | None = None) -> list[LintIssue]:
    """Lint every shipped task. Format problems raise TaskFormatError first. ``progress(done,
    total, task_id)`` is called before each task (preparing one builds its world: seconds)."""

    load_task_set(prepare=False)
    issues: list[LintIssue] = []
    tasks = list_tasks()
    for n, t in enumerate(tasks):
        if progress is not None:
            progress(n, len(tasks), t.id)
        issues += lint_task(prepare_task(t.id))
    return issues
