"""tools/list is generated from the registry (no transport needed)."""

from __future__ import annotations

import pytest

# MCP is the optional extra supportgym[mcp] (part of .[dev]): without it these tests cannot run.
pytest.importorskip("mcp", reason="the MCP SDK is not installed: pip install 'supportgym[mcp]'")
from supportgym.services.episode import SUBMIT_SCHEMA, SUBMIT_TOOL  # noqa: E402
from supportgym.services.mcp_server import mcp_tools  # noqa: E402
from supportgym.services.tools import REGISTRY  # noqa: E402


def test_every_registry_tool_plus_submit() -> None:
    tools = mcp_tools()
    assert [t.name for t in tools] == [*REGISTRY, SUBMIT_TOOL]
    assert len(REGISTRY) == 39
    for t in tools[:-1]:
        spec = REGISTRY[t.name]
        assert t.description == spec.description
        assert t.input_schema == spec.parameters_schema()
        assert t.annotations.model_dump(by_alias=True, exclude_none=True) == spec.annotations.to_mcp()
    assert tools[-1].input_schema == SUBMIT_SCHEMA["function"]["parameters"]
