"""Fixtures of the judge tests. ``llm_server`` (a real model on loopback) lives in
:mod:`tests.llm_server` so the agent tests share the same single server."""

from tests.llm_server import llm_server  # noqa: F401  (a pytest fixture)
