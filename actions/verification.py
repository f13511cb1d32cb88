"""Who the customer is: personal order details are shown only to a verified customer.

A customer is verified for an order when they typed the order's email address in this chat (the form
stores the customer id in the `verified_customer_id` slot), or when the channel vouches for them by putting
`customer_id` and an HMAC `customer_signature` (keyed with CHANNEL_SECRET) in the message metadata.
"""

from __future__ import annotations

import hmac
from typing import Any

from rasa_sdk import Tracker

from actions.orders.order_system import Order
from bot.domain.tokens import sign_customer_id


def vouched_customer_id(tracker: Tracker, secret: str) -> str | None:
    """The customer id the channel vouched for in the latest message, if the signature is right."""
    metadata = _latest_metadata(tracker)
    customer_id, signature = metadata.get("customer_id"), metadata.get("customer_signature")
    if not isinstance(customer_id, str) or not isinstance(signature, str):
        return None
    if hmac.compare_digest(sign_customer_id(customer_id, secret).encode(), signature.encode()):
        return customer_id
    return None


def is_verified_for(tracker: Tracker, order: Order, secret: str) -> bool:
    if tracker.get_slot("verified_customer_id") == order.customer_id:
        return True
    return vouched_customer_id(tracker, secret) == order.customer_id


def email_matches(order: Order, email: str | None) -> bool:
    return bool(email) and hmac.compare_digest(
        email.strip().casefold().encode(), order.customer_email.casefold().encode()
    )


def _latest_metadata(tracker: Tracker) -> dict[str, Any]:
    metadata = (tracker.latest_message or {}).get("metadata")
    if isinstance(metadata, dict) and metadata:
        return metadata
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            found = event.get("metadata")
            return found if isinstance(found, dict) else {}
    return {}
