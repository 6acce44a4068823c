"""Suite-wide markers, derived from what a test uses, so the tiers cannot drift from the code.

A test that uses the ``llm_server`` fixture is marked ``llm``; ``docker_image`` or ``make_pool``
``docker``; ``browser`` ``browser``; a module that imports ray ``ray``. ``make test-fast`` runs
``-m "not (slow or docker or llm or browser or ray)"``: the unit tier.

``make test`` runs the suite on every core (pytest-xdist, ``--dist loadgroup``). Tests that share
one machine-wide resource run on one worker, one after the other: everything that drives the
Docker engine (the orphan sweeps would see the other worker's containers) and everything that
starts a Ray cluster (two local clusters at once would compete for the same cores and memory).
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
        if item.get_closest_marker("docker") or item.get_closest_marker("ray"):
            item.add_marker(pytest.mark.xdist_group("machine"))
