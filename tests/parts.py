"""What a test does when a heavy part (``supportgym.cli.parts``) is missing.

Tests never build a part: ``make parts`` / ``supportgym parts`` do, before the suite runs.
A test that needs a missing part

- fails, naming the part and the command that makes it, in CI (``CI=true``) or when
  ``SUPPORTGYM_REQUIRE_PARTS=1`` (``SUPPORTGYM_REQUIRE_LLM=1`` is still read, for the LLM parts);
- skips, naming the part, only in the fast tier (``SUPPORTGYM_TIER=fast``, set by
  ``make test-fast``), where the user asked not to need it;
- otherwise fails too: the full suite is meant to run after ``make parts``.
"""

from __future__ import annotations

import os

import pytest

from supportgym.cli.parts import Probe, get_part

LLM_PARTS = frozenset({"llm-server", "model"})


def parts_required(name: str) -> bool:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return True
    if os.environ.get("SUPPORTGYM_REQUIRE_PARTS"):
        return True
    return name in LLM_PARTS and bool(os.environ.get("SUPPORTGYM_REQUIRE_LLM"))


def fast_tier() -> bool:
    return os.environ.get("SUPPORTGYM_TIER") == "fast"


def missing_part_message(name: str, probe: Probe) -> str:
    return f"part {name!r} is missing ({probe.detail}); make it with `supportgym parts --only {name}` (or `make parts`)"


def require_part(name: str) -> Probe:
    """Return the ready part's probe; else fail or skip, as the module docstring says."""
    probe = get_part(name).probe()
    if probe.ready:
        return probe
    message = missing_part_message(name, probe)
    if fast_tier() and not parts_required(name):
        pytest.skip(message)
    pytest.fail(message, pytrace=False)
