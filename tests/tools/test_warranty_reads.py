"""get_warranty_claim and list_warranty_claims: claims filed earlier, read back with their order
line, order and product, the warranty end and the decision due date."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from supportgym.clock import iso
from supportgym.policy import WARRANTY_REVIEW_DAYS, warranty_end
from supportgym.schema import Order, OrderItem, WarrantyClaim


def _a_claim(world) -> WarrantyClaim:
    claim = world.first(select(WarrantyClaim).order_by(WarrantyClaim.id))
    assert claim is not None, "the tiny world has warranty claims"
    return claim


def test_get_warranty_claim_joins_line_order_and_product(world):
    claim = _a_claim(world)
    with world.db.session() as s:
        item = s.get(OrderItem, claim.order_item_id)
        order = s.get(Order, item.order_id)
        months = item.product.warranty_months
        delivered = order.delivered_at
    got = world.ok("get_warranty_claim", claim_id=claim.id)
    assert got["claim_id"] == claim.id and got["status"] == claim.status.value
    assert got["order_id"] == order.id and got["product_name"] == item.product_name
    assert got["warranty_months"] == months
    assert got["warranty_ends"] == iso(warranty_end(delivered, months))
    assert got["decision_due"] == iso(claim.created_at + timedelta(days=WARRANTY_REVIEW_DAYS))


def test_list_warranty_claims_by_customer_and_by_order(world):
    claim = _a_claim(world)
    mine = world.ok("list_warranty_claims", customer_id=claim.customer_id)
    assert claim.id in [c["claim_id"] for c in mine["claims"]]
    assert all(c["customer_id"] == claim.customer_id for c in mine["claims"]) and mine["total"] == len(mine["claims"])
    order_id = world.ok("get_warranty_claim", claim_id=claim.id)["order_id"]
    on_order = world.ok("list_warranty_claims", order_id=order_id)
    assert claim.id in [c["claim_id"] for c in on_order["claims"]]
    assert all(c["order_id"] == order_id for c in on_order["claims"])


def test_warranty_reads_refuse_bad_input_clearly(world):
    assert world.error("get_warranty_claim", {"claim_id": "WAR-1"})["code"] == "not_found"
    assert world.error("get_warranty_claim", {"claim_id": "ORD-500001"})["field"] == "claim_id"
    both = world.error("list_warranty_claims", {"customer_id": "CUS-10001", "order_id": "ORD-500001"})
    assert both["code"] == "invalid_argument" and "exactly one" in both["message"]
    assert world.error("list_warranty_claims", {})["field"] == "customer_id"
    none_found = world.ok("list_warranty_claims", customer_id="CUS-99999")
    assert none_found == {"claims": [], "total": 0}
