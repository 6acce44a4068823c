"""The tool server: SupportGym's tools over MCP, each call forwarded to the rollout's episode.

One server for the whole eval (a taskset-scoped, "shared" toolset): it holds no episode itself.
Every call carries the calling rollout's :class:`EpisodeState` (verifiers pulls it from the
rollout before the call), which names the episode on ``supportgym serve`` to step.

The tool list is SupportGym's one tool definition (``every_tool_schema``), optionally narrowed
to ``tools`` (``submit_response`` always stays: only it ends an episode). Tools are advertised
bare (``get_order``, not ``support_gym_toolset_get_order``), so a recorded call is the SupportGym
call. Arguments reach the episode as the model sent them: the episode, not MCP, validates them
and answers a bad call with an error observation, exactly as on every other transport.
"""

from __future__ import annotations

import json
from typing import Any, cast

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, TextContent, Tool
from pydantic import Field
from verifiers.v1 import SharedToolsetConfig, Toolset

from supportgym.env.llm_agent import compact_tool
from supportgym.services.episode import SUBMIT_TOOL, every_tool_schema
from supportgym_verifiers.episode_client import EpisodeState, step

ALL_TOOLS: tuple[str, ...] = tuple(s["function"]["name"] for s in every_tool_schema())


class UnknownTools(ValueError):
    """Tool names in the config that SupportGym does not have."""


class SupportGymToolsetConfig(SharedToolsetConfig):
    tools: list[str] = Field(
        default_factory=list,
        description="The tools to offer (empty: all of them). The 36 schemas take about 8k prompt "
        "tokens, more than a small model's context; submit_response is always offered.",
    )
    compact: bool = Field(
        False,
        description="Offer the schemas without parameter descriptions and string limits: shorter prompts, "
        "and grammars llama.cpp can build. The episode still validates every argument.",
    )


def chosen_schemas(tools: list[str], compact: bool = False) -> list[dict[str, Any]]:
    """The OpenAI function schemas offered for ``tools`` (every tool when empty)."""
    unknown = [t for t in tools if t not in ALL_TOOLS]
    if unknown:
        raise UnknownTools(f"tools: unknown {', '.join(unknown)}; allowed: {', '.join(ALL_TOOLS)}")
    wanted = set(tools) | {SUBMIT_TOOL} if tools else set(ALL_TOOLS)
    chosen = [s for s in every_tool_schema() if s["function"]["name"] in wanted]
    return [compact_tool(s) for s in chosen] if compact else chosen


async def forward(state: EpisodeState, name: str, arguments: dict[str, Any]) -> CallToolResult:
    """One tool call on the rollout's episode. The model sees the observation only (never the
    grade the final step carries); a refused call is an error result it can read and fix."""
    if not state.episode_id:
        observation: dict[str, Any] = {
            "error": {"code": "no_episode", "field": None, "message": "no episode is open for this rollout"}
        }
        return CallToolResult(content=[TextContent(type="text", text=json.dumps(observation))], is_error=True)
    answer = await step(state, name, arguments)
    # Synced back to the rollout, where the task's stop hook ends the rollout on it.
    state.done = bool(answer.get("done"))
    text = json.dumps(answer.get("observation"), ensure_ascii=False)
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=not answer.get("ok", False))


class SupportGymToolset(Toolset[SupportGymToolsetConfig, EpisodeState]):
    """SupportGym's tools, forwarded to the calling rollout's episode."""

    TOOL_PREFIX = None

    def register(self, mcp: MCPServer) -> None:
        # The catalog comes from SupportGym's schemas, not from Python signatures: replace the
        # server's two protocol handlers rather than registering one function per tool.
        server = cast(Any, mcp)
        server.list_tools = self._with_state(self.list_tools)
        server.call_tool = self._with_state(self.call_tool)

    async def list_tools(self) -> list[Tool]:
        return [
            Tool(
                name=s["function"]["name"],
                description=s["function"].get("description") or None,
                input_schema=s["function"].get("parameters") or {"type": "object", "properties": {}},
            )
            for s in chosen_schemas(self.config.tools, self.config.compact)
        ]

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context | None = None) -> CallToolResult:
        return await forward(self.state, name, arguments or {})


if __name__ == "__main__":
    SupportGymToolset.run()
