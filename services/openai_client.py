"""A small client for OpenAI-compatible chat-completions endpoints (OpenAI, vLLM, llama.cpp, Ollama).

Shared by the LLM judge (:mod:`supportgym.rubrics.judge`) and the LLM agent
(:mod:`supportgym.env.llm_agent`). It speaks plain HTTP with httpx: nothing provider-specific.

Robustness, all configurable:

* a timeout per request (``timeout_s``);
* retries with exponential backoff and jitter on connection errors, timeouts, HTTP 408/409/429
  and 5xx, and on a 200 whose body is not a chat completion (a proxy glitch); ``Retry-After`` is
  honoured, capped by ``max_backoff_s``;
* at most ``max_concurrency`` requests in flight per client, across threads;
* when the retries are spent, :class:`ChatError` says what kept failing (``kind``, ``status``,
  ``attempts``). Other 4xx answers (bad request, auth) are not retried.

Configuration comes from arguments or environment variables: ``<PREFIX>_BASE_URL``,
``<PREFIX>_API_KEY``, ``<PREFIX>_MODEL`` with ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` /
``OPENAI_MODEL`` as fallbacks (see :func:`endpoint_from_env`).
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

DEFAULT_BASE_URL = "https://api.openai.com/v1"
RETRY_STATUSES = frozenset({408, 409, 429})


class ChatError(RuntimeError):
    """A chat request failed for good.

    ``kind`` is one of ``timeout``, ``connection``, ``http`` (an error status), ``bad_response``
    (a 200 that is not a chat completion) or ``config``; ``status`` is the last HTTP status, if
    any; ``attempts`` how many requests were made.
    """

    def __init__(self, kind: str, message: str, *, status: int | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.attempts = attempts
        self.message = message

    @property
    def retryable(self) -> bool:
        return self.kind in ("timeout", "connection", "bad_response") or (
            self.status is not None and (self.status in RETRY_STATUSES or self.status >= 500)
        )

    def __str__(self) -> str:
        return f"{self.kind}: {self.message} (after {self.attempts} attempt(s))"


@dataclass
class ChatResponse:
    """One chat completion: the assistant message and what it cost."""

    message: dict[str, Any]
    finish_reason: str | None
    tokens_in: int
    tokens_out: int
    attempts: int
    elapsed_s: float
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def content(self) -> str | None:
        return self.message.get("content")

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        return list(self.message.get("tool_calls") or [])


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    api_key: str | None
    model: str | None


def endpoint_from_env(
    prefix: str, *, base_url: str | None = None, api_key: str | None = None, model: str | None = None
) -> Endpoint:
    """Arguments first, then ``<PREFIX>_*`` variables, then ``OPENAI_*``; base URL defaults to
    OpenAI's."""
    env = os.environ

    def pick(value: str | None, name: str) -> str | None:
        if value:
            return value
        return env.get(f"{prefix}_{name}") or env.get(f"OPENAI_{name}") or None

    return Endpoint(
        base_url=pick(base_url, "BASE_URL") or DEFAULT_BASE_URL,
        api_key=pick(api_key, "API_KEY"),
        model=pick(model, "MODEL"),
    )


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:  # not seconds: try the HTTP-date form
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class ChatClient:
    """Thread-safe client for ``POST {base_url}/chat/completions``.

    Args:
        base_url: e.g. ``http://127.0.0.1:8080/v1`` (the part before ``/chat/completions``).
        api_key: sent as a bearer token when given.
        timeout_s: per-request timeout (connect, read, write).
        max_retries: retries after the first attempt (so ``max_retries + 1`` requests at most).
        backoff_s: first backoff; doubles each retry, with jitter in [50%, 100%].
        max_backoff_s: cap on one wait, ``Retry-After`` included.
        max_concurrency: requests in flight at once, over all threads using this client.
        transport: an httpx transport (tests).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout_s: float = 60.0,
        max_retries: int = 4,
        backoff_s: float = 0.5,
        max_backoff_s: float = 20.0,
        max_concurrency: int = 4,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.max_retries = max(0, int(max_retries))
        self.backoff_s = max(0.0, backoff_s)
        self.max_backoff_s = max(0.0, max_backoff_s)
        self.max_concurrency = max_concurrency
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        if api_key:
            hdrs["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout_s),
            headers=hdrs,
            transport=transport,
            limits=httpx.Limits(max_connections=max_concurrency + 2),
        )
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._lock = threading.Lock()
        self.requests = 0  # HTTP requests sent (retries included)
        self.retries = 0
        self.tokens_in = 0
        self.tokens_out = 0

    @classmethod
    def from_env(cls, prefix: str = "SUPPORTGYM_LLM", **kwargs: Any) -> ChatClient:
        ep = endpoint_from_env(prefix, base_url=kwargs.pop("base_url", None), api_key=kwargs.pop("api_key", None))
        return cls(ep.base_url, ep.api_key, **kwargs)

    # --- the call ------------------------------------------------------------------------------

    def chat(
        self,
        *,
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        tool_choice: Any = None,
        response_format: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        seed: int | None = None,
        extra: dict[str, Any] | None = None,
        giveup: Any = None,
    ) -> ChatResponse:
        """One chat completion, retried as described in the module docstring.

        ``giveup(error) -> bool`` may stop the retries early for an error the caller handles
        itself (the judge does for a refused ``response_format``)."""
        body: dict[str, Any] = {"model": model, "messages": messages}
        if tools:
            body["tools"] = tools
        if tool_choice is not None:
            body["tool_choice"] = tool_choice
        if response_format is not None:
            body["response_format"] = response_format
        if max_tokens is not None:
            body["max_tokens"] = int(max_tokens)
        if temperature is not None:
            body["temperature"] = float(temperature)
        if seed is not None:
            body["seed"] = int(seed)
        if extra:
            body.update(extra)
        return self.post("/chat/completions", body, giveup=giveup)

    def post(self, path: str, body: dict[str, Any], *, giveup: Any = None) -> ChatResponse:
        url = self.base_url + path
        start = time.monotonic()
        last: ChatError | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                self._sleep_before(attempt, last)
            wait_hint: float | None = None
            with self._slots:
                with self._lock:
                    self.requests += 1
                    if attempt:
                        self.retries += 1
                try:
                    resp = self._http.post(url, json=body)
                except httpx.TimeoutException as exc:
                    last = ChatError(
                        "timeout",
                        f"no answer from {url} within {self.timeout_s:g} s ({type(exc).__name__})",
                        attempts=attempt + 1,
                    )
                    continue
                except httpx.TransportError as exc:
                    last = ChatError(
                        "connection", f"cannot reach {url}: {type(exc).__name__}: {exc}", attempts=attempt + 1
                    )
                    continue
            if resp.status_code >= 400:
                text = resp.text[:500]
                last = ChatError(
                    "http", f"HTTP {resp.status_code} from {url}: {text}", status=resp.status_code, attempts=attempt + 1
                )
                wait_hint = _retry_after(resp.headers)
                last.retry_after = wait_hint  # type: ignore[attr-defined]
                if not last.retryable or (giveup is not None and giveup(last)):
                    raise last
                continue
            try:
                data = resp.json()
                choice = data["choices"][0]
                message = dict(choice["message"])
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                last = ChatError(
                    "bad_response",
                    f"{url} answered 200 but not with a chat completion "
                    f"({type(exc).__name__}: {str(exc)[:200]}; body starts {resp.text[:200]!r})",
                    status=resp.status_code,
                    attempts=attempt + 1,
                )
                continue
            usage = data.get("usage") or {}
            tin = int(usage.get("prompt_tokens") or 0)
            tout = int(usage.get("completion_tokens") or 0)
            with self._lock:
                self.tokens_in += tin
                self.tokens_out += tout
            return ChatResponse(
                message=message,
                finish_reason=choice.get("finish_reason"),
                tokens_in=tin,
                tokens_out=tout,
                attempts=attempt + 1,
                elapsed_s=time.monotonic() - start,
                raw=data,
            )
        assert last is not None
        last.attempts = self.max_retries + 1
        raise last

    def backoff_for(self, attempt: int, error: ChatError | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based): exponential with jitter, or
        the server's ``Retry-After``; never more than ``max_backoff_s``."""
        hint = getattr(error, "retry_after", None)
        if hint is not None:
            return min(self.max_backoff_s, hint)
        base = min(self.max_backoff_s, self.backoff_s * (2 ** (attempt - 1)))
        return base * random.uniform(0.5, 1.0)

    def _sleep_before(self, attempt: int, error: ChatError | None) -> None:
        delay = self.backoff_for(attempt, error)
        if delay > 0:
            time.sleep(delay)

    # --- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def parse_json_content(text: str | None) -> Any:
    """JSON from a model's message content, tolerating a Markdown code fence around it.

    Raises ValueError when there is no JSON document."""
    if text is None:
        raise ValueError("the message has no content")
    s = text.strip()
    if s.startswith("```"):
        s = s.split("\n", 1)[1] if "\n" in s else s[3:]
        if s.rstrip().endswith("```"):
            s = s.rstrip()[:-3]
        s = s.strip()
    try:
        # strict=False: small models put raw newlines inside strings.
        return json.loads(s, strict=False)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at char {exc.pos}): {text[:120]!r}") from exc
