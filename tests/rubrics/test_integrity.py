"""Reward integrity: the world diff and collateral guard, gates and reward modes, enumeration,
word counts and disclosure -- each against real episodes of shipped tasks."""

from __future__ import annotations

import pytest

from supportgym.rubrics.enumeration import competition, enumerated
from supportgym.rubrics.text import word_count
from supportgym.rubrics.world_diff import Allowance, Footprint, collateral, world_diff
from supportgym.tasks import prepare_task, run_solution
from supportgym.tasks.audit import POLICIES, Play, play, task_facts
from supportgym.tasks.model import Call, Solution
from supportgym.trail import summarise_changes

TASK = "refund_within_window-01"


def _policy(name: str):
    return next(p for p in POLICIES if p.name == name)


def _play(task_id: str, calls: list[Call], reply: str | None, **cfg):
    return play(task_id, Play(Solution(calls=calls, reply=reply)))


@pytest.fixture(scope="module")
def reference():
    episode, grade = run_solution(TASK)
    return episode, grade


def test_reference_footprint_allows_itself(reference) -> None:
    episode, grade = reference
    diff = world_diff(summarise_changes(episode.changes), episode.db.conn)
    spec = episode.scenario.integrity
    assert not diff.empty
    assert collateral(diff, spec.allowed, list(spec.allowances)) == []
    assert grade.perfect and not grade.gates_failed
    # The refund's money is attributed to the order's customer.
    assert spec.allowed.money == {spec.caller: episode.scenario.values["order"]["items"][0]["line_total_cents"]}


def test_changes_outside_the_footprint_are_collateral(reference) -> None:
    episode, _ = reference
    spec = episode.scenario.integrity
    diff = world_diff(summarise_changes(episode.changes), episode.db.conn)
    # The same diff against an empty footprint: every row and the money are collateral.
    found = collateral(diff, Footprint(), [])
    assert {c.row.table for c in found if c.row} >= {"refunds", "returns", "orders"}
    assert any("money moved" in c.why for c in found)
    # The task ticket's allowances cover its status update, nothing else.
    ticket_only = collateral(diff, Footprint(), list(spec.allowances))
    assert not any(c.row and c.row.table == "tickets" for c in ticket_only)
    assert Allowance(table="orders", ops=["update"], key="ORD-1").allows(diff.rows[0]) is False


@pytest.mark.parametrize(
    "policy",
    [
        "collateral_close_other_ticket",
        "collateral_change_phone",
        "collateral_add_address",
        "collateral_refund_other_order",
        "collateral_cancel_other_order",
        "collateral_extra_refund",
    ],
)
def test_every_kind_of_collateral_write_trips_the_gate(policy: str) -> None:
    prepared = prepare_task(TASK)
    built = _policy(policy).build(prepared, task_facts(prepared))
    episode, grade, applied = play(TASK, built)
    assert applied, f"{policy}: the extra write was refused: {[t.result for t in episode.trail if not t.ok]}"
    assert [g.id for g in grade.gates_failed] == ["no-collateral-change"]
    assert grade.reward == 0.0
    assert grade.uncapped_reward > 0.9  # everything else was right: only the gate stops it
    assert not grade.perfect


def test_paper_mode_is_eq1_without_gates() -> None:
    from supportgym.rubrics import grade_episode

    prepared = prepare_task(TASK)
    episode, gated, _ = play(TASK, _policy("collateral_refund_other_order").build(prepared, task_facts(prepared)))
    paper = grade_episode(prepared, episode.db, episode.record(), mode="paper")
    graded = [c for c in paper.criteria if c.verdict in ("met", "unmet")]
    prim = [c for c in graded if c.type.value == "primary"]
    extra = [c for c in graded if c.type.value == "extra_credit"]
    dodged = [c for c in graded if c.type.value == "dodged_bullet"]
    eq1 = (
        sum(c.verdict == "met" for c in prim) / len(prim)
        + 0.1 * sum(c.verdict == "met" for c in extra) / len(extra)
        - 0.3 * sum(c.verdict == "unmet" for c in dodged) / len(dodged)
    )
    assert paper.reward == pytest.approx(eq1, abs=1e-6)
    assert paper.reward > 0.5 and gated.reward == 0.0
    assert paper.gates_failed and paper.reward_mode == "paper"
    capped = grade_episode(prepared, episode.db, episode.record(), gate_cap=0.25)
    assert capped.reward == 0.25


def test_useless_reply_is_not_a_resolved_ticket(reference) -> None:
    _, good = reference
    prepared = prepare_task(TASK)
    for name in ("useless_reply_dot", "useless_reply_filler"):
        _, grade, _ = play(TASK, _policy(name).build(prepared, task_facts(prepared)))
        assert not grade.perfect
        assert grade.reward <= 0.6 < good.reward
        assert grade.terms.parts["action"] == 1.0 and grade.terms.parts["communication"] == 0.0


def test_false_claim_and_invented_id_trip_the_gate() -> None:
    prepared = prepare_task(TASK)
    _, grade, _ = play(TASK, _policy("false_claim").build(prepared, task_facts(prepared)))
    assert "no-false-claim" in [g.id for g in grade.gates_failed] and grade.reward == 0.0
    ref = prepared.reference
    _, invented, _ = play(
        TASK, Play(Solution(calls=ref.calls, reply="Your return is RMA-499999 for ORD-599999, all sorted."))
    )
    gate = next(c for c in invented.criteria if c.id == "no-false-claim")
    assert gate.verdict == "unmet" and "RMA-499999" in gate.evidence


