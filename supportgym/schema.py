"""The world's database schema: the leaf every other package builds on.

SQLAlchemy 2.x typed models. Money is always integer cents (``*_cents`` columns). Every date is
a naive UTC ``datetime`` on the world's simulated clock (see :mod:`supportgym.clock`); nothing
here reads the real clock. Ids are human-readable strings with a type prefix (``ORD-500123``)
because agents read and type them.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from sqlalchemy import (
    DDL,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    event,
    func,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """Declarative base of every world table."""

    # Every model here is mapped to one Table (no joined or custom selectables), which the
    # readers use by name and columns; DeclarativeBase can only promise a FromClause.
    __table__: ClassVar[Table]


def _enum(cls: type[enum.Enum]) -> SAEnum:
    # Stored as plain strings with a CHECK constraint so any SQLAlchemy backend works.
    return SAEnum(
        cls,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        values_callable=lambda e: [m.value for m in e],
        length=32,
    )


class Tier(enum.StrEnum):
    standard = "standard"
    silver = "silver"
    gold = "gold"
    platinum = "platinum"


class OrderStatus(enum.StrEnum):
    pending = "pending"
    paid = "paid"
    fulfilled = "fulfilled"
    shipped = "shipped"
    delivered = "delivered"
    cancelled = "cancelled"
    returned = "returned"
    refunded = "refunded"


class PaymentMethod(enum.StrEnum):
    card = "card"
    paypal = "paypal"
    gift_card = "gift_card"
    store_credit = "store_credit"


class PaymentStatus(enum.StrEnum):
    authorized = "authorized"
    captured = "captured"
    failed = "failed"
    voided = "voided"


class ShipmentStatus(enum.StrEnum):
    label_created = "label_created"
    in_transit = "in_transit"
    out_for_delivery = "out_for_delivery"
    delivered = "delivered"
    lost = "lost"
    returned_to_sender = "returned_to_sender"


class RefundStatus(enum.StrEnum):
    pending = "pending"
    processed = "processed"
    rejected = "rejected"


class RefundReason(enum.StrEnum):
    returned_item = "returned_item"
    damaged_item = "damaged_item"
    cancelled_order = "cancelled_order"
    duplicate_charge = "duplicate_charge"
    late_delivery = "late_delivery"
    price_adjustment = "price_adjustment"
    goodwill = "goodwill"
    other = "other"


class ReturnStatus(enum.StrEnum):
    requested = "requested"
    approved = "approved"
    received = "received"
    rejected = "rejected"
    completed = "completed"


class ReturnResolution(enum.StrEnum):
    refund = "refund"
    exchange = "exchange"
    store_credit = "store_credit"


class TicketStatus(enum.StrEnum):
    open = "open"
    pending = "pending"
    on_hold = "on_hold"
    escalated = "escalated"
    solved = "solved"
    closed = "closed"


class TicketPriority(enum.StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class TicketChannel(enum.StrEnum):
    email = "email"
    chat = "chat"
    phone = "phone"
    web = "web"


class AuthorType(enum.StrEnum):
    customer = "customer"
    agent = "agent"
    staff = "staff"
    system = "system"


class StaffRole(enum.StrEnum):
    agent = "agent"
    senior_agent = "senior_agent"
    supervisor = "supervisor"
    billing_specialist = "billing_specialist"
    warranty_specialist = "warranty_specialist"


class Team(enum.StrEnum):
    general = "general"
    billing = "billing"
    logistics = "logistics"
    warranty = "warranty"
    escalations = "escalations"


class InternalChannel(enum.StrEnum):
    """Where staff talk among themselves: never shown to customers."""

    team_chat = "team_chat"  # the support team's chat room: news, heads-ups, questions
    notes = "notes"  # the internal notes feed: notes pinned to a customer, order or product


class WarrantyStatus(enum.StrEnum):
    submitted = "submitted"
    approved = "approved"
    rejected = "rejected"
    completed = "completed"


class WorldMeta(Base):
    """Key/value facts about the world: seed, scale, simulated 'now', schema version."""

    __tablename__ = "world_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


# world_meta key listing the opt-in tools a task's world enables (comma-separated names).
ENABLED_TOOLS_KEY = "enabled_tools"


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(64))
    last_name: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str] = mapped_column(String(128), index=True)
    phone: Mapped[str] = mapped_column(String(32))
    tier: Mapped[Tier] = mapped_column(_enum(Tier))
    joined_at: Mapped[datetime] = mapped_column(DateTime)
    notes: Mapped[str] = mapped_column(Text, default="")

    addresses: Mapped[list[Address]] = relationship(
        back_populates="customer", order_by="Address.id", cascade="all, delete-orphan"
    )
    orders: Mapped[list[Order]] = relationship(back_populates="customer", order_by="Order.id")


# search_customers looks for a part of a name, email or phone anywhere in the text, which no
# B-tree index can serve ('%x%'): at 10,000 customers every search read them all. A trigram
# full-text index (SQLite FTS5) holds each customer's searchable text, kept in step by triggers
# whoever writes (tools, task setup, tests). It is derived data, not world content: the world
# hash covers the mapped tables only.
CUSTOMER_TEXT = "customer_text"
_TEXT_VALUES = (
    "new.rowid, lower(new.first_name || ' ' || new.last_name), lower(new.email), new.phone, "
    "replace(replace(replace(replace(new.phone, '-', ''), ' ', ''), '(', ''), ')', '')"
)
_TEXT_COLUMNS = "rowid, name, email, phone, digits"
CUSTOMER_TEXT_DDL: tuple[str, ...] = (
    f"CREATE VIRTUAL TABLE {CUSTOMER_TEXT} USING fts5(name, email, phone, digits, tokenize='trigram')",
    (
        "CREATE TRIGGER customers_text_insert AFTER INSERT ON customers BEGIN "
        f"INSERT INTO {CUSTOMER_TEXT} ({_TEXT_COLUMNS}) VALUES ({_TEXT_VALUES}); END"
    ),
    (
        "CREATE TRIGGER customers_text_update AFTER UPDATE ON customers BEGIN "
        f"DELETE FROM {CUSTOMER_TEXT} WHERE rowid = old.rowid; "
        f"INSERT INTO {CUSTOMER_TEXT} ({_TEXT_COLUMNS}) VALUES ({_TEXT_VALUES}); END"
    ),
    (
        "CREATE TRIGGER customers_text_delete AFTER DELETE ON customers BEGIN "
        f"DELETE FROM {CUSTOMER_TEXT} WHERE rowid = old.rowid; END"
    ),
)
"""Run after the customers table is created: by ``create_all`` (the listener below) and by
world generation, which emits its DDL itself."""
for _ddl in CUSTOMER_TEXT_DDL:
    event.listen(Customer.__table__, "after_create", DDL(_ddl).execute_if(dialect="sqlite"))


class Address(Base):
    __tablename__ = "addresses"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    label: Mapped[str] = mapped_column(String(32))
    line1: Mapped[str] = mapped_column(String(128))
    line2: Mapped[str] = mapped_column(String(128), default="")
    city: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(64))
    postal_code: Mapped[str] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    customer: Mapped[Customer] = relationship(back_populates="addresses")


class Product(Base):
    __tablename__ = "products"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    sku: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    brand: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(64), index=True)
    price_cents: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer)
    warranty_months: Mapped[int] = mapped_column(Integer)
    discontinued: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")


# search_products matches brand and category case-insensitively: index the lowered values.
Index("ix_products_brand_ci", func.lower(Product.brand))
Index("ix_products_category_ci", func.lower(Product.category))


class PromoCode(Base):
    __tablename__ = "promo_codes"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    description: Mapped[str] = mapped_column(String(256))
    percent_off: Mapped[int] = mapped_column(Integer, default=0)
    amount_off_cents: Mapped[int] = mapped_column(Integer, default=0)
    min_order_cents: Mapped[int] = mapped_column(Integer, default=0)
    tier_required: Mapped[Tier | None] = mapped_column(_enum(Tier), nullable=True)
    valid_from: Mapped[datetime] = mapped_column(DateTime)
    valid_until: Mapped[datetime] = mapped_column(DateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Order(Base):
    __tablename__ = "orders"
    # search_orders pages newest first within a status or a customer: read in index order.
    __table_args__ = (
        Index("ix_orders_status_placed", "status", "placed_at", "id"),
        Index("ix_orders_customer_placed", "customer_id", "placed_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus), index=True)
    placed_at: Mapped[datetime] = mapped_column(DateTime)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    subtotal_cents: Mapped[int] = mapped_column(Integer)
    discount_cents: Mapped[int] = mapped_column(Integer, default=0)
    shipping_fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    total_cents: Mapped[int] = mapped_column(Integer)
    payment_method: Mapped[PaymentMethod] = mapped_column(_enum(PaymentMethod))
    promo_code: Mapped[str | None] = mapped_column(ForeignKey("promo_codes.code"), nullable=True)
    ship_name: Mapped[str] = mapped_column(String(128))
    ship_line1: Mapped[str] = mapped_column(String(128))
    ship_line2: Mapped[str] = mapped_column(String(128), default="")
    ship_city: Mapped[str] = mapped_column(String(64))
    ship_region: Mapped[str] = mapped_column(String(64))
    ship_postal_code: Mapped[str] = mapped_column(String(16))
    ship_country: Mapped[str] = mapped_column(String(2))
    # Set on replacement / exchange orders: the order they replace.
    replaces_order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), nullable=True, default=None)

    customer: Mapped[Customer] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", order_by="OrderItem.id", cascade="all, delete-orphan"
    )
    payments: Mapped[list[Payment]] = relationship(back_populates="order", order_by="Payment.id")
    refunds: Mapped[list[Refund]] = relationship(back_populates="order", order_by="Refund.id")
    shipments: Mapped[list[Shipment]] = relationship(back_populates="order", order_by="Shipment.id")
    returns: Mapped[list[Return]] = relationship(back_populates="order", order_by="Return.id")


class OrderItem(Base):
    __tablename__ = "order_items"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(32))
    product_name: Mapped[str] = mapped_column(String(128))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    discount_cents: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()

    @property
    def line_total_cents(self) -> int:
        return self.unit_price_cents * self.quantity - self.discount_cents


class Shipment(Base):
    __tablename__ = "shipments"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(32))
    tracking_number: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[ShipmentStatus] = mapped_column(_enum(ShipmentStatus))
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    estimated_delivery: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    is_replacement: Mapped[bool] = mapped_column(Boolean, default=False)
    # Simulation only (a task's setup sets it; no tool shows it): when the estimated delivery
    # comes, the carrier fails to deliver and returns the parcel (supportgym.progression).
    delivery_fails: Mapped[bool] = mapped_column(Boolean, default=False)

    order: Mapped[Order] = relationship(back_populates="shipments")
    events: Mapped[list[ShipmentEvent]] = relationship(
        back_populates="shipment", order_by="ShipmentEvent.id", cascade="all, delete-orphan"
    )


class ShipmentEvent(Base):
    __tablename__ = "shipment_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[ShipmentStatus] = mapped_column(_enum(ShipmentStatus))
    location: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(String(256))

    shipment: Mapped[Shipment] = relationship(back_populates="events")


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    method: Mapped[PaymentMethod] = mapped_column(_enum(PaymentMethod))
    amount_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[PaymentStatus] = mapped_column(_enum(PaymentStatus))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    card_last4: Mapped[str] = mapped_column(String(4), default="")
    # A processor glitch charged this order twice; the duplicate points at the original.
    duplicate_of: Mapped[str | None] = mapped_column(ForeignKey("payments.id"), nullable=True, default=None)

    order: Mapped[Order] = relationship(back_populates="payments")


class Refund(Base):
    __tablename__ = "refunds"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    reason: Mapped[RefundReason] = mapped_column(_enum(RefundReason))
    status: Mapped[RefundStatus] = mapped_column(_enum(RefundStatus))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")

    order: Mapped[Order] = relationship(back_populates="refunds")


class Return(Base):
    """A return merchandise authorisation (RMA)."""

    __tablename__ = "returns"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    status: Mapped[ReturnStatus] = mapped_column(_enum(ReturnStatus))
    reason: Mapped[str] = mapped_column(String(256))
    resolution: Mapped[ReturnResolution] = mapped_column(_enum(ReturnResolution))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # For exchanges: the product sent in place of the returned one.
    exchange_product_id: Mapped[str | None] = mapped_column(ForeignKey("products.id"), nullable=True, default=None)

    order: Mapped[Order] = relationship(back_populates="returns")
    items: Mapped[list[ReturnItem]] = relationship(
        back_populates="rma", order_by="ReturnItem.id", cascade="all, delete-orphan"
    )


class ReturnItem(Base):
    __tablename__ = "return_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    return_id: Mapped[str] = mapped_column(ForeignKey("returns.id"), index=True)
    order_item_id: Mapped[str] = mapped_column(ForeignKey("order_items.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)

    rma: Mapped[Return] = relationship(back_populates="items")


class StoreCreditEntry(Base):
    """One line of a customer's store-credit ledger; the balance is the sum of the lines."""

    __tablename__ = "store_credit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), nullable=True)


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    email: Mapped[str] = mapped_column(String(128))
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole))
    team: Mapped[Team] = mapped_column(_enum(Team))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Ticket(Base):
    __tablename__ = "tickets"
    # search_tickets pages newest first within a status: read in index order.
    __table_args__ = (Index("ix_tickets_status_created", "status", "created_at", "id"),)
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), nullable=True)
    subject: Mapped[str] = mapped_column(String(256))
    status: Mapped[TicketStatus] = mapped_column(_enum(TicketStatus), index=True)
    priority: Mapped[TicketPriority] = mapped_column(_enum(TicketPriority))
    channel: Mapped[TicketChannel] = mapped_column(_enum(TicketChannel))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    escalated_team: Mapped[Team | None] = mapped_column(_enum(Team), nullable=True, default=None)

    messages: Mapped[list[TicketMessage]] = relationship(
        back_populates="ticket", order_by="TicketMessage.id", cascade="all, delete-orphan"
    )
    tags: Mapped[list[TicketTag]] = relationship(
        back_populates="ticket", order_by="TicketTag.tag", cascade="all, delete-orphan"
    )


