"""Catalogue and knowledge tools: products, brands, promo codes, policies, staff."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from sqlalchemy import BindParameter, bindparam, func, or_, select

from supportgym.schema import Policy, Product, PromoCode, Staff, StaffRole, Team
from supportgym.services.tools import like, reads, views
from supportgym.services.tools.base import (
    Args,
    PageArgs,
    ProductId,
    ShortText,
    ToolContext,
    ToolError,
    paginate,
    tool,
)


class SearchProductsArgs(PageArgs):
    query: ShortText | None = Field(None, description="Words in the product name or SKU.")
    brand: ShortText | None = Field(
        None, description="Brand name exactly as stored (case-insensitive); see list_brands."
    )
    category: ShortText | None = Field(None, description="Category, e.g. Keyboards.")
    in_stock: bool | None = Field(None, description="Only products with stock > 0.")
    include_discontinued: bool = Field(False, description="Include discontinued products.")


@tool(group="catalog", read_only=True)
def search_products(ctx: ToolContext, args: SearchProductsArgs) -> dict[str, Any]:
    """Search the product catalogue by name words, brand, category and stock. Brand and category
    must match the stored spelling (case-insensitive); list_brands shows the stored names.
    Results are paginated."""
    words = args.query.lower().split() if args.query else []
    params: dict[str, Any] = {f"w{n}": like.literal(w) for n, w in enumerate(words)}
    if args.brand:
        params["brand"] = args.brand.lower()
    if args.category:
        params["category"] = args.category.lower()

    def build() -> Any:
        stmt = select(Product)
        for n in range(len(words)):
            word: BindParameter[str] = bindparam(f"w{n}")
            stmt = stmt.where(
                or_(like.contains(func.lower(Product.name), word), like.contains(func.lower(Product.sku), word))
            )
        if args.brand:
            stmt = stmt.where(func.lower(Product.brand) == bindparam("brand"))
        if args.category:
            stmt = stmt.where(func.lower(Product.category) == bindparam("category"))
        if args.in_stock is True:
            stmt = stmt.where(Product.stock > 0)
        elif args.in_stock is False:
            stmt = stmt.where(Product.stock == 0)
        if not args.include_discontinued:
            stmt = stmt.where(Product.discontinued.is_(False))
        return stmt.order_by(Product.id)

    shape = (
        "search_products",
        len(words),
        bool(args.brand),
        bool(args.category),
        args.in_stock,
        args.include_discontinued,
    )
    return paginate(ctx, shape, build, params, args, views.product)


class GetProductArgs(Args):
    product_id: ProductId


@tool(group="catalog", read_only=True)
def get_product(ctx: ToolContext, args: GetProductArgs) -> dict[str, Any]:
    """Get one product: price, stock, warranty months, discontinued flag and description."""
    row = reads.load_one(ctx.conn, Product.__table__, args.product_id)
    return views.product_detail(ctx.found(row, Product, args.product_id, "product_id"))


class ListBrandsArgs(Args):
    category: ShortText | None = Field(None, description="Only brands selling in this category.")


@tool(group="catalog", read_only=True)
def list_brands(ctx: ToolContext, args: ListBrandsArgs) -> dict[str, Any]:
    """List every brand name exactly as stored in the catalogue, with its product count and
    categories. Use it when a brand search finds nothing: stored names may be spelled
    differently from how people say them."""
    params = {"category": args.category.lower()} if args.category else {}

    def build() -> Any:
        stmt = select(Product.brand, Product.category, func.count()).group_by(Product.brand, Product.category)
        if args.category:
            stmt = stmt.where(func.lower(Product.category) == bindparam("category"))
        return stmt.order_by(Product.brand, Product.category)

    brands: dict[str, dict[str, Any]] = {}
    for brand, category, count in reads.query(("list_brands", bool(args.category)), build).tuples(ctx.conn, **params):
        entry = brands.setdefault(brand, {"brand": brand, "product_count": 0, "categories": []})
        entry["product_count"] += int(count)
        entry["categories"].append(category)
    return {"brands": list(brands.values()), "total": len(brands)}


class GetPromoCodeArgs(Args):
    code: str = Field(min_length=1, max_length=32, description="The promo code, e.g. SPRING10.")


@tool(group="catalog", read_only=True)
def get_promo_code(ctx: ToolContext, args: GetPromoCodeArgs) -> dict[str, Any]:
    """Look up a promo code: its discount, minimum order, validity dates and required tier."""
    promo = reads.load_one(ctx.conn, PromoCode.__table__, args.code.upper())
    if promo is None:
        raise ToolError("not_found", f"No promo code '{args.code}' exists.", "code")
    return views.promo(promo)


class SearchPoliciesArgs(Args):
    query: ShortText | None = Field(None, description="Words to look for in policy titles and text; omit to list all.")


@tool(group="knowledge", read_only=True)
def search_policies(ctx: ToolContext, args: SearchPoliciesArgs) -> dict[str, Any]:
    """Search the company policy knowledge base (returns, refunds, escalation limits, tier perks,
    warranty, shipping, privacy...). Returns summaries; read one in full with get_policy."""
    words = ([w for w in args.query.lower().split() if len(w) > 2] or [args.query.lower()]) if args.query else []

    def build() -> Any:
        stmt = select(Policy)
        if words:
            matches = []
            for n in range(len(words)):
                w: BindParameter[str] = bindparam(f"w{n}")
                matches.append(
                    or_(
                        like.contains(func.lower(Policy.title), w),
                        like.contains(func.lower(Policy.body), w),
                        like.contains(func.lower(Policy.category), w),
                    )
                )
            stmt = stmt.where(or_(*matches))
        return stmt.order_by(Policy.id)

    rows = reads.query(("search_policies", len(words)), build).rows(
        ctx.conn, **{f"w{n}": like.literal(w) for n, w in enumerate(words)}
    )
    return {"results": [views.policy_summary(p) for p in rows], "total": len(rows)}


class GetPolicyArgs(Args):
    policy_id: str = Field(pattern=r"^POL-[A-Z0-9\-]+$", max_length=32, description="Policy id, e.g. POL-RETURNS.")


@tool(group="knowledge", read_only=True)
def get_policy(ctx: ToolContext, args: GetPolicyArgs) -> dict[str, Any]:
    """Read one policy article in full."""
    row = reads.load_one(ctx.conn, Policy.__table__, args.policy_id)
    return views.policy_detail(ctx.found(row, Policy, args.policy_id, "policy_id", "policy"))


class ListStaffArgs(PageArgs):
    team: Team | None = None
    role: StaffRole | None = None
    include_inactive: bool = Field(False, description="Include staff who no longer work here.")


@tool(group="tickets", read_only=True)
def list_staff(ctx: ToolContext, args: ListStaffArgs) -> dict[str, Any]:
    """List support staff by team and role, to choose an assignee or escalation target."""
    params = {k: v for k, v in (("team", args.team), ("role", args.role)) if v}

    def build() -> Any:
        stmt = reads.equal_to(select(Staff), Staff, params, "team", "role")
        if not args.include_inactive:
            stmt = stmt.where(Staff.active.is_(True))
        return stmt.order_by(Staff.id)

    shape = ("list_staff", bool(args.team), bool(args.role), args.include_inactive)
    return paginate(ctx, shape, build, params, args, views.staff)
