"""Calls to services outside the process (the LLM customer, the LLM judge), under a deadline.

Deadlines nest, so the caller always learns what happened before it gives up on its own:

    upstream deadline (20 s)  <  step deadline (25 s)  <  docker pool HTTP (30 s)  <  HTTP transport (60 s)

(the service's defaults: ``supportgym serve`` sets the upstream deadline from its
``step_deadline_s``). A process with no service in front (``SupportEnv`` in process) has no
outer client to outlast, so its default is longer (``DEFAULT_DEADLINE_S``, or
``SUPPORTGYM_UPSTREAM_DEADLINE_S``): a small model on a busy CPU may need a minute per turn.

A call that does not finish in time (a black-holed endpoint, a server that never answers) is
abandoned: the caller gets :class:`UpstreamUnavailable` with a fixed, typed message
(``customer_unavailable`` / ``judge_unavailable``) and the episode's lock is released. The
abandoned worker ends on its own HTTP timeout; the pool of such workers is bounded, and when it
is full new calls time out the same way instead of piling up. Details go to the server log only,
with credentials redacted.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from supportgym.services.redact import redact_secrets

log = logging.getLogger("supportgym.upstream")
T = TypeVar("T")

DEADLINE_ENV = "SUPPORTGYM_UPSTREAM_DEADLINE_S"
DEFAULT_DEADLINE_S = 120.0
MAX_ABANDONED_WORKERS = 16
_deadline = [float(os.environ.get(DEADLINE_ENV) or DEFAULT_DEADLINE_S)]
_workers = ThreadPoolExecutor(max_workers=MAX_ABANDONED_WORKERS, thread_name_prefix="supportgym-upstream")

MESSAGES = {
    "customer_unavailable": "The customer could not answer just now (the conversation service is unavailable). "
    "Try again, or finish with submit_response.",
    "judge_unavailable": "The episode ended, but its grade could not be finished: the LLM judge is unavailable.",
}


class UpstreamUnavailable(RuntimeError):
    """An upstream call failed or passed its deadline. ``code``: the typed error for the agent;
    ``str(exc)``: the fixed message it may see (never the upstream's own words)."""

    def __init__(self, code: str) -> None:
        super().__init__(MESSAGES[code])
        self.code = code


def upstream_deadline_s() -> float:
    return _deadline[0]


def set_upstream_deadline(seconds: float) -> None:
    """Set the deadline of every upstream call in this process (the service sets it from its settings)."""
    if seconds <= 0:
        raise ValueError("the upstream deadline must be positive")
    _deadline[0] = float(seconds)


def call_with_deadline(code: str, fn: Callable[..., T], *args: object, deadline_s: float | None = None) -> T:
    """``fn(*args)`` within the deadline; :class:`UpstreamUnavailable` (``code``) on a timeout or on
    any failure that ``fn`` reports as one (its exception is logged, redacted, not passed on)."""
    limit = upstream_deadline_s() if deadline_s is None else deadline_s
    future = _workers.submit(fn, *args)
    try:
        return future.result(timeout=limit)
    except FutureTimeout:
        future.cancel()
        log.warning("%s: no answer within %.1f s (call abandoned)", code, limit)
        raise UpstreamUnavailable(code) from None


def log_failure(code: str, exc: BaseException) -> None:
    """Record an upstream failure's details for the operator (credentials removed)."""
    log.warning("%s: %s", code, redact_secrets(f"{type(exc).__name__}: {exc}"))
