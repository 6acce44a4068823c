"""Property-based API tests (schemathesis) against the real app in process: no request the schema
allows or almost allows makes a server error. The stateful run follows the OpenAPI links from
``POST /episodes`` into every per-episode route. Example counts are bounded
(``SUPPORTGYM_SCHEMATHESIS_EXAMPLES``, default 8) so CI stays short; raise it for a deep run."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from supportgym.services.settings import Settings
from supportgym.tasks.service import create_service

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("SUPPORTGYM_SCHEMATHESIS_EXAMPLES", "8"))
TOKEN = "schemathesis-token-0123456789"
ADMIN = {"authorization": f"Bearer {TOKEN}"}

APP = create_service(Settings(warm_worlds=[], max_episodes=64, token=TOKEN))
APP.state.ready = True  # no worlds to warm (the lifespan that would say so does not run here)


async def _without_lifespan(scope: dict, receive: object, send: object) -> None:
    """The app, its lifespan acknowledged but not run: schemathesis opens a client per call and
    the MCP session manager may start only once (``/mcp`` answers 503 here, as documented)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()  # type: ignore[operator]
            kind = message["type"].rsplit(".", 1)[-1]
            await send({"type": f"lifespan.{kind}.complete"})  # type: ignore[operator]
            if kind == "shutdown":
                return
    await APP(scope, receive, send)


schema = schemathesis.openapi.from_asgi("/openapi.json", _without_lifespan, headers=ADMIN)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_a_server_error(case: object) -> None:
    response = case.call(headers=ADMIN)  # type: ignore[attr-defined]
    case.validate_response(response, checks=[not_a_server_error])  # type: ignore[attr-defined]


class EpisodeWorkflow(schema.as_state_machine()):  # type: ignore[misc]
    def get_call_kwargs(self, case: object) -> dict:
        return {"headers": ADMIN}

    def validate_response(self, response: object, case: object, **kwargs: object) -> None:
        case.validate_response(response, checks=[not_a_server_error])  # type: ignore[attr-defined]


TestEpisodeWorkflow = EpisodeWorkflow.TestCase
TestEpisodeWorkflow.settings = settings(
    max_examples=EXAMPLES, stateful_step_count=6, deadline=None, suppress_health_check=list(HealthCheck)
)
