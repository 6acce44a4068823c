"""The deliberate traps task authors rely on exist in the default world (seed 7)."""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import func, select

from supportgym import policy as P
from supportgym.schema import (
    Address,
    Customer,
    Order,
    OrderStatus,
    Payment,
    Product,
    PromoCode,
    Refund,
    Shipment,
    Staff,
    Ticket,
    TicketStatus,
)
from supportgym.world_seed.catalog import TRAP_BRANDS
from supportgym.world_seed.traps import mismatched_tickets, trap_examples


def test_trap_brands_span_pages_and_are_spelled_differently(default_db) -> None:  # noqa: ANN001
    with default_db.session() as s:
        counts = dict(s.execute(select(Product.brand, func.count()).group_by(Product.brand)).all())
        for b in TRAP_BRANDS:
            assert counts[b.name] > P.DEFAULT_PAGE_SIZE, b.name
            # The way customers write it does not match the stored name.
            assert b.spoken not in counts
            assert s.scalar(select(func.count()).select_from(Product).where(Product.brand.ilike(b.spoken))) == 0
        assert counts["VortexLabs"] > 25
        assert len(counts) >= 20


def test_catalogue_has_out_of_stock_discontinued_and_final_sale(default_db) -> None:  # noqa: ANN001
    with default_db.session() as s:
        products = s.scalars(select(Product)).all()
    assert any(p.stock == 0 for p in products)
    n_disc = sum(p.discontinued for p in products)
    assert 0.02 * len(products) <= n_disc <= 0.10 * len(products)
    cats = {p.category for p in products}
    assert P.FINAL_SALE_CATEGORIES <= cats
    assert all(0 <= p.warranty_months <= 36 for p in products)
    assert len({p.sku for p in products}) == len(products)


def test_same_name_customers(default_db) -> None:  # noqa: ANN001
    with default_db.session() as s:
        groups: dict[tuple[str, str], list[Customer]] = defaultdict(list)
        for c in s.scalars(select(Customer)):
            groups[(c.first_name, c.last_name)].append(c)
        dup = [g for g in groups.values() if len(g) > 1]
        assert len(dup) >= 5
        assert any(len(g) >= 3 for g in dup)
        for g in dup:
            assert len({c.email for c in g}) == len(g)
        # Their cities differ in most groups (addresses come from independent draws).
        city_sets = []
        for g in dup:
            cities = {a.city for c in g for a in c.addresses if a.is_default}
            city_sets.append(len(cities) == len(g))
        assert sum(city_sets) >= 5


def test_customers_with_more_than_25_orders(default_db) -> None:  # noqa: ANN001
    with default_db.session() as s:
        n = s.execute(
            select(Order.customer_id, func.count()).group_by(Order.customer_id).having(func.count() > 25)
        ).all()
    assert len(n) >= 3


def test_every_order_and_ticket_status_present(default_db, tiny_db) -> None:  # noqa: ANN001
    for db in (default_db, tiny_db):
        with db.session() as s:
            assert set(s.scalars(select(Order.status).distinct())) == set(OrderStatus)
    with default_db.session() as s:
        assert set(s.scalars(select(Ticket.status).distinct())) == set(TicketStatus)


def test_duplicate_payments_some_refunded_some_not(default_db) -> None:  # noqa: ANN001
    with default_db.session() as s:
        dups = s.scalars(select(Payment).where(Payment.duplicate_of.is_not(None))).all()
        assert len(dups) >= 5
        refunded = set(s.scalars(select(Refund.payment_id).where(Refund.reason == "duplicate_charge")))
        assert any(d.id in refunded for d in dups)
        assert any(d.id not in refunded for d in dups)
        for d in dups:
            orig = s.get(Payment, d.duplicate_of)
            assert orig.amount_cents == d.amount_cents and orig.order_id == d.order_id
        # Failed attempts exist too and are not duplicates.
        assert s.scalar(select(func.count()).select_from(Payment).where(Payment.status == "failed")) > 0
        pending = s.scalars(select(Order).where(Order.status == "pending")).all()
        assert pending and all([p.status for p in o.payments] == ["authorized"] for o in pending)


