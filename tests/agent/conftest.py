"""Fixtures of the agent tests. ``llm_server`` (a real model on loopback) lives in
:mod:`tests.llm_server` so the judge tests share the same single server."""

from tests.llm_server import llm_server  # noqa: F401  (a pytest fixture)
