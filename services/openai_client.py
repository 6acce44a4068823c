"""Chat completions from OpenAI-compatible endpoints (OpenAI, vLLM, llama.cpp, Ollama) through the
official ``openai`` SDK.

Shared by the LLM judge (:mod:`supportgym.rubrics.judge`), the LLM agent
(:mod:`supportgym.env.llm_agent`) and the LLM customer (:mod:`supportgym.services.customer_sim`).
The SDK does the HTTP: the per-request timeout, the retries (connection errors, timeouts, HTTP
408/409/429 and 5xx) with its exponential backoff and jitter, ``Retry-After`` and the typed
answer (:class:`openai.types.chat.ChatCompletion`, tool calls included). This module adds what
SupportGym's callers rely on and the SDK does not do:

* one error type, :class:`ChatError`, whose ``kind`` says what kept failing (``timeout``,
  ``connection``, ``http``, ``bad_response``, ``config``), with the last HTTP ``status`` and how
  many requests were made (``attempts``, the SDK's retries included);
* at most ``max_concurrency`` requests in flight per client, over all threads (a slot is held
  for one request, not while the SDK sleeps before a retry);
* a 200 whose body is not a chat completion (a proxy glitch; the SDK returns it unchecked) is
  asked again, within the same retry budget;
* ``giveup``: a caller may stop the SDK's retries of an error it handles itself (the judge does
  for a refused ``response_format``, which llama.cpp answers with a 500);
* the endpoint's configuration from ``<PREFIX>_BASE_URL``, ``<PREFIX>_API_KEY``,
  ``<PREFIX>_MODEL`` with ``OPENAI_*`` fallbacks (see :func:`endpoint_from_env`).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessage

DEFAULT_BASE_URL = "https://api.openai.com/v1"
ERROR_BODY_CHARS = 500


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

    def __str__(self) -> str:
        return f"{self.kind}: {self.message} (after {self.attempts} attempt(s))"


@dataclass
class ToolCall:
    """One function call of an answer, as the next chat request must carry it back."""

    id: str
    name: str
    arguments: str  # JSON text, as the model wrote it


@dataclass
class ChatResponse:
    """One chat completion: the SDK's typed answer, its first message and what it cost."""

    completion: ChatCompletion = field(repr=False)
    message: ChatCompletionMessage
    finish_reason: str | None
    tokens_in: int
    tokens_out: int
    attempts: int
    elapsed_s: float

    @property
    def content(self) -> str | None:
        return self.message.content

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The function calls of the message, read from the SDK's typed tool calls. A model may
        leave out the id or write the arguments as an object: the id is then empty (the caller
        numbers it) and the object is serialised."""
        out = []
        for call in self.message.tool_calls or []:
            fn = getattr(call, "function", None)  # custom (non-function) tool calls are not ours
            if fn is None:
                continue
            args = fn.arguments
            if not isinstance(args, str):
                args = json.dumps(args if args is not None else {})
            out.append(ToolCall(id=str(call.id or ""), name=str(fn.name or ""), arguments=args))
        return out


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


class _CallState(threading.local):
    """What one ``chat`` call on this thread has seen (the SDK retries on the caller's thread)."""

    requests = 0
    giveup: Callable[[ChatError], bool] | None = None


# The SDK refuses to start without a key; a local server needs none, and none is sent.
NO_KEY = "no-key"


class _SlotTransport(httpx.BaseTransport):
    """The httpx transport under the SDK: bounds the requests in flight, counts them, drops the
    placeholder key, and marks an error answer the caller gives up on as not to be retried (the
    SDK obeys the ``x-should-retry`` response header)."""

    def __init__(self, inner: httpx.BaseTransport, max_concurrency: int, state: _CallState, *, send_key: bool) -> None:
        self.inner = inner
        self.send_key = send_key
        self.slots = threading.BoundedSemaphore(max_concurrency)
        self.state = state
        self.lock = threading.Lock()
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests += 1
        self.state.requests += 1
        if not self.send_key:
            request.headers.pop("Authorization", None)
        with self.slots:
            response = self.inner.handle_request(request)
            response.read()  # the whole answer inside the slot: the server is done with it
        giveup = self.state.giveup
        if response.status_code >= 400 and giveup is not None:
            if giveup(_status_error(str(request.url), response.status_code, response.text, 0)):
                response.headers["x-should-retry"] = "false"
        return response

    def close(self) -> None:
        self.inner.close()


def _status_error(url: str, status: int, text: str, attempts: int) -> ChatError:
    return ChatError("http", f"HTTP {status} from {url}: {text[:ERROR_BODY_CHARS]}", status=status, attempts=attempts)


class ChatClient:
    """Thread-safe client for ``POST {base_url}/chat/completions`` on top of ``openai.OpenAI``.

    Args:
        base_url: e.g. ``http://127.0.0.1:8080/v1`` (the part before ``/chat/completions``).
        api_key: sent as a bearer token when given (none is sent otherwise).
        timeout_s: per-request timeout (connect, read, write), the SDK's ``timeout``.
        max_retries: retries after the first request (so ``max_retries + 1`` requests at most),
            the SDK's ``max_retries``; its backoff is exponential from 0.5 s up to 8 s with
            jitter, or the server's ``Retry-After`` (up to two minutes).
        max_concurrency: requests in flight at once, over all threads using this client.
        headers: extra request headers.
        transport: the httpx transport under the SDK (tests record requests with one).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout_s: float = 60.0,
        max_retries: int = 4,
        max_concurrency: int = 4,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.max_retries = max(0, int(max_retries))
        self.max_concurrency = max_concurrency
        self._state = _CallState()
        self._transport = _SlotTransport(
            transport or httpx.HTTPTransport(), max_concurrency, self._state, send_key=bool(api_key)
        )
        self._sdk = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key or NO_KEY,
            timeout=timeout_s,
            max_retries=self.max_retries,
            default_headers=headers,
            http_client=httpx.Client(
                transport=self._transport, timeout=httpx.Timeout(timeout_s), follow_redirects=True
            ),
        )
        self._lock = threading.Lock()
        self.tokens_in = 0
        self.tokens_out = 0

    @classmethod
    def from_env(cls, prefix: str = "SUPPORTGYM_LLM", **kwargs: Any) -> ChatClient:
        ep = endpoint_from_env(prefix, base_url=kwargs.pop("base_url", None), api_key=kwargs.pop("api_key", None))
        return cls(ep.base_url, ep.api_key, **kwargs)

    @property
    def requests(self) -> int:
        """HTTP requests sent, retries included."""
        return self._transport.requests

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
        giveup: Callable[[ChatError], bool] | None = None,
    ) -> ChatResponse:
        """One chat completion, retried as described in the module docstring; :class:`ChatError`
        when it fails for good.

        ``giveup(error) -> bool`` may stop the retries early for an error status the caller
        handles itself. ``extra``: more fields of the request body (provider-specific ones)."""
        kwargs: dict[str, Any] = {"model": model, "messages": messages}
        if tools:
            kwargs["tools"] = tools
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        if response_format is not None:
            kwargs["response_format"] = response_format
        if max_tokens is not None:
            kwargs["max_tokens"] = int(max_tokens)
        if temperature is not None:
            kwargs["temperature"] = float(temperature)
        if seed is not None:
            kwargs["seed"] = int(seed)
        if extra:
            kwargs["extra_body"] = extra
        start = time.monotonic()
        self._state.requests = 0
        self._state.giveup = giveup
        try:
            while True:
                try:
                    return self._once(kwargs, start)
                except ChatError as err:
                    # A 200 that is not a chat completion: the SDK does not retry it; ask again
                    # while the retry budget lasts (at once: the server is up, it only garbled).
                    if err.kind != "bad_response" or err.attempts > self.max_retries:
                        raise
        finally:
            self._state.giveup = None

    def _once(self, kwargs: dict[str, Any], start: float) -> ChatResponse:
        url = f"{self.base_url}/chat/completions"
        left = self.max_retries - self._state.requests  # retries the SDK may still make
        sdk = self._sdk if left == self.max_retries else self._sdk.with_options(max_retries=left)
        try:
            raw = sdk.chat.completions.with_raw_response.create(**kwargs)
        except openai.APITimeoutError:
            raise ChatError(
                "timeout", f"no answer from {url} within {self.timeout_s:g} s", attempts=self._state.requests
            ) from None
        except openai.APIConnectionError as exc:
            cause = exc.__cause__ or exc
            raise ChatError(
                "connection", f"cannot reach {url}: {type(cause).__name__}: {cause}", attempts=self._state.requests
            ) from None
        except openai.APIStatusError as exc:
            raise _status_error(url, exc.status_code, exc.response.text, self._state.requests) from None
        except openai.OpenAIError as exc:  # the SDK refused the request before sending it
            raise ChatError("config", f"{type(exc).__name__}: {exc}", attempts=self._state.requests) from None
        attempts = self._state.requests
        text = raw.http_response.text
        try:
            completion = raw.parse()
            choice = completion.choices[0]
            message = choice.message
            if not isinstance(message, ChatCompletionMessage):
                raise TypeError(f"message is {type(message).__name__}")
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, openai.OpenAIError) as exc:
            raise ChatError(
                "bad_response",
                f"{url} answered {raw.http_response.status_code} but not with a chat completion "
                f"({type(exc).__name__}: {str(exc)[:200]}; body starts {text[:200]!r})",
                status=raw.http_response.status_code,
                attempts=attempts,
            ) from None
        usage = completion.usage
        tin = int(getattr(usage, "prompt_tokens", 0) or 0)
        tout = int(getattr(usage, "completion_tokens", 0) or 0)
        with self._lock:
            self.tokens_in += tin
            self.tokens_out += tout
        return ChatResponse(
            completion=completion,
            message=message,
            finish_reason=choice.finish_reason,
            tokens_in=tin,
            tokens_out=tout,
            attempts=attempts,
            elapsed_s=time.monotonic() - start,
        )

    # --- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        self._sdk.close()

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
