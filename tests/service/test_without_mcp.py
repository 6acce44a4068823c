"""Without the supportgym[mcp] extra the service still serves HTTP, and ``supportgym mcp`` says
which extra to install. The SDK is hidden from a child interpreter (``sys.modules["mcp"] = None``
makes ``import mcp`` fail as if it were not installed)."""

from __future__ import annotations

import json
import subprocess
import sys

HIDE_MCP = "import sys; sys.modules['mcp'] = None\n"

SERVE = (
    HIDE_MCP
    + """
import json
from fastapi.testclient import TestClient
from supportgym.tasks.service import create_service
from supportgym.services.settings import Settings
with TestClient(create_service(Settings.from_env(warm_worlds=[]))) as client:
    created = client.post("/episodes", json={"scale": "tiny"})
    print(json.dumps({"health": client.get("/healthz").status_code, "episode": created.status_code,
                      "mcp": client.post("/mcp", json={}).status_code}))
"""
)

MCP_COMMAND = (
    HIDE_MCP
    + """
from supportgym.cli.app import app
app(["mcp", "--scale", "tiny"])
"""
)


def test_service_serves_http_without_mcp() -> None:
    done = subprocess.run([sys.executable, "-c", SERVE], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    codes = json.loads(done.stdout.strip().splitlines()[-1])
    assert codes["health"] == 200 and codes["episode"] in (200, 201)
    assert codes["mcp"] == 404, "no /mcp mount without the SDK"


def test_mcp_command_names_the_extra() -> None:
    done = subprocess.run(
        [sys.executable, "-c", MCP_COMMAND],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert "pip install 'supportgym[mcp]'" in done.stderr
