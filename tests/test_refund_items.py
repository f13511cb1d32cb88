"""Which items a customer means by what they name, resolved against the order's own item names."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from actions.orders.order_system import Order, OrderItem, OrderStatus
from actions.orders.refund_items import WHOLE_ORDER, choose, decode, encode, items_amount

EARBUDS = OrderItem("SKU-1009", "Wireless earbuds", 1, Decimal("79.99"))
MUGS = OrderItem("SKU-1011", "Ceramic coffee mugs (set of 4)", 2, Decimal("32.00"))
LAMP = OrderItem("SKU-1016", "Desk lamp", 1, Decimal("54.00"))


def order_of(*items: OrderItem) -> Order:
    return Order(
        number="00054321",
        customer_id="C0001",
        customer_email="anna.freeman@example.com",
        customer_name="Anna Freeman",
        status=OrderStatus.DELIVERED,
        placed_at=dt.datetime(2026, 11, 20, 10, 0),
        items=items,
        total=sum((i.unit_price * i.quantity for i in items), Decimal("0")),
        currency="EUR",
        shipping_address="1 Main St",
        carrier="DHL",
        tracking_number=None,
        tracking_url=None,
        expected_delivery=None,
        original_expected_delivery=None,
        delivered_at=None,
        delay_reason=None,
        payment_method="Visa",
        cancellation_fee=Decimal("0"),
    )


ORDER = order_of(EARBUDS, MUGS, LAMP)


def test_a_named_item_is_found_by_its_words_plural_or_not():
    assert choose(["earbud"], ORDER).items == (EARBUDS,)
    assert choose(["the coffee mug"], ORDER).items == (MUGS,)
    assert choose(["lamp", "earbuds"], ORDER).items == (LAMP, EARBUDS)


def test_something_the_order_does_not_hold_is_kept_to_be_said_plainly():
    choice = choose(["headphones", "lamp"], ORDER)
    assert choice.items == (LAMP,)
    assert choice.not_in_order == ("headphones",)


def test_nothing_named_or_the_whole_order_named_means_the_whole_order():
    assert choose([], ORDER).is_whole_order
    assert choose(["the whole order"], ORDER).is_whole_order
    assert choose(["earbuds", "everything"], ORDER).is_whole_order
    assert choose(["earbuds", "mugs", "desk lamp"], ORDER).is_whole_order, "every item is the whole order"
    assert encode(choose([], ORDER)) == WHOLE_ORDER


def test_the_slot_value_holds_skus_and_reads_back_as_the_items():
    value = encode(choose(["lamp", "mugs"], ORDER))
    assert value == "SKU-1016,SKU-1011"
    assert decode(value, ORDER) == (MUGS, LAMP)
    assert decode(WHOLE_ORDER, ORDER) == () and decode(None, ORDER) == ()
    assert decode("SKU-9999", ORDER) == (), "an item no longer on the order is not refunded"


def test_a_part_refund_is_the_items_price_and_never_more_than_what_is_left():
    assert items_amount((MUGS,), Decimal("500")) == Decimal("64.00")
    assert items_amount((MUGS, LAMP), Decimal("100.00")) == Decimal("100.00")
    assert items_amount((), Decimal("42.10")) == Decimal("42.10")


def test_markup_a_customer_typed_is_never_repeated_back():
    choice = choose(["<img src=x onerror=alert(1)>sofa"], ORDER)
    assert choice.items == ()
    assert choice.not_in_order and all(c not in choice.not_in_order[0] for c in "<>=()")
    assert choose(["   "], ORDER) == choose([], ORDER)


def test_an_order_of_one_item_named_is_the_whole_order():
    assert choose(["earbuds"], dataclasses.replace(ORDER, items=(EARBUDS,))).is_whole_order
