"""Money amounts an agent types: read strictly, so a bad one is a clear 422 and never reaches the order system.

A JSON string ("12.50") or a JSON number (12.5) is accepted; NaN, Infinity, exponents, negative or zero amounts,
more than two decimal places and anything above `MAX_AMOUNT` are refused with a sentence saying why.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from bot.domain.errors import FrontlineError

MAX_AMOUNT = Decimal("1000000.00")
"""Far above any limit a shop sets; above it an amount is a typo (or an attack), not a refund."""
CENT = Decimal("0.01")
_PLAIN_NUMBER = re.compile(r"-?[0-9]{1,16}(\.[0-9]{1,16})?")


class BadAmount(FrontlineError, ValueError):
    """The amount cannot be used; `message` says what to type instead."""

    status = 422
    code = "bad_amount"


def parse_amount(raw: object) -> Decimal:
    """The amount as exact cents, or `BadAmount`."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise BadAmount("The amount is required, like 12.50.")
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise BadAmount("The amount must be a number like 12.50.")
    value = _decimal(raw)
    if value <= 0:
        raise BadAmount("The amount must be more than zero.")
    if value > MAX_AMOUNT:
        raise BadAmount(f"The amount can be at most {MAX_AMOUNT:,}.")
    if value != value.quantize(CENT):
        raise BadAmount("The amount can have at most two decimal places, like 12.50.")
    return value.quantize(CENT)


def _decimal(raw: str | int | float) -> Decimal:
    if isinstance(raw, int):
        return Decimal(raw)
    text = raw.strip() if isinstance(raw, str) else repr(raw)
    if isinstance(raw, str) and not _PLAIN_NUMBER.fullmatch(text):
        raise BadAmount("The amount must be a number like 12.50 (digits and a decimal point only).")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:  # a float's repr is always a number, but be explicit
        raise BadAmount("The amount must be a number like 12.50.") from exc
    if not value.is_finite():
        raise BadAmount("The amount must be a finite number like 12.50.")
    return value
