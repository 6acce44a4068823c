"""``ChatClient`` (the openai SDK underneath) against ``MisbehavingOpenAIServer``: what SupportGym
adds around the SDK (attempt counts, ``giveup``, typed tool calls, no placeholder key on the wire)."""

from __future__ import annotations

import socket

import httpx
import pytest

from supportgym.services.openai_client import ChatClient, ChatError, ToolCall
from tests.judge.misbehaving_server import MisbehavingOpenAIServer

MESSAGES = [{"role": "user", "content": "hi"}]


class HeaderRecorder(httpx.HTTPTransport):
    """The real HTTP transport, keeping each request's headers."""

    def __init__(self) -> None:
        super().__init__()
        self.headers: list[httpx.Headers] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.headers.append(request.headers.copy())
        return super().handle_request(request)


def test_attempts_count_every_request_the_sdk_made():
    with MisbehavingOpenAIServer("always_500") as srv, ChatClient(srv.base_url, max_retries=2) as client:
        with pytest.raises(ChatError) as info:
            client.chat(model="double", messages=MESSAGES)
        assert srv.count == 3 and client.requests == 3
    err = info.value
    assert (err.kind, err.status, err.attempts) == ("http", 500, 3)
    assert "HTTP 500" in str(err) and "the double fails on purpose" in str(err)


def test_giveup_stops_the_sdk_retries():
    seen: list[ChatError] = []

    def giveup(err: ChatError) -> bool:
        seen.append(err)
        return err.status == 500

    with MisbehavingOpenAIServer("always_500") as srv, ChatClient(srv.base_url, max_retries=3) as client:
        with pytest.raises(ChatError) as info:
            client.chat(model="double", messages=MESSAGES, giveup=giveup)
        assert srv.count == 1
    assert info.value.attempts == 1 and info.value.status == 500
    assert [e.status for e in seen] == [500]


def test_a_client_error_is_not_retried():
    schema = {"type": "json_schema", "json_schema": {"name": "v", "schema": {"type": "object"}}}
    with MisbehavingOpenAIServer("reject_schema") as srv, ChatClient(srv.base_url, max_retries=3) as client:
        with pytest.raises(ChatError) as info:
            client.chat(model="double", messages=MESSAGES, response_format=schema)
        assert srv.count == 1
    assert (info.value.kind, info.value.status, info.value.attempts) == ("http", 422, 1)


def test_unreachable_endpoint_is_a_connection_error_after_the_retries():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with ChatClient(f"http://127.0.0.1:{port}/v1", max_retries=1) as client:
        with pytest.raises(ChatError) as info:
            client.chat(model="m", messages=MESSAGES)
    assert info.value.kind == "connection" and info.value.attempts == 2 and info.value.status is None


def test_typed_tool_calls_are_read_and_repaired():
    script = [
        {
            "content": None,
            "tool_calls": [
                # no id, arguments written as an object (small models do both)
                {"type": "function", "function": {"name": "get_order", "arguments": {"order_id": "ORD-1"}}},
                {"id": "call_7", "type": "function", "function": {"name": "list_brands", "arguments": "{}"}},
            ],
        }
    ]
    with MisbehavingOpenAIServer("script", script=script) as srv, ChatClient(srv.base_url) as client:
        resp = client.chat(model="double", messages=MESSAGES, tools=[], tool_choice="auto")
        assert "tools" not in srv.requests[0]  # an empty tool list is not sent
    assert resp.tool_calls == [
        ToolCall(id="", name="get_order", arguments='{"order_id": "ORD-1"}'),
        ToolCall(id="call_7", name="list_brands", arguments="{}"),
    ]
    assert resp.finish_reason == "tool_calls" and resp.content is None
    assert (resp.tokens_in, resp.tokens_out, resp.attempts) == (100, 10, 1)


def test_the_key_is_sent_only_when_there_is_one():
    for key, expected in ((None, None), ("sk-test-key", "Bearer sk-test-key")):
        recorder = HeaderRecorder()
        with MisbehavingOpenAIServer("ok") as srv, ChatClient(srv.base_url, key, transport=recorder) as client:
            client.chat(model="double", messages=MESSAGES)
        assert recorder.headers[0].get("authorization") == expected
