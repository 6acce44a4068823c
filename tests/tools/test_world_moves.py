"""The world that moves: internal channels (search, read, scheduled posts) and advance_time
(opt-in, bounded, deterministic, and the world really changes)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from supportgym.clock import iso, parse_iso
from supportgym.policy import REFUND_SETTLE_DAYS, SLA_BREACHED_TAG
from supportgym.schema import (
    ENABLED_TOOLS_KEY,
    InternalMessage,
    Order,
    OrderStatus,
    Refund,
    RefundStatus,
    Shipment,
    ShipmentStatus,
    Ticket,
    WorldMeta,
)
from tests.tools.conftest import World


def _post(
    world: World, body: str, *, posted_delta: timedelta, channel: str = "team_chat", order: str | None = None
) -> str:
    def add(s):  # noqa: ANN001
        author = s.execute(select(InternalMessage.author_id).order_by(InternalMessage.id)).scalars().first()
        s.add(
            InternalMessage(
                id="MSG-900001" if "later" not in body else "MSG-900002",
                channel=channel,
                author_id=author,
                posted_at=world.now + posted_delta,
                body=body,
                order_id=order,
            )
        )

    world.edit(add)
    return "MSG-900001" if "later" not in body else "MSG-900002"


def _enable(world: World) -> None:
    world.edit(lambda s: s.add(WorldMeta(key=ENABLED_TOOLS_KEY, value="advance_time")))


def test_search_needs_every_word_and_filters_by_channel_and_date(world: World) -> None:
    mid = _post(world, "Hub scanner outage in Denver: parcels sit two extra days", posted_delta=-timedelta(hours=2))
    found = world.ok("search_internal_messages", query="denver outage")
    assert [m["message_id"] for m in found["results"]] == [mid]
    assert found["results"][0]["author"]["name"]
    assert world.ok("search_internal_messages", query="denver cancelled")["total"] == 0
    assert world.ok("search_internal_messages", query="denver", channel="notes")["total"] == 0
    today = world.now.strftime("%Y-%m-%d")
    assert world.ok("search_internal_messages", query="denver", posted_after=today)["total"] == 1
    assert world.ok("search_internal_messages", query="denver", posted_before=today)["total"] == 0
    # '%' is literal, not "anything"
    assert world.ok("search_internal_messages", query="%")["total"] == 0


def test_search_pages_through_the_noise(world: World) -> None:
    first = world.ok("search_internal_messages", channel="team_chat", page_size=5)
    second = world.ok("search_internal_messages", channel="team_chat", page_size=5, page=2)
    assert first["total"] > 10 and first["has_more"] and first["next_page"] == 2
    ids = [m["message_id"] for m in first["results"] + second["results"]]
    assert len(set(ids)) == 10
    times = [m["posted_at"] for m in first["results"] + second["results"]]
    assert times == sorted(times, reverse=True)


def test_get_message_and_bad_input(world: World) -> None:
    mid = _post(
        world, "Note: customer asked to be called after 5pm", posted_delta=-timedelta(minutes=5), channel="notes"
    )
    got = world.ok("get_internal_message", message_id=mid)
    assert got["channel"] == "notes" and got["body"].startswith("Note:")
    assert world.error("get_internal_message", {"message_id": "MSG-1"})["code"] == "not_found"
    assert world.error("get_internal_message", {"message_id": "ORD-500001"})["code"] == "invalid_arguments"
    bad_range = {"posted_after": "2026-03-10", "posted_before": "2026-03-01"}
    assert world.error("search_internal_messages", bad_range)["code"] == "invalid_arguments"
    assert world.error("search_internal_messages", {"posted_after": "2026-02-31"})["code"] == "invalid_argument"


def test_a_message_scheduled_later_exists_only_once_its_time_comes(world: World) -> None:
    _enable(world)
    mid = _post(world, "update later: the hub is open again", posted_delta=timedelta(hours=20))
    assert world.error("get_internal_message", {"message_id": mid})["code"] == "not_found"
    assert world.ok("search_internal_messages", query="hub open")["total"] == 0
    world.now = parse_iso(world.ok("advance_time", days=1)["now"])
    assert world.ok("get_internal_message", message_id=mid)["message_id"] == mid


def test_advance_time_is_off_unless_the_world_enables_it(world: World) -> None:
    assert world.error("advance_time", {"days": 1})["code"] == "tool_not_enabled"
    _enable(world)
    for bad in ({}, {"days": 0, "hours": 0}, {"days": 15}, {"hours": 400}, {"days": -1}, {"hours": "soon"}):
        assert world.error("advance_time", bad)["code"] == "invalid_arguments", bad


def test_advance_time_delivers_due_parcels_settles_refunds_and_passes_deadlines(world: World) -> None:
    _enable(world)
    due = world.first(select(Shipment).where(Shipment.status == ShipmentStatus.in_transit).order_by(Shipment.id))
    late = world.first(
        select(Shipment)
        .where(Shipment.status == ShipmentStatus.in_transit, Shipment.id != due.id)
        .order_by(Shipment.id)
    )
    refund = world.first(select(Refund).where(Refund.status == RefundStatus.processed).order_by(Refund.id))
    ticket = world.first(select(Ticket).where(Ticket.status == "open").order_by(Ticket.id))
    ids = (due.id, due.order_id, late.id, refund.id, ticket.id)

    def arrange(s):  # noqa: ANN001
        s.get(Shipment, ids[0]).estimated_delivery = world.now + timedelta(hours=30)
        s.get(Order, ids[1]).status = OrderStatus.shipped
        s.get(Shipment, ids[2]).estimated_delivery = world.now - timedelta(days=2)  # held up
        r = s.get(Refund, ids[3])
        r.status, r.created_at = RefundStatus.pending, world.now - timedelta(days=REFUND_SETTLE_DAYS, hours=-5)
        t = s.get(Ticket, ids[4])
        t.priority, t.created_at = "urgent", world.now - timedelta(hours=3)
        for m in t.messages:
            m.author_type = "customer"

    world.edit(arrange)
    out = world.call("advance_time", hours=2)  # not enough for anything but the SLA
    assert out.ok and out.result["changed_records"] >= 1
    assert world.first(select(Shipment.status).where(Shipment.id == ids[0])) == ShipmentStatus.in_transit
    tags = world.ok("get_ticket", ticket_id=ids[4])["tags"]
    assert SLA_BREACHED_TAG in tags
    assert world.first(select(Refund.status).where(Refund.id == ids[3])) == RefundStatus.pending
    world.now = parse_iso(out.result["now"])
    world.now = parse_iso(world.ok("advance_time", days=1, hours=6)["now"])
    assert world.first(select(Shipment.status).where(Shipment.id == ids[0])) == ShipmentStatus.delivered
    assert world.first(select(Order.status).where(Order.id == ids[1])) == OrderStatus.delivered
    assert world.first(select(Shipment.status).where(Shipment.id == ids[2])) == ShipmentStatus.in_transit
    assert world.first(select(Refund.status).where(Refund.id == ids[3])) == RefundStatus.processed
    assert world.first(select(WorldMeta.value).where(WorldMeta.key == "now")) == iso(world.now)
    tracking = world.ok("get_shipment", shipment_id=ids[0])
    assert tracking["status"] == "delivered"


def test_waiting_in_one_go_or_in_steps_gives_the_same_world(tiny_snapshot) -> None:
    worlds = [World(tiny_snapshot.open()) for _ in range(2)]
    for w in worlds:
        _enable(w)
    one, two = worlds
    end = one.ok("advance_time", days=4)["now"]
    two.now = parse_iso(two.ok("advance_time", days=1)["now"]) - timedelta(seconds=30)
    two.now = parse_iso(two.ok("advance_time", days=2)["now"]) - timedelta(seconds=30)
    assert two.ok("advance_time", days=1)["now"] == end
    assert one.hash() == two.hash()
    for w in worlds:
        w.db.close()


def test_a_scheduled_failed_delivery_sends_the_parcel_back(world: World) -> None:
    _enable(world)
    ship = world.first(
        select(Shipment).where(Shipment.status == ShipmentStatus.in_transit).order_by(Shipment.id.desc())
    )
    ids = (ship.id, ship.order_id)

    def arrange(s):  # noqa: ANN001
        shp = s.get(Shipment, ids[0])
        shp.estimated_delivery, shp.delivery_fails = world.now + timedelta(hours=3), True
        s.get(Order, ids[1]).status = OrderStatus.shipped

    world.edit(arrange)
    world.ok("advance_time", hours=6)
    tracking = world.ok("get_shipment", shipment_id=ids[0])
    assert tracking["status"] == "returned_to_sender" and tracking["delivered_at"] is None
    assert "delivery_fails" not in tracking  # the schedule is the world's secret
    assert tracking["events"][-1]["status"] == "returned_to_sender"
    assert world.first(select(Order.status).where(Order.id == ids[1])) == OrderStatus.shipped