def test_mismatched_subject_tickets(default_db) -> None:  # noqa: ANN001
    with default_db.session() as s:
        ids = mismatched_tickets(s)
        assert len(ids) >= 10
        tickets = [s.get(Ticket, i) for i in ids]
        cancel = [t for t in tickets if t.subject == "Cancel my order"]
        assert cancel
        for t in cancel:
            body = t.messages[0].body
            assert "arrived" in body and "broken" in body
            assert t.messages[0].author_type == "customer"
            if t.order_id:
                # The order they "want to cancel" was delivered: it cannot be cancelled.
                assert s.get(Order, t.order_id).status.value not in P.CANCELLABLE_STATUSES


def test_tickets_shape(default_db) -> None:  # noqa: ANN001
    with default_db.session() as s:
        tickets = s.scalars(select(Ticket)).all()
        assert all(1 <= len(t.messages) <= 6 for t in tickets)
        assert all(t.messages[0].author_type == "customer" for t in tickets)
        assert any(m.internal for t in tickets for m in t.messages)
        assert any(t.assignee_id is None for t in tickets)
        assert sum(t.order_id is not None for t in tickets) > len(tickets) / 2
        assert all(t.tags for t in tickets)
        escalated = [t for t in tickets if t.status == "escalated"]
        assert escalated and all(t.escalated_team is not None for t in escalated)
        subjects = Counter(t.subject for t in tickets)
        assert len(subjects) > 40


def test_staff_teams_and_inactive(default_db) -> None:  # noqa: ANN001
    with default_db.session() as s:
        staff = s.scalars(select(Staff)).all()
    teams = {st.team.value for st in staff if st.active}
    assert {"general", "billing", "warranty", "logistics", "escalations"} <= teams
    assert any(st.role == "billing_specialist" and st.team == "billing" for st in staff)
    assert any(st.role == "warranty_specialist" and st.team == "warranty" for st in staff)
    assert any(not st.active for st in staff)


def test_orders_follow_shipping_and_address_policy(default_db) -> None:  # noqa: ANN001
    with default_db.session() as s:
        defaults = {a.customer_id: a for a in s.scalars(select(Address).where(Address.is_default))}
        customers = {c.id: c for c in s.scalars(select(Customer))}
        orders = s.scalars(select(Order)).all()
    fee_paid_by_free_tier = 0
    for o in orders:
        a, c = defaults[o.customer_id], customers[o.customer_id]
        assert (o.ship_line1, o.ship_city, o.ship_postal_code) == (a.line1, a.city, a.postal_code)
        assert o.ship_name == f"{c.first_name} {c.last_name}"
        after_discount = o.subtotal_cents - o.discount_cents
        if c.tier in P.FREE_SHIPPING_TIERS:
            if o.shipping_fee_cents:
                fee_paid_by_free_tier += 1
                assert c.notes.startswith("Upgraded from Silver")  # fee before the upgrade
        else:
            expected = P.STANDARD_SHIPPING_FEE_CENTS if after_discount < P.FREE_SHIPPING_THRESHOLD_CENTS else 0
            assert o.shipping_fee_cents == expected, o.id
    assert fee_paid_by_free_tier > 0


def test_promo_codes_used_including_tier_only(default_db) -> None:  # noqa: ANN001
    with default_db.session() as s:
        promos = {p.code: p for p in s.scalars(select(PromoCode))}
        used = s.execute(
            select(Order.promo_code, Order.customer_id, Order.placed_at).where(Order.promo_code.is_not(None))
        ).all()
        customers = {c.id: c for c in s.scalars(select(Customer))}
    assert len(used) > 50
    assert any(p.tier_required is not None for p in promos.values())
    assert any(not p.active for p in promos.values())
    tier_used = [u for u in used if promos[u[0]].tier_required is not None]
    assert tier_used
    for code, cid, placed in used:
        p = promos[code]
        assert p.active and p.valid_from <= placed <= p.valid_until
        if p.tier_required is not None:
            # Upgraded customers used the tier they had at the time; others their current one.
            assert customers[cid].tier == p.tier_required or customers[cid].notes


def test_lost_and_late_shipments(default_db) -> None:  # noqa: ANN001
    with default_db.session() as s:
        lost = s.scalar(select(func.count()).select_from(Shipment).where(Shipment.status == "lost"))
        late = s.scalar(
            select(func.count()).select_from(Shipment).where(Shipment.delivered_at > Shipment.estimated_delivery)
        )
    assert lost >= 3
    assert late >= 20


def test_trap_examples_lists_every_trap(default_db) -> None:  # noqa: ANN001
    with default_db.session() as s:
        ex = trap_examples(s)
    assert all(ex.values()), [k for k, v in ex.items() if not v]
