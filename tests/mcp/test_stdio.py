"""MCP over stdio: a subprocess serving one episode, driven by the SDK's own client."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

# MCP is the optional extra supportgym[mcp] (part of .[dev]): without it these tests cannot run.
pytest.importorskip("mcp", reason="the MCP SDK is not installed: pip install 'supportgym[mcp]'")
from mcp.client import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402

from supportgym.db import world_hash  # noqa: E402
from supportgym.services.episode import SUBMIT_TOOL  # noqa: E402
from supportgym.services.tools import REGISTRY  # noqa: E402

from .script import BARE, comparable_trail, play, reference  # noqa: E402

pytestmark = pytest.mark.slow


def _server(*args: str) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "supportgym.cli.mcp", *args])


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_stdio_episode_matches_in_process_run(tmp_path: Path, mode: str) -> None:
    errlog = tmp_path / "stderr.txt"
    with errlog.open("w") as err:
        transport = stdio_client(_server("--scale", BARE.scale, "--seed", str(BARE.seed)), errlog=err)
        async with Client(transport, mode=mode) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == {n for n, s in REGISTRY.items() if not s.opt_in} | {SUBMIT_TOOL}
            assert tools["get_order"].annotations.read_only_hint is True
            assert tools["issue_refund"].annotations.destructive_hint is True
            info = json.loads((await client.read_resource("supportgym://episode")).contents[0].text)
            assert info["episode_id"] in (client.instructions or "")

            async def call(name: str, args: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
                result = await client.call_tool(name, args)
                payload = json.loads(result.content[0].text)
                assert result.structured_content == payload
                if result.is_error:
                    assert set(payload["error"]) >= {"code", "message", "field"}
                return not result.is_error, payload

            log = await play(call)
            assert log[-1][3]["episode_id"] == info["episode_id"]
            remote_hash = (await client.read_resource("supportgym://episode/world_hash")).contents[0].text
            final = json.loads((await client.read_resource("supportgym://episode")).contents[0].text)

    ref = reference(log)
    try:
        with ref.db.session() as s:
            assert remote_hash == world_hash(s)
        assert final["status"] == ref.status.value == "submitted"
        assert final["steps"] == len(comparable_trail(ref)) == len(log)
        assert final["sim_time"] == ref.describe()["sim_time"]
    finally:
        ref.close()
    stderr = errlog.read_text()
    assert f"episode {info['episode_id']} ended: submitted" in stderr
    assert "no grade (bare world" in stderr


async def test_stdio_bad_scale_exits(tmp_path: Path) -> None:
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "supportgym.cli.mcp", "--scale", "galactic"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert "unknown scale" in proc.stderr
