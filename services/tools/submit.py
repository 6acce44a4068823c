"""The action that ends an episode, ``submit_response``: its name, arguments and schema.

Not a world tool (it is not in the registry and touches no row): the episode handles it, and
every agent loop, transport and server names it through this one definition.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from supportgym.services.tools.base import LongText

SUBMIT_TOOL = "submit_response"


class SubmitResponseArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    response: LongText = Field(
        description="Your final reply: what you did and what the customer or requester needs to know. Ends the episode."
    )


SUBMIT_SCHEMA: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": SUBMIT_TOOL,
        "description": "Finish the task with your final reply. Call it once, last; no tool "
        "calls are possible after it.",
        "parameters": {
            **{k: v for k, v in SubmitResponseArgs.model_json_schema().items() if k != "title"},
            "additionalProperties": False,
        },
    },
}


def submit_call(response: str) -> dict[str, Any]:
    """The action submitting ``response``, as ``SupportEnv.step`` and the episode take it."""
    return {"name": SUBMIT_TOOL, "arguments": {"response": response}}
