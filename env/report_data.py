"""What ``supportgym report`` shows, computed from a run: one record per episode, then
aggregates (reward, perfect rate and pass^k per family and level, failing criteria, tripped
dodged bullets, tokens, cost and latency).

A run is any of: the JSON ``supportgym eval --out`` writes (``{"summary", "episodes"}``), a
``trajectories.jsonl`` (``supportgym eval --agent llm``), or the directory holding it.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supportgym.stats import percentile
from supportgym.tasks import get_task


class RunFormatError(ValueError):
    """The file is not a run this report can read; the message says what was expected."""


@dataclass
class EpisodeRecord:
    """One graded episode, whatever produced it."""

    task_id: str
    family: str
    levels: list[str]
    attempt: int
    reward: float | None
    perfect: bool
    criteria: list[dict[str, Any]] = field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    elapsed_s: float | None = None
    grading_ms: float | None = None
    infra_error: str | None = None
    # Critical criteria unmet (graders with reward gates report them as ``grade["gates_failed"]``).
    gates_failed: list[str] = field(default_factory=list)


def _task_meta(task_id: str) -> tuple[str, list[str]]:
    try:
        task = get_task(task_id)
    except KeyError:  # a task since removed: keep the episode, grouped by its id's family part
        return task_id.rsplit("-", 1)[0], []
    return task.family, [str(lv) for lv in task.levels]


def _record(raw: dict[str, Any], where: str) -> EpisodeRecord:
    task_id = raw.get("task_id")
    if not isinstance(task_id, str):
        raise RunFormatError(f"{where}: an episode without task_id")
    grade = raw.get("grade") or {}
    family, levels = _task_meta(task_id)
    return EpisodeRecord(
        task_id=task_id,
        family=str(raw.get("family") or family),
        levels=[str(x) for x in (raw.get("levels") or levels)],
        attempt=int(raw.get("attempt") or 0),
        reward=None if raw.get("reward") is None else float(raw["reward"]),
        perfect=bool(raw.get("perfect")),
        criteria=list(grade.get("criteria") or []),
        tokens_in=int(raw.get("tokens_in") or 0),
        tokens_out=int(raw.get("tokens_out") or 0),
        elapsed_s=raw.get("elapsed_s"),
        grading_ms=grade.get("elapsed_ms"),
        infra_error=raw.get("infra_error"),
        gates_failed=[str(g.get("id") if isinstance(g, dict) else g) for g in grade.get("gates_failed") or []],
    )


def records_from_episodes(rows: list[dict[str, Any]], where: str = "run") -> list[EpisodeRecord]:
    """Records of episode dicts as ``supportgym eval`` or a trajectories.jsonl holds them."""
    records = [_record(r, f"{where} episode {n + 1}") for n, r in enumerate(rows)]
    if not records:
        raise RunFormatError(f"{where}: the run holds no episodes")
    return records


def load_run(path: str | Path) -> list[EpisodeRecord]:
    """Episode records of the run at ``path`` (see the module docstring for what it may be)."""
    p = Path(path)
    if p.is_dir():
        p = p / "trajectories.jsonl"
    if not p.is_file():
        raise RunFormatError(f"{path}: no such file (a run JSON, a trajectories.jsonl or its directory)")
    text = p.read_text(encoding="utf-8")
    if p.suffix == ".jsonl":
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RunFormatError(f"{path}: not JSON ({exc.msg} at char {exc.pos})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("episodes"), list):
            raise RunFormatError(f"{path}: expected an object with an 'episodes' list (supportgym eval --out)")
        rows = doc["episodes"]
    return records_from_episodes(rows, str(path))


def pass_hat_k(successes: int, attempts: int, k: int) -> float | None:
    """Chance that ``k`` attempts drawn from ``attempts`` all succeed (unbiased, without
    replacement): C(successes, k) / C(attempts, k). None when there are fewer than k attempts."""
    if attempts < k:
        return None
    return math.comb(successes, k) / math.comb(attempts, k)


def _mean(xs: list[float]) -> float | None:
    return statistics.fmean(xs) if xs else None


def _percentile(xs: list[float], q: float) -> float | None:
    """None when nothing was timed (an empty run), else the sample at rank ceil(q * n)."""
    return percentile(xs, q, "inverted_cdf") if xs else None


def _block(records: list[EpisodeRecord], k: int) -> dict[str, Any]:
    scored = [r for r in records if r.infra_error is None and r.reward is not None]
    by_task: dict[str, list[EpisodeRecord]] = defaultdict(list)
    for r in scored:
        by_task[r.task_id].append(r)
    curve = {}
    for j in range(1, k + 1):
        values = [pass_hat_k(sum(x.perfect for x in eps), len(eps), j) for eps in by_task.values()]
        known = [v for v in values if v is not None]
        curve[str(j)] = _mean(known)
    return {
        "tasks": len({r.task_id for r in records}),
        "episodes": len(records),
        "infra_errors": len(records) - len(scored),
        "mean_reward": _mean([float(r.reward) for r in scored if r.reward is not None]),
        "perfect_rate": _mean([1.0 if r.perfect else 0.0 for r in scored]),
        "pass_hat_k": curve,
    }


def summarise_run(
    records: list[EpisodeRecord], *, price_in: float = 0.0, price_out: float = 0.0, top_criteria: int = 20
) -> dict[str, Any]:
    """Every figure the report shows. ``price_in``/``price_out``: dollars per million tokens."""
    k = max(attempts_per_task(records).values())
    families = sorted({r.family for r in records})
    levels = sorted({lv for r in records for lv in r.levels})
    fails: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])  # (family, criterion) -> [unmet, graded]
    tripped: dict[str, int] = defaultdict(int)
    gates: dict[str, int] = defaultdict(int)
    for r in records:
        for gate in r.gates_failed:
            gates[f"{r.family}/{gate}"] += 1
        for c in r.criteria:
            if c.get("verdict") not in ("met", "unmet"):
                continue
            cell = fails[(r.family, str(c.get("id")))]
            cell[0] += c["verdict"] == "unmet"
            cell[1] += 1
            if c["verdict"] == "unmet" and c.get("type") == "dodged_bullet":
                tripped[f"{r.family}/{c.get('id')}"] += 1
    worst = sorted(((u / g, u, fam, cid) for (fam, cid), (u, g) in fails.items() if u), reverse=True)
    worst_ids = list(dict.fromkeys(cid for *_x, cid in worst))[:top_criteria]
    heat = {
        fam: {cid: (fails[(fam, cid)][0] / fails[(fam, cid)][1]) if fails[(fam, cid)][1] else None for cid in worst_ids}
        for fam in families
    }
    tokens_in = sum(r.tokens_in for r in records)
    tokens_out = sum(r.tokens_out for r in records)
    latency = [float(r.elapsed_s) for r in records if r.elapsed_s is not None]
    grading = [float(r.grading_ms) for r in records if r.grading_ms is not None]
    return {
        "k": k,
        "overall": _block(records, k),
        "by_family": {f: _block([r for r in records if r.family == f], k) for f in families},
        "by_level": {lv: _block([r for r in records if lv in r.levels], k) for lv in levels},
        "rewards": [r.reward for r in records if r.reward is not None],
        "most_failed": [
            {"family": fam, "criterion": cid, "unmet": u, "graded": fails[(fam, cid)][1], "rate": rate}
            for rate, u, fam, cid in worst[:top_criteria]
        ],
        "heatmap": {"families": families, "criteria": worst_ids, "rates": heat},
        "dodged_bullets_tripped": dict(sorted(tripped.items(), key=lambda kv: (-kv[1], kv[0]))),
        "gates_tripped": dict(sorted(gates.items(), key=lambda kv: (-kv[1], kv[0]))),
        "cost": {
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "tokens_per_episode": (tokens_in + tokens_out) / len(records),
            "price_in_per_mtok": price_in,
            "price_out_per_mtok": price_out,
            "dollars": (tokens_in * price_in + tokens_out * price_out) / 1e6,
        },
        "latency": {
            "episodes_timed": len(latency),
            "episode_s_p50": _percentile(latency, 0.5),
            "episode_s_p99": _percentile(latency, 0.99),
            "grading_ms_p50": _percentile(grading, 0.5),
            "grading_ms_p99": _percentile(grading, 0.99),
            "episode_s": latency,
            "grading_ms": grading,
        },
    }


def attempts_per_task(records: list[EpisodeRecord]) -> dict[str, int]:
    """How many episodes each task has in the run (k of pass^k is the largest)."""
    counts: dict[str, int] = defaultdict(int)
    for r in records:
        counts[r.task_id] += 1
    return counts
