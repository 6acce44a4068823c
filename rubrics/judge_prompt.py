"""What the LLM judge is shown and what it must answer: prompts, schemas and verdict parsing.

Bump :data:`PROMPT_VERSION` whenever the wording, the evidence rendering or the schema changes:
it is part of the cache key, so old cached verdicts are not reused for a different prompt.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from supportgym.env.openai_client import parse_json_content

PROMPT_VERSION = "judge-v1"
MAX_REASON_CHARS = 400

SYSTEM_PROMPT = """You grade one customer-support episode against rubric criteria.
An agent handled the task below using tools only, then sent a final reply.
You get the task instruction, the agent's tool-call trail (calls and what the world answered),
the net changes it made to the database, and its final reply.
For each criterion decide whether it is MET by this episode. Judge only from the evidence shown:
claims in the reply must be supported by the trail. A criterion about the reply is not met when
there is no reply. Do not reward saying that something was done when the trail does not show it.
Answer with JSON only, in the requested schema; keep each reason to one short sentence."""


class CriterionVerdict(BaseModel):
    """The shape one verdict must have."""

    model_config = ConfigDict(extra="ignore")
    met: bool = Field(strict=True)
    reason: str = ""


def _verdict_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "met": {"type": "boolean"},
            # No maxLength: llama.cpp turns it into a grammar so large that sampling slows 15x.
            # The reason is bounded by max_tokens and clipped when parsed.
            "reason": {"type": "string"},
        },
        "required": ["met", "reason"],
        "additionalProperties": False,
    }


def verdict_schema(n: int) -> dict[str, Any]:
    """JSON schema of the answer for ``n`` criteria: one verdict, or keys ``c1``..``cN``."""
    if n == 1:
        return _verdict_schema()
    keys = [f"c{i}" for i in range(1, n + 1)]
    return {
        "type": "object",
        "properties": {k: _verdict_schema() for k in keys},
        "required": keys,
        "additionalProperties": False,
    }


def response_format(mode: str, n: int) -> dict[str, Any] | None:
    """``response_format`` for the request. ``json_schema`` is OpenAI's structured output (also
    vLLM, Ollama); ``json_object`` with a ``schema`` is llama.cpp's; ``none`` sends nothing."""
    schema = verdict_schema(n)
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "verdict", "schema": schema, "strict": True}}
    if mode == "json_object":
        return {"type": "json_object", "schema": schema}
    if mode == "none":
        return None
    raise ValueError(f"unknown response_format mode {mode!r}")


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"...[{len(text) - limit} more chars]"


def _compact(value: Any, limit: int) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return _clip(text, limit)


def render_evidence(
    instruction: str,
    trail: list[Any],
    reply: str | None,
    net_changes: list[dict[str, Any]],
    *,
    max_chars: int = 12_000,
    max_result_chars: int = 600,
) -> str:
    """The episode as text: deterministic (it is hashed into the cache key) and bounded.

    When the trail does not fit, the middle steps are elided (first and last kept)."""
    steps = []
    for e in trail:
        get = e.get if isinstance(e, dict) else lambda k, d=None, _e=e: getattr(_e, k, d)
        status = "ok" if get("ok") else f"ERROR {get('error_code') or ''}".rstrip()
        steps.append(
            f"{get('step')}. {get('name')}({_compact(get('arguments'), 300)}) -> {status}: "
            f"{_compact(get('result'), max_result_chars)}"
        )
    head = f"## Task instruction\n{instruction.strip() or '(none)'}\n"
    changes = "\n".join(_compact(c, 400) for c in net_changes) or "(no changes)"
    tail = (
        f"\n## Net database changes\n{_clip(changes, 3000)}\n"
        f"\n## Final reply\n{_clip(reply, 4000) if reply is not None else '(no reply: the episode ended without one)'}\n"
    )
    budget = max(1000, max_chars - len(head) - len(tail))
    kept = list(steps)
    while kept and sum(len(s) + 1 for s in kept) > budget and len(kept) > 2:
        mid = len(kept) // 2
        kept.pop(mid)
    if len(kept) < len(steps):
        cut = len(steps) - len(kept)
        half = len(kept) // 2
        kept = kept[:half] + [f"... [{cut} steps omitted] ..."] + kept[half:]
    body = "\n".join(kept) if kept else "(no tool calls)"
    return f"{head}\n## Tool-call trail\n{_clip(body, budget + 200)}\n{tail}"


def criterion_line(c: Any) -> str:
    ctype = str(getattr(c, "type", ""))
    kind = " (a mistake to avoid: met means the agent AVOIDED it)" if ctype in ("dodged_bullet", "penalty") else ""
    return f"[{getattr(c, 'category', '')}] {getattr(c, 'text', '')}{kind}"


def build_messages(criteria: list[Any], evidence: str) -> list[dict[str, str]]:
    """The chat messages for one call about ``criteria`` (one or several)."""
    if len(criteria) == 1:
        ask = (
            f"## Criterion\n{criterion_line(criteria[0])}\n\n"
            'Is this criterion met? Answer with a JSON object with the keys "met" (true or false) '
            'and "reason" (why, in one short sentence).'
        )
    else:
        lines = "\n".join(f"c{i}: {criterion_line(c)}" for i, c in enumerate(criteria, start=1))
        ask = (
            f"## Criteria\n{lines}\n\n"
            "Answer with a JSON object with one key per criterion (c1, c2, ...), each holding an "
            'object with the keys "met" (true or false) and "reason" (why, in one short sentence).'
        )
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"{evidence}\n{ask}"},
    ]


def parse_verdicts(content: str | None, n: int) -> list[CriterionVerdict | str]:
    """One entry per criterion: a verdict, or a message saying why it is invalid.

    Raises ValueError when the whole answer is unusable (not JSON, not an object)."""
    data = parse_json_content(content)
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    items: list[Any]
    if n == 1:
        if "met" not in data and len(data) == 1 and isinstance(next(iter(data.values())), dict):
            data = next(iter(data.values()))  # {"c1": {...}} for a single criterion
        items = [data]
    else:
        items = [data.get(f"c{i}") for i in range(1, n + 1)]
    out: list[CriterionVerdict | str] = []
    for i, item in enumerate(items, start=1):
        if item is None:
            out.append(f"the answer has no verdict for c{i}")
            continue
        if isinstance(item, dict) and isinstance(item.get("met"), str) and item["met"].lower() in ("true", "false"):
            item = {**item, "met": item["met"].lower() == "true"}
        try:
            v = CriterionVerdict.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "verdict"
            out.append(f"invalid verdict: {where}: {first.get('msg')}")
            continue
        v.reason = _clip(v.reason.strip(), MAX_REASON_CHARS)
        out.append(v)
    return out
