"""Fixtures of the integration tests. ``llm_server`` (a real model on loopback) lives in
:mod:`tests.llm_server` so every test session shares one server."""

from tests.llm_server import llm_server  # noqa: F401  (a pytest fixture)
