"""Who the person in a conversation is, as far as the shop can tell, and what of an order the console may show.

A person is verified when the assistant verified them (they typed the order's email address, or the shop's site
vouched for its signed-in customer: the handoff packet's `customer.verified_customer_id`), or when the agent who
has the conversation checked by other means and recorded how (bot/store/identity_checks.py). Anyone else only
typed an order number: the console then shows what the bot would tell anyone with that number and nothing of its
owner (no name, email, address, items or payment), and no money can move (bot/core/order_desk.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from actions.orders.order_number import order_number_from
from actions.orders.order_system import Order, to_json
from bot.domain.vocabulary import VerifiedBy
from bot.store.identity_checks import IdentityCheck

PUBLIC_ORDER_FIELDS = (
    "number",
    "status",
    "currency",
    "carrier",
    "expected_delivery",
    "original_expected_delivery",
    "delivered_at",
    "delay_reason",
)
"""What anyone with the order number may see (what the bot tells an unverified customer): no name, email,
address, items, tracking or payment."""

ASSISTANT_CHECKS: dict[str, str] = {
    VerifiedBy.EMAIL: "order email confirmed with the assistant",
    VerifiedBy.SHOP_LOGIN: "signed in at the shop",
}
"""How the assistant verified someone (the packet's `customer.verified_by`), in the console's words."""


@dataclasses.dataclass(frozen=True)
class Verification:
    """Who is verified in this conversation (`customer_id`), how, and the order the customer talked about."""

    customer_id: str | None
    packet_order: str | None
    how: str | None = None
    check: IdentityCheck | None = None

    @classmethod
    def of(cls, packet: Mapping[str, Any], check: IdentityCheck | None = None) -> Verification:
        """The assistant's verification if there is one, else the agent's recorded check, else nobody."""
        customer = packet.get("customer")
        customer = customer if isinstance(customer, dict) else {}
        verified = customer.get("verified_customer_id")
        if isinstance(verified, str) and verified.strip():
            return cls(verified.strip(), order_in(packet), assistant_check(customer))
        if check is not None:
            return cls(check.customer_id, check.order_number, f"checked by {check.agent_name}: {check.how}", check)
        return cls(None, order_in(packet))

    def owns(self, order: Order) -> bool:
        return self.customer_id is not None and order.customer_id == self.customer_id

    def to_json(self, order: Order | None) -> dict[str, Any]:
        return {
            "verified": self.customer_id is not None,
            "customer_id": self.customer_id,
            "order_verified": order is not None and self.owns(order),
            "how": self.how,
            "checked_by_agent": self.check.to_json() if self.check else None,
        }


def assistant_check(customer: Mapping[str, Any]) -> str:
    """How the assistant verified the customer: the packet says so (`verified_by`); a packet without it (from
    before the field) verified by email when the customer typed one, else by the shop's sign-in."""
    named = ASSISTANT_CHECKS.get(str(customer.get("verified_by")))
    if named:
        return named
    return ASSISTANT_CHECKS[VerifiedBy.EMAIL] if customer.get("email") else ASSISTANT_CHECKS[VerifiedBy.SHOP_LOGIN]


def order_view(order: Order, verification: Verification) -> dict[str, Any]:
    """The order for the console: all of it for its verified owner, only what anyone may know otherwise."""
    data: dict[str, Any] = to_json(order)
    if verification.owns(order):
        return data
    return {key: data.get(key) for key in PUBLIC_ORDER_FIELDS} | {"personal_details_hidden": True}


def order_in(packet: Mapping[str, Any]) -> str | None:
    """The order the customer talked about: the packet's `order_id`, else the last order number they typed."""
    number = order_number_from(packet.get("order_id"))
    if number:
        return number
    entities = packet.get("entities")
    for value in reversed((entities.get("order_id") if isinstance(entities, dict) else None) or []):
        number = order_number_from(value)
        if number:
            return number
    return None
