"""The seeded internal channels: enough everyday noise that a task's message must be searched
for, written by active staff about rows that exist, and none of it mentioning what tasks hinge on."""

from __future__ import annotations

from supportgym.clock import WORLD_NOW


def test_channels_are_noisy_and_consistent(default_snapshot) -> None:
    db = default_snapshot.open()
    try:
        conn = db.conn
        rows = conn.execute("SELECT channel, count(*) FROM internal_messages GROUP BY channel").fetchall()
        counts = dict(rows)
        assert counts["team_chat"] >= 150 and counts["notes"] >= 100
        assert (
            conn.execute(
                "SELECT count(*) FROM internal_messages m JOIN staff s ON s.id = m.author_id WHERE s.active = 0"
            ).fetchone()[0]
            == 0
        )
        for column, table in (("order_id", "orders"), ("customer_id", "customers"), ("product_id", "products")):
            dangling = conn.execute(
                f"SELECT count(*) FROM internal_messages m WHERE m.{column} IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = m.{column})"
            ).fetchone()[0]
            assert dangling == 0, column
        newest = conn.execute("SELECT max(posted_at) FROM internal_messages").fetchone()[0]
        assert newest < WORLD_NOW.strftime("%Y-%m-%d %H:%M:%S")
        # Ids follow posting order, so "newest first" and "highest id first" agree.
        ordered = [r[0] for r in conn.execute("SELECT id FROM internal_messages ORDER BY posted_at, id")]
        assert ordered == sorted(ordered)
        for word in ("recall", "delay", "hold", "goodwill", "notice", "exception"):
            hits = conn.execute("SELECT count(*) FROM internal_messages WHERE lower(body) LIKE ?", (f"%{word}%",))
            assert hits.fetchone()[0] == 0, word
    finally:
        db.close()
