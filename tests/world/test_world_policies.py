from __future__ import annotations

from sqlalchemy import select

from supportgym import policy as P
from supportgym.clock import WORLD_NOW
from supportgym.schema import Policy, Tier
from supportgym.world_seed.policies import dollars, policy_articles


def _articles(db) -> dict[str, Policy]:  # noqa: ANN001
    with db.session() as s:
        return {p.id: p for p in s.scalars(select(Policy))}


def test_dollars() -> None:
    assert dollars(500_00) == "$500.00"
    assert dollars(9_99) == "$9.99"
    assert dollars(123456_05) == "$123,456.05"
    assert dollars(-5) == "-$0.05"


def test_articles_exist_with_one_line_summaries(tiny_db) -> None:  # noqa: ANN001
    arts = _articles(tiny_db)
    assert 10 <= len(arts) <= 16
    assert all(a.id.startswith("POL-") and a.id.isupper() for a in arts.values())
    for a in arts.values():
        assert a.summary and "\n" not in a.summary and len(a.summary) <= 512
        assert len(a.body) > 200
        assert a.updated_at < WORLD_NOW
    for topic in (
        "POL-RETURNS",
        "POL-REFUND-LIMIT",
        "POL-CANCELLATIONS",
        "POL-ADDRESS-CHANGE",
        "POL-DAMAGED",
        "POL-WARRANTY",
        "POL-DUPLICATE-CHARGE",
        "POL-TIER-PERKS",
        "POL-STORE-CREDIT",
        "POL-PROMO-CODES",
        "POL-EXCHANGES",
        "POL-FINAL-SALE",
        "POL-IDENTITY",
        "POL-PRIVACY",
    ):
        assert topic in arts


def test_articles_quote_policy_numbers(tiny_db) -> None:  # noqa: ANN001
    a = _articles(tiny_db)
    returns = a["POL-RETURNS"].body
    for tier, days in P.RETURN_WINDOW_DAYS.items():
        assert f"{tier.value.capitalize()}: {days} days" in returns
    assert dollars(P.AGENT_REFUND_LIMIT_CENTS) in a["POL-REFUND-LIMIT"].body
    assert dollars(P.AGENT_REFUND_LIMIT_CENTS) in a["POL-REFUND-LIMIT"].summary
    assert "billing" in a["POL-REFUND-LIMIT"].body
    for status in P.CANCELLABLE_STATUSES:
        assert f"`{status}`" in a["POL-CANCELLATIONS"].body
    for status in P.ADDRESS_CHANGE_STATUSES:
        assert f"`{status}`" in a["POL-ADDRESS-CHANGE"].body
    assert f"{P.DAMAGE_REPORT_WINDOW_DAYS} days" in a["POL-DAMAGED"].body
    perks = a["POL-TIER-PERKS"].body
    assert dollars(P.STANDARD_SHIPPING_FEE_CENTS) in perks
    assert dollars(P.FREE_SHIPPING_THRESHOLD_CENTS) in perks
    for tier, cents in P.GOODWILL_CREDIT_LIMIT_CENTS.items():
        line = f"- {tier.value.capitalize()}: {dollars(cents)}"
        assert line in perks and line in a["POL-STORE-CREDIT"].body
    for cat in P.FINAL_SALE_CATEGORIES:
        assert cat in a["POL-FINAL-SALE"].body
    assert "email" in a["POL-IDENTITY"].body


def test_article_text_follows_policy_changes(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(P, "AGENT_REFUND_LIMIT_CENTS", 750_00)
    monkeypatch.setattr(P, "RETURN_WINDOW_DAYS", {**P.RETURN_WINDOW_DAYS, Tier.gold: 50})
    monkeypatch.setattr(P, "DAMAGE_REPORT_WINDOW_DAYS", 21)
    arts = {r["id"]: r for r in policy_articles(WORLD_NOW)}
    assert "$750.00" in arts["POL-REFUND-LIMIT"]["body"]
    assert "$500.00" not in arts["POL-REFUND-LIMIT"]["body"]
    assert "Gold: 50 days" in arts["POL-RETURNS"]["body"]
    assert "21 days" in arts["POL-DAMAGED"]["body"]
