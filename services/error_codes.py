"""Every error code the service answers with, and what it means: the source of the tables in
docs/http.md (``python -m supportgym.services.error_codes`` prints them; ``tests/service``
checks that the document, this registry and the codes raised in ``services/`` agree).

Two kinds. HTTP errors are protocol problems: a 4xx/5xx status with
``{"error": {"code", "message", "field"}}``. Tool errors are refusals the agent can read and act
on: the step still answers 200, and the observation holds the same ``{"error": ...}`` body.
"""

from __future__ import annotations

# code -> (HTTP status, meaning); "4xx" where the status varies
HTTP_ERRORS: dict[str, tuple[str, str]] = {
    "invalid_json": ("400", "The request body is not valid JSON."),
    "not_found": ("404", "No such path (see GET / for the entry points, /docs for every route)."),
    "unknown_episode": (
        "404",
        ("No live episode with this id: never created, deleted, or reaped after being idle."),
    ),
    "method_not_allowed": ("405", "The path exists but not with this HTTP method."),
    "episode_ended": (
        "409",
        ("The episode was submitted or ran out of steps; read its grade, then delete it."),
    ),
    "too_large": ("413", "Web debugger upload: the trajectory file is too large."),
    "invalid_request": (
        "422",
        ("A parameter is missing, of the wrong type or out of range; `field` names it."),
    ),
    "unknown_task": (
        "422",
        (
            "No task with this id; ids look like `refund_within_window-01` (family-NN); `supportgym"
            " tasks list` shows them."
        ),
    ),
    "bad_world": ("422", "Bare world: unknown scale (tiny, default or large) or seed."),
    "not_a_trajectory": ("422", "Web debugger upload: a line is not a trajectory record."),
    "empty": ("422", "Web debugger upload: the file holds no trajectory."),
    "too_many_episodes": (
        "429",
        ("The live-episode limit is reached; delete finished episodes or retry after `Retry-After` seconds."),
    ),
    "judge_not_configured": ("400", "`judge: true` at create, but this service has no LLM judge configured."),
    "over_limit": ("400", "`max_steps` above what this service allows a client (the message says the limit)."),
    "too_deep": ("400", "The request body is nested too deeply to read."),
    "bad_host": ("400", "The Host header names a host this service does not serve (DNS rebinding guard)."),
    "unauthorized": ("401", "This service needs a token: `Authorization: Bearer <token>` (or the episode's token)."),
    "bad_token": ("401", "The token given is not this service's."),
    "admin_only": ("401", "The author's view (`/ui`) needs the service token."),
    "bad_origin": ("403", "The request comes from a web origin this service does not accept."),
    "not_allowed": ("403", "A seed or scale outside what this service allows a client without the service token."),
    "body_too_large": ("413", "The request body is over the service's size limit."),
    "unsupported_media_type": ("415", "A JSON route got a body that is not `application/json`."),
    "http_error": ("4xx", "Any other HTTP-level refusal (the status says which)."),
    "internal_error": ("500", "A bug in the service; the message names the exception."),
    "worker_unavailable": (
        "503",
        "`serve --workers`: the worker process that owns this episode (or every worker) is down; "
        "its episodes are lost.",
    ),
    "world_fault": (
        "500",
        ("The world database failed (not the agent's fault); the episode should be discarded."),
    ),
}

# code -> meaning (answered as a 200 observation of a step)
TOOL_ERRORS: dict[str, str] = {
    "unknown_tool": "No tool with this name; the message lists the close names.",
    "invalid_json": "The arguments are a string that is not a JSON object.",
    "invalid_arguments": "The arguments do not fit the tool's schema (missing, unknown, wrong type).",
    "invalid_argument": "An argument has the right type but a value the tool cannot use.",
    "invalid_action": 'The action could not be read as one tool call {"name", "arguments"}.',
    "not_found": "The id names no row of that kind (order, customer, payment...).",
    "conflict": "The change collides with another row (e.g. an email that belongs to another customer).",
    "tool_not_enabled": "An opt-in tool (such as advance_time) that this task does not offer.",
    "invalid_state": "The row is in a state that does not allow this (e.g. refunding a pending order).",
    "identity_not_verified": "Policy: the verification detail does not match the one on file.",
    "exceeds_paid": "A refund larger than what is left of the payment.",
    "exceeds_goodwill_limit": "Goodwill credit above the customer tier's limit.",
    "requires_escalation": "Above the agent's refund limit: escalate to a supervisor instead.",
    "outside_window": "The return or damage-report window has closed.",
    "final_sale": "The item's category is final sale: no return.",
    "warranty_expired": "The item's warranty has ended.",
    "out_of_stock": "Not enough stock of the product to ship the replacement or exchange.",
    "arguments_too_large": "The arguments are over the size limit for one call (the message says it).",
    "arguments_too_deep": "The arguments are nested deeper than a call allows (the message says how deep).",
    "world_fault": "The world failed to apply this call (not the agent's fault); nothing changed.",
    "customer_unavailable": (
        "Conversational task: the customer simulator failed (e.g. its LLM endpoint is down); not the agent's fault."
    ),
    "conversation_over": "Conversational task: the customer has left the conversation.",
}


def markdown_tables() -> str:
    """The two tables of docs/http.md, exactly as the document holds them."""
    lines = ["| status | code | meaning |", "| --- | --- | --- |"]
    for code, (status, meaning) in sorted(HTTP_ERRORS.items(), key=lambda kv: (kv[1][0], kv[0])):
        lines.append(f"| {status} | `{code}` | {meaning} |")
    lines += ["", "| tool error code (HTTP 200) | meaning |", "| --- | --- |"]
    for code, meaning in sorted(TOOL_ERRORS.items()):
        lines.append(f"| `{code}` | {meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_tables(), end="")
