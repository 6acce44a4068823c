"""``CannedOpenAIServer``: a tiny local HTTP server speaking the OpenAI chat-completions API that
answers with canned replies (a test double for the LLM customer). It records every request."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class CannedOpenAIServer:
    """``with CannedOpenAIServer(["answer 1", "answer 2"]) as srv: srv.base_url``.

    Each request gets the next canned answer (the last repeats). An answer that is an int is sent
    as that HTTP error status instead. ``requests`` holds the JSON bodies received."""

    def __init__(self, answers: list[str | int]) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []
        self._i = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # /v1/models
                self._send(200, {"object": "list", "data": [{"id": "canned"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                outer.requests.append(body)
                answer = outer.answers[min(outer._i, len(outer.answers) - 1)]
                outer._i += 1
                if isinstance(answer, int):
                    self._send(answer, {"error": {"message": "canned failure"}})
                    return
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{outer._i}",
                        "object": "chat.completion",
                        "model": body.get("model", "canned"),
                        "choices": [
                            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": answer}}
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                    },
                )

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> CannedOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
