"""The compiled-query loaders (``reads``) render exactly what the ORM objects render, for every row."""

from __future__ import annotations

from sqlalchemy import select

from supportgym.schema import Customer, Order, Ticket
from supportgym.services.tools import views


def test_orders_customers_tickets_render_identically(world):
    # Some episode writes first, so rows the episode created are covered too.
    order = world.first(select(Order).where(Order.status == "paid").order_by(Order.id))
    world.ok("cancel_order", order_id=order.id, reason="test")
    ticket = world.first(select(Ticket).order_by(Ticket.id))
    world.ok("tag_ticket", ticket_id=ticket.id, add=["zz-last", "aa-first"])
    world.ok("add_internal_note", ticket_id=ticket.id, note="checked")
    conn = world.db.conn
    with world.db.session() as s:
        orders = s.execute(select(Order).order_by(Order.id)).scalars().all()
        for o in orders:
            assert views.order_detail(views.load_order(conn, o.id)) == views.order_detail(o), o.id
            for sh in o.shipments:
                assert views.shipment_detail(views.load_shipment(conn, sh.id)) == views.shipment_detail(sh)
            for r in o.returns:
                assert views.return_summary(views.load_return(conn, r.id)) == views.return_summary(r)
        for c in s.execute(select(Customer).order_by(Customer.id)).scalars():
            fast = views.customer_detail(conn, views.load_customer(conn, c.id))
            assert fast == views.customer_detail(conn, c), c.id
        for t in s.execute(select(Ticket).order_by(Ticket.id)).scalars():
            assert views.ticket_detail(views.load_ticket(conn, t.id)) == views.ticket_detail(t), t.id
        assert views.load_order(conn, "ORD-999999999") is None
        assert views.load_customer(conn, "CUS-999999999") is None
        assert views.load_ticket(conn, "TKT-999999999") is None
        assert views.load_shipment(conn, "SHP-999999999") is None
        assert views.load_return(conn, "RMA-999999999") is None
        assert len(orders) > 100


def test_search_pages_render_like_the_orm_objects(world):
    from supportgym.schema import Product, Staff

    ticket = world.first(select(Ticket).order_by(Ticket.id))
    world.ok("tag_ticket", ticket_id=ticket.id, add=["zz-last", "aa-first"])
    pages = {
        "search_customers": (Customer, views.customer_summary, "customer_id", {"page_size": 50}),
        "search_orders": (Order, views.order_summary, "order_id", {"page_size": 50, "page": 2}),
        "search_tickets": (Ticket, views.ticket_summary, "ticket_id", {"page_size": 50}),
        "search_products": (Product, views.product, "product_id", {"include_discontinued": True, "page_size": 50}),
        "list_staff": (Staff, views.staff, "staff_id", {"include_inactive": True, "page_size": 50}),
    }
    results = {tool: world.ok(tool, **args)["results"] for tool, (_m, _r, _k, args) in pages.items()}
    with world.db.session() as s:
        for tool, (model, render, key, _args) in pages.items():
            assert results[tool], tool
            for item in results[tool]:
                assert item == render(s.get(model, item[key])), (tool, item[key])
    # Past the last page: no rows, the right total.
    beyond = world.ok("search_orders", page=10_000, page_size=50)
    assert beyond["results"] == [] and beyond["total"] > 0 and beyond["has_more"] is False
