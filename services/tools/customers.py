"""Customer tools: find, read, and change contact data (after identity verification)."""

from __future__ import annotations

from typing import Any

from pydantic import EmailStr, Field
from sqlalchemy import bindparam, func, or_, select

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
from supportgym.schema import Address, Customer, Tier


class SearchCustomersArgs(PageArgs):
    name: ShortText | None = Field(
        None, description="Part of the full name, case-insensitive (e.g. 'maria lopez')."
    )
    email: ShortText | None = Field(None, description="Part of the email address.")
    phone: ShortText | None = Field(None, description="Part of the phone number, digits only.")
    tier: Tier | None = Field(None, description="Only customers of this loyalty tier.")


@tool(group="customers", read_only=True)
def search_customers(ctx: ToolContext, args: SearchCustomersArgs) -> dict[str, Any]:
    """Search customers by name, email, phone or tier. Results are paginated and several
    customers can share a name: compare email, city or orders before acting on one."""
    params: dict[str, Any] = {}
    if args.name:
        params["name"] = like.literal(args.name.lower())
    if args.email:
        params["email"] = like.literal(args.email.lower())
    if args.phone:
        digits = "".join(ch for ch in args.phone if ch.isdigit())
        if not digits:
            raise ToolError("invalid_argument", "phone must contain digits", "phone")
        params["digits"], params["phone"] = digits, like.literal(args.phone)
    if args.tier:
        params["tier"] = args.tier

    def build() -> Any:
        stmt = select(Customer)
        if "name" in params:
            full = func.lower(Customer.first_name + " " + Customer.last_name)
            stmt = stmt.where(like.contains(full, bindparam("name")))
        if "email" in params:
            stmt = stmt.where(like.contains(func.lower(Customer.email), bindparam("email")))
        if "digits" in params:
            stripped = Customer.phone
            for ch in "- ()":
                stripped = func.replace(stripped, ch, "")
            stmt = stmt.where(or_(like.contains(stripped, bindparam("digits")), like.contains(Customer.phone, bindparam("phone"))))
        return reads.equal_to(stmt, Customer, params, "tier").order_by(Customer.id)

    return paginate(
        ctx,
        ("search_customers", *sorted(params)),
        build,
        params,
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
        description="The email the requester gave, used to verify identity. Must match the "
        "email on file."
    )
    new_email: EmailStr | None = Field(None, description="New email address.")
    new_phone: str | None = Field(
        None, pattern=r"^[0-9+()\-. x]{7,24}$", description="New phone number."
    )


@tool(group="customers", read_only=False, idempotent=True)
def update_customer_contact(ctx: ToolContext, args: UpdateCustomerContactArgs) -> dict[str, Any]:
    """Change a customer's email and/or phone number. Requires identity verification: pass the
    email the requester gave as verification_email; it must match the email on file."""
    customer = ctx.get(Customer, args.customer_id, "customer_id")
    verify_identity(customer, str(args.verification_email))
    if args.new_email is None and args.new_phone is None:
        raise ToolError(
            "invalid_argument", "give new_email, new_phone or both", "new_email"
        )
    if args.new_email is not None:
        taken = ctx.session.execute(
            select(Customer.id).where(
                func.lower(Customer.email) == str(args.new_email).lower(),
                Customer.id != customer.id,
            )
        ).first()
        if taken:
            raise ToolError(
                "conflict", "that email belongs to another customer account", "new_email"
            )
        customer.email = str(args.new_email)
    if args.new_phone is not None:
        customer.phone = args.new_phone
    return {"updated": True, "customer": views.customer_detail(ctx.conn, customer)}


class UpdateCustomerAddressArgs(Args):
    customer_id: CustomerId
    verification_email: EmailStr = Field(
        description="The email the requester gave; must match the email on file."
    )
    address_id: AddressId | None = Field(
        None, description="Address to change; omit to add a new address."
    )
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
        addr = Address(id=ctx.next_id(Address, "ADR"), is_default=False)
        customer.addresses.append(addr)
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
    ctx.session.flush()
    return {"updated": True, "address": views.address(addr)}
