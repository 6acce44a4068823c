"""The splits: ``dev``, ``test`` and ``heldout-families`` (fixed tasks), and ``train``
(generated, unlimited). Which fixed task goes where is data, in ``tasks/splits.yaml``.

* ``heldout-families``: every task of the families listed there, and nothing else of them.
* ``dev``: the variants numbered in ``dev_variants`` of every other family.
* ``test``: every other fixed task.
* ``train``: generated tasks (``supportgym.tasks.generator``) of the families with a
  ``generate`` block that are not held out; :func:`load_split` gives the first ``n`` per
  family for a seed, :func:`draw_train_task` one at a time, without end.
"""

from __future__ import annotations

import random
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from supportgym.tasks.draw import generated_id
from supportgym.tasks.generator import check_candidate, generate
from supportgym.tasks.loader import PACKAGE_DIR, generatable_families, list_tasks
from supportgym.tasks.yamlio import load_yaml

SPLITS_FILE = PACKAGE_DIR / "splits.yaml"
FIXED_SPLITS = ("dev", "test", "heldout-families")
SPLITS = (*FIXED_SPLITS, "train")
# Candidates tried per drawn seed before the train sampler moves on to another seed.
TRAIN_TRIES_PER_SEED = 12


class SplitsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    heldout_families: list[str] = Field(default_factory=list)
    dev_variants: list[int] = Field(default_factory=lambda: [1], min_length=1)


def splits_file(path: Path | None = None) -> SplitsFile:
    return SplitsFile.model_validate(load_yaml(path or SPLITS_FILE) or {})


def split_of(family: str, number: int, spec: SplitsFile | None = None) -> str:
    """The split of a fixed task (a generated one is always ``train``)."""
    spec = spec or splits_file()
    if family in spec.heldout_families:
        return "heldout-families"
    return "dev" if number in spec.dev_variants else "test"


def train_families(spec: SplitsFile | None = None) -> list[str]:
    spec = spec or splits_file()
    return [f for f in generatable_families() if f not in spec.heldout_families]


def _check_name(name: str) -> None:
    if name not in SPLITS:
        raise ValueError(f"unknown split {name!r}; splits: {', '.join(SPLITS)}")


def load_split(name: str, *, seed: int = 0, n: int = 2) -> list[str]:
    """The task ids of split ``name``, sorted. For ``train``: the first ``n`` proven generated
    tasks of ``seed`` for every train family (slow: each is replayed and audited)."""
    _check_name(name)
    spec = splits_file()
    if name == "train":
        return sorted(tid for fam in train_families(spec) for tid in generate(fam, seed, n).ids)
    return [t.id for t in list_tasks() if split_of(t.family, t.number, spec) == name]


def draw_train_task(rng: random.Random, *, prove: bool = True) -> str:
    """One train task drawn by ``rng``: a train family, a seed, and that seed's first candidate
    that can be offered (checked as the generator checks it, ``prove`` included)."""
    families = train_families()
    if not families:
        raise ValueError("no family can be generated: add a generate block to a family (docs/tasks.md)")
    for _attempt in range(50):
        family = families[rng.randrange(len(families))]
        seed = rng.randrange(1_000_000)
        for k in range(1, TRAIN_TRIES_PER_SEED + 1):
            task_id = generated_id(family, seed, k)
            if not check_candidate(task_id, prove=prove, audit=False):
                return task_id
    raise RuntimeError("no train task could be drawn in 50 seeds: the generate blocks draw mostly empty setups")
