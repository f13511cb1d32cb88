"""The order records travel as JSON (the HTTP contract) without losing anything."""

from __future__ import annotations

import asyncio
import json

from actions.orders.order_system import (
    IN_TRANSIT,
    NOT_YET_SHIPPED,
    Order,
    OrderStatus,
    invoice_from_dict,
    refund_from_dict,
    to_json,
)


def test_an_order_survives_a_json_round_trip(shop):
    order = asyncio.run(shop.get_order("04587345"))
    assert Order.from_dict(json.loads(json.dumps(order.to_dict()))) == order


def test_refunds_and_invoices_survive_a_json_round_trip(shop):
    refund = asyncio.run(shop.refunds_for("00077777"))[0]
    invoice = asyncio.run(shop.get_invoice("00054321"))
    assert refund_from_dict(json.loads(json.dumps(to_json(refund)))) == refund
    assert invoice_from_dict(json.loads(json.dumps(to_json(invoice)))) == invoice


def test_money_is_sent_as_exact_strings(shop):
    order = asyncio.run(shop.get_order("00123842"))
    assert order.to_dict()["total"] == "43.99"


def test_only_orders_not_yet_shipped_can_change():
    assert NOT_YET_SHIPPED.isdisjoint(IN_TRANSIT)
    assert OrderStatus.DELAYED in IN_TRANSIT and OrderStatus.DELAYED.has_left_warehouse
    assert not OrderStatus.PROCESSING.has_left_warehouse
    assert OrderStatus.OUT_FOR_DELIVERY.label == "out for delivery"
