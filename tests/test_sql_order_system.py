"""The embedded shop's rules, against a real seeded SQLite database."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import select

from actions.orders import shop_schema as t
from actions.orders.order_system import ActionRefused, OrderNotFound, OrderStatus, OrderSystemUnavailable
from actions.orders.sql_order_system import SqlOrderSystem
from bot.store.database import create_engine


def run(coroutine):
    return asyncio.run(coroutine)


def test_an_order_comes_with_items_money_and_tracking(shop):
    order = run(shop.get_order("00123842"))
    assert order.customer_email == "anna.freeman@example.com"
    assert order.items and order.total == sum(i.unit_price * i.quantity for i in order.items) + Decimal("4.99")
    assert order.tracking_url.startswith("https://www.dhl.com/")


def test_unknown_numbers_are_none(shop):
    assert run(shop.get_order("99999999")) is None
    assert run(shop.get_order("'; DROP TABLE orders; --")) is None
    assert run(shop.get_order("00123842")) is not None


def test_cancelling_is_logged_with_the_actor(shop):
    run(shop.cancel_order("00000108", "changed my mind", "agent Sam"))
    with shop._engine.connect() as conn:
        event = conn.execute(select(t.order_events).where(t.order_events.c.order_number == "00000108")).one()
    assert (event.kind, event.actor) == ("cancelled", "agent Sam")


def test_a_cancelled_order_cannot_be_cancelled_again(shop):
    run(shop.cancel_order("00000108", "x", "customer"))
    with pytest.raises(ActionRefused) as refused:
        run(shop.cancel_order("00000108", "x", "customer"))
    assert refused.value.code == "already_cancelled"


def test_shipped_orders_cannot_be_cancelled_or_readdressed(shop):
    with pytest.raises(ActionRefused, match="left our warehouse"):
        run(shop.cancel_order("00123842", "x", "customer"))
    with pytest.raises(ActionRefused):
        run(shop.change_shipping_address("00123842", "1 New Street, Leeds", "customer"))
    assert run(shop.get_order("00123842")).status == OrderStatus.SHIPPED


def test_a_partial_refund_cannot_exceed_what_is_left(shop):
    order = run(shop.get_order("00054321"))
    run(shop.request_refund("00054321", "one item broken", "agent Sam", amount=Decimal("10.00")))
    with pytest.raises(ActionRefused) as refused:
        run(shop.request_refund("00054321", "again", "agent Sam", amount=order.total))
    assert refused.value.code == "refund_open"


def test_mutations_on_unknown_orders_raise_not_found(shop):
    with pytest.raises(OrderNotFound):
        run(shop.cancel_order("99999999", "x", "customer"))
    with pytest.raises(OrderNotFound):
        run(shop.refunds_for("99999999"))


def test_a_review_needs_a_rating_from_1_to_5(shop):
    with pytest.raises(ActionRefused):
        run(shop.add_review(6, "great", None, None))
    assert run(shop.add_review(4, "good", "C0001", "00123842"))


def test_a_broken_database_is_reported_as_unavailable(tmp_path):
    broken = SqlOrderSystem(create_engine(f"sqlite:///{tmp_path / 'empty.db'}"))
    with pytest.raises(OrderSystemUnavailable):
        run(broken.get_order("00123842"))
    with pytest.raises(OrderSystemUnavailable):
        run(broken.ping())


def test_a_goodwill_voucher_is_stored_for_the_customer(shop):
    voucher = run(shop.issue_voucher("C0001", Decimal("10"), "EUR", "late parcel", "agent Sam"))
    assert voucher.code.startswith("GW-") and voucher.amount == Decimal("10.00")
    with shop._engine.connect() as conn:
        row = conn.execute(select(t.vouchers).where(t.vouchers.c.code == voucher.code)).one()
    assert (row.customer_id, row.issued_by, row.reason) == ("C0001", "agent Sam", "late parcel")


def test_a_voucher_needs_a_real_customer_and_a_positive_amount(shop):
    with pytest.raises(ActionRefused):
        run(shop.issue_voucher("C9999", Decimal("10"), "EUR", "x", "agent Sam"))
    with pytest.raises(ActionRefused):
        run(shop.issue_voucher("C0001", Decimal("0"), "EUR", "x", "agent Sam"))
