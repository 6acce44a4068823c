"""Generated task ids and the params drawn for them (see ``supportgym.tasks.generator``).

A generated task is named ``<family>-g<seed>-<k>``: the ``k``-th candidate the generator draws
for ``seed``. Everything about it (the variant it starts from, every drawn param) follows from
that id alone, so any process (the environment, the HTTP service, a test) rebuilds the same
task from its id without a registry, and the same family, seed and k always give the same task.
"""

from __future__ import annotations

import hashlib
import random
import re
from typing import Any

from supportgym.tasks.model import Draw

GENERATED_ID = re.compile(r"^(?P<family>[a-z][a-z0-9_]*)-g(?P<seed>\d+)-(?P<k>\d+)$")


def generated_id(family: str, seed: int, k: int) -> str:
    if seed < 0 or k < 1:
        raise ValueError(f"a generated task needs seed >= 0 and k >= 1, not seed={seed}, k={k}")
    return f"{family}-g{seed}-{k}"


def parse_generated_id(task_id: str) -> tuple[str, int, int] | None:
    """``(family, seed, k)`` of a generated task id, None for any other id."""
    m = GENERATED_ID.match(task_id)
    if m is None or int(m["k"]) < 1:
        return None
    return m["family"], int(m["seed"]), int(m["k"])


def candidate_rng(family: str, seed: int, k: int) -> random.Random:
    # Seeded from a digest, not hash(): the same id must draw the same task in every process.
    digest = hashlib.sha256(f"{family}\x00{seed}\x00{k}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def draw_params(spec: dict[str, Draw], rng: random.Random) -> dict[str, Any]:
    """One value per drawn param, in name order (so adding a param to a file only changes the
    draws of params named after it)."""
    out: dict[str, Any] = {}
    for name in sorted(spec):
        draw = spec[name]
        if draw.range is not None:
            out[name] = rng.randint(draw.range[0], draw.range[1])
        elif draw.choice is not None:
            out[name] = rng.choice(draw.choice)
        else:  # the Draw model requires one of the two
            raise ValueError(f"param {name!r} draws neither from a range nor from a choice")
    return out
