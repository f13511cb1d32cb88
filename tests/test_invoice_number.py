"""Invoice numbers as customers type them become the shop's stored form; anything else is no invoice number."""

from __future__ import annotations

import pytest

from actions.orders.invoice_number import canonical_invoice_number, find_invoice_number


@pytest.mark.parametrize(
    "typed", ["INV-1042", "inv-1042", "INV 1042", "INV1042", "#1042", "1042", " 1042 ", "invoice no. 1042", "inv #1042"]
)
def test_the_ways_customers_type_an_invoice_number(typed):
    assert canonical_invoice_number(typed) == "INV-1042"


@pytest.mark.parametrize("typed", ["", "INV-", "abc", "1042; DROP TABLE invoices", "<b>1042</b>", "ORD-1042", "10 42"])
def test_anything_else_is_no_invoice_number(typed):
    assert canonical_invoice_number(typed) is None


def test_an_invoice_number_with_the_shops_prefix_is_found_in_a_sentence():
    assert find_invoice_number("is inv-1042 the right one?") == "INV-1042"
    assert find_invoice_number("invoice INV 77 please") == "INV-77"
    assert find_invoice_number("my order 00123842") is None
    assert find_invoice_number("INVOICE1042") is None
