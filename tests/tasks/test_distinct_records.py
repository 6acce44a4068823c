"""No two shipped tasks share a primary record: every ticket id is its own, and no customer or
order appears in two tasks. Shared ids would let an agent answer one task from another's
memory instead of from the world."""

from __future__ import annotations

from collections import defaultdict

from supportgym.tasks import list_tasks, prepare_task
from supportgym.tasks.records import primary_record_ids
from supportgym.tasks.setup import task_ticket_id


def _owners() -> dict[str, list[str]]:
    owners: dict[str, list[str]] = defaultdict(list)
    for t in list_tasks():
        for rid in primary_record_ids(prepare_task(t.id).values):
            owners[rid].append(t.id)
    return owners


def test_no_primary_record_is_shared_between_tasks() -> None:
    shared = {rid: tasks for rid, tasks in _owners().items() if len(tasks) > 1}
    assert not shared, f"records used by more than one task: {shared}"


def test_ticket_ids_differ_between_tasks_and_are_stable() -> None:
    tickets = [rid for rid in _owners() if rid.startswith("TKT-")]
    assert len(tickets) >= 50
    # Task tickets live above the seeded world's ticket ids.
    assert all(int(t.split("-")[1]) >= 3_000_000 for t in tickets)


def test_task_ticket_id_is_deterministic_and_avoids_taken_ids() -> None:
    from supportgym.db import WorldDB
    from supportgym.schema import Ticket
    from supportgym.services.worlds import get_snapshot

    db = WorldDB.from_image(get_snapshot(7, "default").image)
    try:
        with db.begin() as session:
            first = task_ticket_id(session, "some_family-01", "ticket")
            assert first == task_ticket_id(session, "some_family-01", "ticket")
            assert first != task_ticket_id(session, "some_family-02", "ticket")
            taken = session.get(Ticket, "TKT-200001")
            session.add(
                Ticket(
                    id=first,
                    customer_id=taken.customer_id,
                    subject="x",
                    status=taken.status,
                    priority=taken.priority,
                    channel=taken.channel,
                    created_at=taken.created_at,
                    updated_at=taken.updated_at,
                )
            )
            session.flush()
            assert task_ticket_id(session, "some_family-01", "ticket") != first
    finally:
        db.close()