class TicketTag(Base):
    __tablename__ = "ticket_tags"
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(32), primary_key=True)

    ticket: Mapped[Ticket] = relationship(back_populates="tags")


class TicketMessage(Base):
    __tablename__ = "ticket_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    author_type: Mapped[AuthorType] = mapped_column(_enum(AuthorType))
    author_id: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")


class Escalation(Base):
    __tablename__ = "escalations"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    team: Mapped[Team] = mapped_column(_enum(Team))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Amount a specialist is asked to approve (e.g. a refund above the agent's limit).
    requested_amount_cents: Mapped[int] = mapped_column(Integer, default=0)


class WarrantyClaim(Base):
    __tablename__ = "warranty_claims"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    order_item_id: Mapped[str] = mapped_column(ForeignKey("order_items.id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    issue: Mapped[str] = mapped_column(Text)
    status: Mapped[WarrantyStatus] = mapped_column(_enum(WarrantyStatus))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class InternalMessage(Base):
    """A staff-only message: a team-chat post or an internal note, optionally about one
    order, customer or product. Customers must never be shown its text or its author."""

    __tablename__ = "internal_messages"
    __table_args__ = (Index("ix_internal_messages_channel_posted", "channel", "posted_at", "id"),)
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    channel: Mapped[InternalChannel] = mapped_column(_enum(InternalChannel))
    author_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    posted_at: Mapped[datetime] = mapped_column(DateTime)
    body: Mapped[str] = mapped_column(Text)
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), nullable=True, index=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), nullable=True, index=True)
    product_id: Mapped[str | None] = mapped_column(ForeignKey("products.id"), nullable=True, index=True)


class Policy(Base):
    """A knowledge-base article: the company policy the agent must follow."""

    __tablename__ = "policies"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(String(512))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


# Tables in an order where every foreign key points backwards: used for canonical hashing,
# copying a world to another database, and integrity checks.
TABLE_ORDER: tuple[str, ...] = tuple(t.name for t in Base.metadata.sorted_tables)
