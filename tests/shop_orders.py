"""Orders of the running stack's demo shop that a test can use without stepping on another test's orders."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from actions.orders import shop_schema as shop
from actions.orders.order_system import Order, OrderStatus, OrderSystem
from tests.own_loop import run_on_own_loop

SHOWCASE_REFUND = "00054321"
"""README's refundable order: tests/test_assistant_conversations.py refunds it whole, so others leave it alone."""


def refundable_orders_of_several_items(shop_db: Path, system: OrderSystem) -> list[tuple[Order, str]]:
    """Delivered within the return window, two or more items, no refund yet: (order, its customer's email)."""
    engine = sa.create_engine(f"sqlite:///{shop_db}")
    since = dt.datetime.now() - dt.timedelta(days=25)
    query = (
        sa.select(shop.orders.c.number, shop.customers.c.email)
        .join(shop.customers, shop.customers.c.id == shop.orders.c.customer_id)
        .where(shop.orders.c.status == OrderStatus.DELIVERED.value, shop.orders.c.delivered_at > since)
        .where(~sa.exists().where(shop.refunds.c.order_number == shop.orders.c.number))
        .order_by(shop.orders.c.number)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    engine.dispose()
    orders = [(run_on_own_loop(system.get_order(number)), email) for number, email in rows if number != SHOWCASE_REFUND]
    return [(order, email) for order, email in orders if len(order.items) >= 2 and order.total < 300]
