"""Tables of the embedded demo shop database (the default order system)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from bot.store.database import Money

metadata = MetaData()

MONEY = Money()

customers = Table(
    "customers",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("email", String(254), nullable=False, unique=True),
    Column("phone", String(32)),
    Column("created_at", DateTime, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("number", String(20), primary_key=True),
    Column("customer_id", String(16), ForeignKey("customers.id"), nullable=False, index=True),
    Column("status", String(20), nullable=False, index=True),
    Column("placed_at", DateTime, nullable=False),
    Column("total", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("shipping_address", Text, nullable=False),
    Column("carrier", String(40)),
    Column("tracking_number", String(40)),
    Column("expected_delivery", Date),
    Column("original_expected_delivery", Date),
    Column("delivered_at", DateTime),
    Column("delay_reason", Text),
    Column("payment_method", String(40), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

order_items = Table(
    "order_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_number", String(20), ForeignKey("orders.number"), nullable=False, index=True),
    Column("sku", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", MONEY, nullable=False),
)

invoices = Table(
    "invoices",
    metadata,
    Column("invoice_number", String(20), primary_key=True),
    Column("order_number", String(20), ForeignKey("orders.number"), nullable=False, unique=True),
    Column("issued_at", Date, nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
)

refunds = Table(
    "refunds",
    metadata,
    Column("refund_id", String(20), primary_key=True),
    Column("order_number", String(20), ForeignKey("orders.number"), nullable=False, index=True),
    Column("amount", MONEY, nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("requested_at", DateTime, nullable=False),
    Column("expected_by", Date),
    Column("paid_at", DateTime),
    Column("requested_by", String(120), nullable=False),
)

order_events = Table(
    "order_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_number", String(20), ForeignKey("orders.number"), nullable=False, index=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("detail", Text, nullable=False),
)

newsletter_subscriptions = Table(
    "newsletter_subscriptions",
    metadata,
    Column("email", String(254), primary_key=True),
    Column("subscribed", Boolean, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rating", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("customer_id", String(16), ForeignKey("customers.id")),
    Column("order_number", String(20), ForeignKey("orders.number")),
    Column("created_at", DateTime, nullable=False),
)

vouchers = Table(
    "vouchers",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("customer_id", String(16), ForeignKey("customers.id"), nullable=False, index=True),
    Column("amount", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reason", Text, nullable=False),
    Column("issued_by", String(120), nullable=False),
    Column("issued_at", DateTime, nullable=False),
)
