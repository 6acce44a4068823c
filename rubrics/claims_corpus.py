"""Measuring the claim extractor against the labelled corpus (rubrics/corpus/claims.yaml).

Scoring is per claim and per kind: in each item the predicted kinds are matched to the expected
kinds as multisets; a match is a true positive, an extra prediction a false positive, a missing
one a false negative. For the matched claims the ids and the amounts are compared as sets
(extraction accuracy). Dev and held-out items are scored separately.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from supportgym.rubrics.claims import ClaimKind, extract_claims

CORPUS_PATH = Path(__file__).parent / "corpus" / "claims.yaml"
Split = Literal["dev", "heldout"]


class ExpectedClaim(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ClaimKind
    ids: list[str] = Field(default_factory=list)
    amounts: list[int] = Field(default_factory=list, description="Cents.")


class CorpusItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1)
    split: Split
    claims: list[ExpectedClaim]


class Corpus(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: Literal[1]
    items: list[CorpusItem] = Field(min_length=1)


class KindScore(BaseModel):
    kind: str
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, float | int | str]:
        return {
            "kind": self.kind,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


class CorpusError(BaseModel):
    split: Split
    text: str
    missing: list[str]
    extra: list[str]
    detail: str = ""


class SplitReport(BaseModel):
    split: str
    items: int
    per_kind: list[KindScore]
    overall: KindScore
    ids_correct: int = 0
    amounts_correct: int = 0
    matched: int = 0

    @property
    def id_accuracy(self) -> float:
        return self.ids_correct / self.matched if self.matched else 1.0

    @property
    def amount_accuracy(self) -> float:
        return self.amounts_correct / self.matched if self.matched else 1.0

    def to_dict(self) -> dict[str, object]:
        return {
            "split": self.split,
            "items": self.items,
            "overall": self.overall.to_dict(),
            "per_kind": [k.to_dict() for k in self.per_kind],
            "id_accuracy": round(self.id_accuracy, 4),
            "amount_accuracy": round(self.amount_accuracy, 4),
            "matched_claims": self.matched,
        }


class CorpusReport(BaseModel):
    path: str
    splits: dict[str, SplitReport]
    errors: list[CorpusError]

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "splits": {k: v.to_dict() for k, v in self.splits.items()},
            "errors": [e.model_dump() for e in self.errors],
        }


def load_corpus(path: Path | str | None = None) -> Corpus:
    with open(path or CORPUS_PATH, encoding="utf-8") as fh:
        return Corpus.model_validate(yaml.safe_load(fh))


def _score(name: str, items: list[CorpusItem], errors: list[CorpusError]) -> SplitReport:
    kinds = {k.value: KindScore(kind=k.value) for k in ClaimKind}
    report = SplitReport(split=name, items=len(items), per_kind=[], overall=KindScore(kind="overall"))
    for item in items:
        got = extract_claims(item.text)
        want = Counter(c.kind.value for c in item.claims)
        have = Counter(c.kind.value for c in got)
        for kind in set(want) | set(have):
            tp = min(want[kind], have[kind])
            kinds[kind].tp += tp
            kinds[kind].fp += have[kind] - tp
            kinds[kind].fn += want[kind] - tp
        detail = []
        pool = list(got)
        for exp in item.claims:
            match = next((c for c in pool if c.kind == exp.kind), None)
            if match is None:
                continue
            pool.remove(match)
            report.matched += 1
            ids_ok = set(match.ids) == set(exp.ids)
            amounts_ok = set(match.amounts_cents) == set(exp.amounts)
            report.ids_correct += ids_ok
            report.amounts_correct += amounts_ok
            if not ids_ok or not amounts_ok:
                detail.append(f"{exp.kind.value}: ids {list(match.ids)} amounts {list(match.amounts_cents)}")
        missing = list((want - have).elements())
        extra = list((have - want).elements())
        if missing or extra or detail:
            errors.append(
                CorpusError(split=item.split, text=item.text, missing=missing, extra=extra, detail="; ".join(detail))
            )
    report.per_kind = [k for k in kinds.values() if k.tp + k.fp + k.fn]
    report.overall = KindScore(
        kind="overall",
        tp=sum(k.tp for k in kinds.values()),
        fp=sum(k.fp for k in kinds.values()),
        fn=sum(k.fn for k in kinds.values()),
    )
    return report


def evaluate_corpus(path: Path | str | None = None) -> CorpusReport:
    """Precision and recall of ``extract_claims`` on the corpus, per split and in total."""
    corpus = load_corpus(path)
    errors: list[CorpusError] = []
    splits = {}
    for name in ("dev", "heldout"):
        splits[name] = _score(name, [i for i in corpus.items if i.split == name], errors)
    splits["all"] = _score("all", corpus.items, [])
    return CorpusReport(path=str(path or CORPUS_PATH), splits=splits, errors=errors)
