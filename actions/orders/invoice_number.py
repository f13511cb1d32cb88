"""Invoice numbers as customers type them (`INV-1042`, `inv 1042`, `#1042`, `invoice no. 1042`) and as the shop
stores them (`INV-1042`)."""

from __future__ import annotations

import re

_WRITTEN = re.compile(r"\bINV[\s-]?\d{1,12}\b", re.IGNORECASE)
_TYPED = re.compile(r"(?:inv(?:oice)?)?\s*(?:no\.?|number)?[\s#:.-]*(\d{1,12})", re.IGNORECASE)


def canonical_invoice_number(raw: str) -> str | None:
    """The stored form of an invoice number typed on its own, or None when it cannot be one (letters other
    than the prefix, SQL, markup): hostile input never reaches a query as anything but a rejected string."""
    match = _TYPED.fullmatch(raw.strip())
    return f"INV-{match.group(1)}" if match else None


def find_invoice_number(text: str) -> str | None:
    """The first number written with the shop's invoice prefix ("... is INV-1042 right?") in stored form."""
    match = _WRITTEN.search(text)
    return canonical_invoice_number(match.group(0)) if match else None
