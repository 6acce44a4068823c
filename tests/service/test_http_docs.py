"""What a newcomer meets over HTTP: ``GET /``, plain error messages, and docs/http.md agreeing
with the error codes the service really raises."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx

from supportgym.env.http_auth import EpisodeAuth
from supportgym.services.error_codes import HTTP_ERRORS, TOOL_ERRORS, markdown_tables
from supportgym.services.launch import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"
HTTP_DOC = ROOT / "docs" / "http.md"


def _strings(node: ast.expr) -> set[str]:
    """String constants a code argument can take (``"a" if x else "b"`` gives both)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body) | _strings(node.orelse)
    return set()


def _is_status_map_lookup(node: ast.Call) -> bool:
    func = node.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "get"
        and isinstance(func.value, ast.Dict)
        and all(isinstance(k, ast.Constant) and isinstance(k.value, int) for k in func.value.keys)
    )


def raised_codes() -> tuple[set[str], set[str]]:
    """(HTTP codes, tool codes) written in services/: ServiceError(status, code),
    _error(status, code), _answer(send, status, code), {"code": ...} bodies, the status->code lookup of app.py,
    ToolError(code)."""
    http: set[str] = set()
    tool: set[str] = set()
    for path in SERVICES.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if _is_status_map_lookup(node):
                    # {404: "not_found", 405: ...}.get(status, "http_error")
                    assert isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Dict)
                    http |= set().union(*map(_strings, node.func.value.values), *map(_strings, node.args[1:]))
                elif name in ("ToolError", "UpstreamUnavailable") and node.args:
                    tool |= _strings(node.args[0])
                elif name in ("ServiceError", "_error") and len(node.args) > 1:
                    http |= _strings(node.args[1])
                elif name == "_answer" and len(node.args) > 2:  # the ASGI guard: _answer(send, status, code)
                    http |= _strings(node.args[2])
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "code" and value is not None:
                        http |= _strings(value)
    return http, tool


def test_every_raised_code_is_documented_and_every_documented_code_is_raised() -> None:
    http, tool = raised_codes()
    assert http == set(HTTP_ERRORS), (
        f"raised but not in HTTP_ERRORS: {sorted(http - set(HTTP_ERRORS))}; "
        f"in HTTP_ERRORS but never raised: {sorted(set(HTTP_ERRORS) - http)}"
    )
    assert tool == set(TOOL_ERRORS), (
        f"raised but not in TOOL_ERRORS: {sorted(tool - set(TOOL_ERRORS))}; "
        f"in TOOL_ERRORS but never raised: {sorted(set(TOOL_ERRORS) - tool)}"
    )


def test_http_doc_holds_the_generated_tables() -> None:
    assert markdown_tables() in HTTP_DOC.read_text(encoding="utf-8"), (
        "docs/http.md is out of date: paste the output of python -m supportgym.services.error_codes"
    )


def test_http_doc_walks_through_a_whole_episode() -> None:
    doc = HTTP_DOC.read_text(encoding="utf-8")
    for route in (
        "POST $B/episodes ",
        "/episodes/$ID/step",
        "/episodes/$ID/submit",
        "$B/episodes/$ID/grade",
        "-X DELETE $B/episodes/$ID",
    ):
        assert route in doc, route


def test_root_leads_to_the_debugger_and_the_docs(client: httpx.Client) -> None:
    r = client.get("/")
    assert r.status_code == 200
    body = r.json()
    assert body["links"]["debugger"] == "/ui/"
    assert body["links"]["docs"] == "/docs"
    for href in body["links"].values():
        # Every advertised link answers (the MCP endpoint only to POSTs, so not a 404 is enough).
        assert client.get(href, follow_redirects=True).status_code != 404, href
    page = client.get("/", headers={"accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert 'href="/ui/"' in page.text and 'href="/docs"' in page.text


def test_unknown_task_is_a_plain_message_with_the_allowed_form(client: httpx.Client) -> None:
    r = client.post("/episodes", json={"task_id": "nope"})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "unknown_task" and error["field"] == "task_id"
    message = error["message"]
    assert message[0] not in "'\"" and message[-1] not in "'\"", message
    assert message.startswith("unknown task 'nope'; a task id is <family>-<NN>, e.g. refund_within_window-01")


def test_misspelt_task_id_suggests_the_close_ones(client: httpx.Client) -> None:
    error = client.post("/episodes", json={"task_id": "refund_within_window-1"}).json()["error"]
    assert error["message"].startswith("unknown task 'refund_within_window-1'; did you mean ")
    assert "refund_within_window-01" in error["message"]


def test_unknown_path_and_bad_json_are_structured(server: ServerProcess) -> None:
    # As the operator: without a credential every route answers 401 (tests/security).
    with EpisodeAuth(server.token).attach(httpx.Client(base_url=server.url, timeout=30)) as c:
        missing = c.get("/no-such-path")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        bad = c.post("/episodes", content=b'{"task_id": ', headers={"content-type": "application/json"})
        assert bad.status_code == 400
        assert bad.json()["error"] == {
            "code": "invalid_json",
            "message": "request body is not valid JSON",
            "field": "body",
        }
