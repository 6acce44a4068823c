"""Read a grade (the rubric's ``Grade`` or its JSON dump) as rows: one per criterion.

The web debugger and the terminal commands both show grades; this is the one place that knows
how a grade's per-criterion results are laid out. Anything it cannot read is shown as unknown
rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_LIST_KEYS = ("criteria", "results", "verdicts", "criterion_results")
_ID_KEYS = ("id", "criterion_id", "criterion")
_MET_KEYS = ("met", "satisfied", "passed", "verdict", "score", "s")
_EVIDENCE_KEYS = ("evidence", "reason", "rationale", "explanation", "detail", "details")
_TEXT_KEYS = ("text", "description", "statement", "requirement")
_SOURCE_KEYS = ("source", "checker", "method", "check", "judged_by", "by")
_TRUE = {"met", "pass", "passed", "yes", "true", "satisfied", "1", "ok"}
_FALSE = {"unmet", "not_met", "fail", "failed", "no", "false", "unsatisfied", "0", "violated"}


@dataclass
class CriterionRow:
    id: str
    met: bool | None
    evidence: str = ""
    type: str = ""
    category: str = ""
    text: str = ""
    source: str = ""
    raw: str = ""

    @property
    def verdict(self) -> str:
        """met, unmet, or what the grade said when it is neither (judge_pending, ...)."""
        if self.met is None:
            return self.raw or "unknown"
        return "met" if self.met else "unmet"

    @property
    def css(self) -> str:
        return {True: "met", False: "unmet", None: "unknown"}[self.met]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "verdict": self.verdict,
            "met": self.met,
            "evidence": self.evidence,
            "type": self.type,
            "category": self.category,
            "text": self.text,
            "source": self.source,
        }


def grade_dict(grade: Any) -> dict[str, Any] | None:
    """A grade as a JSON-able dict, from a pydantic ``Grade``, a dict or None."""
    if grade is None:
        return None
    if isinstance(grade, dict):
        return grade
    dump = getattr(grade, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    raise TypeError(f"not a grade: {type(grade).__name__}")


def _first(d: dict[str, Any], keys: tuple[str, ...], default: Any = None) -> Any:
    for k in keys:
        if k in d and d[k] is not None:
            return d[k]
    return default


def _as_met(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return True if value == 1 else False if value == 0 else None
    if isinstance(value, str):
        v = value.strip().lower().replace(" ", "_")
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
    if isinstance(value, dict):
        return _as_met(_first(value, _MET_KEYS))
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(v) for v in value)
    if hasattr(value, "value"):
        return str(value.value)
    return str(value)


def _criteria_list(g: dict[str, Any]) -> list[Any]:
    for k in _LIST_KEYS:
        v = g.get(k)
        if isinstance(v, list):
            return v
        if isinstance(v, dict):  # {criterion_id: result}
            return [{"id": cid, **(r if isinstance(r, dict) else {"met": r})} for cid, r in v.items()]
    return []


def grade_rows(grade: Any) -> list[CriterionRow]:
    """One row per criterion, in the grade's order."""
    g = grade_dict(grade)
    if not g:
        return []
    rows = []
    for n, item in enumerate(_criteria_list(g), start=1):
        if not isinstance(item, dict):
            rows.append(CriterionRow(id=f"#{n}", met=_as_met(item)))
            continue
        criterion = item.get("criterion")
        nested = criterion if isinstance(criterion, dict) else {}
        merged = {**nested, **{k: v for k, v in item.items() if k != "criterion" or not nested}}
        verdict = _first(merged, _MET_KEYS)
        rows.append(
            CriterionRow(
                id=_text(_first(merged, _ID_KEYS, f"#{n}")),
                met=_as_met(verdict),
                evidence=_text(_first(merged, _EVIDENCE_KEYS, "")),
                type=_text(_first(merged, ("type", "kind", "criterion_type"), "")),
                category=_text(merged.get("category", "")),
                text=_text(_first(merged, _TEXT_KEYS, "")),
                source=_text(_first(merged, _SOURCE_KEYS, "")),
                raw=_text(verdict),
            )
        )
    return rows


def grade_summary(grade: Any) -> dict[str, Any]:
    """Reward, perfect flag and counts of met / unmet / unknown criteria."""
    g = grade_dict(grade) or {}
    rows = grade_rows(g)
    return {
        "reward": g.get("reward"),
        "perfect": g.get("perfect"),
        "met": sum(r.met is True for r in rows),
        "unmet": sum(r.met is False for r in rows),
        "unknown": sum(r.met is None for r in rows),
        "total": len(rows),
    }
