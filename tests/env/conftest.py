from __future__ import annotations

from collections.abc import Iterator

import pytest

from supportgym.services.launch import ServerProcess, running_server


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with running_server(warm="7/tiny", max_episodes=64) as srv:
        yield srv
