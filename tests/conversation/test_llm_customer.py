"""The LLM customer: through a CannedOpenAIServer (a local OpenAI-compatible test double) and,
when the local llama.cpp model can be built, one short episode with the real model."""

from __future__ import annotations

import pytest

from supportgym.services.customer_sim import LLMCustomer, make_customer
from supportgym.services.episode import MESSAGE_TOOL, Episode, EpisodeConfig
from supportgym.services.openai_client import ChatClient
from supportgym.tasks import open_episode, prepare_task
from tests.conversation.canned_server import CannedOpenAIServer

TASK = "chat_order_status-01"


def llm_episode(base_url: str, task: str = TASK, **kw) -> tuple[Episode, ChatClient]:
    prepared = prepare_task(task)
    client = ChatClient(base_url, timeout_s=30, max_retries=kw.pop("max_retries", 0))
    customer = LLMCustomer(prepared.conversation, client, kw.pop("model", "canned"), seed=kw.pop("seed", 7), **kw)
    return open_episode(EpisodeConfig(task_id=task), customer=customer), client


def test_llm_customer_against_canned_server():
    prepared = prepare_task(TASK)
    order_id = prepared.values["order"]["id"]
    tracking = prepared.values["order"]["shipments"][0]["tracking_number"]
    with CannedOpenAIServer([f"Sure, it's {order_id}.", "Great, thanks! [END]"]) as srv:
        ep, client = llm_episode(srv.base_url, max_tokens=50)
        r = ep.step(MESSAGE_TOOL, {"message": "Could you give me your order number?"})
        assert r.ok and r.observation == {"customer": f"Sure, it's {order_id}.", "conversation_over": False}
        assert ep.conversation[-1]["revealed"] == ["order_number"]
        r = ep.step(MESSAGE_TOOL, {"message": f"It has shipped, tracking {tracking}."})
        assert r.observation == {"customer": "Great, thanks!", "conversation_over": True}
        r = ep.step("submit_response", {"response": f"Told the customer the status of {order_id}."})
        assert r.done and r.grade is not None
        client.close()
    body = srv.requests[0]
    assert body["seed"] == 7 and body["max_tokens"] == 50 and body["model"] == "canned"
    system = body["messages"][0]["content"]
    assert order_id in system and "reveal a fact only when the agent asks" in system
    # The opening is the customer's own (assistant) turn; the agent speaks as the user.
    assert body["messages"][1]["role"] == "assistant" and body["messages"][-1]["role"] == "user"
    assert len(srv.requests[1]["messages"]) == 5


def test_llm_customer_never_ends_on_approval():
    task = "chat_address_change_verify-01"
    with CannedOpenAIServer(["Yes, go ahead. [END]"]) as srv:
        ep, client = llm_episode(srv.base_url, task)
        ep.conversation.append(
            {"role": "customer", "text": "x", "revealed": ["new_address"], "rules": [], "approve": False, "over": False}
        )
        r = ep.step(MESSAGE_TOOL, {"message": "Shall I go ahead with the change?"})
        assert r.ok and r.observation["conversation_over"] is False
        assert ep.conversation[-1]["approve"] is True
        client.close()


def test_endpoint_failure_is_an_error_observation_not_a_crash():
    with CannedOpenAIServer([500]) as srv:
        ep, client = llm_episode(srv.base_url)
        r = ep.step(MESSAGE_TOOL, {"message": "Hello?"})
        assert not r.ok and r.observation["error"]["code"] == "customer_unavailable"
        assert not r.done and ep.consecutive_invalid == 0
        client.close()


def test_make_customer_selection(monkeypatch):
    conv = prepare_task(TASK).conversation
    assert make_customer(conv).kind == "scripted"
    for var in ("SUPPORTGYM_CUSTOMER_BASE_URL", "SUPPORTGYM_JUDGE_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValueError, match="needs an endpoint"):
        make_customer(conv, "llm")
    with CannedOpenAIServer(["It's fine."]) as srv:
        monkeypatch.setenv("SUPPORTGYM_CUSTOMER_BASE_URL", srv.base_url)
        ep = open_episode(EpisodeConfig(task_id=TASK, customer="llm"))
        assert ep.customer.kind == "llm"
        assert ep.step(MESSAGE_TOOL, {"message": "hi"}).observation["customer"] == "It's fine."
        ep.customer.client.close()


@pytest.mark.llm
@pytest.mark.slow
def test_real_model_customer_short_episode(llm_server):
    ep, client = llm_episode(llm_server.base_url, model=llm_server.model, max_tokens=40, max_retries=1)
    try:
        r = ep.step(MESSAGE_TOOL, {"message": "Hello! Could you give me your order number, please?"})
        assert r.ok, r.observation
        assert isinstance(r.observation["customer"], str) and r.observation["customer"]
        r = ep.step("submit_response", {"response": "Asked the customer for the order number."})
        assert r.done and r.grade is not None
    finally:
        client.close()
