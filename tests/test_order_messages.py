"""How order facts read to a customer."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

from actions.orders.order_messages import day, money, status_sentence

TODAY = dt.date(2026, 11, 30)


def test_money_uses_the_currency_symbol():
    assert money(Decimal("1234.5"), "EUR") == "€1,234.50"
    assert money(Decimal("3"), "GBP") == "£3.00"
    assert money(Decimal("3"), "CHF") == "3.00 CHF"


def test_dates_read_naturally():
    assert day(TODAY, TODAY) == "today"
    assert day(TODAY + dt.timedelta(days=1), TODAY) == "tomorrow"
    assert day(dt.date(2026, 12, 2), TODAY) == "Wednesday 2 December"
    assert day(None, TODAY) == "a date we'll confirm by email"


def test_every_status_has_a_sentence_without_personal_details(shop):
    for number in ("00123842", "00000108", "00054321", "04587345", "00012345", "00077777", "00088888", "00099999"):
        order = asyncio.run(shop.get_order(number))
        sentence = status_sentence(order, TODAY)
        assert order.number in sentence
        assert order.customer_name.split()[0] not in sentence
        assert order.shipping_address not in sentence
