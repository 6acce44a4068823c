"""Conversational episodes through the real Episode and SupportEnv: the message_customer pseudo
tool, conversation end, the approval-before-write rule, snapshots, the new checks, the env."""

from __future__ import annotations

import json

import pytest

from supportgym.env.support_env import SupportEnv
from supportgym.rubrics.checks import ConversationMentions, ConversationNotMentions
from supportgym.rubrics.grade import make_context
from supportgym.services.episode import APPROVAL_GRACE_STEPS, MESSAGE_TOOL, EpisodeConfig
from supportgym.tasks import list_tasks, open_episode, prepare_task, run_solution

STATUS = "chat_order_status-01"
ADDRESS = "chat_address_change_verify-01"
PRIVACY = "chat_privacy_namesake-03"


def tool_names(tools):
    return [t["function"]["name"] for t in tools]


def test_at_least_twelve_conversational_tasks_in_three_families():
    conv = [t for t in list_tasks() if t.conversation is not None]
    assert len(conv) >= 12
    assert len({t.family for t in conv}) >= 3
    for t in conv:
        assert t.wrong


def test_message_customer_only_in_conversational_episodes():
    ep = open_episode(EpisodeConfig(task_id=STATUS))
    assert MESSAGE_TOOL in tool_names(ep.tool_schemas())
    assert "The customer's first message" in ep.instruction
    ticket_task = next(t.id for t in list_tasks() if t.conversation is None)
    ep2 = open_episode(EpisodeConfig(task_id=ticket_task))
    assert MESSAGE_TOOL not in tool_names(ep2.tool_schemas())
    r = ep2.step(MESSAGE_TOOL, {"message": "hi"})
    assert not r.ok and r.observation["error"]["code"]  # an unknown tool there


def test_observation_trail_and_conversation_over():
    ep = open_episode(EpisodeConfig(task_id=STATUS))
    p = ep.scenario
    r = ep.step(MESSAGE_TOOL, {"message": "What is your order number?"})
    assert r.ok and r.observation == {"customer": f"Sure, it's {p.values['order']['id']}.", "conversation_over": False}
    assert ep.trail[-1].name == MESSAGE_TOOL and ep.trail[-1].arguments == {"message": "What is your order number?"}
    r = ep.step(MESSAGE_TOOL, {"message": "I'll get back to you."})
    assert r.ok and r.observation["conversation_over"] is True
    # The conversation is over, the episode is not: messages now fail, submit ends it.
    assert not r.done
    r = ep.step(MESSAGE_TOOL, {"message": "Hello?"})
    assert not r.ok and r.observation["error"]["code"] == "conversation_over" and not r.done
    r = ep.step("submit_response", {"response": "Summary."})
    assert r.done and r.grade is not None
    r2 = open_episode(EpisodeConfig(task_id=STATUS)).step(MESSAGE_TOOL, {"msg": "x"})
    assert not r2.ok and r2.observation["error"]["code"] == "invalid_arguments"


def test_approval_is_never_cut_off_by_the_step_budget():
    prepared = prepare_task(ADDRESS)
    calls = prepared.reference.calls
    approve_at = next(i for i, c in enumerate(calls) if "Shall I" in str(c.args.get("message", ""))) + 1
    # Budget ends exactly on the customer's "yes, go ahead".
    ep = open_episode(EpisodeConfig(task_id=ADDRESS, max_steps=approve_at))
    for c in calls[:approve_at]:
        r = ep.step(c.tool, c.args)
    assert r.ok and "go ahead" in r.observation["customer"] and not r.done
    write = calls[approve_at]
    assert write.tool == "update_order_shipping_address"
    r = ep.step(write.tool, write.args)
    assert r.ok
    # The approved write happened; now the budget applies again.
    assert r.done and r.status.value == "truncated_max_steps"
    assert ep.grade_object.criteria  # graded


def test_approval_grace_is_bounded():
    prepared = prepare_task(ADDRESS)
    calls = prepared.reference.calls
    approve_at = next(i for i, c in enumerate(calls) if "Shall I" in str(c.args.get("message", ""))) + 1
    ep = open_episode(EpisodeConfig(task_id=ADDRESS, max_steps=approve_at))
    for c in calls[:approve_at]:
        ep.step(c.tool, c.args)
    steps = 0
    while ep.status.value == "running":
        ep.step("get_current_time", {})
        steps += 1
    assert steps == APPROVAL_GRACE_STEPS and ep.status.value == "truncated_max_steps"


