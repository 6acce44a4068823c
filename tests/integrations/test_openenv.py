"""The OpenEnv app on a real uvicorn server, driven by openenv's own EnvClient over /ws."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import ModuleType

import pytest
import uvicorn

from supportgym.services.launch import free_port
from supportgym.tasks import prepare_task, run_solution
from supportgym.tasks.template import render

pytestmark = pytest.mark.slow

TASKS = ["refund_within_window-01", "escalation_above_limit-02", "partial_return-03"]


@pytest.fixture(scope="module")
def oe() -> ModuleType:
    """supportgym.integrations.openenv, imported when a test here runs: openenv-core takes
    seconds to import, which every pytest process would otherwise pay while collecting."""
    pytest.importorskip("openenv.core", reason="openenv-core is not installed: pip install 'supportgym[openenv]'")
    import supportgym.integrations.openenv as module

    return module


@pytest.fixture(scope="module")
def base_url(oe: ModuleType) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(oe.create_openenv_app(max_concurrent_envs=4), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="openenv-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive(), "uvicorn did not stop"


@pytest.mark.parametrize("task_id", TASKS)
async def test_reference_over_the_websocket_earns_the_reference_grade(
    oe: ModuleType, base_url: str, task_id: str
) -> None:
    prepared = prepare_task(task_id)
    expected = run_solution(task_id, "reference")[1]
    async with oe.SupportGymEnvClient(base_url=base_url) as env:
        first = await env.reset(task_id=task_id)
        assert first.observation.instruction == prepared.instruction
        assert first.observation.task_id == task_id and not first.done
        assert any(t["function"]["name"] == "submit_response" for t in first.observation.tools)
        results: dict[str, object] = {}
        step = first
        for call in prepared.reference.calls:
            step = await env.step(oe.SupportGymAction(name=call.tool, arguments=render(call.args, {"result": results})))
            if step.observation.ok:
                results[call.tool] = step.observation.result
            if step.done:
                break
        if not step.done:
            step = await env.step(
                oe.SupportGymAction(
                    name="submit_response",
                    arguments={"response": render(prepared.reference.reply, {"result": results})},
                )
            )
        assert step.done and step.observation.status == "submitted"
        assert step.reward == pytest.approx(expected.reward)
        grade = step.observation.grade
        assert grade is not None and grade["reward"] == pytest.approx(expected.reward)
        assert [c["verdict"] for c in grade["criteria"]] == [c.verdict for c in expected.criteria]
        state = await env.state()
        assert state.task_id == task_id and state.status == "submitted"
        assert state.step_count == step.observation.step


async def test_bad_calls_are_observations_and_sessions_are_isolated(oe: ModuleType, base_url: str) -> None:
    async with oe.SupportGymEnvClient(base_url=base_url) as a, oe.SupportGymEnvClient(base_url=base_url) as b:
        await a.reset(task_id=TASKS[0])
        await b.reset(seed=7, scale="tiny")
        unknown = await a.step(oe.SupportGymAction(name="refund_everything", arguments={}))
        assert not unknown.observation.ok and unknown.observation.result["error"]["code"] == "unknown_tool"
        bad = await a.step(oe.SupportGymAction(name="get_order", arguments={"order_id": 5}))
        assert bad.observation.result["error"]["field"] == "order_id" and not bad.done
        assert (await a.state()).step_count == 2
        assert (await b.state()).step_count == 0 and (await b.state()).task_id is None
