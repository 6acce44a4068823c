"""What the agent may see of grades and upstream failures.

* :func:`agent_grade`: a grade without the rubric's words. The reward, the verdicts and the
  per-category counts and the ids of the gates that failed stay (a training loop needs them);
  each criterion's and failed gate's ``text`` and ``evidence`` (which quote expected ids and
  amounts) are emptied. The operator reads the full
  grade with the service token.
* :func:`redact_secrets`: text for the server log with credentials removed (``user:password@``
  in URLs, bearer tokens, API keys).
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[redacted]"
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
_KEY_VALUE = re.compile(r"(?i)\b((?:api[_-]?key|token|secret|password|passwd)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+")
_KEY_SHAPES = re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{12,}\b")


def redact_secrets(text: str) -> str:
    text = _URL_USERINFO.sub(lambda m: m.group(1) + REDACTED + "@", text)
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _KEY_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
    return _KEY_SHAPES.sub(REDACTED, text)


def agent_grade(grade: dict[str, Any] | None) -> dict[str, Any] | None:
    """``grade`` as an episode's holder sees it (see the module notes); a new dict."""
    if grade is None:
        return None
    out = dict(grade)
    out["criteria"] = [
        {**c, "text": "", "evidence": ""} if isinstance(c, dict) else c for c in grade.get("criteria") or []
    ]
    # The gates that failed name their criterion and quote what it expected, like the criteria.
    out["gates_failed"] = [
        {**g, "text": "", "evidence": ""} if isinstance(g, dict) else g for g in grade.get("gates_failed") or []
    ]
    out["redacted"] = True
    return out