def test_customer_never_leaves_between_approval_and_write():
    prepared = prepare_task(ADDRESS)
    calls = prepared.reference.calls
    approve_at = next(i for i, c in enumerate(calls) if "Shall I" in str(c.args.get("message", ""))) + 1
    ep = open_episode(EpisodeConfig(task_id=ADDRESS))
    for c in calls[:approve_at]:
        ep.step(c.tool, c.args)
    for text in ["Please wait a moment.", "I'll get back to you.", "It is updated."]:
        r = ep.step(MESSAGE_TOOL, {"message": text})
        assert r.ok and not r.observation["conversation_over"], text


def test_snapshot_restore_rewinds_the_conversation():
    ep = open_episode(EpisodeConfig(task_id=STATUS))
    snap = ep.snapshot()
    r1 = ep.step(MESSAGE_TOOL, {"message": "I'll get back to you."})
    assert r1.observation["conversation_over"]
    ep.restore(snap)
    r2 = ep.step(MESSAGE_TOOL, {"message": "What is your order number?"})
    assert r2.ok and not r2.observation["conversation_over"]


def test_replays_are_exact():
    a, _ = run_solution(ADDRESS, "reference")
    b, _ = run_solution(ADDRESS, "reference")
    strip = lambda ep: [(t.name, t.arguments, t.result) for t in ep.trail]  # noqa: E731
    assert strip(a) == strip(b)


def test_conversation_checks():
    ep, _ = run_solution("chat_address_change_verify-04", "reference")
    ctx = make_context(ep.scenario, ep.db, ep.record())
    email = ep.scenario.values["order"]["customer"]["email"]
    assert ConversationMentions(type="conversation_mentions", who="customer", all_of=[f"old.{email}"]).evaluate(ctx).met
    assert (
        ConversationMentions(type="conversation_mentions", who="customer", all_of=[email], before_write=True)
        .evaluate(ctx)
        .met
    )
    assert (
        not ConversationMentions(type="conversation_mentions", who="customer", all_of=["Wonderful"], before_write=True)
        .evaluate(ctx)
        .met
    )
    assert ConversationMentions(type="conversation_mentions", who="customer", all_of=["Wonderful"]).evaluate(ctx).met
    assert not ConversationMentions(type="conversation_mentions", all_of=[email]).evaluate(ctx).met
    assert ConversationNotMentions(type="conversation_not_mentions", any_of=[email]).evaluate(ctx).met
    assert (
        not ConversationNotMentions(type="conversation_not_mentions", who="customer", any_of=[email]).evaluate(ctx).met
    )
    assert (
        not ConversationNotMentions(
            type="conversation_not_mentions", any_of=[ep.scenario.values["order"]["id"]], include_reply=True
        )
        .evaluate(ctx)
        .met
    )
    ctx.close()


def test_support_env_runs_a_conversational_task_unchanged():
    env = SupportEnv(PRIVACY)
    try:
        obs, info = env.reset(seed=0)
        assert "first message" in json.loads(obs)["instruction"]
        assert MESSAGE_TOOL in tool_names(info["tools"])
        prepared = prepare_task(PRIVACY)
        reward = 0.0
        for c in prepared.reference.calls:
            obs, reward, term, trunc, info = env.step({"name": c.tool, "arguments": c.args})
            assert info["ok"], obs
            assert not (term or trunc)
        assert json.loads(obs)["conversation_over"] is True
        obs, reward, term, trunc, info = env.step(
            json.dumps({"name": "submit_response", "arguments": {"response": prepared.reference.reply}})
        )
        assert term and not trunc
        assert info["grade"]["perfect"] and reward >= 1.0
    finally:
        env.close()


@pytest.mark.parametrize("task_id", [t.id for t in list_tasks() if t.conversation is not None])
def test_reference_conversations_end_with_the_customer(task_id):
    """Each reference conversation is a whole chat: the customer has left when it submits."""
    ep, grade = run_solution(task_id, "reference")
    msgs = [t for t in ep.trail if t.name == MESSAGE_TOOL]
    assert msgs and msgs[-1].result["conversation_over"] is True
    assert grade.perfect
