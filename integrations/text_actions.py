"""One tool call out of a model's text, for stacks whose actions are text (SkyRL).

Recognised, first match wins:

* Hermes / Qwen: ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` (the first one; an
  unclosed tag at the end of the text, as a stop token leaves it, is accepted);
* OpenAI's message JSON: ``{"tool_calls": [{"function": {"name": ..., "arguments": "<json>"}}]}``
  (the first call) or a single ``{"type": "function", "function": {...}}``;
* a bare ``{"name": ..., "arguments": {...}}``, possibly inside a ```` ```json ```` fence.

What is found is handed to :func:`supportgym.env.actions.parse_action` by the environment; text
with no tool call goes there unchanged and comes back as an ``invalid_action`` observation.
"""

from __future__ import annotations

import json
import re
from typing import Any

_HERMES = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def _first_json_object(text: str) -> Any:
    """The first JSON object in ``text`` (decoded from its first ``{``), or None."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _end = decoder.raw_decode(text, start)
            return value
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
    return None


def tool_call_from_text(text: str) -> Any:
    """The tool call in ``text`` as a dict ``parse_action`` reads, or ``text`` itself when it
    holds none (so that the environment answers with an ``invalid_action`` observation)."""
    match = _HERMES.search(text)
    if match:
        found = _first_json_object(match.group(1))
        return found if found is not None else match.group(1)
    fenced = _FENCE.search(text)
    candidate = _first_json_object(fenced.group(1) if fenced else text)
    if isinstance(candidate, dict):
        calls = candidate.get("tool_calls")
        if isinstance(calls, list) and calls:
            return calls[0]
        return candidate
    return text
