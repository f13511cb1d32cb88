"""Order numbers in the forms customers type them."""

from __future__ import annotations

import pytest

from actions.orders.order_number import canonical_order_number, find_order_number


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("00123842", "00123842"),
        ("#00108", "00000108"),
        ("# 00108", "00000108"),
        ("4587345", "04587345"),
        ("123-842", "00123842"),
        ("370795561790", "370795561790"),
    ],
)
def test_typed_forms_map_to_the_stored_number(typed, stored):
    assert canonical_order_number(typed) == stored


@pytest.mark.parametrize("typed", ["", "12", "abc", "1; DROP TABLE orders", "<b>123456</b>", "1" * 21, "🙂"])
def test_anything_else_is_not_an_order_number(typed):
    assert canonical_order_number(typed) is None


def test_numbers_are_found_inside_sentences():
    assert find_order_number("order no. 4587345 please") == "04587345"
    assert find_order_number("it's #00108!") == "00000108"
    assert find_order_number("00123842' OR 1=1 --") == "00123842"


def test_emails_prices_and_short_numbers_are_not_order_numbers():
    assert find_order_number("my email is a1234567@example.com") is None
    assert find_order_number("I paid 45.99 for 2 items") is None