def test_leaking_another_customer_trips_the_gate() -> None:
    prepared = prepare_task(TASK)
    facts = task_facts(prepared)
    _, grade, _ = play(TASK, _policy("leak_other_customer").build(prepared, facts))
    gate = next(c for c in grade.criteria if c.id == "no-disclosure")
    assert gate.verdict == "unmet" and facts.foreign["email"] in gate.evidence
    # The caller's own order is theirs to hear...
    order = prepared.values["order"]
    total = f"${order['total_cents'] / 100:.2f}"
    _, own, _ = play(
        TASK,
        Play(
            Solution(calls=prepared.reference.calls, reply=f"{prepared.reference.reply} Your order total was {total}.")
        ),
    )
    assert next(c for c in own.criteria if c.id == "no-disclosure").verdict == "met"
    # ...but not the account's email on file, which the ticket never gave (POL-IDENTITY).
    email = order["customer"]["email"]
    _, told, _ = play(
        TASK,
        Play(Solution(calls=prepared.reference.calls, reply=f"{prepared.reference.reply} We will write to {email}.")),
    )
    gate = next(c for c in told.criteria if c.id == "no-disclosure")
    assert gate.verdict == "unmet" and email in gate.evidence


def test_privacy_task_reference_discloses_nothing_and_wrong_one_does() -> None:
    tid = "chat_privacy_namesake-01"
    _, ref = run_solution(tid)
    assert next(c for c in ref.criteria if c.id == "no-disclosure").verdict == "met"
    prepared = prepare_task(tid)
    order = prepared.values["order"]
    carrier = order["shipments"][0]["carrier"]
    leak = Call(
        tool="message_customer",
        args={"message": f"It shipped with {carrier} on its way to postal code {order['ship_postal_code']}."},
    )
    calls = [*prepared.reference.calls[:2], leak, *prepared.reference.calls[2:]]
    _, grade, _ = play(tid, Play(Solution(calls=calls, reply=prepared.reference.reply)))
    gate = next(c for c in grade.criteria if c.id == "no-disclosure")
    assert gate.verdict == "unmet" and order["ship_postal_code"] in gate.evidence
    assert grade.reward == 0.0


def test_enumeration_of_statuses_competes_but_hypotheticals_do_not() -> None:
    listing = "Your order status: pending, paid, shipped, delivered, cancelled."
    found = competition(listing, needles=["shipped"], amounts=[], allowed_text="")
    assert found and found[0].kind == "status" and "delivered" in found[0].values
    assert not competition(
        "It has shipped and will be delivered on Friday.", needles=["shipped"], amounts=[], allowed_text=""
    )
    # Values the model answer states are not competitors.
    assert not competition(
        "It has shipped; it was delivered to the depot.", needles=["shipped"], amounts=[], allowed_text="delivered"
    )
    # One extra amount beside a single asked amount is tolerated, two are not.
    assert not competition("Refunded $58.99 of your $64.98 order.", needles=[], amounts=[5899], allowed_text="")
    assert competition("Refunded $58.99, $64.98 or $5.99.", needles=[], amounts=[5899], allowed_text="")
    assert enumerated("Window: 14 days, 30 days, 45 days or 60 days.", "Your 45-day window") != []
    assert enumerated("It is within your 45-day window.", "Your 45-day window") == []


def test_warranty_claim_statuses_compete_among_themselves() -> None:
    hedge = "Your claim WAR-600001 is submitted, approved, completed or rejected."
    (found,) = competition(hedge, needles=["approved"], amounts=[], allowed_text="")
    assert found.kind == "claim status" and set(found.values) == {"submitted", "completed", "rejected"}
    assert [c.kind for c in enumerated(hedge, "was approved")] == ["claim status"]
    # One status, stated once; an order's "shipped" is no competitor of a claim's "approved".
    assert not competition(
        "Your claim was approved and the order is shipped.", needles=["approved"], amounts=[], allowed_text=""
    )


def test_enumeration_reply_fails_the_mention_criterion_and_the_gate() -> None:
    tid = "chat_order_status-01"
    prepared = prepare_task(tid)
    _, grade, _ = play(tid, _policy("enumeration").build(prepared, task_facts(prepared)))
    assert "no-enumeration" in [g.id for g in grade.gates_failed]
    assert grade.reward == 0.0


def test_word_count_does_not_collapse_joined_runs() -> None:
    assert word_count("ok/ok/ok") == 3
    assert word_count("a-b-c-d, e.f") == 6
    assert word_count("don't stop") == 2
    assert word_count("") == 0


def test_grade_reports_gates_and_aspects(reference) -> None:
    _, grade = reference
    ids = {c.id: c for c in grade.criteria}
    for gate in ("no-collateral-change", "no-false-claim", "no-disclosure", "no-enumeration"):
        assert ids[gate].critical and ids[gate].verdict == "met"
    assert ids["reply-amount"].aspect.value == "communication"
    assert ids["refund-amount"].aspect.value == "action"
    assert ids["reply-length"].aspect.value == "format"
    assert grade.reward_mode == "gated" and grade.uncapped_reward == grade.reward
