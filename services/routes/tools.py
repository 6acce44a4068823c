"""The tool catalogue: schemas and MCP annotations of every tool, submit included."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from supportgym.services.api_models import ToolInfo, ToolList
from supportgym.services.episode import SUBMIT_SCHEMA, SUBMIT_TOOL
from supportgym.services.tools import REGISTRY

router = APIRouter(tags=["tools"])


def tool_infos() -> list[dict[str, Any]]:
    """Metadata and OpenAI schema of every tool, then of ``submit_response``."""
    out = [{**t.metadata(), "schema": t.openai_schema()} for t in REGISTRY.values()]
    out.append(
        {
            "name": SUBMIT_TOOL,
            "group": "episode",
            "read_only": False,
            "destructive": False,
            "idempotent": False,
            "annotations": {
                "readOnlyHint": False,
                "destructiveHint": False,
                "idempotentHint": False,
                "openWorldHint": False,
            },
            "schema": SUBMIT_SCHEMA,
        }
    )
    return out


@router.get("/tools", response_model=ToolList, summary="Every tool's schema and annotations.")
async def list_tools() -> ToolList:
    return ToolList(tools=[ToolInfo.model_validate(t) for t in tool_infos()])
