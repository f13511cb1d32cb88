"""The demo shop has the breadth a real shop has, and the showcase orders README promises."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select

from actions.orders import shop_schema as t
from actions.orders.demo_shop import SHOWCASE_ORDERS, create_demo_shop
from actions.orders.order_system import OrderStatus
from actions.orders.sql_order_system import SqlOrderSystem
from bot.store.database import create_engine


def count(engine, table, *where):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_seeding_makes_customers_orders_in_every_status_items_invoices_and_refunds(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    assert create_demo_shop(engine) is True
    assert count(engine, t.customers) >= 50
    assert count(engine, t.orders) >= 200
    for status in OrderStatus:
        assert count(engine, t.orders, t.orders.c.status == status.value) >= 3, status
    assert count(engine, t.order_items) >= count(engine, t.orders)
    assert count(engine, t.invoices) > 100
    assert count(engine, t.refunds) > 10
    assert count(engine, t.orders, t.orders.c.status == "shipped", t.orders.c.tracking_number.is_(None)) == 0


def test_seeding_twice_changes_nothing(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    create_demo_shop(engine)
    before = count(engine, t.orders)
    assert create_demo_shop(engine) is False
    assert count(engine, t.orders) == before


def test_showcase_orders_have_the_promised_states(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    create_demo_shop(engine, today=dt.date(2026, 11, 30))
    shop = SqlOrderSystem(engine)
    for showcase in SHOWCASE_ORDERS:
        order = asyncio.run(shop.get_order(showcase.number))
        assert order is not None and order.status == showcase.status, showcase.number
    delayed = asyncio.run(shop.get_order("04587345"))
    assert delayed.expected_delivery > delayed.original_expected_delivery
    assert delayed.delay_reason
