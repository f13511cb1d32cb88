"""Amounts agents type: exact cents from a string or a JSON number, and a clear refusal for anything else."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bot.domain.amounts import BadAmount, parse_amount


@pytest.mark.parametrize(
    ("raw", "cents"),
    [("12.5", "12.50"), (" 60 ", "60.00"), ("0.01", "0.01"), (12.5, "12.50"), (60, "60.00"), ("1000000", "1000000.00")],
)
def test_a_string_or_a_json_number_becomes_exact_cents(raw, cents):
    assert parse_amount(raw) == Decimal(cents)
    assert str(parse_amount(raw)) == cents


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (None, "required"),
        ("", "required"),
        ("NaN", "number like 12.50"),
        ("Infinity", "number like 12.50"),
        ("1e999", "number like 12.50"),
        ("1_000", "number like 12.50"),
        ("12,50", "number like 12.50"),
        (json.loads("NaN"), "finite"),
        (json.loads("1e999"), "finite"),
        (json.loads("-1e999"), "finite"),
        ("-5", "more than zero"),
        (-5, "more than zero"),
        ("0", "more than zero"),
        (0.0, "more than zero"),
        ("12.345", "two decimal places"),
        (0.001, "two decimal places"),
        ("1000000.01", "at most 1,000,000.00"),
        (10**400, "at most"),
        ("9" * 16, "at most"),
        ("9" * 40, "number like 12.50"),
        (True, "number like 12.50"),
        ([12], "number like 12.50"),
        ({"amount": 12}, "number like 12.50"),
    ],
)
def test_anything_else_is_refused_with_a_sentence_saying_why(raw, says):
    with pytest.raises(BadAmount, match=says) as caught:
        parse_amount(raw)
    assert (caught.value.status, caught.value.code) == (422, "bad_amount")
