"""Suite-wide markers, derived from what a test uses, so the tiers cannot drift from the code.

A test that uses the ``llm_server`` fixture is marked ``llm``; ``docker_image`` or ``make_pool``
``docker``; ``browser`` ``browser``; a module that imports ray ``ray``. ``make test-fast`` runs
``-m "not (slow or docker or llm or browser or ray)"``: the unit tier.

``make test`` (scripts/run-tests) runs the ``docker`` and ``ray`` tests on their own, one after
the other, and everything else on every core: the markers decide which is which.
"""

from __future__ import annotations

import pytest

FIXTURE_MARKERS = {
    "llm_server": "llm",
    "docker_image": "docker",
    "make_pool": "docker",
    "browser": "browser",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in FIXTURE_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)
        module = getattr(item, "module", None)
        if module is not None and getattr(module, "ray", None) is not None:
            item.add_marker("ray")
