"""Customer tools: find, read, and change contact data (after identity verification)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import EmailStr, Field
from sqlalchemy import (
    ColumnElement,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    union,
)
from sqlalchemy.orm import InstrumentedAttribute

from supportgym.schema import CUSTOMER_TEXT, Address, Customer, Tier
from supportgym.services.tools import like, reads, views
from supportgym.services.tools.base import (
    AddressId,
    Args,
    CustomerId,
    PageArgs,
    ShortText,
    ToolContext,
    ToolError,
    paginate,
    tool,
)

_PROBE_CHARS = 6


class SearchCustomersArgs(PageArgs):
    name: ShortText | None = Field(None, description="Part of the full name, case-insensitive (e.g. 'maria lopez').")
    email: ShortText | None = Field(None, description="Part of the email address.")
    phone: ShortText | None = Field(None, description="Part of the phone number, digits only.")
    tier: Tier | None = Field(None, description="Only customers of this loyalty tier.")


@tool(group="customers", read_only=True)
def search_customers(ctx: ToolContext, args: SearchCustomersArgs) -> dict[str, Any]:
    """Search customers by name, email, phone or tier. Results are paginated and several
    customers can share a name: compare email, city or orders before acting on one."""
    params: dict[str, Any] = {}
    raw: dict[str, str] = {}  # the searched text as typed, escaped for LIKE only once cut to a probe
    if args.name:
        raw["name"] = args.name.lower()
        params["name"] = like.literal(raw["name"])
    if args.email:
        raw["email"] = args.email.lower()
        params["email"] = like.literal(raw["email"])
    if args.phone:
        digits = "".join(ch for ch in args.phone if ch.isdigit())
        if not digits:
            raise ToolError("invalid_argument", "phone must contain digits", "phone")
        raw["digits"], raw["phone"] = digits, args.phone
        params["digits"], params["phone"] = digits, like.literal(args.phone)
    if args.tier:
        params["tier"] = args.tier
    # The index is probed with the first characters only: every row whose text contains the
    # needle contains its start, and a long needle (a whole email address) would make the index
    # intersect the posting lists of common trigrams ("exa", "com") for nothing.
    # A probe stops at the first LIKE wildcard character, so it needs no ESCAPE clause (which
    # would keep SQLite from using the trigram index); one shorter than a trigram is skipped.
    probes = {
        f"{k}_probe": cut
        for k in ("name", "email", "digits", "phone")
        if k in raw
        if len(cut := re.split(r"[%_\\]", raw[k])[0][:_PROBE_CHARS]) >= 3
    }
    if not ("phone_probe" in probes and "digits_probe" in probes):
        probes.pop("phone_probe", None)  # the phone filter probes both forms or neither
        probes.pop("digits_probe", None)

    def build() -> Any:
        stmt = select(Customer)
        # Candidates from the trigram index first (see schema.CUSTOMER_TEXT); the exact
        # predicates below still decide, so results are what a full scan gives.
        text = table(CUSTOMER_TEXT, column("rowid"), column("name"), column("email"), column("phone"), column("digits"))
        rowid: ColumnElement[int] = literal_column(f"{Customer.__tablename__}.rowid")
        if "name_probe" in probes:
            stmt = stmt.where(rowid.in_(select(text.c.rowid).where(text.c.name.contains(bindparam("name_probe")))))
        if "email_probe" in probes:
            stmt = stmt.where(rowid.in_(select(text.c.rowid).where(text.c.email.contains(bindparam("email_probe")))))
        if "digits_probe" in probes:
            stmt = stmt.where(
                rowid.in_(
                    union(
                        select(text.c.rowid).where(text.c.digits.contains(bindparam("digits_probe"))),
                        select(text.c.rowid).where(text.c.phone.contains(bindparam("phone_probe"))),
                    )
                )
            )
        if "name" in params:
            full = func.lower(Customer.first_name + " " + Customer.last_name)
            stmt = stmt.where(like.contains(full, bindparam("name")))
        if "email" in params:
            stmt = stmt.where(like.contains(func.lower(Customer.email), bindparam("email")))
        if "digits" in params:
            stripped: ColumnElement[str] | InstrumentedAttribute[str] = Customer.phone
            for ch in "- ()":
                stripped = func.replace(stripped, ch, "")
            stmt = stmt.where(
                or_(like.contains(stripped, bindparam("digits")), like.contains(Customer.phone, bindparam("phone")))
            )
        return reads.equal_to(stmt, Customer, params, "tier").order_by(Customer.id)

    return paginate(
        ctx,
        ("search_customers", *sorted(params), *sorted(probes)),
        build,
        {**params, **probes},
        args,
        views.customer_summary,
        children={"addresses": (Address.__table__, "customer_id")},
    )


class GetCustomerArgs(Args):
    customer_id: CustomerId


@tool(group="customers", read_only=True)
def get_customer(ctx: ToolContext, args: GetCustomerArgs) -> dict[str, Any]:
    """Get a customer's profile: contact data, tier, addresses, notes, store-credit balance
    and number of orders."""
    customer = ctx.found(views.load_customer(ctx.conn, args.customer_id), Customer, args.customer_id, "customer_id")
    return views.customer_detail(ctx.conn, customer)


def verify_identity(customer: Customer, verification_email: str) -> None:
    if verification_email.strip().lower() != customer.email.lower():
        raise ToolError(
            "identity_not_verified",
            "verification_email does not match the email on file; per the identity policy, "
            "account details can only be changed after the customer is verified.",
            "verification_email",
        )


class UpdateCustomerContactArgs(Args):
    customer_id: CustomerId
    verification_email: EmailStr = Field(
        description="The email the requester gave, used to verify identity. Must match the email on file."
    )
    new_email: EmailStr | None = Field(None, description="New email address.")
    new_phone: str | None = Field(None, pattern=r"^[0-9+()\-. x]{7,24}$", description="New phone number.")


@tool(group="customers", read_only=False, idempotent=True)
def update_customer_contact(ctx: ToolContext, args: UpdateCustomerContactArgs) -> dict[str, Any]:
    """Change a customer's email and/or phone number. Requires identity verification: pass the
    email the requester gave as verification_email; it must match the email on file."""
    customer = ctx.get(Customer, args.customer_id, "customer_id")
    verify_identity(customer, str(args.verification_email))
    if args.new_email is None and args.new_phone is None:
        raise ToolError("invalid_argument", "give new_email, new_phone or both", "new_email")
    if args.new_email is not None:
        taken = reads.query(
            "update_customer_contact.taken",
            lambda: select(Customer.id).where(
                func.lower(Customer.email) == bindparam("email"),
                Customer.id != bindparam("customer_id"),
            ),
        ).first(ctx.conn, email=str(args.new_email).lower(), customer_id=customer.id)
        if taken:
            raise ToolError("conflict", "that email belongs to another customer account", "new_email")
        customer.email = str(args.new_email)
    if args.new_phone is not None:
        customer.phone = args.new_phone
    return {"updated": True, "customer": views.customer_detail(ctx.conn, customer)}


class UpdateCustomerAddressArgs(Args):
    customer_id: CustomerId
    verification_email: EmailStr = Field(description="The email the requester gave; must match the email on file.")
    address_id: AddressId | None = Field(None, description="Address to change; omit to add a new address.")
    label: ShortText = Field("home", description="A label such as home or work.")
    line1: ShortText
    line2: str = Field("", max_length=200)
    city: ShortText
    region: ShortText = Field(description="State or region code, e.g. CA.")
    postal_code: str = Field(pattern=r"^[A-Za-z0-9 \-]{3,10}$")
    country: str = Field("US", pattern=r"^[A-Z]{2}$", description="ISO country code.")
    make_default: bool = Field(False, description="Make this the default shipping address.")


@tool(group="customers", read_only=False)
def update_customer_address(ctx: ToolContext, args: UpdateCustomerAddressArgs) -> dict[str, Any]:
    """Add or change an address in a customer's address book (not on existing orders: use
    update_order_shipping_address for an order that has not shipped). Requires identity
    verification."""
    customer = ctx.get(Customer, args.customer_id, "customer_id")
    verify_identity(customer, str(args.verification_email))
    if args.address_id is not None:
        addr = ctx.get(Address, args.address_id, "address_id")
        if addr.customer_id != customer.id:
            raise ToolError(
                "not_found",
                f"Address {args.address_id} does not belong to customer {customer.id}.",
                "address_id",
            )
    else:
        new_id = ctx.next_id(Address, "ADR")
        # The address book is loaded before the new row exists, so it is listed once.
        book = customer.addresses
        addr = ctx.add(Address, id=new_id, customer_id=customer.id, is_default=False)
        book.append(addr)
    addr.label = args.label
    addr.line1 = args.line1
    addr.line2 = args.line2
    addr.city = args.city
    addr.region = args.region
    addr.postal_code = args.postal_code
    addr.country = args.country
    if args.make_default:
        for other in customer.addresses:
            other.is_default = other is addr
        addr.is_default = True
    ctx.flush()
    return {"updated": True, "address": views.address(addr)}
