"""The moving world through tasks and episodes: opt-in waiting, the clock following it, the
setup steps (post_internal, advance_time, enable_tools) and internal messages kept from
customers by the no-disclosure gate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import TypeAdapter
from sqlalchemy import select

from supportgym.clock import iso, parse_iso
from supportgym.rubrics.disclosure import internal_disclosures
from supportgym.schema import InternalMessage, Shipment, ShipmentStatus, WorldMeta
from supportgym.services.episode import Episode, EpisodeConfig
from supportgym.services.worlds import get_snapshot
from supportgym.tasks import open_episode
from supportgym.tasks.setup import SetupError, SetupOp, SetupRun

OPS = TypeAdapter(list[SetupOp])


def _names(ep: Episode) -> list[str]:
    return [s["function"]["name"] for s in ep.tool_schemas()]


def test_only_a_task_that_enables_waiting_offers_it() -> None:
    plain = open_episode(EpisodeConfig(task_id="refund_within_window-01"))
    waiting = open_episode(EpisodeConfig(task_id="refund_settles_wait-01"))
    assert "advance_time" not in _names(plain)
    assert "advance_time" in _names(waiting)
    assert "search_internal_messages" in _names(plain)
    refused = plain.step("advance_time", {"days": 1})
    assert not refused.ok and refused.observation["error"]["code"] == "tool_not_enabled"


def test_the_episode_clock_follows_the_wait() -> None:
    ep = open_episode(EpisodeConfig(task_id="refund_settles_wait-01"))
    before = parse_iso(ep.step("get_current_time", {}).observation["now"])
    waited = ep.step("advance_time", {"days": 1, "hours": 2})
    assert waited.ok
    after = parse_iso(ep.step("get_current_time", {}).observation["now"])
    assert after == parse_iso(waited.observation["now"]) + timedelta(seconds=30)
    assert after - before > timedelta(days=1, hours=2)
    # A wait that is refused moves nothing.
    bad = ep.step("advance_time", {"days": 30})
    assert not bad.ok and bad.observation["error"]["code"] == "invalid_arguments"
    assert parse_iso(ep.step("get_current_time", {}).observation["now"]) - after == timedelta(minutes=1)


def test_setup_steps_post_schedule_and_move_time() -> None:
    db = get_snapshot(7, "tiny").open()
    now = parse_iso(db.conn.execute("SELECT value FROM world_meta WHERE key='now'").fetchone()[0])
    ops = OPS.validate_python(
        [
            {"select": {"as": "ship", "table": "shipments", "where": {"status": "in_transit"}}},
            {"set": {"entity": "ship", "values": {"estimated_delivery": "+20h"}}},
            {"post_internal": {"as": "later", "team": "logistics", "age": "+1d", "body": "Hub reopened."}},
            {"enable_tools": ["advance_time"]},
            {"advance_time": {"days": 2}},
            {
                "post_internal": {
                    "channel": "notes",
                    "team": "warranty",
                    "age": "-1h",
                    "body": "Checked.",
                    "order": "{ship.order_id}",
                }
            },
        ]
    )
    with db.begin() as session:
        run = SetupRun(session, now, {})
        for n, op in enumerate(ops):
            run.apply(op, (n,))
        values = run.values()
        assert values["now"] == iso(now + timedelta(days=2))
        assert session.get(WorldMeta, "now").value == iso(now + timedelta(days=2))
        assert session.get(WorldMeta, "enabled_tools").value == "advance_time"
        assert session.get(Shipment, values["ship"]["id"]).status == ShipmentStatus.delivered
        notes = session.scalars(select(InternalMessage).where(InternalMessage.body == "Checked.")).all()
        assert [n.posted_at for n in notes] == [now + timedelta(days=2, hours=-1)]
        assert values["later"]["posted_at"] == iso(now + timedelta(days=1))
    with db.begin() as session:
        run = SetupRun(session, now, {})
        for bad in (
            {"enable_tools": ["get_order"]},
            {"advance_time": {"hours": 0}},
            {"post_internal": {"body": "nobody wrote this"}},
        ):
            with pytest.raises(SetupError):
                run.apply(OPS.validate_python([bad])[0], (0,))
    db.close()


def test_internal_text_author_and_id_are_not_for_customers() -> None:
    ep = open_episode(EpisodeConfig(task_id="carrier_delay_notice-01"))
    found = ep.step("search_internal_messages", {"query": "carrier notice"}).observation["results"]
    notice = found[0]
    body, author, mid = notice["body"], notice["author"]["name"], notice["message_id"]
    quote = " ".join(body.split()[-12:])

    def leaks(text: str) -> list[str]:
        return [d.customer_kind for d in internal_disclosures([("reply", text)], trail=ep.trail, conn=ep.db.conn)]

    assert leaks(f"Our team wrote: {quote}") == ["internal message text"]
    assert leaks(f"{author} from logistics says it is delayed.") == ["internal message author"]
    assert leaks(f"See {mid}.") == ["internal message id"]
    assert leaks("Your parcel is held up at the carrier and should arrive in a few days.") == []
    # Words the agent also read outside the channels (here: the whole notice pasted into a
    # ticket it then read) are not the message's to keep.
    ep.db.conn.execute(
        "UPDATE ticket_messages SET body = ? WHERE ticket_id = ?", (body, ep.scenario.values["ticket"]["id"])
    )
    ep.step("get_ticket", {"ticket_id": ep.scenario.values["ticket"]["id"]})
    assert leaks(f"Our team wrote: {quote}") == []
