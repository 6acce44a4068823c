"""``MisbehavingOpenAIServer``: a test double of an OpenAI-compatible chat endpoint.

A real HTTP server on a loopback port (``http.server`` in a thread) that misbehaves on purpose,
so the judge's and the agent's failure handling is tested against real sockets:

=================  ==========================================================================
mode               what it does
=================  ==========================================================================
``ok``             a valid completion (content from ``contents``/``content_fn``, or the answer
                   ``answer``: "met", "unmet" or "cannot_assess"; ``met=`` is a shorthand)
``500_then_ok``    HTTP 500 for the first ``fail_first`` requests, then ``ok``
``always_500``     HTTP 500 every time
``429``            HTTP 429 with ``Retry-After: retry_after`` for ``fail_first`` requests
``timeout``        sleeps ``delay`` seconds (past the client's timeout) before answering
``invalid_json``   200, but the message content is not JSON
``missing_fields`` 200, content is JSON without ``verdict``
``bad_body``       200 whose body is not JSON at all
``drop``           closes the connection without answering
``reject_schema``  422 for ``response_format.type == "json_schema"`` (like llama.cpp), else ok
``script``         answers with ``script[i]`` (assistant messages) in order, for agent tests
=================  ==========================================================================

It records every request body, the request count, and the most requests it saw in flight at
once (``max_in_flight``); ``delay`` slows every answer down so overlaps are observable.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _verdict_for(body: dict[str, Any], answer: str) -> str:
    rf = body.get("response_format") or {}
    schema = rf.get("schema") or (rf.get("json_schema") or {}).get("schema") or {}
    props = schema.get("properties") or {}
    if "verdict" in props or not props:
        return json.dumps({"reason": "double says so", "verdict": answer})
    return json.dumps({k: {"reason": f"double on {k}", "verdict": answer} for k in props})


class MisbehavingOpenAIServer:
    def __init__(
        self,
        mode: str = "ok",
        *,
        fail_first: int = 1,
        retry_after: float = 0.2,
        delay: float = 0.0,
        met: bool = True,
        answer: str | None = None,
        contents: list[str] | None = None,
        content_fn: Callable[[dict[str, Any], int], str] | None = None,
        script: list[dict[str, Any]] | None = None,
    ) -> None:
        self.mode = mode
        self.fail_first = fail_first
        self.retry_after = retry_after
        self.delay = delay
        self.answer = answer or ("met" if met else "unmet")
        self.contents = contents
        self.content_fn = content_fn
        self.script = script or []
        self.requests: list[dict[str, Any]] = []
        self.times: list[float] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> MisbehavingOpenAIServer:
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "double", "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                with double._lock:
                    index = len(double.requests)
                    double.requests.append(body)
                    double.times.append(time.monotonic())
                    double.in_flight += 1
                    double.max_in_flight = max(double.max_in_flight, double.in_flight)
                try:
                    double._answer(self, body, index)
                finally:
                    with double._lock:
                        double.in_flight -= 1

            def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="misbehaving-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> MisbehavingOpenAIServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- behaviour -----------------------------------------------------------------------------

    def _completion(self, body: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": "chatcmpl-double",
            "object": "chat.completion",
            "model": body.get("model", "double"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", **message},
                    "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
        }

    def _ok_content(self, body: dict[str, Any], index: int) -> str:
        if self.content_fn is not None:
            return self.content_fn(body, index)
        if self.contents:
            return self.contents[index % len(self.contents)]
        return _verdict_for(body, self.answer)

    def _answer(self, h: Any, body: dict[str, Any], index: int) -> None:
        mode = self.mode
        if self.delay and mode != "timeout":
            time.sleep(self.delay)
        if mode == "500_then_ok" and index < self.fail_first or mode == "always_500":
            h._send(500, {"error": {"message": "the double fails on purpose"}})
        elif mode == "429" and index < self.fail_first:
            h._send(429, {"error": {"message": "slow down"}}, {"Retry-After": f"{self.retry_after:g}"})
        elif mode == "timeout":
            time.sleep(self.delay or 5.0)
            h._send(200, self._completion(body, {"content": self._ok_content(body, index)}))
        elif mode == "invalid_json":
            h._send(200, self._completion(body, {"content": "Yes, I think the agent did fine."}))
        elif mode == "missing_fields":
            h._send(200, self._completion(body, {"content": json.dumps({"reason": "no verdict field"})}))
        elif mode == "bad_body":
            h._send(200, b"<html>gateway hiccup</html>")
        elif mode == "drop":
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif mode == "reject_schema" and (body.get("response_format") or {}).get("type") == "json_schema":
            h._send(422, {"detail": [{"loc": ["body", "response_format", "type"], "msg": "unsupported"}]})
        elif mode == "script":
            message = self.script[min(index, len(self.script) - 1)]
            h._send(200, self._completion(body, message))
        else:
            h._send(200, self._completion(body, {"content": self._ok_content(body, index)}))
