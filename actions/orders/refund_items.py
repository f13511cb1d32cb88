"""Which of an order's items a customer means when they name things ("a refund for the earbuds"), and what a
refund of just those items comes to.

Names are matched word by word against the order's own item names, not against a product list: the shop's
catalogue changes, the order does not. A named thing that matches no item is kept, so the bot can say plainly
that the order does not hold it instead of refunding something else.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from actions.orders.order_system import Order, OrderItem

WHOLE_ORDER = "all"
"""`refund_items` when the customer wants the whole order (what is left of it) back."""

WHOLE_ORDER_PHRASES = (
    "whole order",
    "entire order",
    "full order",
    "all of it",
    "all of them",
    "all items",
    "all the items",
    "everything",
    "the lot",
    "whole thing",
    "full amount",
    "full refund",
)
FILLER_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "my",
        "me",
        "of",
        "for",
        "and",
        "or",
        "set",
        "with",
        "to",
        "it",
        "its",
        "one",
        "ones",
        "pair",
        "pairs",
        "just",
        "only",
        "please",
        "x",
        "i",
        "want",
        "refund",
        "back",
        "money",
        "return",
        "item",
        "items",
        "thing",
        "things",
        "order",
        "this",
        "that",
        "these",
        "those",
    ]
)


def _stem(word: str) -> str:
    """Plural to singular, roughly, applied to both sides: "earbuds" meets "earbud", "boots" meets "boot"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _words(text: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in FILLER_WORDS and len(w) > 1}


def means_whole_order(text: str) -> bool:
    lowered = " ".join(text.lower().split())
    return any(phrase in lowered for phrase in WHOLE_ORDER_PHRASES)


def items_named(name: str, items: Sequence[OrderItem]) -> list[OrderItem]:
    """The items whose names share the most words with `name` (none when no word is shared)."""
    wanted = _words(name)
    scored = [(len(wanted & _words(item.name)), item) for item in items]
    best = max((score for score, _ in scored), default=0)
    return [item for score, item in scored if best and score == best]


@dataclasses.dataclass(frozen=True)
class RefundChoice:
    """What the customer named, resolved against one order: `items` empty means the whole order."""

    items: tuple[OrderItem, ...] = ()
    not_in_order: tuple[str, ...] = ()

    @property
    def is_whole_order(self) -> bool:
        return not self.items


def choose(named: Iterable[str], order: Order) -> RefundChoice:
    """Resolves each named thing to the order's items; asking for the whole order wins over any item."""
    found: list[OrderItem] = []
    missing: list[str] = []
    for name in named:
        if not name or not name.strip():
            continue
        if means_whole_order(name):
            return RefundChoice()
        matches = items_named(name, order.items)
        if matches:
            found.extend(m for m in matches if m not in found)
        elif shown := _as_said(name):
            missing.append(shown)
    if len(found) == len(order.items):
        found = []
    return RefundChoice(tuple(found), tuple(missing))


def _as_said(name: str) -> str:
    """A named thing as the bot may repeat it: words only, short (the customer's markup is never echoed)."""
    return " ".join(re.sub(r"[^\w' -]", " ", name).split())[:40].strip()


def encode(choice: RefundChoice) -> str:
    """The `refund_items` slot's value: "all", or the chosen items' SKUs joined by commas."""
    return WHOLE_ORDER if choice.is_whole_order else ",".join(item.sku for item in choice.items)


def decode(value: str | None, order: Order) -> tuple[OrderItem, ...]:
    """The items a `refund_items` value names on this order; empty for the whole order (or nothing chosen)."""
    if not value or value == WHOLE_ORDER:
        return ()
    skus = value.split(",")
    return tuple(item for item in order.items if item.sku in skus)


def items_amount(items: Sequence[OrderItem], remaining: Decimal) -> Decimal:
    """What refunding `items` returns: their price, never more than what is left to refund on the order."""
    if not items:
        return remaining
    return min(sum((item.unit_price * item.quantity for item in items), Decimal("0")), remaining)
