"""Order numbers as customers type them (`00123842`, `#00108`, `order no. 4587345`) and as the shop stores them."""

from __future__ import annotations

import re

STORED_WIDTH = 8
"""The demo shop stores numbers zero-padded to eight digits; longer numbers are kept as typed."""

_NUMBER_IN_TEXT = re.compile(r"(?<![\w.@-])#?\s?(\d[\d -]{3,22}\d)(?![\w@])")
_ONLY_NUMBER = re.compile(r"#?\s*(\d{3,20})")


def canonical_order_number(raw: str) -> str | None:
    """The stored form of an order number typed on its own, or None when it cannot be one.

    Spaces and dashes inside the digits are ignored; anything else (letters, SQL, markup) means it is not
    an order number, so hostile input never reaches a query as anything but a rejected string.
    """
    candidate = re.sub(r"[\s-]", "", raw.strip())
    match = _ONLY_NUMBER.fullmatch(candidate)
    if match is None:
        return None
    digits = match.group(1)
    significant = digits.lstrip("0") or "0"
    return significant.zfill(STORED_WIDTH) if len(significant) <= STORED_WIDTH else significant


def find_order_number(text: str) -> str | None:
    """The first order number in a free-text message, for when the entity extractor missed it."""
    for match in _NUMBER_IN_TEXT.finditer(text):
        number = canonical_order_number(match.group(1))
        if number is not None:
            return number
    return None


def order_number_from(value: object) -> str | None:
    """The order number in a slot or entity value, whatever the NLU left around it (quotes, words, a list)."""
    if isinstance(value, (list, tuple)):
        return next((n for n in (order_number_from(v) for v in value) if n), None)
    if value is None:
        return None
    text = str(value)
    return canonical_order_number(text) or find_order_number(text)
